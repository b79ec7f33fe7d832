// verify's DNS check passes after sync-svc copies a Service to the other cluster.

#include "verify_steps.hpp"

using namespace meshctl::e2e;

TEST_CASE("verify's DNS check passes after sync-svc", "[e2e][sync][verify]") {
  MESHCTL_REQUIRE_SIM();
  TestClusters clusters;
  auto joined = clusters.meshctl({"join", "cn-shanghai", "wuxi"});
  INFO(joined.err);
  REQUIRE(joined.exit_code == 0);
  // helloworld exists only in cn-shanghai.
  REQUIRE(clusters.kubectl("wuxi", {"-n", "dev", "delete", "service", "helloworld"}).exit_code ==
          0);

  const json before = verify(clusters);
  INFO(problems(before));
  CHECK(before["exit"] == 1);
  const json missing = finding(before, "wuxi", "service.missing");
  REQUIRE(!missing.is_null());
  CHECK_THAT(missing["message"].get<std::string>(),
             Catch::Matchers::Contains("DNS will not resolve"));
  CHECK_FALSE(has(before, "wuxi", "service.present"));

  auto synced =
      clusters.meshctl({"sync-svc", "-n", "dev", "--from", "cn-shanghai", "--to", "wuxi"});
  INFO(synced.err);
  REQUIRE(synced.exit_code == 0);

  const json after = verify(clusters);
  INFO(problems(after));
  CHECK_FALSE(has(after, "wuxi", "service.missing"));
  CHECK(has(after, "wuxi", "service.present")); // the copy is there and reads like the source
  CHECK_FALSE(has(after, "wuxi", "service.ports-differ"));
  CHECK_FALSE(has(after, "wuxi", "service.type-differs"));
}

// verify's DNS check passes after sync-svc copies a Service to the other cluster.

#include "clusters.hpp"

#include <nlohmann/json.hpp>

using meshctl::e2e::TestClusters;
using nlohmann::json;

namespace {

bool has_finding(const json& report, const std::string& id, const std::string& cluster) {
  for (const auto& c : report.value("clusters", json::array())) {
    for (const auto& f : c.value("findings", json::array())) {
      if (f.value("id", "") == id && f.value("cluster", c.value("name", "")) == cluster) {
        return true;
      }
    }
  }
  for (const auto& f : report.value("findings", json::array())) {
    if (f.value("id", "") == id && f.value("cluster", "") == cluster) {
      return true;
    }
  }
  return false;
}

} // namespace

TEST_CASE("verify's DNS check passes after sync-svc", "[e2e][sync][verify]") {
  MESHCTL_REQUIRE_SIM();
  TestClusters clusters;
  auto joined = clusters.meshctl({"join", "cn-shanghai", "wuxi"});
  INFO(joined.err);
  REQUIRE(joined.exit_code == 0);
  // helloworld exists only in cn-shanghai.
  REQUIRE(clusters.kubectl("wuxi", {"-n", "dev", "delete", "service", "helloworld"}).exit_code ==
          0);

  auto before = clusters.meshctl({"verify", "helloworld.dev", "-o", "json"});
  INFO(before.err);
  const auto report_before = json::parse(before.out);
  CHECK(before.out.find("DNS will not resolve") != std::string::npos);
  CHECK(has_finding(report_before, "service.missing", "wuxi"));

  auto synced =
      clusters.meshctl({"sync-svc", "-n", "dev", "--from", "cn-shanghai", "--to", "wuxi"});
  INFO(synced.err);
  REQUIRE(synced.exit_code == 0);
  CHECK(clusters.kubectl("wuxi", {"-n", "dev", "get", "service", "helloworld"}).exit_code == 0);

  auto after = clusters.meshctl({"verify", "helloworld.dev", "-o", "json"});
  INFO(after.err);
  const auto report_after = json::parse(after.out);
  CHECK(after.out.find("DNS will not resolve") == std::string::npos);
  CHECK_FALSE(has_finding(report_after, "service.missing", "wuxi"));
}

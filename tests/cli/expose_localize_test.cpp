// expose and localize --dry-run: what they would apply to every cluster.

#include "support/testing.hpp"

#include <yaml-cpp/yaml.h>

using namespace meshctl::testing;

namespace {
RunResult seed(const std::vector<std::string>& args) {
  std::vector<std::string> full{"--kubeconfig",
                                (source_dir() / "examples/seed/kubeconfig.yaml").string(), "-c",
                                (source_dir() / "examples/seed/meshctl.yaml").string()};
  full.insert(full.end(), args.begin(), args.end());
  return run_meshctl(full);
}
} // namespace

TEST_CASE("expose --dry-run lists the named hosts in every cluster", "[cli][expose]") {
  auto r = seed({"expose", "helloworld.dev", "ratings.prod.svc.cluster.local", "--dry-run"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  check_golden("expose/hosts-dry-run.yaml", r.out);
  const auto docs = YAML::LoadAll(r.out);
  REQUIRE(docs.size() == 2);
  for (const auto& d : docs) {
    CHECK(d["spec"]["servers"][0]["tls"]["mode"].as<std::string>() == "AUTO_PASSTHROUGH");
    CHECK(d["spec"]["servers"][0]["hosts"][1].as<std::string>() ==
          "ratings.prod.svc.cluster.local");
  }
  // --all and services together: --all already covers the services, so it is a usage error.
  auto both = seed({"expose", "--all", "helloworld.dev", "--dry-run"});
  CHECK(both.exit_code == 2);
  CHECK(both.err.find("--all already exposes every service") != std::string::npos);
  auto all = seed({"expose", "--all", "--dry-run", "--context", "wuxi"});
  REQUIRE(all.exit_code == 0);
  CHECK(all.out.find("# cluster: wuxi") != std::string::npos);
  CHECK(all.out.find("# cluster: cn-shanghai") == std::string::npos);
  CHECK(all.out.find("\"*.local\"") != std::string::npos);
}

TEST_CASE("expose and localize refuse bad arguments with exit 2", "[cli][expose][localize]") {
  CHECK(seed({"expose", "--dry-run"}).exit_code == 2);
  CHECK(seed({"expose", "--remove", "--dry-run=client"}).exit_code == 2);
  // --remove must read what is exposed, which a bare (offline) --dry-run never does.
  auto offline = seed({"expose", "--remove", "helloworld.dev", "--dry-run"});
  CHECK(offline.exit_code == 2);
  CHECK(offline.err.find("--dry-run=client") != std::string::npos);
  CHECK(seed({"localize", "--remove", "--dry-run"}).exit_code == 2);
  CHECK(seed({"localize", "--remove", "helloworld.dev", "--dry-run"}).exit_code == 2);
  CHECK(
      seed({"join", "cn-shanghai", "wuxi", "--restart-istiod", "--no-restart-istiod"}).exit_code ==
      2);
  auto bad = seed({"expose", "hello_world", "--dry-run"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("SERVICE.NAMESPACE") != std::string::npos);
  auto by = seed({"localize", "helloworld.dev", "--by", "clustr", "--dry-run"});
  CHECK(by.exit_code == 2);
  CHECK(by.err.find("did you mean \"cluster\"") != std::string::npos);
}

TEST_CASE("localize --dry-run renders the failover rule with outlierDetection", "[cli][localize]") {
  auto r = seed({"localize", "helloworld.dev", "--dry-run"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  check_golden("localize/cluster-dry-run.yaml", r.out);
  const auto docs = YAML::LoadAll(r.out);
  REQUIRE(docs.size() == 2);
  const auto& policy = docs[1]["spec"]["trafficPolicy"];
  CHECK(policy["loadBalancer"]["localityLbSetting"]["failoverPriority"][0].as<std::string>() ==
        "topology.istio.io/cluster");
  CHECK(policy["outlierDetection"]["consecutive5xxErrors"].as<int>() == 5);
  auto zone = seed({"localize", "helloworld.dev", "--by", "zone", "--dry-run", "-o", "json"});
  REQUIRE(zone.exit_code == 0);
  CHECK(zone.out.find("topology.kubernetes.io/zone") != std::string::npos);
}

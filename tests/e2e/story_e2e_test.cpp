// The seed's story, told with meshctl's own verbs and checked with `meshctl verify` only: no canned
// Envoy answers. kubesim's istiod model computes what each proxy would hold from the clusters'
// objects (remote secrets, gateways, pods, DestinationRules), so every verify below reads behaviour
// that join, expose and localize caused. istiod pushes asynchronously (the model caches what it
// read from the other cluster for half a second), so each step waits, bounded, for the proxies to
// converge, as anyone checking a real mesh right after a change must.

#include "core/base64.hpp"
#include "verify_steps.hpp"

#include <regex>

using namespace meshctl::e2e;

TEST_CASE("the seed's story: verify reads what istiod pushes after join, expose and localize",
          "[e2e][verify][story]") {
  // Needs the seed's workloads (helloworld-v1 in cn-shanghai, sleep in both) and their addresses.
  MESHCTL_REQUIRE_SIM();
  TestClusters clusters;
  mesh_up(clusters);
  const std::string shanghai_gw = "192.168.0.11:" + node_port(clusters, "cn-shanghai");
  const std::string wuxi_gw = "10.20.0.21:" + node_port(clusters, "wuxi");
  const std::string v1 = pod_ip(clusters, "cn-shanghai", "app=helloworld") + ":5000";

  // 1. v1 only in cn-shanghai: wuxi's client reaches it through cn-shanghai's gateway, and
  //    verify passes without a warning.
  auto r = verify_until(clusters, [](const json& j) { return j["exit"] == 0; },
                        {"--fail-on", "warning"});
  INFO(problems(r));
  REQUIRE(r["exit"] == 0);
  CHECK(endpoints(r, "wuxi") ==
        std::vector<std::string>{"remote-gateway cn-shanghai 0 " + shanghai_gw});
  CHECK(endpoints(r, "cn-shanghai") == std::vector<std::string>{"local-pod cn-shanghai 0 " + v1});
  CHECK(has(r, "wuxi", "remote-secret.ok"));
  CHECK(has(r, "wuxi", "clusterz.synced"));
  CHECK(has(r, "cn-shanghai", "sni.ok"));

  // 2. v2 in wuxi: both clients now see a local pod and the other cluster's gateway, all at
  //    priority 0, and verify warns that calls are spread across the clusters.
  {
    auto a = clusters.kubectl(
        "wuxi", {"apply", "-f",
                 (kubesim::testing::KubesimProcess::seed_dir() / "helloworld-v2.yaml").string()});
    INFO(a.err);
    REQUIRE(a.exit_code == 0);
    REQUIRE(clusters
                .kubectl("wuxi", {"-n", "dev", "rollout", "status", "deployment/helloworld-v2",
                                  "--timeout", "60s"})
                .exit_code == 0);
  }
  const std::string v2 = pod_ip(clusters, "wuxi", "app=helloworld,version=v2") + ":5000";
  REQUIRE(v2 != ":5000");
  r = verify_until(clusters, [](const json& j) {
    return j["exit"] == 0 && cluster_of(j, "wuxi")["endpoints"]["rows"].size() == 2 &&
           cluster_of(j, "cn-shanghai")["endpoints"]["rows"].size() == 2;
  });
  INFO(problems(r));
  CHECK(r["exit"] == 0);
  CHECK(endpoints(r, "wuxi") ==
        std::vector<std::string>{"local-pod wuxi 0 " + v2,
                                 "remote-gateway cn-shanghai 0 " + shanghai_gw});
  CHECK(endpoints(r, "cn-shanghai") ==
        std::vector<std::string>{"local-pod cn-shanghai 0 " + v1,
                                 "remote-gateway wuxi 0 " + wuxi_gw});
  CHECK(has(r, "wuxi", "traffic.spread"));
  CHECK(has(r, "cn-shanghai", "traffic.spread"));
  CHECK(r["summary"]["warnings"] == 2);
  CHECK(verify(clusters, {"--fail-on", "warning"})["exit"] == 1);

  // 3. localize: each client keeps its local pod at priority 0, the other cluster's gateway at 1.
  {
    auto l = clusters.meshctl({"localize", "helloworld.dev"});
    INFO(l.out << l.err);
    REQUIRE(l.exit_code == 0);
  }
  r = verify_until(clusters, [](const json& j) { return j["exit"] == 0; },
                   {"--fail-on", "warning"});
  INFO(problems(r));
  CHECK(r["exit"] == 0);
  CHECK(endpoints(r, "wuxi") ==
        std::vector<std::string>{"local-pod wuxi 0 " + v2,
                                 "remote-gateway cn-shanghai 1 " + shanghai_gw});
  CHECK(endpoints(r, "cn-shanghai") ==
        std::vector<std::string>{"local-pod cn-shanghai 0 " + v1,
                                 "remote-gateway wuxi 1 " + wuxi_gw});
  CHECK(has(r, "wuxi", "traffic.localized"));
  CHECK(has(r, "cn-shanghai", "traffic.localized"));

  // 4. wuxi alone (--context): still passes, says what it did not check, and still checks wuxi's
  //    remote secret for cn-shanghai.
  r = verify(clusters, {"--context", "wuxi", "--fail-on", "warning"});
  INFO(problems(r));
  CHECK(r["exit"] == 0);
  CHECK(r["summary"]["unchecked"] == json::array({"cn-shanghai"}));
  CHECK(r["clusters"].size() == 1);
  CHECK(has(r, "wuxi", "remote-secret.ok"));

  // --save-bundle, then --from-bundle: the same report, offline, and no secret in the bundle.
  {
    const auto bundle = (clusters.dir().path() / "bundle").string();
    auto saved =
        clusters.meshctl({"verify", "helloworld.dev", "-o", "json", "--save-bundle", bundle});
    REQUIRE(saved.exit_code == 0);
    auto offline = clusters.meshctl({"verify", "--from-bundle", bundle, "-o", "json"});
    CHECK(offline.exit_code == 0);
    CHECK(offline.out == saved.out);
    const auto facts = meshctl::testing::read_file(std::filesystem::path(bundle) / "facts.json");
    CHECK(facts.find("\"token\": \"<redacted>\"") != std::string::npos);
    // No JWT anywhere: header and payload are base64url JSON ("eyJ…") joined by a dot, which PEM
    // text never has (a bare "eyJ" does turn up in certificates by chance)...
    static const std::regex k_jwt("eyJ[A-Za-z0-9_-]+\\.eyJ[A-Za-z0-9_-]+\\.");
    CHECK_FALSE(std::regex_search(facts, k_jwt));
    // ...and in particular not the reader token wuxi's istiod uses for cn-shanghai.
    const json secret = clusters.kubectl_json(
        "wuxi", {"-n", "istio-system", "get", "secret", "istio-remote-secret-cn-shanghai"});
    const auto kubeconfig =
        meshctl::base64_decode(secret["data"]["cn-shanghai"].get<std::string>()).value_or("");
    const auto at = kubeconfig.find("token: ");
    REQUIRE(at != std::string::npos);
    const std::string token = kubeconfig.substr(at + 7, kubeconfig.find('\n', at) - at - 7);
    REQUIRE(token.size() > 20);
    CHECK(std::regex_search(token, k_jwt)); // the pattern does match a real token
    CHECK(facts.find(token) == std::string::npos);
  }

  // 5. The remote secret gone: istiod in wuxi forgets cn-shanghai, its client loses the gateway,
  //    and verify names both the cause and the effect.
  REQUIRE(clusters
              .kubectl("wuxi", {"delete", "secret", "-n", "istio-system",
                                "istio-remote-secret-cn-shanghai"})
              .exit_code == 0);
  r = verify_until(clusters, [](const json& j) {
    return cluster_of(j, "wuxi")["endpoints"]["rows"].size() == 1;
  });
  INFO(problems(r));
  CHECK(r["exit"] == 1);
  CHECK(endpoints(r, "wuxi") == std::vector<std::string>{"local-pod wuxi 0 " + v2});
  CHECK(has(r, "wuxi", "remote-secret.missing"));
  CHECK(has(r, "wuxi", "endpoints.missing-remote"));

  // 6. A cluster that stops answering: exit 3, the other one still reported.
  clusters.sim("wuxi").stop();
  r = verify(clusters);
  CHECK(r["exit"] == 3);
  CHECK(r["summary"]["unreachable"] == json::array({"wuxi"}));
  CHECK(has(r, "cn-shanghai", "cacerts.ok"));
}

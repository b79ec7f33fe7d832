// Each trap of the seed, set with kubectl on a meshed sandbox, fails `meshctl verify` with the
// finding and hint that fix it. Nothing is canned: kubesim's istiod model turns the broken objects
// into what istiod would push, so verify also sees each trap's effect on the proxies (a client that
// lost the remote gateway, a gateway without the SNI chain, priorities that never appear).

#include "verify_steps.hpp"

using namespace meshctl::e2e;

namespace {

const std::string k_gw_svc = "istio-eastwestgateway";

/// A meshed sandbox whose verify passes: the starting point of every trap.
struct Meshed {
  TestClusters clusters;

  explicit Meshed(bool restart = true) {
    mesh_up(clusters, restart);
    if (restart) {
      const json r = verify_until(clusters, [](const json& j) { return j["exit"] == 0; });
      INFO(problems(r));
      REQUIRE(r["exit"] == 0);
    }
  }

  void kubectl(const std::string& cluster, const std::vector<std::string>& args) const {
    auto r = clusters.kubectl(cluster, args);
    INFO("kubectl " << args[0] << ": " << r.err);
    REQUIRE(r.exit_code == 0);
  }

  /// kubectl rollout restart of istiod. kubectl refuses a second restart within the second of the
  /// last one (join --restart-istiod's, say): then it is tried again.
  void restart_istiod(const std::string& cluster) const {
    for (int i = 0; i < 30; ++i) {
      auto r = clusters.kubectl(cluster,
                                {"-n", "istio-system", "rollout", "restart", "deployment/istiod"});
      if (r.exit_code == 0) {
        return;
      }
      INFO(r.err);
      REQUIRE(r.err.find("within the past second") != std::string::npos);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL("kubectl rollout restart deployment/istiod kept failing in " << cluster);
  }

  /// Waits until verify fails with `id` in `cluster` and returns that report.
  [[nodiscard]] json fails_with(const std::string& cluster, const std::string& id) const {
    return verify_until(clusters,
                        [&](const json& j) { return j["exit"] == 1 && has(j, cluster, id); });
  }
};

/// The finding must be there, an error, with a hint holding `fix`.
void expect_error(const json& report, const std::string& cluster, const std::string& id,
                  const std::string& fix) {
  INFO(problems(report));
  CHECK(report["exit"] == 1);
  const json f = finding(report, cluster, id);
  REQUIRE(!f.is_null());
  CHECK(f["severity"] == "error");
  CHECK_THAT(f["hint"].get<std::string>(), Catch::Matchers::Contains(fix));
}

/// wuxi's client has nothing that leads to cn-shanghai, where helloworld runs: the symptom. Without
/// a gateway address istiod keeps cn-shanghai's pod IP, unreachable from wuxi's network.
void wuxi_lost_the_gateway(const json& report) {
  INFO(problems(report));
  CHECK(has(report, "wuxi", "endpoints.missing-remote"));
  CHECK(has(report, "wuxi", "endpoints.remote-pod"));
  const auto rows = endpoints(report, "wuxi");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].rfind("remote-pod cn-shanghai 0 10.10.", 0) == 0); // its pod IP, not its gateway
}

} // namespace

TEST_CASE("verify trap: the gateway's nodeSelector is not JSON", "[e2e][verify][trap]") {
  MESHCTL_REQUIRE_SIM();
  Meshed m;
  // The seed's first attempt: key=value, and no externalIPs to fall back on.
  m.kubectl("cn-shanghai",
            {"-n", "istio-system", "annotate", "service", k_gw_svc,
             "traffic.istio.io/nodeSelector=kubernetes.io/hostname=a", "--overwrite"});
  m.kubectl("cn-shanghai", {"-n", "istio-system", "patch", "service", k_gw_svc, "--type", "merge",
                            "-p", R"({"spec":{"externalIPs":null}})"});
  const json r = m.fails_with("wuxi", "endpoints.missing-remote");
  expect_error(r, "cn-shanghai", "gateway.node-selector-not-json",
               "traffic.istio.io/nodeSelector=");
  wuxi_lost_the_gateway(r);
}

TEST_CASE("verify trap: the nodes the nodeSelector picks have no ExternalIP",
          "[e2e][verify][trap]") {
  MESHCTL_REQUIRE_SIM();
  Meshed m;
  // nodeSelector {} selects every node, but the seed's nodes have InternalIPs only.
  m.kubectl("cn-shanghai", {"-n", "istio-system", "patch", "service", k_gw_svc, "--type", "merge",
                            "-p", R"({"spec":{"externalIPs":null}})"});
  const json r = m.fails_with("wuxi", "endpoints.missing-remote");
  expect_error(r, "cn-shanghai", "gateway.nodes-without-external-ip", "spec.externalIPs");
  wuxi_lost_the_gateway(r);
}

TEST_CASE("verify trap: a remote secret is missing", "[e2e][verify][trap]") {
  MESHCTL_REQUIRE_SIM();
  Meshed m;
  m.kubectl("wuxi", {"-n", "istio-system", "delete", "secret", "istio-remote-secret-cn-shanghai"});
  const json r = m.fails_with("wuxi", "endpoints.none");
  expect_error(r, "wuxi", "remote-secret.missing", "meshctl join wuxi cn-shanghai");
  // istiod in wuxi no longer watches cn-shanghai: its client has no endpoint at all.
  CHECK(endpoints(r, "wuxi").empty());
}

TEST_CASE("verify trap: the clusters' cacerts hold different roots", "[e2e][verify][trap]") {
  MESHCTL_REQUIRE_SIM();
  Meshed m;
  // wuxi's cacerts replaced by a CA of another root (as a second `istioctl`-made CA would be),
  // and istiod restarted so that it serves that root.
  const auto data = meshctl::testing::source_dir() / "tests" / "data" / "check";
  const std::string root = meshctl::testing::read_file(data / "root-b.pem");
  const std::string ca = meshctl::testing::read_file(data / "ca-b-wuxi.pem");
  meshctl::testing::TempDir dir;
  const auto encoded = m.clusters.kubectl(
      "wuxi", {"create", "secret", "generic", "cacerts", "--dry-run=client", "-o", "json",
               "--from-file=root-cert.pem=" + dir.write("root.pem", root).string(),
               "--from-file=ca-cert.pem=" + dir.write("ca.pem", ca).string(),
               "--from-file=cert-chain.pem=" + dir.write("chain.pem", ca + root).string()});
  REQUIRE(encoded.exit_code == 0);
  const json patch = {{"data", json::parse(encoded.out)["data"]}};
  m.kubectl("wuxi", {"-n", "istio-system", "patch", "secret", "cacerts", "--type", "merge", "-p",
                     patch.dump()});
  m.restart_istiod("wuxi");
  const json r = m.fails_with("", "cacerts.root-differs");
  expect_error(r, "", "cacerts.root-differs", "--force-ca");
  CHECK(has(r, "wuxi", "root-configmap.ok")); // restarted: the trap is the root, not the restart
}

TEST_CASE("verify trap: the Service is missing in one cluster", "[e2e][verify][trap]") {
  MESHCTL_REQUIRE_SIM();
  Meshed m;
  m.kubectl("wuxi", {"-n", "dev", "delete", "service", "helloworld"});
  const json r = m.fails_with("wuxi", "service.missing");
  expect_error(r, "wuxi", "service.missing", "meshctl sync-svc");
  CHECK_THAT(finding(r, "wuxi", "service.missing")["message"].get<std::string>(),
             Catch::Matchers::Contains("DNS will not resolve helloworld.dev in wuxi"));
}

TEST_CASE("verify trap: a locality rule without outlierDetection", "[e2e][verify][trap]") {
  MESHCTL_REQUIRE_SIM();
  Meshed m;
  m.kubectl("wuxi",
            {"apply", "-f",
             (kubesim::testing::KubesimProcess::seed_dir() / "helloworld-v2.yaml").string()});
  meshctl::testing::TempDir dir;
  const auto rule = dir.write("rule.yaml", R"(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: helloworld
  namespace: dev
spec:
  host: helloworld.dev.svc.cluster.local
  trafficPolicy:
    loadBalancer:
      localityLbSetting:
        enabled: true
        failoverPriority: [topology.istio.io/cluster]
)");
  m.kubectl("wuxi", {"apply", "-f", rule.string()});
  const json r = verify_until(m.clusters, [](const json& j) {
    return has(j, "wuxi", "destination-rule.no-outlier-detection") &&
           endpoints(j, "wuxi").size() == 2;
  });
  expect_error(r, "wuxi", "destination-rule.no-outlier-detection", "outlierDetection");
  REQUIRE(endpoints(r, "wuxi").size() == 2); // v2 here, cn-shanghai's gateway
  // Istio ignores failoverPriority without outlierDetection: everything stays at priority 0.
  for (const auto& row : cluster_of(r, "wuxi")["endpoints"]["rows"]) {
    CHECK(row["priority"] == 0);
  }
  CHECK_FALSE(has(r, "wuxi", "traffic.localized"));
}

TEST_CASE("verify trap: the host is not exposed on 15443", "[e2e][verify][trap]") {
  MESHCTL_REQUIRE_SIM();
  Meshed m;
  m.kubectl("cn-shanghai",
            {"-n", "istio-system", "patch", "gateways.networking.istio.io", "cross-network-gateway",
             "--type", "merge", "-p",
             R"({"spec":{"servers":[{"port":{"number":15443,"name":"tls","protocol":"TLS"},
                 "tls":{"mode":"AUTO_PASSTHROUGH"},"hosts":["other.prod.svc.cluster.local"]}]}})"});
  const json r = m.fails_with("cn-shanghai", "sni.missing");
  expect_error(r, "cn-shanghai", "expose.host-not-covered", "meshctl expose helloworld.dev");
  // The gateway's own listener says so: istiod dropped the SNI chain of helloworld.
  expect_error(r, "cn-shanghai", "sni.missing", "meshctl expose helloworld.dev");
}

TEST_CASE("verify trap: istiod was not restarted after cacerts", "[e2e][verify][trap]") {
  MESHCTL_REQUIRE_SIM();
  Meshed m(/*restart=*/false); // join --no-restart-istiod: istiod keeps its old root
  for (const std::string cluster : {"cn-shanghai", "wuxi"}) {
    const json r = m.fails_with(cluster, "root-configmap.stale");
    expect_error(r, cluster, "root-configmap.stale", "rollout restart deployment/istiod");
    expect_error(r, cluster, "root-configmap.stale", "meshctl join cn-shanghai wuxi restarts");
    // Not `meshctl join --restart-istiod`: the plain join restarts a stale istiod itself.
    CHECK_THAT(finding(r, cluster, "root-configmap.stale")["hint"].get<std::string>(),
               !Catch::Matchers::Contains("--restart-istiod"));
  }
  // The hint's command is the fix: join sees the stale root and restarts istiod, saying why.
  auto join = m.clusters.meshctl({"join", "cn-shanghai", "wuxi"});
  INFO(join.out << join.err);
  REQUIRE(join.exit_code == 0);
  for (const std::string cluster : {"cn-shanghai", "wuxi"}) {
    CHECK(join.out.find(cluster + ": restarted istiod (rolling restart of istio-system/istiod) "
                                  "because it serves root") != std::string::npos);
  }
  const json r = verify_until(m.clusters, [](const json& j) { return j["exit"] == 0; });
  INFO(problems(r));
  CHECK(r["exit"] == 0);
}

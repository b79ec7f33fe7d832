// proxy-config against live pods: exec `pilot-agent request GET …` in istio-proxy, as istioctl
// does. kubesim answers from its istiod model, so the tables show what join and expose made istiod
// push.

#include "verify_steps.hpp"

using namespace meshctl::e2e;

namespace {

std::string pod_name(const TestClusters& clusters, const std::string& cluster,
                     const std::string& ns, const std::string& selector) {
  const json pods = clusters.kubectl_json(cluster, {"get", "pods", "-n", ns, "-l", selector});
  REQUIRE(!pods["items"].empty());
  return pods["items"][0]["metadata"]["name"];
}

} // namespace

TEST_CASE("proxy-config reads live pods through exec", "[e2e][envoy]") {
  MESHCTL_REQUIRE_SIM(); // the seed's sleep pods and gateway addresses
  TestClusters clusters;
  mesh_up(clusters);
  const std::string host = "helloworld.dev.svc.cluster.local";
  const std::string sni = "outbound_.5000_._." + host;
  const std::string gw = pod_name(clusters, "cn-shanghai", "istio-system", "istio=eastwestgateway");
  const std::string sleep = pod_name(clusters, "wuxi", "dev", "app=sleep");

  // The gateway's 15443 listener has the SNI chain expose asked for.
  auto l = clusters.meshctl({"proxy-config", "listener", gw + ".istio-system", "--context",
                             "cn-shanghai", "--port", "15443"});
  INFO(l.err);
  CHECK(l.exit_code == 0);
  CHECK(l.out.find("15443 SNI: " + sni + "; App: istio,") != std::string::npos);
  CHECK(l.out.find("Cluster: " + sni) != std::string::npos);

  // wuxi's sleep reaches helloworld through cn-shanghai's gateway (node IP + nodePort).
  const std::string via = "192.168.0.11:" + node_port(clusters, "cn-shanghai");
  json ep_rows;
  for (int i = 0; i < 100; ++i) { // istiod's push is asynchronous
    auto ep = clusters.meshctl({"pc", "endpoints", sleep + ".dev", "--context", "wuxi", "--cluster",
                                "outbound|5000||" + host, "-o", "wide"});
    INFO(ep.err);
    REQUIRE(ep.exit_code == 0);
    if (ep.out.find(via) != std::string::npos) {
      ep_rows = ep.out;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  REQUIRE(ep_rows.is_string());
  CHECK(ep_rows.get<std::string>().find(via + "     HEALTHY     OK                cn-shanghai/") !=
        std::string::npos);

  // The namespace defaults to the context's (default), where the pod is not.
  auto missing = clusters.meshctl({"pc", "endpoints", sleep, "--context", "wuxi"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("not found in namespace default") != std::string::npos);

  // A user without create on pods/exec gets the RBAC permission named in the hint, and no token.
  REQUIRE(clusters.kubectl("wuxi", {"-n", "dev", "create", "serviceaccount", "viewer"}).exit_code ==
          0);
  const auto token_run = clusters.kubectl("wuxi", {"-n", "dev", "create", "token", "viewer"});
  INFO(token_run.err);
  REQUIRE(token_run.exit_code == 0);
  const std::string token = token_run.out.substr(0, token_run.out.find('\n'));
  meshctl::testing::TempDir tmp;
  const auto viewer = tmp.path() / "viewer.yaml";
  {
    auto flat = clusters.kubectl("wuxi", {"config", "view", "--minify", "--flatten", "--raw"});
    REQUIRE(flat.exit_code == 0);
    tmp.write("viewer.yaml", flat.out);
  }
  const std::map<std::string, std::string> env{{"KUBECONFIG", viewer.string()}};
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"kubectl", "config", "set-credentials", "viewer",
                                 "--token=" + token},
        std::vector<std::string>{"kubectl", "config", "set-context", "--current",
                                 "--user=viewer"}}) {
    REQUIRE(meshctl::testing::run(args, env).exit_code == 0);
  }
  auto denied = meshctl::testing::run_meshctl({"pc", "listener", sleep + ".dev"},
                                              {{"KUBECONFIG", viewer.string()},
                                               {"MESHCTL_CONFIG", ""},
                                               {"HOME", clusters.dir().path().string()}});
  CHECK(denied.exit_code == 1);
  CHECK(denied.err.find("create pods/exec") != std::string::npos);
  CHECK(denied.err.find(token) == std::string::npos);
}

// Variant existing-gateway: both clusters already have an east-west gateway, installed the Istio
// way in namespace istio-gateways (cn-shanghai: gen-eastwest-gateway.sh + istioctl, LoadBalancer;
// wuxi: the Helm gateway chart, NodePort with externalIPs, named in meshctl.yaml). join uses them
// and makes no gateway of its own; verify checks them; unjoin leaves them in place.

#include "clusters.hpp"
#include "verify_steps.hpp"

#include <nlohmann/json.hpp>

using meshctl::e2e::TestClusters;
using namespace meshctl::e2e;
using nlohmann::json;

namespace {

const std::string k_ns = "istio-gateways";
const std::string k_gw = "istio-eastwestgateway";

bool exists(const TestClusters& clusters, const std::string& context,
            const std::vector<std::string>& what) {
  std::vector<std::string> args{"get"};
  args.insert(args.end(), what.begin(), what.end());
  return clusters.kubectl(context, args).exit_code == 0;
}

int count(const json& report, const char* field) {
  int n = 0;
  for (const auto& c : report["clusters"]) {
    n += c[field].get<int>();
  }
  return n;
}

std::string gateway_node_port(const TestClusters& clusters, const std::string& cluster) {
  const json svc = clusters.kubectl_json(cluster, {"get", "service", "-n", k_ns, k_gw});
  for (const auto& p : svc["spec"]["ports"]) {
    if (p["port"] == 15443) {
      return std::to_string(p["nodePort"].get<int>());
    }
  }
  return "";
}

} // namespace

TEST_CASE("existing east-west gateways: join uses them, verify checks them, unjoin keeps them",
          "[e2e][join][variant]") {
  MESHCTL_REQUIRE_SIM(); // the variant's seeded gateways
  kubesim::testing::KubesimOptions options;
  options.variant = "existing-gateway";
  TestClusters clusters(options);
  for (const auto& c : clusters.names()) {
    auto r = clusters.kubectl(
        c, {"-n", k_ns, "rollout", "status", "deployment/" + k_gw, "--timeout", "60s"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    // The injector's gateway template gave the pod its proxy.
    const json pods =
        clusters.kubectl_json(c, {"-n", k_ns, "get", "pods", "-l", "istio=eastwestgateway"});
    REQUIRE(pods["items"].size() == 1);
    const auto& proxy = pods["items"][0]["spec"]["containers"][0];
    CHECK(proxy["name"] == "istio-proxy");
    CHECK(proxy["image"] != "auto");
    CHECK(pods["items"][0]["metadata"]["annotations"].contains("sidecar.istio.io/status"));
  }

  // join: says which gateway it uses, and makes no gateway workload of its own.
  auto mark = clusters.mark();
  auto join = clusters.meshctl({"join", "cn-shanghai", "wuxi", "--restart-istiod"});
  INFO(join.out << join.err);
  REQUIRE(join.exit_code == 0);
  for (const auto& c : clusters.names()) {
    CHECK(join.out.find(c + ": using existing east-west gateway istio-gateways/" + k_gw + "\n") !=
          std::string::npos);
    for (const char* kind : {"deployment", "service", "serviceaccount", "role", "rolebinding"}) {
      CHECK_FALSE(exists(clusters, c, {"-n", "istio-system", kind, k_gw}));
    }
    // cross-network-gateway beside the gateway pods, selecting them as their Service does.
    const json gw = clusters.kubectl_json(
        c, {"-n", k_ns, "get", "gateways.networking.istio.io", "cross-network-gateway"});
    const json svc = clusters.kubectl_json(c, {"-n", k_ns, "get", "service", k_gw});
    CHECK(gw["spec"]["selector"] == svc["spec"]["selector"]);
    CHECK(gw["spec"]["servers"][0]["port"]["number"] == 15443);
    CHECK_FALSE(
        exists(clusters, c,
               {"-n", "istio-system", "gateways.networking.istio.io", "cross-network-gateway"}));
  }
  for (const auto& w : clusters.writes_since(mark)) {
    const std::string res = w.value("resource", "");
    INFO(w.dump());
    CHECK((w.value("namespace", "") != k_ns || res == "gateways"));
    if (res == "deployments") {
      CHECK(w.value("name", "") == "istiod"); // --restart-istiod, nothing else
    }
    CHECK(w.value("name", "").find("eastwestgateway") == std::string::npos); // no gateway parts
  }

  // Again: nothing to write.
  mark = clusters.mark();
  auto again = clusters.meshctl({"join", "cn-shanghai", "wuxi", "-o", "json"});
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  const json second = json::parse(again.out);
  CHECK(count(second, "created") == 0);
  CHECK(count(second, "updated") == 0);
  for (const auto& c : second["clusters"]) {
    CHECK(c["existingGateway"] == "istio-gateways/" + k_gw);
  }
  CHECK(clusters.writes_since(mark).empty());

  // expose and localize write beside the installed gateways too.
  for (const auto& step : {std::vector<std::string>{"expose", "helloworld.dev"},
                           std::vector<std::string>{"expose", "--remove", "--all"},
                           std::vector<std::string>{"localize", "helloworld.dev"}}) {
    auto r = clusters.meshctl(step);
    INFO(step[0] << ": " << r.out << r.err);
    REQUIRE(r.exit_code == 0);
  }
  const json exposed = clusters.kubectl_json(
      "cn-shanghai", {"-n", k_ns, "get", "gateways.networking.istio.io", "cross-network-gateway"});
  CHECK(exposed["spec"]["servers"][0]["hosts"] ==
        json::array({"helloworld.dev.svc.cluster.local"}));

  // verify: green, as on the standard sandbox; wuxi's client reaches v1 through cn-shanghai's
  // load balancer address, and each gateway is checked where it is.
  auto r = verify_until(clusters, [](const json& j) { return j["exit"] == 0; },
                        {"--fail-on", "warning"});
  INFO(problems(r));
  REQUIRE(r["exit"] == 0);
  CHECK(endpoints(r, "wuxi") ==
        std::vector<std::string>{"remote-gateway cn-shanghai 0 192.168.0.200:15443"});
  CHECK(has(r, "cn-shanghai", "sni.ok"));
  for (const auto& c : clusters.names()) {
    const json ok = finding(r, c, "gateway.ok");
    REQUIRE_FALSE(ok.is_null());
    CHECK(ok["message"].get<std::string>().find("istio-gateways/" + k_gw) != std::string::npos);
  }
  CHECK(finding(r, "wuxi", "gateway.ok")["message"].get<std::string>().find(
            "10.20.0.21:" + gateway_node_port(clusters, "wuxi")) != std::string::npos);

  // unjoin --all removes what meshctl made and leaves the installed gateways in place.
  auto unjoin = clusters.meshctl({"unjoin", "cn-shanghai", "wuxi", "--all"});
  INFO(unjoin.out << unjoin.err);
  REQUIRE(unjoin.exit_code == 0);
  for (const auto& c : clusters.names()) {
    CHECK(exists(clusters, c, {"-n", k_ns, "deployment", k_gw}));
    CHECK(exists(clusters, c, {"-n", k_ns, "service", k_gw}));
    CHECK(exists(clusters, c, {"namespace", k_ns}));
    CHECK_FALSE(
        exists(clusters, c, {"-n", k_ns, "gateways.networking.istio.io", "cross-network-gateway"}));
    CHECK_FALSE(
        exists(clusters, c, {"-n", "dev", "destinationrules.networking.istio.io", "helloworld"}));
  }
  auto last = clusters.meshctl({"unjoin", "cn-shanghai", "wuxi", "--all"});
  CHECK(last.exit_code == 0);
  CHECK(last.out == "nothing to remove: no object meshctl made is left\n");
}

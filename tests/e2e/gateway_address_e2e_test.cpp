// The east-west gateway's address in every form a cluster gives it, each an installation variant
// (tests/kubesim/seed/variants): a LoadBalancer whose cloud names it (lb-hostname, AWS), one that
// gets an IP (lb-ip) and one that never gets anything (lb-pending, bare metal). Each runs the same
// steps as a user would — join, join again, expose, localize, verify — and checks what verify says
// about the address and what the clients' Envoys hold, as istiod computes it (kubesim's model
// resolves the kubesim cloud's names as istiod resolves a load balancer's hostname).

#include "verify_steps.hpp"

using namespace meshctl::e2e;

namespace {

int count(const json& report, const char* field) {
  int n = 0;
  for (const auto& c : report["clusters"]) {
    n += c[field].get<int>();
  }
  return n;
}

kubesim::testing::KubesimOptions variant(const std::string& name) {
  kubesim::testing::KubesimOptions o;
  o.variant = name;
  return o;
}

json ok_json(const meshctl::testing::RunResult& r) {
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

// join → join again (nothing to write) → expose → localize, all of which must succeed.
void install(const TestClusters& clusters) {
  ok_json(clusters.meshctl({"join", "cn-shanghai", "wuxi", "--restart-istiod", "-o", "json"}));
  const json again = ok_json(clusters.meshctl({"join", "cn-shanghai", "wuxi", "-o", "json"}));
  CHECK(count(again, "created") == 0);
  CHECK(count(again, "updated") == 0);
  ok_json(clusters.meshctl({"expose", "helloworld.dev", "-o", "json"}));
  ok_json(clusters.meshctl({"localize", "helloworld.dev", "-o", "json"}));
}

json ingress_of(const TestClusters& clusters, const std::string& cluster) {
  return clusters
      .kubectl_json(cluster, {"get", "service", "-n", "istio-system", "istio-eastwestgateway"})
      .value("status", json::object())
      .value("loadBalancer", json::object())
      .value("ingress", json::array());
}

std::vector<std::string> warnings(const json& report) {
  std::vector<std::string> out;
  for (const auto& c : report["clusters"]) {
    for (const auto& f : c["findings"]) {
      if (f["severity"] == "warning") {
        out.push_back(c["name"].get<std::string>() + " " + f["id"].get<std::string>());
      }
    }
  }
  return out;
}

} // namespace

TEST_CASE("lb-hostname: a LoadBalancer gateway named by its cloud (AWS ELB)",
          "[e2e][verify][gateway-address]") {
  MESHCTL_REQUIRE_SIM();
  TestClusters clusters(variant("lb-hostname"));
  install(clusters);
  const json ing = ingress_of(clusters, "cn-shanghai");
  REQUIRE(ing.size() == 1);
  const std::string host = ing[0].value("hostname", "");
  REQUIRE(host.ends_with(".elb.kubesim.local"));
  CHECK_FALSE(ing[0].contains("ip"));
  const std::string v1 = pod_ip(clusters, "cn-shanghai", "app=helloworld") + ":5000";

  // wuxi's client reaches v1 through cn-shanghai's gateway at the address istiod resolved the
  // name to (kubesim's fixed resolution, 198.18.0.0/15): Envoy never holds the name itself.
  auto r = verify_until(clusters, [](const json& j) {
    return j["exit"] == 0 && cluster_of(j, "wuxi")["endpoints"]["rows"].size() == 1;
  });
  INFO(problems(r));
  REQUIRE(r["exit"] == 0);
  const auto wuxi_eps = endpoints(r, "wuxi");
  REQUIRE(wuxi_eps.size() == 1);
  CHECK(wuxi_eps[0].starts_with("remote-gateway cn-shanghai 0 198.1"));
  CHECK(wuxi_eps[0].ends_with(":15443"));
  const std::string resolved = wuxi_eps[0].substr(wuxi_eps[0].rfind(' ') + 1);
  CHECK(endpoints(r, "cn-shanghai") == std::vector<std::string>{"local-pod cn-shanghai 0 " + v1});

  // verify shows the name, and says honestly what resolving it here gave (this machine has no DNS
  // for .elb.kubesim.local): for cn-shanghai, what wuxi's client proves istiod resolved; for wuxi,
  // whose gateway nobody uses yet, a warning that it could not be confirmed — not an error.
  const json ok = finding(r, "cn-shanghai", "gateway.ok");
  REQUIRE(ok.is_object());
  CHECK_THAT(ok["message"].get<std::string>(),
             Catch::Matchers::Contains(host + ":15443 (LoadBalancer ingress hostname)"));
  const json sh = finding(r, "cn-shanghai", "gateway.hostname");
  REQUIRE(sh.is_object());
  CHECK(sh["severity"] == "info");
  CHECK_THAT(sh["message"].get<std::string>(),
             Catch::Matchers::Contains("is a hostname that does not resolve from here ("));
  CHECK_THAT(sh["message"].get<std::string>(),
             Catch::Matchers::Contains("istiod in the other clusters resolved it; reached by "
                                       "wuxi's client through " +
                                       resolved));
  const json wx = finding(r, "wuxi", "gateway.hostname-unresolved");
  REQUIRE(wx.is_object());
  CHECK(wx["severity"] == "warning");
  CHECK_THAT(wx["message"].get<std::string>(),
             Catch::Matchers::Contains("istiod resolves it itself, through the DNS of its own "
                                       "cluster"));
  CHECK_THAT(wx["hint"].get<std::string>(), Catch::Matchers::Contains("nslookup"));
  // Otherwise the standard sandbox's outcome: no error, that one warning.
  CHECK(warnings(r) == std::vector<std::string>{"wuxi gateway.hostname-unresolved"});
  CHECK((has(r, "wuxi", "traffic.localized") || has(r, "wuxi", "endpoints.ok")));
  CHECK(has(r, "cn-shanghai", "sni.ok"));
}

TEST_CASE("lb-ip: a LoadBalancer gateway with an IP", "[e2e][verify][gateway-address]") {
  MESHCTL_REQUIRE_SIM();
  TestClusters clusters(variant("lb-ip"));
  install(clusters);
  const json ing = ingress_of(clusters, "cn-shanghai");
  REQUIRE(ing.size() == 1);
  const std::string ip = ing[0].value("ip", "");
  REQUIRE_FALSE(ip.empty());
  auto r = verify_until(clusters, [](const json& j) { return j["exit"] == 0; },
                        {"--fail-on", "warning"});
  INFO(problems(r));
  REQUIRE(r["exit"] == 0);
  CHECK(endpoints(r, "wuxi") ==
        std::vector<std::string>{"remote-gateway cn-shanghai 0 " + ip + ":15443"});
  CHECK_THAT(finding(r, "cn-shanghai", "gateway.ok")["message"].get<std::string>(),
             Catch::Matchers::Contains(ip + ":15443 (LoadBalancer ingress)"));
  CHECK_FALSE(has(r, "cn-shanghai", "gateway.hostname"));
}

TEST_CASE("lb-pending: a LoadBalancer gateway no controller serves",
          "[e2e][verify][gateway-address]") {
  MESHCTL_REQUIRE_SIM();
  TestClusters clusters(variant("lb-pending"));
  install(clusters);
  CHECK(ingress_of(clusters, "cn-shanghai").empty());
  const json r = verify(clusters);
  INFO(problems(r));
  CHECK(r["exit"] == 1);
  for (const std::string c : {"cn-shanghai", "wuxi"}) {
    const json f = finding(r, c, "gateway.loadbalancer-pending");
    REQUIRE(f.is_object());
    CHECK(f["severity"] == "error");
    CHECK_THAT(f["message"].get<std::string>(), Catch::Matchers::Contains("EXTERNAL-IP <pending>"));
    CHECK_THAT(f["hint"].get<std::string>(),
               Catch::Matchers::Contains("kubectl --context " + c +
                                         " -n istio-system describe service "
                                         "istio-eastwestgateway"));
  }
  // wuxi's client cannot get to v1: no gateway address for cn-shanghai's network.
  CHECK_FALSE(has(r, "wuxi", "endpoints.ok"));
}

TEST_CASE("gateway-addresses: gateways behind NATs, given by hand and written to meshNetworks",
          "[e2e][verify][gateway-address]") {
  MESHCTL_REQUIRE_SIM();
  TestClusters clusters(variant("gateway-addresses"));
  install(clusters);
  // Every istiod learns every network's addresses from its own ConfigMap istio.
  for (const std::string c : {"cn-shanghai", "wuxi"}) {
    const json cm = clusters.kubectl_json(c, {"get", "configmap", "-n", "istio-system", "istio"});
    const std::string networks = cm["data"].value("meshNetworks", "");
    CHECK_THAT(networks, Catch::Matchers::Contains("address: 203.0.113.10"));
    CHECK_THAT(networks, Catch::Matchers::Contains("address: nat-wuxi.elb.kubesim.local"));
    CHECK_THAT(networks, Catch::Matchers::Contains("port: 31443"));
    CHECK(cm["data"].contains("mesh")); // the rest of Istio's ConfigMap is left alone
  }
  const std::string v1 = pod_ip(clusters, "cn-shanghai", "app=helloworld") + ":5000";
  auto r = verify_until(clusters, [](const json& j) { return j["exit"] == 0; });
  INFO(problems(r));
  REQUIRE(r["exit"] == 0);
  CHECK(endpoints(r, "wuxi") ==
        std::vector<std::string>{"remote-gateway cn-shanghai 0 203.0.113.10:15443"});
  CHECK(endpoints(r, "cn-shanghai") == std::vector<std::string>{"local-pod cn-shanghai 0 " + v1});
  CHECK_THAT(finding(r, "cn-shanghai", "gateway.ok")["message"].get<std::string>(),
             Catch::Matchers::Contains("203.0.113.10:15443 (meshNetworks)"));
  CHECK_THAT(finding(r, "wuxi", "gateway.mesh-networks")["message"].get<std::string>(),
             Catch::Matchers::Contains("istiod in wuxi knows the gateway of network cn-shanghai"));
  CHECK(has(r, "cn-shanghai", "gateway.mesh-networks"));
  // wuxi's address is a name this machine cannot resolve and no client uses yet: a warning only.
  CHECK(warnings(r) == std::vector<std::string>{"wuxi gateway.hostname-unresolved"});

  // Helm or istioctl rewriting meshNetworks takes wuxi's way into cn-shanghai away: verify says
  // where, and join puts it back.
  REQUIRE(clusters
              .kubectl("wuxi", {"-n", "istio-system", "patch", "configmap", "istio", "--type",
                                "merge", "-p", R"({"data":{"meshNetworks":"networks: {}\n"}})"})
              .exit_code == 0);
  r = verify(clusters);
  CHECK(r["exit"] == 1);
  const json missing = finding(r, "wuxi", "gateway.mesh-networks-missing");
  REQUIRE(missing.is_object());
  CHECK_THAT(missing["hint"].get<std::string>(), Catch::Matchers::Contains("meshctl join"));
  const json again = ok_json(clusters.meshctl({"join", "cn-shanghai", "wuxi", "-o", "json"}));
  CHECK(count(again, "updated") == 1);
  r = verify_until(clusters, [](const json& j) { return j["exit"] == 0; });
  CHECK(r["exit"] == 0);
}

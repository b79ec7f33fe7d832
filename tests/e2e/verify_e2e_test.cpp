// verify and proxy-config end to end: the real meshctl binary against two kubesims seeded like the
// seed's clusters (tests/kubesim/seed), after a real `meshctl join`. kubesim does not run istiod or
// Envoy, so the parts istiod would write (istio-ca-root-cert, /debug/clusterz) and the Envoy dumps
// are written by the test as kubesim --pod-data answers, in the shapes of the real ones
// (unit/check/fixtures.hpp). Everything else verify reads is kubesim's real state.

#include "kubesim_process.hpp"
#include "support/testing.hpp"
#include "unit/check/fixtures.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

using kubesim::testing::KubesimProcess;
using meshctl::testing::read_file;
using meshctl::testing::run_meshctl;
using meshctl::testing::RunResult;
using meshctl::testing::TempDir;
using nlohmann::json;
namespace fx = meshctl::testing::check;

namespace {

const std::string k_host = "helloworld.dev.svc.cluster.local";
const std::string k_cluster_5000 = "outbound|5000||helloworld.dev.svc.cluster.local";
const std::string k_sni_5000 = "outbound_.5000_._.helloworld.dev.svc.cluster.local";

std::string port_of(const std::string& url) {
  return url.substr(url.rfind(':') + 1);
}

// kubesim's pod-data file name for an admin path (README: "Pod data").
std::string sanitise(const std::string& path) {
  std::string out;
  for (char c : path.starts_with("/") ? path.substr(1) : path) {
    const bool keep =
        std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
    out += keep ? c : '_';
  }
  return out;
}

/// Two seeded kubesims, a kubeconfig with both contexts, a meshctl.yaml like scripts/sandbox's.
class Sandbox {
public:
  Sandbox() {
    for (const std::string name : {"cn-shanghai", "wuxi"}) {
      auto k = std::make_unique<KubesimProcess>();
      k->start(name,
               {KubesimProcess::seed_dir() / "istio-crds.yaml",
                KubesimProcess::seed_dir() / (name + ".yaml")},
               {.pod_data = m_dir.path() / "pod-data",
                .faults = nullptr,
                .token_auth = false,
                .extra_args = {"--san", name + ".kubesim.local", "--token-delay-ms", "10"}});
      m_sims.push_back(std::move(k));
    }
    // One mesh root per test process: RSA 4096 keys are slow to make, and Catch's SECTIONs
    // re-run the test case (a new sandbox each time) in the same process.
    static const TempDir k_home;
    m_home = k_home.path().string();
    std::string config = "mesh:\n  id: mesh1\nclusters:\n";
    for (const auto& k : m_sims) {
      const std::string ip = k->name() == "cn-shanghai" ? "192.168.0.11" : "10.20.0.21";
      config += "  - name: " + k->name() + "\n    network: " + k->name() +
                "\n    apiServer: https://" + k->name() + ".kubesim.local:" + port_of(k->url()) +
                "\n    gateway:\n      type: NodePort\n      externalIPs: [" + ip +
                "]\n      nodeSelector: {}\n";
    }
    m_config = m_dir.write("meshctl.yaml", config).string();
  }

  [[nodiscard]] KubesimProcess& sim(const std::string& name) const {
    return name == "cn-shanghai" ? *m_sims[0] : *m_sims[1];
  }

  [[nodiscard]] std::map<std::string, std::string> env() const {
    return {{"KUBECONFIG",
             m_sims[0]->kubeconfig_path().string() + ":" + m_sims[1]->kubeconfig_path().string()},
            {"MESHCTL_CONFIG", m_config},
            {"HOME", m_home}};
  }

  RunResult meshctl(const std::vector<std::string>& args) const { return run_meshctl(args, env()); }

  /// JSON of an admin GET; fails the test on a non-2xx answer.
  json get(const std::string& cluster, const std::string& path) const {
    auto [status, body] = sim(cluster).request("GET", path);
    INFO(path << ": " << body);
    REQUIRE(status == 200);
    return json::parse(body);
  }
  void send(const std::string& cluster, const std::string& method, const std::string& path,
            const json& body = nullptr,
            const std::string& content_type = "application/json") const {
    auto [status, text] =
        sim(cluster).request(method, path, body.is_null() ? "" : body.dump(), content_type);
    INFO(method << " " << path << ": " << text);
    REQUIRE(status >= 200);
    REQUIRE(status < 300);
  }
  void patch(const std::string& cluster, const std::string& path, const json& merge) const {
    send(cluster, "PATCH", path, merge, "application/merge-patch+json");
  }

  /// The first pod matching a label selector.
  json pod(const std::string& cluster, const std::string& ns, const std::string& selector) const {
    const auto list = get(cluster, "/api/v1/namespaces/" + ns + "/pods?labelSelector=" + selector);
    REQUIRE(!list["items"].empty());
    return list["items"][0];
  }
  std::string pod_name(const std::string& cluster, const std::string& ns,
                       const std::string& selector) const {
    return pod(cluster, ns, selector)["metadata"]["name"];
  }

  void pod_data(const std::string& ns, const std::string& pod, int port, const std::string& path,
                const std::string& text) const {
    const auto dir = m_dir.path() / "pod-data" / ns / pod / std::to_string(port);
    std::filesystem::create_directories(dir);
    std::ofstream(dir / sanitise(path), std::ios::binary) << text;
  }

  /// The 15443 nodePort of a cluster's east-west gateway.
  int gateway_node_port(const std::string& cluster) const {
    const auto svc = get(cluster, "/api/v1/namespaces/istio-system/services/istio-eastwestgateway");
    for (const auto& p : svc["spec"]["ports"]) {
      if (p["port"] == 15443) {
        return p["nodePort"];
      }
    }
    FAIL("no 15443 port");
    return 0;
  }

  /// What istiod would do after a restart: write its root into istio-ca-root-cert in dev.
  void istiod_restarted(const std::string& cluster) const {
    const auto cacerts = get(cluster, "/api/v1/namespaces/istio-system/secrets/cacerts");
    set_root_configmap(cluster, decode(cacerts["data"]["root-cert.pem"]));
  }
  void set_root_configmap(const std::string& cluster, const std::string& pem) const {
    const json cm = {{"apiVersion", "v1"},
                     {"kind", "ConfigMap"},
                     {"metadata", {{"name", "istio-ca-root-cert"}, {"namespace", "dev"}}},
                     {"data", {{"root-cert.pem", pem}}}};
    auto [status, body] = sim(cluster).request(
        "PATCH",
        "/api/v1/namespaces/dev/configmaps/istio-ca-root-cert?fieldManager=istiod&force=true",
        cm.dump(), "application/apply-patch+yaml");
    INFO(body);
    REQUIRE(status < 300);
  }

  /// istiod's view of its remote clusters, and the Envoy dumps of gateways and clients.
  void istiod_synced(const std::string& cluster, const std::string& other) const {
    const json clusterz = json::array({{{"id", other},
                                        {"secretName", "istio-system/istio-remote-secret-" + other},
                                        {"syncStatus", "synced"}}});
    pod_data("istio-system", pod_name(cluster, "istio-system", "app%3Distiod"), 15014,
             "/debug/clusterz", clusterz.dump());
  }
  void gateway_routes(const std::string& cluster, const std::vector<std::string>& snis) const {
    pod_data("istio-system", pod_name(cluster, "istio-system", "istio%3Deastwestgateway"), 15000,
             "config_dump?mask=dynamic_listeners,static_listeners",
             fx::gateway_listener_dump(snis));
  }
  void client_sees(const std::string& cluster, const std::vector<fx::Endpoint>& eps) const {
    const std::string sleep = pod_name(cluster, "dev", "app%3Dsleep");
    pod_data("dev", sleep, 15000, "clusters?format=json", fx::clusters_json(k_cluster_5000, eps));
    pod_data("dev", sleep, 15000, "config_dump?include_eds=true",
             fx::eds_dump(k_cluster_5000, eps));
  }

  static std::string decode(const json& b64) {
    // Small base64 decoder for test data (kubesim returns Secret data base64-encoded).
    static const std::string k_chars =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string in = b64.get<std::string>();
    std::string out;
    int val = 0;
    int bits = -8;
    for (char c : in) {
      const auto pos = k_chars.find(c);
      if (pos == std::string::npos) {
        break;
      }
      val = (val << 6) + static_cast<int>(pos);
      bits += 6;
      if (bits >= 0) {
        out += static_cast<char>((val >> bits) & 0xFF);
        bits -= 8;
      }
    }
    return out;
  }

  [[nodiscard]] const std::filesystem::path& dir() const { return m_dir.path(); }

private:
  TempDir m_dir;
  std::vector<std::unique_ptr<KubesimProcess>> m_sims;
  std::string m_config;
  std::string m_home;
};

/// verify -o json, parsed; the text goes into the test's log on failure.
json verify_json(const Sandbox& s, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"verify", "helloworld.dev", "-o", "json"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = s.meshctl(args);
  INFO("stderr: " << r.err);
  REQUIRE(!r.out.empty());
  json j = json::parse(r.out);
  j["exit"] = r.exit_code;
  return j;
}

/// Findings of `cluster` ("" = mesh-wide) with `id`.
std::vector<json> findings(const json& report, const std::string& cluster, const std::string& id) {
  std::vector<json> out;
  const auto collect = [&](const json& fs) {
    for (const auto& f : fs) {
      if (f["id"] == id && f["cluster"] == cluster) {
        out.push_back(f);
      }
    }
  };
  collect(report["findings"]);
  for (const auto& c : report["clusters"]) {
    collect(c["findings"]);
  }
  return out;
}

std::string problems(const json& report) {
  std::string out;
  const auto collect = [&](const json& fs) {
    for (const auto& f : fs) {
      if (f["severity"] != "info") {
        out += f["severity"].get<std::string>() + " " + f["id"].get<std::string>() + " [" +
               f["cluster"].get<std::string>() + "] " + f["message"].get<std::string>() + "\n";
      }
    }
  };
  collect(report["findings"]);
  for (const auto& c : report["clusters"]) {
    collect(c["findings"]);
  }
  return out;
}

json endpoints_of(const json& report, const std::string& cluster) {
  for (const auto& c : report["clusters"]) {
    if (c["name"] == cluster) {
      return c["endpoints"]["rows"];
    }
  }
  return json::array();
}

/// join, then what istiod and Envoy would show with helloworld-v1 in cn-shanghai only.
void join_and_settle(const Sandbox& s) {
  auto join = s.meshctl({"join", "cn-shanghai", "wuxi"});
  INFO(join.out << join.err);
  REQUIRE(join.exit_code == 0);
  for (const auto& [c, o] :
       {std::pair<std::string, std::string>{"cn-shanghai", "wuxi"}, {"wuxi", "cn-shanghai"}}) {
    s.istiod_restarted(c);
    s.istiod_synced(c, o);
  }
  s.gateway_routes("cn-shanghai", {k_sni_5000});
  s.gateway_routes("wuxi", {k_sni_5000});
  const std::string v1_ip = s.pod("cn-shanghai", "dev", "app%3Dhelloworld")["status"]["podIP"];
  const auto shanghai_gw = static_cast<std::uint32_t>(s.gateway_node_port("cn-shanghai"));
  s.client_sees("cn-shanghai", {{v1_ip, 5000, 0, "helloworld-v1;dev;helloworld;v1;cn-shanghai"}});
  s.client_sees("wuxi", {{"192.168.0.11", shanghai_gw, 0, ";;;;cn-shanghai"}});
}

#define REQUIRE_KUBESIM()                                                                          \
  if (!std::filesystem::exists(KubesimProcess::binary())) {                                        \
    MESHCTL_SKIP("kubesim is not built");                                                          \
  }

} // namespace

TEST_CASE("e2e: the seed's story verified step by step", "[e2e][verify]") {
  REQUIRE_KUBESIM();
  Sandbox s;
  join_and_settle(s);

  // 1. v1 only in cn-shanghai: wuxi's client reaches it through cn-shanghai's gateway; verify
  //    passes without a warning.
  auto r = verify_json(s);
  INFO(problems(r));
  CHECK(r["exit"] == 0);
  CHECK(r["summary"]["errors"] == 0);
  CHECK(r["summary"]["warnings"] == 0);
  const auto wuxi_rows = endpoints_of(r, "wuxi");
  REQUIRE(wuxi_rows.size() == 1);
  CHECK(wuxi_rows[0]["kind"] == "remote-gateway");
  CHECK(wuxi_rows[0]["peerCluster"] == "cn-shanghai");
  CHECK(findings(r, "wuxi", "remote-secret.ok").size() == 1);
  CHECK(findings(r, "cn-shanghai", "sni.ok").size() == 1);
  CHECK(findings(r, "cn-shanghai", "clusterz.synced").size() == 1);

  // The table form shows the SNI route and the endpoints, without colour off a TTY.
  auto table = s.meshctl({"verify", "helloworld.dev"});
  CHECK(table.exit_code == 0);
  CHECK(table.out.find("SNI: " + k_sni_5000) != std::string::npos);
  CHECK(table.out.find("gateway of cn-shanghai") != std::string::npos);
  CHECK(table.out.find('\033') == std::string::npos);

  // 2. v2 deployed in wuxi: without a rule, calls from wuxi are spread over both clusters.
  const json v2 = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "helloworld-v2"}, {"namespace", "dev"}}},
      {"spec",
       {{"replicas", 1},
        {"selector", {{"matchLabels", {{"app", "helloworld"}, {"version", "v2"}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", "helloworld"}, {"version", "v2"}}}}},
          {"spec",
           {{"containers",
             {{{"name", "helloworld"}, {"image", "docker.io/istio/examples-helloworld-v2"}},
              {{"name", "istio-proxy"}, {"image", "docker.io/istio/proxyv2:1.24.2"}}}}}}}}}}};
  s.send("wuxi", "POST", "/apis/apps/v1/namespaces/dev/deployments", v2);
  std::string v2_ip;
  for (int i = 0; i < 100 && v2_ip.empty(); ++i) {
    const auto list = s.get("wuxi", "/api/v1/namespaces/dev/pods?labelSelector=version%3Dv2");
    if (!list["items"].empty() && list["items"][0]["status"].contains("podIP")) {
      v2_ip = list["items"][0]["status"]["podIP"];
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  REQUIRE(!v2_ip.empty());
  const auto shanghai_gw = static_cast<std::uint32_t>(s.gateway_node_port("cn-shanghai"));
  const auto wuxi_gw = static_cast<std::uint32_t>(s.gateway_node_port("wuxi"));
  const std::string v1_ip = s.pod("cn-shanghai", "dev", "app%3Dhelloworld")["status"]["podIP"];
  s.client_sees("wuxi", {{v2_ip, 5000, 0, "helloworld-v2;dev;helloworld;v2;wuxi"},
                         {"192.168.0.11", shanghai_gw, 0, ";;;;cn-shanghai"}});
  s.client_sees("cn-shanghai", {{v1_ip, 5000, 0, "helloworld-v1;dev;helloworld;v1;cn-shanghai"},
                                {"10.20.0.21", wuxi_gw, 0, ";;;;wuxi"}});
  r = verify_json(s);
  INFO(problems(r));
  CHECK(r["exit"] == 0);
  const auto spread = findings(r, "wuxi", "traffic.spread");
  REQUIRE(spread.size() == 1);
  CHECK(spread[0]["hint"] == "meshctl localize helloworld.dev");
  CHECK(verify_json(s, {"--fail-on", "warning"})["exit"] == 1);

  // 3. localize: the rule in both clusters (as `meshctl localize` renders it); wuxi's Envoy then
  //    has v2 at priority 0 and cn-shanghai's gateway at priority 1, and verify passes.
  auto rendered = s.meshctl({"localize", "helloworld.dev", "--dry-run", "-o", "json"});
  REQUIRE(rendered.exit_code == 0);
  for (const auto& entry : json::parse(rendered.out)) { // [{cluster, object}]
    REQUIRE(entry["object"]["kind"] == "DestinationRule");
    s.send(entry["cluster"], "POST", "/apis/networking.istio.io/v1/namespaces/dev/destinationrules",
           entry["object"]);
  }
  s.client_sees("wuxi", {{v2_ip, 5000, 0, "helloworld-v2;dev;helloworld;v2;wuxi"},
                         {"192.168.0.11", shanghai_gw, 1, ";;;;cn-shanghai"}});
  s.client_sees("cn-shanghai", {{v1_ip, 5000, 0, "helloworld-v1;dev;helloworld;v1;cn-shanghai"},
                                {"10.20.0.21", wuxi_gw, 1, ";;;;wuxi"}});
  r = verify_json(s, {"--fail-on", "warning"});
  INFO(problems(r));
  CHECK(r["exit"] == 0);
  CHECK(findings(r, "wuxi", "traffic.localized").size() == 1);
  const auto rows = endpoints_of(r, "wuxi");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["address"] == v2_ip + ":5000");
  CHECK(rows[0]["priority"] == 0);
  CHECK(rows[1]["priority"] == 1);

  // --save-bundle, then --from-bundle: the same report, offline.
  const auto bundle = (s.dir() / "bundle").string();
  auto saved = s.meshctl({"verify", "helloworld.dev", "-o", "json", "--save-bundle", bundle});
  REQUIRE(saved.exit_code == 0);
  auto offline = run_meshctl({"verify", "--from-bundle", bundle, "-o", "json"});
  CHECK(offline.exit_code == 0);
  CHECK(offline.out == saved.out);
  const auto facts = read_file(std::filesystem::path(bundle) / "facts.json");
  CHECK(facts.find("\"token\": \"<redacted>\"") != std::string::npos);
  CHECK(facts.find("eyJ") == std::string::npos); // no JWT anywhere

  // A cluster that stops answering: exit 3, the other still reported.
  s.sim("wuxi").stop();
  r = verify_json(s);
  CHECK(r["exit"] == 3);
  CHECK(r["summary"]["unreachable"] == json::array({"wuxi"}));
  CHECK(findings(r, "cn-shanghai", "cacerts.ok").size() == 1);
}

TEST_CASE("e2e: every trap of the seed fails verify with its hint", "[e2e][verify]") {
  REQUIRE_KUBESIM();
  Sandbox s;
  join_and_settle(s);
  REQUIRE(verify_json(s)["exit"] == 0);

  const auto expect = [&](const std::string& cluster, const std::string& id,
                          const std::string& fix) {
    const auto r = verify_json(s);
    INFO(problems(r));
    CHECK(r["exit"] == 1);
    const auto fs = findings(r, cluster, id);
    REQUIRE(fs.size() >= 1);
    CHECK(fs[0]["severity"] == "error");
    CHECK_THAT(fs[0]["hint"].get<std::string>(), Catch::Matchers::Contains(fix));
  };
  const std::string gw_svc = "/api/v1/namespaces/istio-system/services/istio-eastwestgateway";

  SECTION("nodeSelector not JSON") {
    s.patch("cn-shanghai", gw_svc,
            {{"metadata",
              {{"annotations", {{"traffic.istio.io/nodeSelector", "kubernetes.io/hostname=a"}}}}},
             {"spec", {{"externalIPs", nullptr}}}});
    expect("cn-shanghai", "gateway.node-selector-not-json", "traffic.istio.io/nodeSelector=");
  }
  SECTION("selected nodes without ExternalIP") {
    s.patch("wuxi", gw_svc, {{"spec", {{"externalIPs", nullptr}}}});
    expect("wuxi", "gateway.nodes-without-external-ip", "spec.externalIPs");
  }
  SECTION("missing remote secret") {
    s.send("wuxi", "DELETE",
           "/api/v1/namespaces/istio-system/secrets/istio-remote-secret-cn-shanghai");
    expect("wuxi", "remote-secret.missing", "meshctl join wuxi cn-shanghai");
  }
  SECTION("different roots") {
    const auto data = meshctl::testing::source_dir() / "tests" / "data" / "check";
    const auto b64 = [](const std::string& text) {
      static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      std::string out;
      int val = 0;
      int bits = -6;
      for (unsigned char c : text) {
        val = (val << 8) + c;
        bits += 8;
        while (bits >= 0) {
          out += k[(val >> bits) & 0x3F];
          bits -= 6;
        }
      }
      if (bits > -6) {
        out += k[((val << 8) >> (bits + 8)) & 0x3F];
      }
      while (out.size() % 4 != 0) {
        out += '=';
      }
      return out;
    };
    const std::string root = read_file(data / "root-b.pem");
    const std::string ca = read_file(data / "ca-b-wuxi.pem");
    s.patch("wuxi", "/api/v1/namespaces/istio-system/secrets/cacerts",
            {{"data",
              {{"root-cert.pem", b64(root)},
               {"ca-cert.pem", b64(ca)},
               {"cert-chain.pem", b64(ca + root)}}}});
    s.set_root_configmap("wuxi", root); // istiod restarted with it
    expect("", "cacerts.root-differs", "--force-ca");
  }
  SECTION("service missing in one cluster") {
    s.send("wuxi", "DELETE", "/api/v1/namespaces/dev/services/helloworld");
    expect("wuxi", "service.missing", "meshctl sync-svc");
  }
  SECTION("rule without outlierDetection") {
    json rule = {{"apiVersion", "networking.istio.io/v1"},
                 {"kind", "DestinationRule"},
                 {"metadata", {{"name", "helloworld"}, {"namespace", "dev"}}}};
    rule["spec"]["host"] = k_host;
    rule["spec"]["trafficPolicy"]["loadBalancer"]["localityLbSetting"] = {
        {"enabled", true}, {"failoverPriority", {"topology.istio.io/cluster"}}};
    s.send("wuxi", "POST", "/apis/networking.istio.io/v1/namespaces/dev/destinationrules", rule);
    expect("wuxi", "destination-rule.no-outlier-detection", "outlierDetection");
  }
  SECTION("host not exposed on 15443") {
    s.patch("cn-shanghai",
            "/apis/networking.istio.io/v1/namespaces/istio-system/gateways/cross-network-gateway",
            {{"spec",
              {{"servers",
                {{{"port", {{"number", 15443}, {"name", "tls"}, {"protocol", "TLS"}}},
                  {"tls", {{"mode", "AUTO_PASSTHROUGH"}}},
                  {"hosts", {"other.prod.svc.cluster.local"}}}}}}}});
    s.gateway_routes("cn-shanghai", {"outbound_.80_._.other.prod.svc.cluster.local"});
    expect("cn-shanghai", "expose.host-not-covered", "meshctl expose helloworld.dev");
    expect("cn-shanghai", "sni.missing", "meshctl expose helloworld.dev");
  }
  SECTION("istiod not restarted after cacerts") {
    s.set_root_configmap("wuxi", read_file(meshctl::testing::source_dir() / "tests" / "data" /
                                           "check" / "root-b.pem"));
    expect("wuxi", "root-configmap.stale", "rollout restart deployment/istiod");
  }
}

TEST_CASE("e2e: proxy-config reads a live pod through exec", "[e2e][envoy]") {
  REQUIRE_KUBESIM();
  Sandbox s;
  // No join needed: the seeded sleep pod of wuxi has an istio-proxy container.
  const std::string sleep = s.pod_name("wuxi", "dev", "app%3Dsleep");
  s.pod_data("dev", sleep, 15000, "config_dump?mask=dynamic_listeners,static_listeners",
             fx::gateway_listener_dump({k_sni_5000}));
  s.pod_data("dev", sleep, 15000, "clusters?format=json",
             fx::clusters_json(k_cluster_5000, {{"10.30.1.20", 5000, 0, "x"},
                                                {"192.168.0.11", 30443, 1, ";;;;cn-shanghai"}}));
  auto l = s.meshctl(
      {"proxy-config", "listener", sleep + ".dev", "--context", "wuxi", "--port", "15443"});
  INFO(l.err);
  CHECK(l.exit_code == 0);
  CHECK(l.out.find("0.0.0.0   15443 SNI: " + k_sni_5000) != std::string::npos);
  // The namespace defaults to the context's (default), where the pod is not.
  auto missing = s.meshctl({"pc", "endpoints", sleep, "--context", "wuxi"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("not found in namespace default") != std::string::npos);
  auto ep = s.meshctl({"pc", "endpoints", sleep + ".dev", "--context", "wuxi", "-o", "wide"});
  CHECK(ep.exit_code == 0);
  CHECK(ep.out.find("192.168.0.11:30443") != std::string::npos);

  // A user without create on pods/exec gets the RBAC permission named in the hint.
  s.send("wuxi", "POST", "/api/v1/namespaces/dev/serviceaccounts",
         {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", "viewer"}}}});
  auto [status, body] =
      s.sim("wuxi").request("POST", "/api/v1/namespaces/dev/serviceaccounts/viewer/token",
                            json{{"apiVersion", "authentication.k8s.io/v1"},
                                 {"kind", "TokenRequest"},
                                 {"spec", json::object()}}
                                .dump());
  REQUIRE(status == 201);
  const std::string token = json::parse(body)["status"]["token"];
  const std::string kubeconfig =
      "apiVersion: v1\nkind: Config\ncurrent-context: viewer\nclusters:\n- name: wuxi\n  cluster:\n"
      "    server: " +
      s.sim("wuxi").url() + "\n    certificate-authority: " + s.sim("wuxi").ca_path().string() +
      "\nusers:\n- name: viewer\n  user:\n    token: " + token +
      "\ncontexts:\n- name: viewer\n  context:\n    cluster: wuxi\n    user: viewer\n";
  TempDir tmp;
  auto env = s.env();
  env["KUBECONFIG"] = tmp.write("viewer.yaml", kubeconfig).string();
  env["MESHCTL_CONFIG"] = "";
  auto denied = run_meshctl({"pc", "listener", sleep + ".dev"}, env);
  CHECK(denied.exit_code == 1);
  CHECK(denied.err.find("create pods/exec") != std::string::npos);
  CHECK(denied.err.find(token) == std::string::npos);
}

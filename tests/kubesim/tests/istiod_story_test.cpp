// The istiod model seen through meshctl's own readers: the real `meshctl proxy-config` parses
// what the model answers, and on two kubesims the seed's story plays out after the real
// `meshctl join`: wuxi's sleep sees helloworld-v1 of cn-shanghai through cn-shanghai's gateway,
// then v2 in wuxi as well, then v2 at priority 0 and the gateway at 1 once `meshctl localize`
// wrote its DestinationRule.

#include "istiod.hpp"
#include "istiod_model.hpp"
#include "kubesim_process.hpp"
#include "pki.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

namespace {

using kubesim::testing::KubesimProcess;
using meshctl::testing::RunResult;
using json = nlohmann::json;
namespace fs = std::filesystem;

const std::string k_host = "helloworld.dev.svc.cluster.local";
const std::string k_cluster = "outbound|5000||" + k_host;
const std::string k_sni = "outbound_.5000_._." + k_host;

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "kubesim-model-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

/// Runs `meshctl proxy-config ARGS -f FILE` on `content`.
RunResult proxy_config(const TempDir& dir, const std::vector<std::string>& args,
                       const std::string& content) {
  static int n = 0;
  const fs::path file = dir.path / ("dump-" + std::to_string(n++) + ".json");
  std::ofstream(file) << content;
  std::vector<std::string> argv{MESHCTL_BIN, "proxy-config"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"-f", file.string()});
  return meshctl::testing::run(argv);
}

/// Table rows (header dropped) split into their whitespace-separated cells.
std::vector<std::vector<std::string>> rows(const std::string& table) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(table);
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {
      header = false;
      continue;
    }
    std::istringstream cells(line);
    std::vector<std::string> row;
    std::string cell;
    while (cells >> cell) {
      row.push_back(cell);
    }
    if (!row.empty()) {
      out.push_back(row);
    }
  }
  return out;
}

json pod(const std::string& ns, const std::string& name, const json& labels,
         const std::string& node, const std::string& ip, bool app = true) {
  json containers = json::array();
  if (app) {
    containers.push_back({{"name", "app"}, {"image", "app:1"}});
  }
  containers.push_back({{"name", "istio-proxy"}, {"image", "docker.io/istio/proxyv2:1.24.2"}});
  return {{"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
          {"spec", {{"nodeName", node}, {"containers", containers}}},
          {"status", {{"phase", "Running"}, {"podIP", ip}}}};
}

json node(const std::string& name, const std::string& region, const std::string& zone) {
  return {{"metadata",
           {{"name", name},
            {"labels",
             {{"topology.kubernetes.io/region", region}, {"topology.kubernetes.io/zone", zone}}}}}};
}

json service(const std::string& ns, const std::string& name, const json& selector,
             std::uint32_t port) {
  return {{"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"selector", selector},
            {"clusterIP", "10.96.0.9"},
            {"ports", json::array({{{"name", "http"}, {"port", port}}})}}}};
}

bool sleep_for(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return true;
}

/// The two sandbox clusters, with a meshctl.yaml and kubeconfig naming both.
struct Sandbox {
  TempDir dir;
  KubesimProcess shanghai;
  KubesimProcess wuxi;
  std::string kubeconfig;

  Sandbox() {
    const auto seeds = KubesimProcess::seed_dir();
    auto start = [&](KubesimProcess& k, const std::string& name) {
      kubesim::testing::KubesimOptions opts;
      opts.extra_args = {"--istiod-cache-ms", "0", "--san", name + ".kubesim.local"};
      k.start(name, {seeds / "istio-crds.yaml", seeds / (name + ".yaml")}, opts);
    };
    start(shanghai, "cn-shanghai");
    start(wuxi, "wuxi");
    kubeconfig = shanghai.kubeconfig_path().string() + ":" + wuxi.kubeconfig_path().string();
    // As scripts/sandbox: API servers named <cluster>.kubesim.local in the remote secrets (only
    // kubesim resolves them), NodePort gateways with a node IP in externalIPs.
    auto port = [](const KubesimProcess& k) { return k.url().substr(k.url().rfind(':') + 1); };
    std::ofstream(dir.path / "meshctl.yaml")
        << "mesh:\n  id: mesh1\nclusters:\n"
        << "  - name: cn-shanghai\n    apiServer: https://cn-shanghai.kubesim.local:"
        << port(shanghai)
        << "\n    gateway:\n      type: NodePort\n      externalIPs: [192.168.0.11]\n"
        << "      nodeSelector: {}\n"
        << "  - name: wuxi\n    apiServer: https://wuxi.kubesim.local:" << port(wuxi)
        << "\n    gateway:\n      type: NodePort\n      externalIPs: [10.20.0.21]\n"
        << "      nodeSelector: {}\n";
  }

  RunResult meshctl(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{MESHCTL_BIN, "-c", (dir.path / "meshctl.yaml").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return meshctl::testing::run(argv, {{"KUBECONFIG", kubeconfig}, {"HOME", dir.path.string()}});
  }

  /// meshctl join cn-shanghai wuxi, which must succeed.
  void join() const {
    const RunResult r = meshctl({"join", "cn-shanghai", "wuxi"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
  }

  RunResult kubectl(const std::string& context, const std::vector<std::string>& args,
                    const std::string& input = "") const {
    std::vector<std::string> argv{"kubectl", "--context", context};
    argv.insert(argv.end(), args.begin(), args.end());
    return meshctl::testing::run(argv, {{"KUBECONFIG", kubeconfig}}, input);
  }

  json kubectl_json(const std::string& context, std::vector<std::string> args) const {
    args.insert(args.end(), {"-o", "json"});
    const RunResult r = kubectl(context, args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out);
  }

  /// `pilot-agent request GET path` in the pod's istio-proxy, through kubectl exec.
  std::string envoy(const std::string& context, const std::string& ns, const std::string& pod,
                    const std::string& path) const {
    const RunResult r = kubectl(context, {"exec", "-n", ns, pod, "-c", "istio-proxy", "--",
                                          "pilot-agent", "request", "GET", path});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  }

  /// The first Running pod with `selector` in ns, waiting for the kubelet.
  json running_pod(const std::string& context, const std::string& ns,
                   const std::string& selector) const {
    for (int i = 0; i < 100; ++i) {
      const json pods = kubectl_json(context, {"get", "pods", "-n", ns, "-l", selector});
      for (const auto& p : pods.at("items")) {
        if (p["status"].value("phase", "") == "Running" &&
            !p["metadata"].contains("deletionTimestamp")) {
          return p;
        }
      }
      sleep_for(50);
    }
    FAIL("no Running pod " << selector << " in " << context);
    return nullptr;
  }
};

bool have_kubectl() {
  return meshctl::testing::run({"kubectl", "version", "--client"}).exit_code == 0;
}

} // namespace

TEST_CASE("model: meshctl proxy-config reads the model's answers", "[kubesim][model]") {
  using kubesim::istiod::MeshView;
  TempDir dir;
  MeshView view;
  view.local.id = "wuxi";
  view.local.namespaces = {
      {{"metadata",
        {{"name", "istio-system"}, {"labels", {{"topology.istio.io/network", "wuxi"}}}}}}};
  view.local.nodes = {node("w1", "wuxi", "wuxi-dc1")};
  const json sleep = pod("dev", "sleep-1", {{"app", "sleep"}}, "w1", "10.30.0.5");
  json gw = pod("istio-system", "gw-1", {{"istio", "eastwestgateway"}}, "w1", "10.30.0.6", false);
  view.local.pods = {sleep, gw, pod("dev", "hw-v2", {{"app", "helloworld"}}, "w1", "10.30.0.7")};
  view.local.services = {service("dev", "helloworld", {{"app", "helloworld"}}, 5000)};
  view.gateways = {
      {{"metadata", {{"name", "cross-network-gateway"}, {"namespace", "istio-system"}}},
       {"spec",
        {{"selector", {{"istio", "eastwestgateway"}}},
         {"servers", json::array({{{"port", {{"number", 15443}}},
                                   {"tls", {{"mode", "AUTO_PASSTHROUGH"}}},
                                   {"hosts", json::array({"*.local"})}}})}}}}};
  kubesim::istiod::RemoteCluster sh;
  sh.id = "cn-shanghai";
  sh.secret_name = "istio-system/istio-remote-secret-cn-shanghai";
  sh.synced = true;
  sh.objects.id = "cn-shanghai";
  sh.objects.namespaces = {
      {{"metadata",
        {{"name", "istio-system"}, {"labels", {{"topology.istio.io/network", "cn-shanghai"}}}}}}};
  sh.objects.nodes = {node("s1", "cn-shanghai", "cn-shanghai-b")};
  sh.objects.pods = {pod("dev", "hw-v1", {{"app", "helloworld"}}, "s1", "10.10.0.12")};
  json sh_gw =
      service("istio-system", "istio-eastwestgateway", {{"istio", "eastwestgateway"}}, 15443);
  sh_gw["metadata"]["labels"] = {{"topology.istio.io/network", "cn-shanghai"}};
  sh_gw["spec"]["externalIPs"] = json::array({"192.168.0.11"});
  sh.objects.services = {service("dev", "helloworld", {{"app", "helloworld"}}, 5000), sh_gw};
  view.remotes = {sh};
  view.destination_rules = {
      {{"metadata", {{"name", "helloworld"}, {"namespace", "dev"}}},
       {"spec",
        {{"host", k_host},
         {"trafficPolicy",
          {{"loadBalancer",
            {{"localityLbSetting",
              {{"failoverPriority", json::array({"topology.istio.io/cluster"})}}}}},
           {"outlierDetection", {{"consecutive5xxErrors", 5}}}}}}}}};

  SECTION("listener: the gateway's SNI chain") {
    const auto dump = kubesim::istiod::envoy_admin(view, gw, "config_dump");
    const RunResult r = proxy_config(dir, {"listener", "--port", "15443"}, *dump);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.rfind("ADDRESSES", 0) == 0);
    // "*.local": helloworld, and the remote gateway Service's own port 15443.
    const auto t = rows(r.out);
    REQUIRE(t.size() == 2);
    CHECK(t[0][0] == "0.0.0.0");
    CHECK(t[0][1] == "15443");
    CHECK(r.out.find("SNI: " + k_sni +
                     "; App: istio,istio-peer-exchange,istio-http/1.0,istio-http/1.1,istio-h2") !=
          std::string::npos);
    CHECK(r.out.find("Cluster: " + k_sni) != std::string::npos);
  }
  SECTION("endpoints -o wide: local pod at 0, remote gateway at 1") {
    const auto dump = kubesim::istiod::envoy_admin(view, sleep, "clusters?format=json");
    const RunResult r =
        proxy_config(dir, {"endpoints", "--cluster", k_cluster, "-o", "wide"}, *dump);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    const auto t = rows(r.out);
    REQUIRE(t.size() == 2);
    CHECK(t[0] == std::vector<std::string>{"10.30.0.7:5000", "HEALTHY", "OK", "wuxi/wuxi-dc1", "0",
                                           k_cluster});
    CHECK(t[1] == std::vector<std::string>{"192.168.0.11:15443", "HEALTHY", "OK",
                                           "cn-shanghai/cn-shanghai-b", "1", k_cluster});
  }
  SECTION("eds -o wide from config_dump?include_eds=true") {
    const auto dump = kubesim::istiod::envoy_admin(view, sleep, "config_dump?include_eds=true");
    const RunResult r = proxy_config(dir, {"eds", "--cluster", k_cluster, "-o", "wide"}, *dump);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    auto t = rows(r.out);
    std::sort(t.begin(), t.end()); // EDS order: locality groups, sorted by locality
    REQUIRE(t.size() == 2);
    CHECK(t[0] ==
          std::vector<std::string>{"10.30.0.7:5000", "HEALTHY", "wuxi/wuxi-dc1", "0", k_cluster});
    CHECK(t[1] == std::vector<std::string>{"192.168.0.11:15443", "HEALTHY",
                                           "cn-shanghai/cn-shanghai-b", "1", k_cluster});
  }
  SECTION("clusters: the outbound EDS cluster") {
    const auto dump = kubesim::istiod::envoy_admin(view, sleep, "config_dump");
    const RunResult r = proxy_config(dir, {"clusters", "--fqdn", "helloworld"}, *dump);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    const auto t = rows(r.out);
    REQUIRE(t.size() == 1);
    // Current istiod names the rule "/apis/networking.istio.io/v1/…"; istioctl's renderConfig
    // knows only v1alpha3 and prints <unknown>, and so does meshctl, byte for byte.
    CHECK(t[0] == std::vector<std::string>{k_host, "5000", "-", "outbound", "EDS", "<unknown>"});
  }
}

TEST_CASE("model: the seed's story on two kubesims after meshctl join", "[kubesim][model]") {
  if (!have_kubectl()) {
    WARN("SKIPPED: kubectl is not installed");
    return;
  }
  Sandbox s;
  s.join();
  // The secret join wrote names cn-shanghai's API server as the sandbox does.
  const json secret = s.kubectl_json(
      "wuxi", {"get", "secret", "-n", "istio-system", "istio-remote-secret-cn-shanghai"});
  const auto remote_kubeconfig =
      kubesim::base64_decode(secret["data"]["cn-shanghai"].get<std::string>());
  REQUIRE(remote_kubeconfig);
  CHECK(remote_kubeconfig->find("server: https://cn-shanghai.kubesim.local:") != std::string::npos);
  const std::string wuxi_sleep = "sleep-7656cf8794-k3m9r";
  const json sh_gw_pod = s.running_pod("cn-shanghai", "istio-system", "istio=eastwestgateway");
  s.running_pod("wuxi", "istio-system", "istio=eastwestgateway");
  std::uint32_t node_port = 0;
  const json sh_gw_svc =
      s.kubectl_json("cn-shanghai", {"get", "svc", "-n", "istio-system", "istio-eastwestgateway"});
  for (const auto& p : sh_gw_svc["spec"]["ports"]) {
    if (p["port"] == 15443) {
      node_port = p["nodePort"];
    }
  }
  REQUIRE(node_port >= 30000);
  const std::string gateway = "192.168.0.11:" + std::to_string(node_port);

  // istiod in wuxi (restarted by join to load cacerts) reads cn-shanghai through the secret
  // join wrote.
  const std::string istiod =
      s.running_pod("wuxi", "istio-system", "app=istiod")["metadata"]["name"].get<std::string>();
  const RunResult clusterz = s.kubectl(
      "wuxi", {"get", "--raw",
               "/api/v1/namespaces/istio-system/pods/" + istiod + ":15014/proxy/debug/clusterz"});
  INFO(clusterz.err);
  REQUIRE(clusterz.exit_code == 0);
  CHECK(json::parse(clusterz.out) ==
        json::parse(R"([{"id":"wuxi","secretName":"","syncStatus":"synced"},
                        {"id":"cn-shanghai",
                         "secretName":"istio-system/istio-remote-secret-cn-shanghai",
                         "syncStatus":"synced"}])"));
  // The reads came from istio-reader-service-account, as istiod's would.
  bool reader_listed_pods = false;
  for (const auto& line : s.shanghai.request_log()) {
    reader_listed_pods = reader_listed_pods ||
                         (line.value("user", "") ==
                              "system:serviceaccount:istio-system:istio-reader-service-account" &&
                          line.value("verb", "") == "list" &&
                          line.value("resource", "") == "pods" && line.value("status", 0) == 200);
  }
  CHECK(reader_listed_pods);

  // 1. v1 only in cn-shanghai: wuxi's sleep sees it through the gateway.
  TempDir dir;
  auto endpoints = [&] {
    const RunResult r = proxy_config(dir, {"endpoints", "--cluster", k_cluster, "-o", "wide"},
                                     s.envoy("wuxi", "dev", wuxi_sleep, "clusters?format=json"));
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return rows(r.out);
  };
  auto t = endpoints();
  REQUIRE(t.size() == 1);
  CHECK(t[0][0] == gateway);
  CHECK(t[0][1] == "HEALTHY");
  CHECK(t[0][4] == "0");

  // The gateway in cn-shanghai routes the SNI join's "*.local" Gateway exposes.
  {
    const RunResult r = proxy_config(
        dir, {"listener", "--port", "15443"},
        s.envoy("cn-shanghai", "istio-system", sh_gw_pod["metadata"]["name"], "config_dump"));
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("SNI: " + k_sni + "; App: istio,") != std::string::npos);
    CHECK(r.out.find("Cluster: " + k_sni) != std::string::npos);
  }

  // 2. v2 deployed in wuxi: both, both at priority 0 (traffic spread over the clusters).
  const std::string v2 = R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"helloworld-v2","namespace":"dev"},
    "spec":{"replicas":1,"selector":{"matchLabels":{"app":"helloworld","version":"v2"}},
      "template":{"metadata":{"labels":{"app":"helloworld","version":"v2"}},
        "spec":{"containers":[{"name":"helloworld","image":"docker.io/istio/examples-helloworld-v2",
          "ports":[{"containerPort":5000}]}]}}}})";
  {
    const RunResult r = s.kubectl("wuxi", {"apply", "-f", "-"}, v2);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  const json v2_pod = s.running_pod("wuxi", "dev", "app=helloworld,version=v2");
  const std::string v2_ip = v2_pod["status"]["podIP"];
  CHECK(v2_ip.rfind("10.30.0.", 0) == 0); // from wuxi-master-1's podCIDR
  const std::string v2_ep = v2_ip + ":5000";
  auto eds = [&] {
    const RunResult r =
        proxy_config(dir, {"eds", "--cluster", k_cluster, "-o", "wide"},
                     s.envoy("wuxi", "dev", wuxi_sleep, "config_dump?include_eds=true"));
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    auto out = rows(r.out);
    std::sort(out.begin(), out.end());
    return out;
  };
  t = eds();
  REQUIRE(t.size() == 2);
  CHECK(t[0] == std::vector<std::string>{v2_ep, "HEALTHY", "wuxi/wuxi-dc1", "0", k_cluster});
  CHECK(t[1] ==
        std::vector<std::string>{gateway, "HEALTHY", "cn-shanghai/cn-shanghai-g", "0", k_cluster});

  // 3. meshctl localize: v2 at priority 0, the gateway at 1.
  {
    const RunResult r = s.meshctl({"localize", "helloworld.dev"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
  }
  t = eds();
  REQUIRE(t.size() == 2);
  CHECK(t[0] == std::vector<std::string>{v2_ep, "HEALTHY", "wuxi/wuxi-dc1", "0", k_cluster});
  CHECK(t[1] ==
        std::vector<std::string>{gateway, "HEALTHY", "cn-shanghai/cn-shanghai-g", "1", k_cluster});
  t = endpoints();
  REQUIRE(t.size() == 2);
  std::sort(t.begin(), t.end());
  CHECK(t[0][0] == v2_ep);
  CHECK(t[0][4] == "0");
  CHECK(t[1][0] == gateway);
  CHECK(t[1][4] == "1");

  // 4. Without the remote secret istiod forgets cn-shanghai.
  {
    const RunResult r = s.kubectl(
        "wuxi", {"delete", "secret", "-n", "istio-system", "istio-remote-secret-cn-shanghai"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  t = eds();
  REQUIRE(t.size() == 1);
  CHECK(t[0][0] == v2_ep);
}

TEST_CASE("model: istiod reads a remote cluster with a remote secret's kubeconfig",
          "[kubesim][model]") {
  KubesimProcess remote;
  kubesim::testing::KubesimOptions opts;
  opts.extra_args = {"--san", "cn-shanghai.kubesim.local"};
  remote.start("cn-shanghai",
               {KubesimProcess::seed_dir() / "istio-crds.yaml",
                KubesimProcess::seed_dir() / "cn-shanghai.yaml"},
               opts);
  const std::string port = remote.url().substr(remote.url().rfind(':') + 1);
  // The admin kubeconfig kubesim wrote (client certificate), edited per case.
  const YAML::Node admin = YAML::LoadFile(remote.kubeconfig_path().string());
  auto kubeconfig = [&](const std::function<void(YAML::Node&)>& edit) {
    YAML::Node kc = YAML::Clone(admin);
    edit(kc);
    YAML::Emitter out;
    out << kc;
    return std::string(out.c_str());
  };
  kubesim::istiod::Istiod istiod(
      {"wuxi", std::chrono::milliseconds(0), std::chrono::milliseconds(2000)});
  auto read = [&](const std::string& kc) {
    return istiod.read_remotes(
        {{"cn-shanghai", "istio-system/istio-remote-secret-cn-shanghai", kc}});
  };
  auto synced_with_pods = [&](const std::string& kc) {
    const auto remotes = read(kc);
    REQUIRE(remotes.size() == 1);
    CHECK(remotes[0].id == "cn-shanghai");
    if (!remotes[0].synced) {
      return false;
    }
    bool found = false;
    for (const auto& p : remotes[0].objects.pods) {
      found = found || p["metadata"]["name"] == "helloworld-v1-5b6c8b7f9d-4jx2m";
    }
    CHECK(remotes[0].objects.injector_values["global"]["network"] == "cn-shanghai");
    return found;
  };
  const auto server = [&](const std::string& url) {
    return [url](YAML::Node& kc) { kc["clusters"][0]["cluster"]["server"] = url; };
  };

  CHECK(synced_with_pods(kubeconfig([](YAML::Node&) {})));
  CHECK(synced_with_pods(kubeconfig(server("https://cn-shanghai.kubesim.local:" + port))));
  CHECK(synced_with_pods(kubeconfig([](YAML::Node& kc) {
    kc["clusters"][0]["cluster"]["tls-server-name"] = "kubernetes.default.svc";
  })));
  CHECK(synced_with_pods(kubeconfig([&](YAML::Node& kc) {
    kc["users"][0]["user"] = YAML::Node(YAML::NodeType::Map);
    kc["users"][0]["user"]["token"] = remote.admin_token();
  })));

  SECTION("a rejected token: never synced, and /debug/clusterz says timeout") {
    const auto remotes = read(kubeconfig([](YAML::Node& kc) {
      kc["users"][0]["user"] = YAML::Node(YAML::NodeType::Map);
      kc["users"][0]["user"]["token"] = "not-a-token";
    }));
    REQUIRE(remotes.size() == 1);
    CHECK_FALSE(remotes[0].synced);
    kubesim::istiod::MeshView view;
    view.local.id = "wuxi";
    view.remotes = remotes;
    CHECK(json::parse(kubesim::istiod::debug_clusterz(view))[1]["syncStatus"] == "timeout");
  }
  SECTION("TLS is verified: a server name not on the certificate fails") {
    const auto remotes = read(kubeconfig([](YAML::Node& kc) {
      kc["clusters"][0]["cluster"]["tls-server-name"] = "elsewhere.example";
    }));
    REQUIRE(remotes.size() == 1);
    CHECK_FALSE(remotes[0].synced);
  }
  SECTION("exec plugins are refused: the cluster is not registered") {
    const auto remotes = read(kubeconfig([](YAML::Node& kc) {
      kc["users"][0]["user"] = YAML::Node(YAML::NodeType::Map);
      kc["users"][0]["user"]["exec"]["command"] = "/bin/true";
    }));
    CHECK(remotes.empty());
  }
}

/// Whether any socket_address in an Envoy answer is address:port.
bool has_socket_address(const json& j, const std::string& address, int port) {
  if (j.is_object()) {
    if (const auto it = j.find("socket_address"); it != j.end() && it->is_object() &&
                                                  it->value("address", "") == address &&
                                                  it->value("port_value", 0) == port) {
      return true;
    }
  }
  if (j.is_structured()) {
    for (const auto& item : j) {
      if (has_socket_address(item, address, port)) {
        return true;
      }
    }
  }
  return false;
}

TEST_CASE("model: two istiods reading each other under concurrent proxy reads stay current",
          "[kubesim][model]") {
  // meshctl verify reads every proxy of both clusters at once; each answer makes the model read
  // the other cluster. Those reads must neither tie up both servers' threads (which ended in
  // timed-out reads and stale snapshots) nor leave answers without the other cluster's news.
  if (!have_kubectl()) {
    WARN("SKIPPED: kubectl is not installed");
    return;
  }
  Sandbox s;
  s.join();
  const RunResult v2 = s.kubectl(
      "wuxi", {"apply", "-f", (KubesimProcess::seed_dir() / "helloworld-v2.yaml").string()});
  INFO(v2.err);
  REQUIRE(v2.exit_code == 0);
  const std::string v2_ip =
      s.running_pod("wuxi", "dev", "app=helloworld,version=v2")["status"]["podIP"];
  const json wuxi_gw =
      s.kubectl_json("wuxi", {"get", "svc", "-n", "istio-system", "istio-eastwestgateway"});
  std::string wuxi_gw_port;
  for (const auto& p : wuxi_gw["spec"]["ports"]) {
    if (p["port"] == 15443) {
      wuxi_gw_port = std::to_string(p["nodePort"].get<int>());
    }
  }
  REQUIRE(!wuxi_gw_port.empty());

  struct Read {
    const KubesimProcess* sim;
    std::string pod;
    std::string address; // an endpoint the answer must hold
    std::string port;
    long status = 0;
    std::string body;
    double seconds = 0;
  };
  std::vector<Read> reads;
  for (int i = 0; i < 12; ++i) {
    // cn-shanghai's sleep must reach v2 through wuxi's gateway; wuxi's sleep sees v2 itself.
    reads.push_back({&s.shanghai, "sleep-7656cf8794-9v2xz", "10.20.0.21", wuxi_gw_port, 0, "", 0});
    reads.push_back({&s.wuxi, "sleep-7656cf8794-k3m9r", v2_ip, "5000", 0, "", 0});
  }
  std::vector<std::thread> threads;
  for (auto& r : reads) {
    threads.emplace_back([&r] {
      const auto start = std::chrono::steady_clock::now();
      std::tie(r.status, r.body) = r.sim->request("GET", "/api/v1/namespaces/dev/pods/" + r.pod +
                                                             ":15000/proxy/clusters?format=json");
      r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  double slowest = 0;
  for (const auto& r : reads) {
    INFO(r.pod << " answered " << r.status << " in " << r.seconds << " s");
    CHECK(r.status == 200);
    CHECK(has_socket_address(json::parse(r.body, nullptr, false), r.address, std::stoi(r.port)));
    slowest = std::max(slowest, r.seconds);
  }
  // A stalled read would take the remote read's timeout (2 s) or more.
  CHECK(slowest < 2.0);
}

// meshctl.yaml: defaults, every validation rule, file:line:col in errors, selection of clusters.

#include "config/config.hpp"
#include "support/testing.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>

using namespace meshctl;
using namespace meshctl::config;
using meshctl::testing::source_dir;
using meshctl::testing::TempDir;

namespace {

// Sets (or unsets, with nullopt) an environment variable for one test and restores it after.
class EnvGuard {
public:
  EnvGuard(std::string name, const std::optional<std::string>& value) : m_name(std::move(name)) {
    if (const char* old = std::getenv(m_name.c_str())) {
      m_old = old;
    }
    if (value) {
      setenv(m_name.c_str(), value->c_str(), 1);
    } else {
      unsetenv(m_name.c_str());
    }
  }
  ~EnvGuard() {
    if (m_old) {
      setenv(m_name.c_str(), m_old->c_str(), 1);
    } else {
      unsetenv(m_name.c_str());
    }
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

private:
  std::string m_name;
  std::optional<std::string> m_old;
};

// Parses text that must fail; returns the error (and checks it is a usage error, exit 2).
Error parse_error(const std::string& text) {
  auto r = parse_config(text, "m.yaml");
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == ExitCode::k_usage);
  return r.error();
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

} // namespace

TEST_CASE("an empty config gives every default", "[config]") {
  EnvGuard home("HOME", "/home/tester");
  for (const std::string text : {"", "# only a comment\n", "---\n"}) {
    auto cfg = parse_config(text, "m.yaml");
    REQUIRE(cfg);
    CHECK(cfg->mesh_id == "mesh1");
    CHECK(cfg->trust_domain == "cluster.local");
    CHECK(cfg->clusters.empty());
    CHECK(cfg->pki_dir == "/home/tester/.config/meshctl/pki/mesh1");
  }
}

TEST_CASE("a cluster with only a name defaults context, network and gateway", "[config]") {
  auto cfg = parse_config("mesh: {id: blue}\nclusters:\n  - name: wuxi\n", "m.yaml");
  REQUIRE(cfg);
  REQUIRE(cfg->clusters.size() == 1);
  const auto& c = cfg->clusters[0];
  CHECK(c.name == "wuxi");
  CHECK(c.context == "wuxi");
  CHECK(c.network == "wuxi");
  CHECK(c.gateway.type == GatewayType::k_load_balancer);
  CHECK(c.gateway.external_ips.empty());
  CHECK_FALSE(c.gateway.node_selector.has_value());
  CHECK_FALSE(c.gateway.node_port.has_value());
  CHECK_FALSE(c.api_server.has_value());
  CHECK(cfg->find("wuxi") == &cfg->clusters[0]);
  CHECK(cfg->find("nope") == nullptr);
  // The default pki dir follows the mesh id.
  CHECK(cfg->pki_dir.size() > 9);
  CHECK(cfg->pki_dir.substr(cfg->pki_dir.size() - 9) == "/pki/blue");
}

TEST_CASE("the seed example config loads as the seed describes it", "[config]") {
  auto cfg = load_config((source_dir() / "examples" / "seed" / "meshctl.yaml").string());
  REQUIRE(cfg);
  CHECK(cfg->mesh_id == "mesh1");
  REQUIRE(cfg->clusters.size() == 2);
  const auto* sh = cfg->find("cn-shanghai");
  const auto* wx = cfg->find("wuxi");
  REQUIRE(sh != nullptr);
  REQUIRE(wx != nullptr);
  CHECK(sh->gateway.type == GatewayType::k_node_port);
  CHECK(sh->gateway.external_ips == std::vector<std::string>{"10.0.139.33"});
  REQUIRE(sh->gateway.node_selector.has_value());
  CHECK(sh->gateway.node_selector->empty());
  CHECK(sh->api_server == "https://cn-shanghai.example.internal:6443");
  CHECK(wx->gateway.type == GatewayType::k_node_port);
  CHECK(wx->gateway.external_ips == std::vector<std::string>{"10.18.10.196"});
  REQUIRE(wx->gateway.node_selector.has_value());
  CHECK(wx->api_server == "https://10.18.10.10:6443");
  CHECK(wx->context == "wuxi");
  CHECK(cfg->source == (source_dir() / "examples" / "seed" / "meshctl.yaml").string());
}

TEST_CASE("the LoadBalancer example config loads", "[config]") {
  auto cfg = load_config((source_dir() / "examples" / "loadbalancer" / "meshctl.yaml").string());
  REQUIRE(cfg);
  REQUIRE(cfg->clusters.size() == 2);
  for (const auto& c : cfg->clusters) {
    CHECK(c.gateway.type == GatewayType::k_load_balancer);
    CHECK_FALSE(c.gateway.node_selector.has_value());
    CHECK(c.api_server.has_value());
  }
}

TEST_CASE("every field of a cluster is read", "[config]") {
  auto cfg = parse_config(R"(
mesh:
  id: mesh-2
  trustDomain: example.org
clusters:
  - name: cn-shanghai
    context: "arn:aws:eks:cn:1:cluster/sh"
    network: net-a
    apiServer: https://[fd00::1]:6443
    tlsServerName: kubernetes.default.svc
    gateway:
      type: NodePort
      externalIPs: [10.0.139.33, "fd00::33"]
      nodeSelector: {topology.kubernetes.io/zone: a, gw: "true"}
      nodePort: 30000
pki:
  dir: /srv/pki
)",
                          "m.yaml");
  REQUIRE(cfg);
  CHECK(cfg->mesh_id == "mesh-2");
  CHECK(cfg->trust_domain == "example.org");
  CHECK(cfg->pki_dir == "/srv/pki");
  const auto& c = cfg->clusters.at(0);
  CHECK(c.context == "arn:aws:eks:cn:1:cluster/sh");
  CHECK(c.network == "net-a");
  CHECK(c.api_server == "https://[fd00::1]:6443");
  CHECK(c.tls_server_name == "kubernetes.default.svc");
  CHECK(c.gateway.external_ips == std::vector<std::string>{"10.0.139.33", "fd00::33"});
  CHECK(*c.gateway.node_selector ==
        std::map<std::string, std::string>{{"topology.kubernetes.io/zone", "a"}, {"gw", "true"}});
  CHECK(c.gateway.node_port == 30000);
}

TEST_CASE("an unknown key is an error at its line with a suggestion", "[config]") {
  auto e = parse_error("clusters:\n  - name: wuxi\n    netwrok: wuxi\n");
  CHECK(e.what() == "m.yaml:3:5: unknown key \"netwrok\" in clusters[0] (did you mean "
                    "\"network\"?)");
  CHECK(contains(e.hint(), "context"));
  auto top = parse_error("mesh: {}\nclsuters: []\n");
  CHECK(top.what() == "m.yaml:2:1: unknown key \"clsuters\" in the config (did you mean "
                      "\"clusters\"?)");
  auto gw = parse_error("clusters:\n  - name: a\n    gateway: {type: NodePort, externalIP: []}\n");
  CHECK(contains(gw.what(), "m.yaml:3:"));
  CHECK(contains(gw.what(), "did you mean \"externalIPs\""));
  auto mesh = parse_error("mesh:\n  trustdomain: x\n");
  CHECK(contains(mesh.what(), "did you mean \"trustDomain\""));
}

TEST_CASE("wrong types are errors that say what was expected", "[config]") {
  auto ips = parse_error(
      "clusters:\n  - name: a\n    gateway:\n      type: NodePort\n      externalIPs: 10.0.0.1\n");
  CHECK(
      ips.what() ==
      "m.yaml:5:20: clusters[0].gateway.externalIPs must be a list (got a string (\"10.0.0.1\"))");
  CHECK(contains(parse_error("clusters: {name: a}\n").what(), "clusters must be a list"));
  CHECK(contains(parse_error("clusters: [wuxi]\n").what(), "clusters[0] must be a map"));
  CHECK(contains(parse_error("mesh: mesh1\n").what(), "mesh must be a map"));
  CHECK(contains(parse_error("clusters: [{name: [a]}]\n").what(),
                 "clusters[0].name must be a string (got a list)"));
  CHECK(contains(parse_error("clusters: [{name: a, gateway: {type: NodePort, nodePort: \"30001\", "
                             "externalIPs: [1.2.3.4]}}]\n")
                     .what(),
                 "nodePort must be an integer"));
  CHECK(contains(parse_error("- a\n- b\n").what(), "the config must be a map"));
}

TEST_CASE("a YAML syntax error points at its line", "[config]") {
  auto e = parse_error("clusters:\n  - name: wuxi\n    gateway: {type: NodePort\n");
  CHECK(e.what().rfind("m.yaml:", 0) == 0);
  CHECK(contains(e.what(), "invalid YAML"));
  auto tab = parse_error("mesh:\n  id: [unclosed\n");
  CHECK(contains(tab.what(), "m.yaml:"));
  CHECK(tab.what().find('\n') == std::string::npos);
}

TEST_CASE("a stray comma at the top of the file is a syntax error, not a hang", "[config]") {
  // yaml-cpp 0.7 loops forever on these when reading every document (found by fuzz_config).
  CHECK(parse_error(",").what() == "m.yaml:1:1: invalid YAML: unexpected ','");
  CHECK(parse_error(",lusestr:\n  -\n-\n \n \n").what() ==
        "m.yaml:1:1: invalid YAML: unexpected ','");
  CHECK(parse_error("clusters: []\n---\n,\n").what() == "m.yaml:3:1: invalid YAML: unexpected ','");
}

TEST_CASE("cluster names must be unique DNS-1123 labels", "[config]") {
  auto dup = parse_error("clusters:\n  - name: wuxi\n  - name: wuxi\n");
  CHECK(dup.what() == "m.yaml:3:11: duplicate cluster name \"wuxi\" (first at m.yaml:2:11)");
  for (const std::string& bad :
       std::vector<std::string>{"Wuxi", "wu_xi", "-wuxi", "wuxi-", "a.b", std::string(64, 'a')}) {
    auto e = parse_error("clusters:\n  - name: \"" + bad + "\"\n");
    CHECK(contains(e.what(), "is not a DNS-1123 label"));
    CHECK(contains(e.what(), "m.yaml:2:"));
  }
  auto net = parse_error("clusters:\n  - name: wuxi\n    network: Net_1\n");
  CHECK(contains(net.what(), "clusters[0].network \"Net_1\" is not a DNS-1123 label"));
  CHECK(parse_config("clusters: [{name: " + std::string(63, 'a') + "}]", "m.yaml"));
  auto ctx = parse_error("clusters: [{name: a, context: x}, {name: b, context: x}]\n");
  CHECK(contains(ctx.what(), "already used"));
}

TEST_CASE("externalIPs must be IP addresses", "[config]") {
  auto e = parse_error("clusters:\n  - name: a\n    gateway:\n      type: NodePort\n"
                       "      externalIPs: [10.0.0.1, 10.0.0.300]\n");
  CHECK(e.what() == "m.yaml:5:31: clusters[0].gateway.externalIPs[1] \"10.0.0.300\" is not an IP "
                    "address");
  CHECK(
      contains(parse_error("clusters: [{name: a, gateway: {externalIPs: [node1.example]}}]").what(),
               "is not an IP address"));
  CHECK(contains(
      parse_error("clusters: [{name: a, gateway: {externalIPs: [1.2.3.4, 1.2.3.4]}}]").what(),
      "twice"));
  // externalIPs are valid on a LoadBalancer gateway too (Istio adds them for any Service type).
  auto lb = parse_config("clusters: [{name: a, gateway: {externalIPs: [1.2.3.4]}}]", "m.yaml");
  REQUIRE(lb);
  CHECK(lb->clusters[0].gateway.external_ips.size() == 1);
}

TEST_CASE("nodePort must be in the NodePort range", "[config]") {
  auto with_port = [](const std::string& port) {
    return parse_config("clusters: [{name: a, gateway: {type: NodePort, nodeSelector: {}, "
                        "nodePort: " +
                            port + "}}]",
                        "m.yaml");
  };
  CHECK(with_port("30000"));
  CHECK(with_port("32767"));
  for (const std::string bad : {"29999", "32768", "-1", "15443"}) {
    auto r = with_port(bad);
    REQUIRE_FALSE(r);
    CHECK(contains(r.error().what(), "outside the NodePort range 30000-32767"));
  }
  CHECK(contains(parse_error("clusters: [{name: a, gateway: {nodePort: 30001}}]").what(),
                 "only applies to NodePort"));
}

TEST_CASE("a NodePort gateway needs an address source", "[config]") {
  auto e = parse_error("clusters:\n  - name: wuxi\n    gateway:\n      type: NodePort\n");
  CHECK(contains(e.what(), "m.yaml:4:7: clusters[0].gateway is NodePort but gives no address"));
  CHECK(contains(e.hint(), "externalIPs"));
  CHECK(contains(e.hint(), "traffic.istio.io/nodeSelector"));
  CHECK(contains(e.hint(), "ExternalIP"));
  // Either source is enough.
  CHECK(parse_config("clusters: [{name: a, gateway: {type: NodePort, nodeSelector: {}}}]", "m"));
  CHECK(parse_config("clusters: [{name: a, gateway: {type: NodePort, externalIPs: [1.2.3.4]}}]",
                     "m"));
}

TEST_CASE("nodeSelector must be a map, the trap Istio silently ignores", "[config]") {
  auto e = parse_error("clusters:\n  - name: a\n    gateway:\n      type: NodePort\n"
                       "      nodeSelector: kubernetes.io/hostname=node1\n");
  CHECK(contains(e.what(), "m.yaml:5:21: clusters[0].gateway.nodeSelector must be a map"));
  CHECK(contains(e.hint(), "silently ignores"));
  CHECK(contains(parse_error("clusters: [{name: a, gateway: {nodeSelector: {}}}]").what(),
                 "only applies to NodePort"));
  CHECK(contains(
      parse_error("clusters: [{name: a, gateway: {type: NodePort, nodeSelector: {a: [b]}}}]")
          .what(),
      "nodeSelector.a must be a string"));
}

TEST_CASE("gateway type, mesh id, trust domain and apiServer are validated", "[config]") {
  auto type = parse_error("clusters: [{name: a, gateway: {type: nodeport}}]");
  CHECK(contains(type.what(), "(did you mean \"NodePort\"?)"));
  CHECK(contains(parse_error("mesh: {id: \"a/b\"}").what(), "not a valid Istio mesh ID"));
  CHECK(contains(parse_error("mesh: {trustDomain: \"Cluster Local\"}").what(),
                 "not a valid trust domain"));
  CHECK(contains(parse_error("clusters: [{name: a, apiServer: \"10.0.0.1:6443\"}]").what(),
                 "is not an https:// URL"));
  // An explicit loopback apiServer is used as given (only a kubeconfig's one is refused, by join).
  auto loop =
      parse_config("clusters: [{name: a, apiServer: \"https://127.0.0.1:6443\"}]", "m.yaml");
  REQUIRE(loop);
  CHECK(loop->clusters[0].api_server == "https://127.0.0.1:6443");
  CHECK(contains(parse_error("clusters:\n  - name: a\n    name: b\n").what(),
                 "m.yaml:3:5: duplicate key \"name\""));
}

TEST_CASE("pki.dir: relative to the config file, ~ expanded, HOME needed only when used",
          "[config]") {
  {
    EnvGuard home("HOME", "/home/tester");
    auto rel = parse_config("pki: {dir: pki/mesh}", "/etc/meshctl/meshctl.yaml");
    REQUIRE(rel);
    CHECK(rel->pki_dir == "/etc/meshctl/pki/mesh");
    auto tilde = parse_config("pki: {dir: ~/ca}", "/etc/meshctl/meshctl.yaml");
    REQUIRE(tilde);
    CHECK(tilde->pki_dir == "/home/tester/ca");
    CHECK(require_pki_dir(*tilde).value() == "/home/tester/ca");
  }
  {
    EnvGuard home("HOME", std::nullopt);
    auto cfg = parse_config("clusters: [{name: a}]", "m.yaml");
    REQUIRE(cfg); // loading works without HOME...
    CHECK(cfg->pki_dir.empty());
    auto dir = require_pki_dir(*cfg); // ...and the error comes when the dir is needed
    REQUIRE_FALSE(dir);
    CHECK(dir.error().code() == ExitCode::k_usage);
    CHECK(contains(dir.error().what(), "HOME is not set"));
    CHECK(contains(dir.error().hint(), "pki.dir"));
    auto explicit_dir = parse_config("pki: {dir: /srv/pki}", "m.yaml");
    REQUIRE(explicit_dir);
    CHECK(require_pki_dir(*explicit_dir).value() == "/srv/pki");
  }
}

TEST_CASE("config_path: -c, then MESHCTL_CONFIG, then the default file only if it exists",
          "[config]") {
  TempDir home;
  EnvGuard h("HOME", home.path().string());
  {
    EnvGuard env("MESHCTL_CONFIG", std::nullopt);
    CHECK_FALSE(config_path(std::nullopt).has_value());
    const auto def = home.write(".config/meshctl/config.yaml", "mesh: {id: home}\n");
    CHECK(config_path(std::nullopt) == def.string());
    auto cfg = load_config(std::nullopt);
    REQUIRE(cfg);
    CHECK(cfg->mesh_id == "home");
    CHECK(cfg->source == def.string());
  }
  {
    EnvGuard env("MESHCTL_CONFIG", "/from/env.yaml");
    CHECK(config_path(std::nullopt) == "/from/env.yaml");
    CHECK(config_path(std::string("/from/flag.yaml")) == "/from/flag.yaml");
    auto missing = load_config(std::nullopt);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code() == ExitCode::k_usage);
    CHECK(contains(missing.error().what(), "/from/env.yaml (from $MESHCTL_CONFIG) does not exist"));
    auto missing_flag = load_config(std::string("/from/flag.yaml"));
    REQUIRE_FALSE(missing_flag);
    CHECK(contains(missing_flag.error().what(), "(from -c) does not exist"));
  }
}

TEST_CASE("load_config without any file gives the defaults", "[config]") {
  TempDir home;
  EnvGuard h("HOME", home.path().string());
  EnvGuard env("MESHCTL_CONFIG", std::nullopt);
  auto cfg = load_config(std::nullopt);
  REQUIRE(cfg);
  CHECK(cfg->source.empty());
  CHECK(cfg->mesh_id == "mesh1");
  CHECK(cfg->pki_dir == (home.path() / ".config/meshctl/pki/mesh1").string());
}

TEST_CASE("load_config names the file in errors", "[config]") {
  TempDir dir;
  const auto p = dir.write("meshctl.yaml", "clusters:\n  - name: wuxi\n    gatway: {}\n");
  auto r = load_config(p.string());
  REQUIRE_FALSE(r);
  CHECK(r.error().what() == p.string() + ":3:5: unknown key \"gatway\" in clusters[0] (did you "
                                         "mean \"gateway\"?)");
  auto d = load_config(dir.path().string());
  REQUIRE_FALSE(d);
  CHECK(contains(d.error().what(), "is a directory"));
}

TEST_CASE("select_clusters picks named clusters, defaults known contexts, suggests", "[config]") {
  auto cfg = parse_config(R"(
clusters:
  - name: cn-shanghai
    context: ack-prod
    gateway: {type: NodePort, externalIPs: [10.0.139.33]}
  - name: wuxi
)",
                          "m.yaml");
  REQUIRE(cfg);
  const std::vector<std::string> known{"ack-prod", "wuxi", "hangzhou"};

  auto all = select_clusters(*cfg, {}, known);
  REQUIRE(all);
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].name == "cn-shanghai");

  auto named = select_clusters(*cfg, {"wuxi", "cn-shanghai"}, known);
  REQUIRE(named);
  REQUIRE(named->size() == 2);
  CHECK((*named)[0].name == "wuxi"); // in the order given
  CHECK((*named)[1].gateway.type == GatewayType::k_node_port);

  auto by_context = select_clusters(*cfg, {"ack-prod"}, known);
  REQUIRE(by_context);
  CHECK(by_context->at(0).name == "cn-shanghai");

  auto extra = select_clusters(*cfg, {"hangzhou"}, known);
  REQUIRE(extra);
  CHECK(extra->at(0).name == "hangzhou");
  CHECK(extra->at(0).context == "hangzhou");
  CHECK(extra->at(0).network == "hangzhou");
  CHECK(extra->at(0).gateway.type == GatewayType::k_load_balancer);

  auto typo = select_clusters(*cfg, {"hangzou"}, known);
  REQUIRE_FALSE(typo);
  CHECK(typo.error().code() == ExitCode::k_usage);
  CHECK(contains(typo.error().what(), "(did you mean \"hangzhou\"?)"));

  auto twice = select_clusters(*cfg, {"wuxi", "wuxi"}, known);
  REQUIRE_FALSE(twice);
  CHECK(contains(twice.error().what(), "named twice"));

  auto odd = select_clusters(MeshConfig{}, {"arn:aws:eks:x"}, {"arn:aws:eks:x"});
  REQUIRE_FALSE(odd);
  CHECK(contains(odd.error().hint(), "context: \"arn:aws:eks:x\""));

  auto none = select_clusters(MeshConfig{}, {}, known);
  REQUIRE_FALSE(none);
  CHECK(none.error().code() == ExitCode::k_usage);
}

TEST_CASE("to_json_text uses the file's key names and loads back to the same config", "[config]") {
  auto cfg = load_config((source_dir() / "examples" / "seed" / "meshctl.yaml").string());
  REQUIRE(cfg);
  const std::string text = to_json_text(*cfg);
  const auto j = nlohmann::json::parse(text);
  CHECK(j["mesh"]["id"] == "mesh1");
  CHECK(j["mesh"]["trustDomain"] == "cluster.local");
  CHECK(j["clusters"][0]["name"] == "cn-shanghai");
  CHECK(j["clusters"][0]["apiServer"] == "https://cn-shanghai.example.internal:6443");
  CHECK(j["clusters"][0]["gateway"]["type"] == "NodePort");
  CHECK(j["clusters"][0]["gateway"]["externalIPs"][0] == "10.0.139.33");
  CHECK(j["clusters"][0]["gateway"]["nodeSelector"].is_object());
  CHECK(j["clusters"][0]["gateway"]["nodeSelector"].empty());
  CHECK(j["pki"]["dir"] == cfg->pki_dir);

  // JSON is YAML: the printed config is itself a valid meshctl.yaml with the same content.
  auto again = parse_config(text, "view.json");
  REQUIRE(again);
  CHECK(to_json_text(*again) == text);
}

TEST_CASE("invalid UTF-8 is refused with its position", "[config]") {
  auto e = parse_error("clusters:\n  - name: wu\xffxi\n");
  CHECK(e.what() == "m.yaml:2:13: invalid UTF-8");
  // Valid multi-byte text is fine (here in a context name, which may be anything).
  CHECK(parse_config("clusters: [{name: wuxi, context: \"无锡\"}]", "m.yaml"));
}

TEST_CASE("istio.revision: per mesh, with a per-cluster override", "[config][revision]") {
  auto cfg = parse_config(R"(
istio:
  revision: 1-24
clusters:
  - name: cn-shanghai
  - name: wuxi
    istio: {revision: canary}
)",
                          "m.yaml");
  REQUIRE(cfg);
  CHECK(cfg->istio_revision == "1-24");
  CHECK(cfg->revision_for(cfg->clusters.at(0)) == "1-24");
  CHECK(cfg->revision_for(cfg->clusters.at(1)) == "canary");
  // A cluster selected by name (a copy) still gets the mesh's revision.
  ClusterConfig other;
  other.name = "hangzhou";
  CHECK(cfg->revision_for(other) == "1-24");
  // config view writes both back, and they load the same.
  auto again = parse_config(to_json_text(*cfg), "view.json");
  REQUIRE(again);
  CHECK(again->istio_revision == "1-24");
  CHECK(again->clusters.at(1).istio_revision == "canary");
  CHECK_FALSE(again->clusters.at(0).istio_revision.has_value());

  auto none = parse_config("clusters: [{name: wuxi}]\n", "m.yaml");
  REQUIRE(none);
  CHECK_FALSE(none->revision_for(none->clusters.at(0)).has_value());
  CHECK_FALSE(parse_config(to_json_text(*none), "v.json")->istio_revision.has_value());
}

TEST_CASE("istio.revision must be a revision name", "[config][revision]") {
  auto e = parse_error("istio:\n  revision: 1.24\n");
  CHECK_THAT(e.what(), Catch::Matchers::Contains("m.yaml:2:13"));
  CHECK_THAT(e.what(),
             Catch::Matchers::Contains("istio.revision \"1.24\" is not an Istio revision"));
  CHECK_THAT(e.hint(), Catch::Matchers::Contains("istio.io/rev"));
  auto k = parse_error("clusters:\n  - name: wuxi\n    istio: {revison: x}\n");
  CHECK_THAT(k.what(), Catch::Matchers::Contains("revision"));
}

TEST_CASE("gateway.existing names an installed east-west gateway", "[config]") {
  auto cfg = parse_config("clusters:\n"
                          "  - name: wuxi\n"
                          "    gateway:\n"
                          "      existing: {name: cluster-wuxi, namespace: ingress-cluster}\n",
                          "m.yaml");
  REQUIRE(cfg);
  const auto& gw = cfg->clusters.at(0).gateway;
  REQUIRE(gw.existing);
  CHECK(gw.existing->name == "cluster-wuxi");
  CHECK(gw.existing->namespace_ == "ingress-cluster");
  // config view shows it and loads back the same.
  const auto text = to_json_text(*cfg);
  CHECK(contains(text, "\"existing\""));
  CHECK_FALSE(contains(text, "\"type\""));
  auto again = parse_config(text, "view.json");
  REQUIRE(again);
  REQUIRE(again->clusters.at(0).gateway.existing);
  CHECK(again->clusters.at(0).gateway.existing->namespace_ == "ingress-cluster");
}

TEST_CASE("gateway.existing: both names required, valid, and nothing meshctl would render",
          "[config]") {
  auto e = parse_error("clusters:\n  - name: wuxi\n    gateway:\n      existing: {name: gw}\n");
  CHECK(contains(e.message(), "clusters[0].gateway.existing.namespace is missing"));
  e = parse_error("clusters:\n  - name: wuxi\n    gateway:\n      existing: gw\n");
  CHECK(contains(e.message(), "must be a map {name, namespace}"));
  e = parse_error(
      "clusters:\n  - name: wuxi\n    gateway:\n      existing: {name: Gw_1, namespace: x}\n");
  CHECK(contains(e.message(), "is not a valid Service name"));
  e = parse_error("clusters:\n  - name: wuxi\n    gateway:\n      existing: {name: gw, namespace: "
                  "x, nmespace: y}\n");
  CHECK(contains(e.message(), "nmespace"));
  e = parse_error("clusters:\n  - name: wuxi\n    gateway:\n      type: NodePort\n"
                  "      existing: {name: gw, namespace: x}\n");
  CHECK(contains(e.message(), "gateway.type does not apply with clusters[0].gateway.existing"));
  CHECK(contains(e.message(), "m.yaml:4"));
}

TEST_CASE("gateway.addresses: IPs or DNS names istiod cannot discover, with a port", "[config]") {
  auto cfg = parse_config("clusters:\n  - name: a\n    gateway:\n      type: NodePort\n"
                          "      addresses: [203.0.113.7, eastwest.example.com, '2001:db8::7']\n"
                          "      port: 31443\n",
                          "m.yaml");
  REQUIRE(cfg);
  const auto& gw = cfg->clusters[0].gateway;
  CHECK(gw.addresses ==
        std::vector<std::string>{"203.0.113.7", "eastwest.example.com", "2001:db8::7"});
  CHECK(gw.port == 31443);
  // NodePort needs no externalIPs or nodeSelector then; the port defaults to 15443.
  auto lb = parse_config("clusters: [{name: a, gateway: {addresses: [gw.example.com.]}}]", "m");
  REQUIRE(lb);
  CHECK(lb->clusters[0].gateway.port == 15443);
  // Shown by config view and loaded back.
  const auto j = nlohmann::json::parse(to_json_text(*cfg));
  CHECK(j["clusters"][0]["gateway"]["addresses"][1] == "eastwest.example.com");
  CHECK(j["clusters"][0]["gateway"]["port"] == 31443);
  auto again = parse_config(to_json_text(*cfg), "view.json");
  REQUIRE(again);
  CHECK(again->clusters[0].gateway.addresses == gw.addresses);

  auto e = parse_error("clusters:\n  - name: a\n    gateway:\n      addresses: [gw_1.example]\n");
  CHECK(e.what() == "m.yaml:4:19: clusters[0].gateway.addresses[0] \"gw_1.example\" is neither an "
                    "IP address nor a DNS name");
  CHECK(
      contains(parse_error("clusters: [{name: a, gateway: {addresses: ['1.2.3.4:15443']}}]").what(),
               "neither an IP address nor a DNS name"));
  CHECK(contains(parse_error("clusters: [{name: a, gateway: {addresses: [a.b, a.b]}}]").what(),
                 "twice"));
  CHECK(contains(parse_error("clusters: [{name: a, gateway: {port: 15443}}]").what(),
                 "which lists none"));
  CHECK(contains(parse_error("clusters: [{name: a, gateway: {addresses: [a.b], port: 0}}]").what(),
                 "is not a port number"));
  // istiod would prefer the Service's own addresses: refuse the mix.
  auto mixed = parse_error("clusters: [{name: a, gateway: {type: NodePort, externalIPs: "
                           "[1.2.3.4], addresses: [a.b]}}]");
  CHECK(contains(mixed.what(), "cannot be combined with externalIPs or nodeSelector"));
  CHECK(contains(mixed.hint(), "istiod prefers"));
}

TEST_CASE("gateway.addresses apply to an existing gateway too (a NAT in front of it)", "[config]") {
  auto cfg = parse_config("clusters:\n"
                          "  - name: wuxi\n"
                          "    gateway:\n"
                          "      existing: {name: cluster-wuxi, namespace: ingress-cluster}\n"
                          "      addresses: [203.0.113.10]\n"
                          "      port: 31443\n",
                          "m.yaml");
  REQUIRE(cfg);
  const auto& gw = cfg->clusters.at(0).gateway;
  REQUIRE(gw.existing);
  CHECK(gw.addresses == std::vector<std::string>{"203.0.113.10"});
  CHECK(gw.port == 31443);
  auto again = parse_config(to_json_text(*cfg), "view.json"); // config view loads back the same
  REQUIRE(again);
  CHECK(again->clusters.at(0).gateway.existing);
  CHECK(again->clusters.at(0).gateway.addresses == gw.addresses);
}

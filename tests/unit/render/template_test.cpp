#include "render/manifests.hpp"
#include "render/template.hpp"
#include "support/testing.hpp"

#include <catch2/catch.hpp>

#include <regex>

using namespace meshctl::render;
using meshctl::config::ClusterConfig;
using meshctl::config::GatewayType;

namespace {

constexpr std::string_view k_v1 = "networking.istio.io/v1";

// Values config validation rejects, but that rendering must still keep inside one scalar.
const std::vector<std::string> k_hostile = {
    "a\"\nkind: Secret",
    "x: y",
    "x # comment",
    "{{network}}",
    "}}{{{node_port}}}",
    "line1\nline2\n---\napiVersion: v1",
    "'single' \"double\" \\back\\",
    "tab\there\r\x01\x7f",
    "- item",
    "[1, 2]",
    "&anchor *alias !tag %directive @at `tick`",
    "",
    "true",
    "15443",
    "ünïcødé 上海",
};

} // namespace

TEST_CASE("yaml_escape makes any value one double-quoted scalar", "[render]") {
  for (const auto& value : k_hostile) {
    const std::string escaped = yaml_escape(value);
    const YAML::Node node = YAML::Load("key: " + escaped);
    INFO("value: " << value << " escaped: " << escaped);
    REQUIRE(node.IsMap());
    CHECK(node.size() == 1);
    CHECK(node["key"].Tag() == "!");
    CHECK(node["key"].Scalar() == value);
    CHECK(escaped.find('\n') == std::string::npos);
  }
}

TEST_CASE("hostile values cannot break or inject into any manifest", "[render]") {
  for (const auto& value : k_hostile) {
    INFO("value: " << value);
    ClusterConfig c;
    c.name = value;
    c.context = value;
    c.network = value;
    c.gateway.type = GatewayType::k_node_port;
    c.gateway.external_ips = {value, "192.0.2.10"};
    c.gateway.node_selector = std::map<std::string, std::string>{{value, value}};
    c.gateway.node_port = 31443;
    const CacertsData ca{value, value, value, value};
    auto base = render_cluster_base(c, ca);
    REQUIRE(base);
    // Exactly the objects of the templates, no more: nothing was injected.
    REQUIRE(base->size() == 11);
    int secrets = 0;
    for (const auto& obj : *base) {
      secrets += obj.kind() == "Secret" ? 1 : 0;
    }
    CHECK(secrets == 2);
    const Object& ns = base->front();
    CHECK(ns.node["metadata"]["labels"]["topology.istio.io/network"].Scalar() == value);
    const Object& service = (*base)[6];
    REQUIRE(service.kind() == "Service");
    CHECK(service.node["metadata"]["labels"].size() == 5);
    CHECK(to_json(service.node["spec"]["externalIPs"]) == nlohmann::json({value, "192.0.2.10"}));
    CHECK(nlohmann::json::parse(
              service.node["metadata"]["annotations"]["traffic.istio.io/nodeSelector"].Scalar()) ==
          nlohmann::json({{value, value}}));
    const Object& deploy = (*base)[5];
    REQUIRE(deploy.kind() == "Deployment");
    const YAML::Node env = deploy.node["spec"]["template"]["spec"]["containers"][0]["env"];
    REQUIRE(env.size() == 1);
    CHECK(env[0]["name"].Scalar() == "ISTIO_META_REQUESTED_NETWORK_VIEW");
    CHECK(env[0]["value"].Scalar() == value);

    auto expose = render_expose_gateway({ServiceRef{value, value}}, k_v1);
    REQUIRE(expose);
    REQUIRE(expose->size() == 1);
    CHECK(expose->front().node["spec"]["servers"][0]["hosts"][0].Scalar() ==
          std::string(value).append(".").append(value).append(".svc.cluster.local"));

    RemoteSecretInput in{value, value, value, value, value};
    auto remote = render_remote_secret(in);
    REQUIRE(remote);
    CHECK(remote->name() == "istio-remote-secret-" + value);
    CHECK(remote->node["data"].size() == 1);
    auto kubeconfig = remote_kubeconfig_text(in);
    REQUIRE(kubeconfig);
    const YAML::Node kc = YAML::Load(*kubeconfig);
    CHECK(kc["users"][0]["user"]["token"].Scalar() == value);
    CHECK(kc["clusters"][0]["cluster"]["server"].Scalar() == value);
    CHECK(kc["clusters"][0]["name"].Scalar() == value);
    CHECK(kc["current-context"].Scalar() == value);

    auto dr = render_destination_rule(ServiceRef{value, value}, k_v1, FailoverBy::k_cluster,
                                      OutlierDetection{5, value, value});
    if (value.empty()) {
      // An empty name is caught by the parse-back check, not sent to a cluster.
      REQUIRE_FALSE(dr);
      CHECK(dr.error().message().find("lacks apiVersion, kind or metadata.name") !=
            std::string::npos);
      continue;
    }
    REQUIRE(dr);
    CHECK(dr->name() == value);
    CHECK(dr->namespace_() == value);
    CHECK(dr->node["spec"]["trafficPolicy"]["outlierDetection"]["interval"].Scalar() == value);
  }
}

TEST_CASE("a value holding a second document stays a string", "[render]") {
  ClusterConfig c;
  c.name = "a\"\nkind: Secret";
  c.network = "n\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: evil";
  auto ns = render_namespace(c);
  REQUIRE(ns);
  REQUIRE(ns->size() == 1);
  CHECK(ns->front().kind() == "Namespace");
  CHECK(ns->front().name() == "istio-system");
}

TEST_CASE("templates fail loudly on missing values, raw values and bad output", "[render]") {
  Values v;
  v.set("a", "x");
  auto missing = expand("t.yaml", "a: {{a}}\nb: {{b}}\n", v);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message() == "internal error in template t.yaml: no value for b");
  CHECK_FALSE(missing.error().hint().empty());

  auto missing_section = expand("t.yaml", "{{#flag}}a: 1{{/flag}}\n", v);
  REQUIRE_FALSE(missing_section);

  auto raw = expand("t.yaml", "a: {{{a}}}\n", v);
  REQUIRE_FALSE(raw);
  CHECK(raw.error().message().find("\"a\" is not an allowed raw value") != std::string::npos);

  auto amp = expand("t.yaml", "a: {{&a}}\n", v);
  REQUIRE_FALSE(amp);

  Values port;
  port.set("node_port", "1\nkind: Secret");
  auto not_int = expand("t.yaml", "nodePort: {{{node_port}}}\n", port);
  REQUIRE_FALSE(not_int);
  CHECK(not_int.error().message().find("not an integer") != std::string::npos);
  port.set("node_port", "31443");
  CHECK(expand("t.yaml", "nodePort: {{{node_port}}}\n", port).value() == "nodePort: 31443\n");

  auto delimiters = expand("t.yaml", "{{=<% %>=}}\na: <%&a%>\n", v);
  REQUIRE_FALSE(delimiters);

  auto invalid = expand("t.yaml", "a: {{#a}}\n", v);
  REQUIRE_FALSE(invalid);
  CHECK(invalid.error().message().rfind("internal error in template t.yaml", 0) == 0);

  // A template whose own text is not YAML is caught when parsed back, naming the template.
  auto broken = render_source("broken.yaml", "apiVersion: v1\nkind: [{{a}}\n", v);
  REQUIRE_FALSE(broken);
  CHECK(broken.error().message().rfind("internal error in template broken.yaml: rendered text "
                                       "does not parse back: broken.yaml:",
                                       0) == 0);

  CHECK(expand("t.yaml", "a: {{a}}\n", v).value() == "a: \"x\"\n");
}

TEST_CASE("every embedded template uses only allowed raw values", "[render]") {
  const auto names = embedded_template_names();
  CHECK(names == std::vector<std::string>{"cacerts.yaml", "destination-rule.yaml",
                                          "eastwest-gateway.yaml", "expose-gateway.yaml",
                                          "mesh-networks.yaml", "namespace.yaml", "reader.yaml",
                                          "remote-kubeconfig.yaml", "remote-secret.yaml"});
  const std::regex raw(R"(\{\{\{\s*([^}\s]+)\s*\}\}\}|\{\{&\s*([^}\s]+)\s*\}\})");
  for (const auto& name : names) {
    const std::string text(*embedded_template(name));
    // The embedded copy is the file in templates/.
    CHECK(text == meshctl::testing::read_file(meshctl::testing::source_dir() / "templates" / name));
    for (auto it = std::sregex_iterator(text.begin(), text.end(), raw);
         it != std::sregex_iterator(); ++it) {
      const std::string tag = (*it)[1].matched ? (*it)[1].str() : (*it)[2].str();
      INFO(name << " uses {{{" << tag << "}}}");
      CHECK(std::find(std::begin(k_raw_values), std::end(k_raw_values), tag) !=
            std::end(k_raw_values));
    }
    CHECK(text.find("{{=") == std::string::npos);
  }
}

#include "core/base64.hpp"
#include "core/redact.hpp"
#include "crd_schema.hpp"
#include "render/manifests.hpp"
#include "support/testing.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace meshctl::render;
using meshctl::base64_decode;
using meshctl::base64_encode;
using meshctl::config::ClusterConfig;
using meshctl::config::GatewayType;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_v1 = "networking.istio.io/v1";

// The seed's on-prem cluster: NodePort gateway on a fixed external IP, nodeSelector {}.
ClusterConfig wuxi() {
  ClusterConfig c;
  c.name = "wuxi";
  c.context = "wuxi";
  c.network = "wuxi";
  c.gateway.type = GatewayType::k_node_port;
  c.gateway.external_ips = {"10.18.10.196"};
  c.gateway.node_selector = std::map<std::string, std::string>{};
  c.gateway.node_port = 30880;
  return c;
}

ClusterConfig shanghai() {
  ClusterConfig c;
  c.name = "cn-shanghai";
  c.context = "cn-shanghai";
  c.network = "cn-shanghai";
  return c;
}

// Fake PEM text: deterministic goldens, and nothing here is a real key.
CacertsData fake_ca(const std::string& cluster) {
  const auto pem = [](const std::string& type, const std::string& body) {
    return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
  };
  CacertsData ca;
  ca.ca_cert = pem("CERTIFICATE", "intermediate CA of " + cluster);
  ca.ca_key = pem("PRIVATE KEY", "test key of " + cluster);
  ca.root_cert = pem("CERTIFICATE", "mesh root CA");
  ca.cert_chain = ca.ca_cert + ca.root_cert;
  return ca;
}

const Object& find_object(const std::vector<Object>& objects, const std::string& kind,
                          const std::string& name) {
  for (const auto& obj : objects) {
    if (obj.kind() == kind && obj.name() == name) {
      return obj;
    }
  }
  FAIL("no " << kind << " " << name);
  throw std::logic_error("unreachable");
}

std::vector<Object> value_of(meshctl::Result<std::vector<Object>> r) {
  INFO((r ? std::string() : r.error().what()));
  REQUIRE(r);
  return std::move(*r);
}

Object value_of(meshctl::Result<Object> r) {
  INFO((r ? std::string() : r.error().what()));
  REQUIRE(r);
  return std::move(*r);
}

json labels(const YAML::Node& metadata) {
  return to_json(metadata["labels"]);
}

// Keeps only the keys of `sub` from `full`, to check "sub ⊆ full" with a readable diff.
json restrict_to(const json& full, const json& sub) {
  json out = json::object();
  for (const auto& [k, v] : sub.items()) {
    (void)v;
    if (full.contains(k)) {
      out[k] = full[k];
    }
  }
  return out;
}

// Reduces one of Istio's Helm templates to the YAML it renders for the default values of a
// default-revision install in istio-system (only the directives those files use).
std::string helm_defaults(std::string text) {
  const std::vector<std::pair<std::string, std::string>> replacements = {
      {"{{- if not (eq .Values.revision \"\")}}-{{ .Values.revision }}{{- end }}", ""},
      {"{{ .Release.Namespace }}", "istio-system"},
      {"{{ .Values.global.istioNamespace | quote }}", "\"istio-system\""},
      {"{{ $mcsAPIGroup }}", "multicluster.x-k8s.io"},
      {"{{ .Release.Name }}", "istio"},
  };
  for (const auto& [from, to] : replacements) {
    for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos)) {
      text.replace(pos, from.size(), to);
    }
  }
  std::istringstream in(text);
  std::string out;
  std::string line;
  bool skipping = false;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(' ');
    const std::string trimmed = first == std::string::npos ? "" : line.substr(first);
    // Blocks that are off by default, skipped up to their {{- else }} or {{- end }}.
    if (trimmed.rfind("{{- if .Values.istiodRemote.enabled", 0) == 0 ||
        trimmed.rfind("{{- if .Values.global.imagePullSecrets", 0) == 0 ||
        trimmed.rfind("{{- if dig \"global\" \"readerServiceAccount\"", 0) == 0) {
      skipping = true;
      continue;
    }
    if (skipping) {
      if (trimmed.rfind("{{- else", 0) == 0 || trimmed.rfind("{{- end", 0) == 0) {
        skipping = false; // (a nested end closes early; the outer end is a dropped directive)
      }
      continue;
    }
    if (trimmed.rfind("{{", 0) == 0) {
      continue; // other directives (outer ifs, includes, ends) render no YAML of their own
    }
    out += line + "\n";
  }
  INFO(out);
  REQUIRE(out.find("{{") == std::string::npos);
  return out;
}

} // namespace

TEST_CASE("cluster base has every object join applies, in order", "[render]") {
  const auto objects = value_of(render_cluster_base(wuxi(), fake_ca("wuxi")));
  std::vector<std::string> keys;
  keys.reserve(objects.size());
  for (const auto& obj : objects) {
    keys.push_back(obj.key());
  }
  const std::string crb = "rbac.authorization.k8s.io/v1/ClusterRoleBinding";
  CHECK(keys ==
        std::vector<std::string>{
            "v1/Namespace istio-system",
            "v1/Secret istio-system/cacerts",
            "v1/ServiceAccount istio-system/istio-eastwestgateway",
            "rbac.authorization.k8s.io/v1/Role istio-system/istio-eastwestgateway",
            "rbac.authorization.k8s.io/v1/RoleBinding istio-system/istio-eastwestgateway",
            "apps/v1/Deployment istio-system/istio-eastwestgateway",
            "v1/Service istio-system/istio-eastwestgateway",
            "v1/ServiceAccount istio-system/istio-reader-service-account",
            "rbac.authorization.k8s.io/v1/ClusterRole istio-reader-clusterrole-istio-system",
            crb + " istio-reader-clusterrole-istio-system",
            "v1/Secret istio-system/istio-reader-service-account-istio-remote-secret-token",
        });
  // meshctl labels what it alone owns; what Istio's install owns too stays unlabelled.
  for (const auto& obj : objects) {
    const bool shared_with_istio = obj.kind() == "Namespace" ||
                                   obj.name() == "istio-reader-service-account" ||
                                   obj.name() == "istio-reader-clusterrole-istio-system";
    INFO(obj.key());
    CHECK(is_managed_by_meshctl(obj) == !shared_with_istio);
  }
}

TEST_CASE("namespace carries the network label", "[render]") {
  const auto ns = value_of(render_namespace(wuxi()));
  REQUIRE(ns.size() == 1);
  CHECK(to_json(ns[0].node) == json::parse(R"({"apiVersion": "v1", "kind": "Namespace",
      "metadata": {"name": "istio-system", "labels": {"topology.istio.io/network": "wuxi"}}})"));
}

TEST_CASE("cacerts holds the four PEM files base64-encoded", "[render]") {
  const CacertsData ca = fake_ca("wuxi");
  const auto objects = value_of(render_cacerts(ca));
  REQUIRE(objects.size() == 1);
  const Object& s = objects[0];
  CHECK(s.key() == "v1/Secret istio-system/cacerts");
  CHECK(s.node["type"].Scalar() == "Opaque");
  const json data = to_json(s.node["data"]);
  CHECK(data.size() == 4);
  CHECK(base64_decode(data["ca-cert.pem"].get<std::string>()) == ca.ca_cert);
  CHECK(base64_decode(data["ca-key.pem"].get<std::string>()) == ca.ca_key);
  CHECK(base64_decode(data["root-cert.pem"].get<std::string>()) == ca.root_cert);
  CHECK(base64_decode(data["cert-chain.pem"].get<std::string>()) == ca.cert_chain);
  CHECK(to_yaml_text(s, false).find(base64_encode(ca.ca_key)) == std::string::npos);
}

TEST_CASE("base64 encodes and decodes as RFC 4648", "[render]") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_decode("Zg==") == "f");
  CHECK(base64_decode("Zm8=") == "fo");
  CHECK(base64_decode("Zm9v") == "foo");
  CHECK(base64_decode("") == "");
  CHECK_FALSE(base64_decode("Zm9").has_value());
  CHECK_FALSE(base64_decode("Zm9v\n").has_value());
  CHECK_FALSE(base64_decode("Z=9v").has_value());
}

TEST_CASE("the gateway Service follows the cluster's gateway config", "[render]") {
  SECTION("LoadBalancer without extras") {
    const auto objects = value_of(render_eastwest_gateway(shanghai()));
    const Object& svc = find_object(objects, "Service", "istio-eastwestgateway");
    CHECK(svc.node["spec"]["type"].Scalar() == "LoadBalancer");
    CHECK_FALSE(svc.node["spec"]["externalIPs"]);
    CHECK_FALSE(svc.node["metadata"]["annotations"]);
    REQUIRE(svc.node["spec"]["ports"].size() == 4); // status-port, tls, tls-istiod, tls-webhook
    for (const auto& port : svc.node["spec"]["ports"]) {
      CHECK_FALSE(port["nodePort"]);
    }
  }
  SECTION("NodePort with externalIPs, nodeSelector {} and a fixed nodePort") {
    const auto objects = value_of(render_eastwest_gateway(wuxi()));
    const Object& svc = find_object(objects, "Service", "istio-eastwestgateway");
    CHECK(svc.node["spec"]["type"].Scalar() == "NodePort");
    CHECK(to_json(svc.node["spec"]["externalIPs"]) == json({"10.18.10.196"}));
    CHECK(to_json(svc.node["metadata"]["annotations"]) ==
          json({{"traffic.istio.io/nodeSelector", "{}"}}));
    const json ports = to_json(svc.node["spec"]["ports"]);
    CHECK(ports[1] == json::parse(R"({"name": "tls", "port": 15443, "targetPort": 15443,
                                       "nodePort": 30880})"));
    for (const auto& i : {0, 2, 3}) {
      CHECK_FALSE(ports[i].contains("nodePort"));
    }
  }
  SECTION("a node selector with labels is compact JSON with sorted keys") {
    ClusterConfig c = wuxi();
    c.gateway.node_selector = std::map<std::string, std::string>{
        {"topology.kubernetes.io/zone", "wuxi-a"}, {"node-role/gateway", "true"}};
    const auto objects = value_of(render_eastwest_gateway(c));
    const Object& svc = find_object(objects, "Service", "istio-eastwestgateway");
    CHECK(svc.node["metadata"]["annotations"]["traffic.istio.io/nodeSelector"].Scalar() ==
          R"({"node-role/gateway":"true","topology.kubernetes.io/zone":"wuxi-a"})");
  }
}

TEST_CASE("the gateway matches Istio's gen-eastwest-gateway output field by field", "[render]") {
  MESHCTL_REQUIRE_SHARED_ISTIO(istio);
  const YAML::Node iop =
      YAML::LoadFile((istio / "generated/gen-eastwest-gateway/network1.iop.yaml").string());
  const YAML::Node gw = iop["spec"]["components"]["ingressGateways"][0];
  ClusterConfig c = shanghai();
  c.network = iop["spec"]["values"]["global"]["network"].Scalar();
  REQUIRE(c.network == "network1");
  const auto objects = value_of(render_eastwest_gateway(c));
  const Object& deploy = find_object(objects, "Deployment", gw["name"].Scalar());
  const Object& svc = find_object(objects, "Service", gw["name"].Scalar());
  const YAML::Node pod = deploy.node["spec"]["template"];

  // Labels: the IOP's component labels are on the pods and on the Service.
  const json iop_labels = to_json(gw["label"]);
  CHECK(iop_labels.size() == 3);
  CHECK(restrict_to(labels(pod["metadata"]), iop_labels) == iop_labels);
  CHECK(restrict_to(labels(svc.node["metadata"]), iop_labels) == iop_labels);
  // The Service selects the pods by the gateway's selector labels (app + istio).
  const json selector = to_json(svc.node["spec"]["selector"]);
  CHECK(selector == json({{"app", "istio-eastwestgateway"}, {"istio", "eastwestgateway"}}));
  CHECK(restrict_to(labels(pod["metadata"]), selector) == selector);
  CHECK(to_json(deploy.node["spec"]["selector"]["matchLabels"]) == selector);

  // Ports: same names, numbers, targetPorts, order.
  CHECK(to_json(svc.node["spec"]["ports"]) == to_json(gw["k8s"]["service"]["ports"]));

  // Env of the proxy container.
  const YAML::Node container = pod["spec"]["containers"][0];
  CHECK(container["name"].Scalar() == "istio-proxy");
  CHECK(container["image"].Scalar() == "auto");
  CHECK(to_json(container["env"]) == to_json(gw["k8s"]["env"]));

  // Injection: the gateway template, and injection switched on for these pods.
  CHECK(pod["metadata"]["annotations"]["inject.istio.io/templates"].Scalar() ==
        iop["spec"]["values"]["gateways"]["istio-ingressgateway"]["injectionTemplate"].Scalar());
  CHECK(to_json(pod["metadata"]["labels"]["sidecar.istio.io/inject"]) == "true");
}

TEST_CASE("the gateway matches Istio's gateway Helm chart for a network gateway", "[render]") {
  MESHCTL_REQUIRE_SHARED_ISTIO(istio);
  const YAML::Node values =
      YAML::LoadFile((istio / "manifests/gateway-chart/values.yaml").string());
  const YAML::Node defaults = values["_internal_defaults_do_not_set"];
  const auto objects = value_of(render_eastwest_gateway(shanghai()));
  const Object& svc = find_object(objects, "Service", "istio-eastwestgateway");

  // Service ports = networkGatewayPorts, in the order service.yaml lists them.
  const std::string chart_service =
      meshctl::testing::read_file(istio / "manifests/gateway-chart/templates-service.yaml");
  json expected_ports = json::array();
  for (const char* name : {"status-port", "tls", "tls-istiod", "tls-webhook"}) {
    CHECK(chart_service.find(std::string("\"name\" \"") + name + "\"") != std::string::npos);
    const YAML::Node p = defaults["networkGatewayPorts"][name];
    expected_ports.push_back(
        {{"name", name}, {"port", p["port"].as<int>()}, {"targetPort", p["targetPort"].as<int>()}});
  }
  CHECK(to_json(svc.node["spec"]["ports"]) == expected_ports);
  // service.yaml puts topology.istio.io/network on the Service for a network gateway.
  CHECK(chart_service.find("topology.istio.io/network: \"{{.}}\"") != std::string::npos);
  CHECK(svc.label("topology.istio.io/network") == "cn-shanghai");

  // Pod annotations: the chart's podAnnotations (injection moved to the label, as FACTS §1.3).
  const Object& deploy = find_object(objects, "Deployment", "istio-eastwestgateway");
  json chart_annotations = to_json(defaults["podAnnotations"]);
  CHECK(chart_annotations["sidecar.istio.io/inject"] == "true");
  chart_annotations.erase("sidecar.istio.io/inject");
  CHECK(to_json(deploy.node["spec"]["template"]["metadata"]["annotations"]) == chart_annotations);
  // Resources: the chart's defaults.
  CHECK(to_json(deploy.node["spec"]["template"]["spec"]["containers"][0]["resources"]) ==
        to_json(defaults["resources"]));
}

TEST_CASE("reader RBAC is what Istio's Helm templates render for istio-system", "[render]") {
  MESHCTL_REQUIRE_SHARED_ISTIO(istio);
  const auto objects = value_of(render_reader(wuxi()));
  const fs::path dir = istio / "manifests/helm-templates";
  const auto load = [&](const char* file) {
    return YAML::Load(helm_defaults(meshctl::testing::read_file(dir / file)));
  };
  const YAML::Node role = load("reader-clusterrole.yaml");
  const YAML::Node binding = load("reader-clusterrolebinding.yaml");
  const YAML::Node sa = load("reader-serviceaccount.yaml");

  const Object& our_role = find_object(objects, "ClusterRole", role["metadata"]["name"].Scalar());
  CHECK(our_role.name() == "istio-reader-clusterrole-istio-system");
  CHECK(to_json(our_role.node["rules"]) == to_json(role["rules"]));

  const Object& our_binding =
      find_object(objects, "ClusterRoleBinding", binding["metadata"]["name"].Scalar());
  CHECK(to_json(our_binding.node["roleRef"]) == to_json(binding["roleRef"]));
  CHECK(to_json(our_binding.node["subjects"]) == to_json(binding["subjects"]));

  const Object& our_sa = find_object(objects, "ServiceAccount", sa["metadata"]["name"].Scalar());
  CHECK(our_sa.namespace_() == sa["metadata"]["namespace"].Scalar());
  for (const Object* obj : {&our_role, &our_binding, &our_sa}) {
    CHECK(obj->label("app") == "istio-reader");
  }

  const Object& token = find_object(objects, "Secret", std::string(k_reader_token_secret));
  CHECK(token.node["type"].Scalar() == "kubernetes.io/service-account-token");
  CHECK(token.node["metadata"]["annotations"]["kubernetes.io/service-account.name"].Scalar() ==
        "istio-reader-service-account");
  CHECK_FALSE(token.node["data"]);
}

TEST_CASE("expose Gateway equals Istio's expose-services sample", "[render]") {
  MESHCTL_REQUIRE_SHARED_ISTIO(istio);
  const YAML::Node sample =
      YAML::LoadFile((istio / "samples/multicluster/expose-services.yaml").string());
  const auto objects = value_of(render_expose_gateway({}, k_v1));
  REQUIRE(objects.size() == 1);
  json ours = to_json(objects[0].node);
  CHECK(ours["metadata"]["namespace"] == "istio-system");
  CHECK(ours["metadata"]["labels"] == json({{"app.kubernetes.io/managed-by", "meshctl"}}));
  ours["metadata"].erase("namespace");
  ours["metadata"].erase("labels");
  CHECK(ours == to_json(sample));
}

TEST_CASE("expose Gateway lists the hosts of given services", "[render]") {
  const auto objects =
      value_of(render_expose_gateway({{"helloworld", "dev"}, {"sleep", "default"}}, k_v1));
  CHECK(to_json(objects[0].node["spec"]["servers"][0]["hosts"]) ==
        json({"helloworld.dev.svc.cluster.local", "sleep.default.svc.cluster.local"}));
}

TEST_CASE("remote secret carries a kubeconfig as istioctl writes it", "[render]") {
  const RemoteSecretInput in{"cn-shanghai", "https://203.0.113.7:6443",
                             "-----BEGIN CERTIFICATE-----\nAPI server CA\n-----END "
                             "CERTIFICATE-----\n",
                             "eyJhbGciOiJSUzI1NiJ9.reader-token.sig", "kubernetes.default.svc"};
  const Object secret = value_of(render_remote_secret(in));
  CHECK(secret.key() == "v1/Secret istio-system/istio-remote-secret-cn-shanghai");
  CHECK(secret.label("istio/multiCluster") == "true");
  CHECK(to_json(secret.node["metadata"]["labels"]["istio/multiCluster"]).is_string());
  CHECK(secret.node["metadata"]["annotations"]["networking.istio.io/cluster"].Scalar() ==
        "cn-shanghai");
  CHECK_FALSE(secret.node["type"]);
  const json data = to_json(secret.node["data"]);
  REQUIRE(data.size() == 1);
  const auto kubeconfig_text = base64_decode(data["cn-shanghai"].get<std::string>());
  REQUIRE(kubeconfig_text);
  CHECK(*kubeconfig_text == remote_kubeconfig_text(in).value());
  const json kc = to_json(YAML::Load(*kubeconfig_text));
  CHECK(kc == json::parse(R"({
    "apiVersion": "v1",
    "clusters": [{"cluster": {
        "certificate-authority-data":
            "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkFQSSBzZXJ2ZXIgQ0EKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=",
        "server": "https://203.0.113.7:6443",
        "tls-server-name": "kubernetes.default.svc"},
      "name": "cn-shanghai"}],
    "contexts": [{"context": {"cluster": "cn-shanghai", "user": "cn-shanghai"},
                  "name": "cn-shanghai"}],
    "current-context": "cn-shanghai",
    "kind": "Config",
    "preferences": {},
    "users": [{"name": "cn-shanghai", "user": {"token": "eyJhbGciOiJSUzI1NiJ9.reader-token.sig"}}]
  })"));
  CHECK(meshctl::redact("token " + in.token) == "token <redacted>");
  CHECK_FALSE(contains_placeholder(secret));
  // Without tls_server_name there is no such key at all.
  RemoteSecretInput plain = in;
  plain.tls_server_name.reset();
  const json kc2 = to_json(YAML::Load(remote_kubeconfig_text(plain).value()));
  CHECK_FALSE(kc2["clusters"][0]["cluster"].contains("tls-server-name"));
}

TEST_CASE("placeholders are explicit and detected", "[render]") {
  CHECK(token_placeholder("cn-shanghai") ==
        "<token of istio-reader-service-account in cn-shanghai, read at apply time>");
  CHECK(ca_placeholder("cn-shanghai") ==
        "<CA certificate of the cn-shanghai API server, read at apply time>");
  CHECK(is_placeholder(token_placeholder("x")));
  CHECK(is_placeholder(ca_placeholder("x")));
  CHECK_FALSE(is_placeholder("eyJhbGciOi"));
  CHECK_FALSE(is_placeholder("<html>"));

  const RemoteSecretInput in{"cn-shanghai", "https://203.0.113.7:6443",
                             ca_placeholder("cn-shanghai"), token_placeholder("cn-shanghai"),
                             std::nullopt};
  const json kc = to_json(YAML::Load(remote_kubeconfig_text(in).value()));
  // Readable in the kubeconfig (not base64 of a placeholder).
  CHECK(kc["clusters"][0]["cluster"]["certificate-authority-data"] ==
        "<CA certificate of the cn-shanghai API server, read at apply time>");
  CHECK(kc["users"][0]["user"]["token"] ==
        "<token of istio-reader-service-account in cn-shanghai, read at apply time>");
  const Object secret = value_of(render_remote_secret(in));
  CHECK(contains_placeholder(secret));
  const auto base = value_of(render_cluster_base(wuxi(), fake_ca("wuxi")));
  for (const auto& obj : base) {
    CHECK_FALSE(contains_placeholder(obj));
  }
}

TEST_CASE("DestinationRule keeps traffic local and always has outlierDetection", "[render]") {
  const ServiceRef hello{"helloworld", "dev"};
  const Object dr = value_of(render_destination_rule(hello, k_v1));
  CHECK(dr.key() == "networking.istio.io/v1/DestinationRule dev/helloworld");
  const json spec = to_json(dr.node["spec"]);
  CHECK(spec == json::parse(R"({
    "host": "helloworld.dev.svc.cluster.local",
    "trafficPolicy": {
      "loadBalancer": {"localityLbSetting": {"enabled": true,
                                             "failoverPriority": ["topology.istio.io/cluster"]}},
      "outlierDetection": {"consecutive5xxErrors": 5, "interval": "10s",
                           "baseEjectionTime": "30s"}}})"));
  const auto priority = [&](FailoverBy by) {
    return to_json(value_of(render_destination_rule(hello, k_v1, by))
                       .node["spec"]["trafficPolicy"]["loadBalancer"]["localityLbSetting"]
                            ["failoverPriority"]);
  };
  CHECK(priority(FailoverBy::k_network) == json({"topology.istio.io/network"}));
  CHECK(priority(FailoverBy::k_zone) ==
        json({"topology.kubernetes.io/region", "topology.kubernetes.io/zone"}));
  const Object custom = value_of(
      render_destination_rule(hello, k_v1, FailoverBy::k_cluster, OutlierDetection{1, "1s", "1m"}));
  CHECK(to_json(custom.node["spec"]["trafficPolicy"]["outlierDetection"]) ==
        json::parse(R"({"consecutive5xxErrors": 1, "interval": "1s", "baseEjectionTime": "1m"})"));
}

TEST_CASE("rendered Istio objects validate against the real CRD schemas", "[render]") {
  MESHCTL_REQUIRE_SHARED_ISTIO(istio);
  const fs::path crds = istio / "crds/crd-all.gen.yaml";
  namespace crd = meshctl::testing::crd;
  const auto gateway_schema = crd::load(crds, "networking.istio.io", "Gateway", "v1");
  const auto dr_schema = crd::load(crds, "networking.istio.io", "DestinationRule", "v1");

  std::vector<Object> istio_objects = value_of(render_expose_gateway({}, k_v1));
  for (auto& obj : value_of(render_expose_gateway({{"helloworld", "dev"}}, k_v1))) {
    istio_objects.push_back(obj);
  }
  for (const auto by : {FailoverBy::k_cluster, FailoverBy::k_network, FailoverBy::k_zone}) {
    istio_objects.push_back(value_of(render_destination_rule({"helloworld", "dev"}, k_v1, by)));
  }
  for (const auto& obj : istio_objects) {
    REQUIRE(obj.api_version() == "networking.istio.io/v1");
    const auto& schema = obj.kind() == "Gateway" ? gateway_schema : dr_schema;
    INFO(obj.key() << "\n" << to_yaml_text(obj, true));
    CHECK(crd::validate(schema, to_json(obj.node)).empty());
  }

  // The validation is real: each of these breaks the schema and must be reported.
  const json gateway = to_json(value_of(render_expose_gateway({}, k_v1))[0].node);
  const json dr = to_json(value_of(render_destination_rule({"helloworld", "dev"}, k_v1)).node);
  const auto broken = [](json j, const std::string& pointer, const json& value) {
    j[json::json_pointer(pointer)] = value;
    return j;
  };
  const std::vector<std::pair<std::string, json>> bad_gateways = {
      {"wrong tls.mode enum", broken(gateway, "/spec/servers/0/tls/mode", "AUTO_PASSTHRU")},
      {"port number as a string", broken(gateway, "/spec/servers/0/port/number", "15443")},
      {"port number out of range", broken(gateway, "/spec/servers/0/port/number", 4294967296)},
      {"unknown field", broken(gateway, "/spec/servers/0/hostz", json::array())},
      {"hosts not a list", broken(gateway, "/spec/servers/0/hosts", "*.local")},
      {"two credential sources (CEL)",
       broken(broken(gateway, "/spec/servers/0/tls/credentialName", "a"),
              "/spec/servers/0/tls/credentialNames", json({"b"}))},
  };
  for (const auto& [why, obj] : bad_gateways) {
    INFO(why);
    CHECK_FALSE(crd::validate(gateway_schema, obj).empty());
  }
  const std::string od = "/spec/trafficPolicy/outlierDetection";
  const std::vector<std::pair<std::string, json>> bad_drs = {
      {"negative consecutive5xxErrors", broken(dr, od + "/consecutive5xxErrors", -1)},
      {"consecutive5xxErrors as a string", broken(dr, od + "/consecutive5xxErrors", "5")},
      {"interval not a duration (CEL)", broken(dr, od + "/interval", "10 seconds")},
      {"baseEjectionTime below 1ms (CEL)", broken(dr, od + "/baseEjectionTime", "100us")},
      {"enabled as a string",
       broken(dr, "/spec/trafficPolicy/loadBalancer/localityLbSetting/enabled", "true")},
      {"unknown field", broken(dr, "/spec/trafficPolicy/outlierDetektion", json::object())},
  };
  for (const auto& [why, obj] : bad_drs) {
    INFO(why);
    CHECK_FALSE(crd::validate(dr_schema, obj).empty());
  }
  CHECK(crd::go_duration_ns("1m30s") == 90e9);
  CHECK(crd::go_duration_ns("1.5h") == 5400e9);
  CHECK_FALSE(crd::go_duration_ns("10").has_value());
  CHECK_FALSE(crd::go_duration_ns("s").has_value());
}

TEST_CASE("Istio objects render at the version chosen for the cluster", "[render]") {
  // v1beta1 (Istio 1.18-1.21): the same object, only apiVersion differs.
  constexpr std::string_view v1beta1 = "networking.istio.io/v1beta1";
  json gateway = to_json(value_of(render_expose_gateway({{"helloworld", "dev"}}, v1beta1))[0].node);
  json dr = to_json(value_of(render_destination_rule({"helloworld", "dev"}, v1beta1)).node);
  CHECK(gateway["apiVersion"] == "networking.istio.io/v1beta1");
  CHECK(dr["apiVersion"] == "networking.istio.io/v1beta1");
  const auto as_v1 = [](json j) {
    j["apiVersion"] = k_v1;
    return j;
  };
  CHECK(as_v1(gateway) ==
        to_json(value_of(render_expose_gateway({{"helloworld", "dev"}}, k_v1))[0].node));
  CHECK(as_v1(dr) == to_json(value_of(render_destination_rule({"helloworld", "dev"}, k_v1)).node));

  // Istio's v1beta1 schema (the same in every Istio that serves it) accepts them.
  MESHCTL_REQUIRE_SHARED_ISTIO(istio);
  const fs::path crds = istio / "crds/crd-all.gen.yaml";
  namespace crd = meshctl::testing::crd;
  const auto gateway_schema = crd::load(crds, "networking.istio.io", "Gateway", "v1beta1");
  const auto dr_schema = crd::load(crds, "networking.istio.io", "DestinationRule", "v1beta1");
  CHECK(crd::validate(gateway_schema, gateway).empty());
  for (const auto by : {FailoverBy::k_cluster, FailoverBy::k_network, FailoverBy::k_zone}) {
    CHECK(crd::validate(
              dr_schema,
              to_json(value_of(render_destination_rule({"helloworld", "dev"}, v1beta1, by)).node))
              .empty());
  }
}

TEST_CASE("rendered manifests match the golden files", "[render]") {
  const ClusterConfig w = wuxi();
  const ClusterConfig s = shanghai();
  meshctl::testing::check_golden(
      "render/cluster-base-wuxi-nodeport.yaml",
      to_yaml_stream(value_of(render_cluster_base(w, fake_ca("wuxi"))), true));
  meshctl::testing::check_golden(
      "render/cluster-base-cn-shanghai-loadbalancer.yaml",
      to_yaml_stream(value_of(render_cluster_base(s, fake_ca("cn-shanghai"))), false));
  std::vector<Object> expose = value_of(render_expose_gateway({}, k_v1));
  for (auto& obj : value_of(render_expose_gateway({{"helloworld", "dev"}}, k_v1))) {
    expose.push_back(obj);
  }
  meshctl::testing::check_golden("render/expose-gateway.yaml", to_yaml_stream(expose, true));
  const RemoteSecretInput offline{"cn-shanghai", "https://203.0.113.7:6443",
                                  ca_placeholder("cn-shanghai"), token_placeholder("cn-shanghai"),
                                  std::nullopt};
  const RemoteSecretInput live{"wuxi", "https://10.18.10.10:6443",
                               "-----BEGIN CERTIFICATE-----\nwuxi API CA\n-----END "
                               "CERTIFICATE-----\n",
                               "test-token-of-wuxi", "kubernetes.default.svc"};
  meshctl::testing::check_golden(
      "render/remote-secret.yaml",
      to_yaml_stream(
          {value_of(render_remote_secret(offline)), value_of(render_remote_secret(live))}, true));
  meshctl::testing::check_golden("render/remote-kubeconfig.yaml",
                                 remote_kubeconfig_text(offline).value() + "---\n" +
                                     remote_kubeconfig_text(live).value());
  std::vector<Object> drs;
  for (const auto by : {FailoverBy::k_cluster, FailoverBy::k_network, FailoverBy::k_zone}) {
    drs.push_back(value_of(render_destination_rule({"helloworld", "dev"}, k_v1, by)));
  }
  meshctl::testing::check_golden("render/destination-rule.yaml", to_yaml_stream(drs, true));
}

TEST_CASE("the gateway's pods carry istio.io/rev of a revisioned istiod", "[render][revision]") {
  ClusterConfig c = wuxi();
  SECTION("no revision or the default one: no label, as the gateway chart without revision") {
    for (const auto& rev : {std::optional<std::string>(), std::optional<std::string>("default")}) {
      c.istio_revision = rev;
      const auto objects = value_of(render_eastwest_gateway(c));
      const Object& deploy = find_object(objects, "Deployment", "istio-eastwestgateway");
      CHECK_FALSE(deploy.node["spec"]["template"]["metadata"]["labels"]["istio.io/rev"]);
    }
  }
  SECTION("revision 1-24: the label, and sidecar.istio.io/inject stays") {
    c.istio_revision = "1-24";
    const auto objects = value_of(render_eastwest_gateway(c));
    const Object& deploy = find_object(objects, "Deployment", "istio-eastwestgateway");
    const YAML::Node labels = deploy.node["spec"]["template"]["metadata"]["labels"];
    CHECK(labels["istio.io/rev"].Scalar() == "1-24");
    CHECK(labels["sidecar.istio.io/inject"].Scalar() == "true");
    // The selector is unchanged, so a revision change never needs a new Deployment.
    CHECK_FALSE(deploy.node["spec"]["selector"]["matchLabels"]["istio.io/rev"]);
  }
}

TEST_CASE("meshNetworks names the gateways given by hand, per network", "[render]") {
  ClusterConfig a = wuxi();
  CHECK(value_of(render_mesh_networks({a})).empty()); // nothing given: ConfigMap istio untouched
  a.gateway.addresses = {"203.0.113.7", "eastwest.wuxi.example"};
  a.gateway.port = 31443;
  ClusterConfig b;
  b.name = "cn-shanghai";
  b.network = "cn-shanghai";
  b.gateway.addresses = {"198.51.100.2"};
  const std::string text = mesh_networks_text({a, b});
  CHECK(text == "networks:\n"
                "  cn-shanghai:\n"
                "    gateways:\n"
                "      - address: 198.51.100.2\n"
                "        port: 15443\n"
                "  wuxi:\n"
                "    gateways:\n"
                "      - address: 203.0.113.7\n"
                "        port: 31443\n"
                "      - address: eastwest.wuxi.example\n"
                "        port: 31443\n");
  const auto objs = value_of(render_mesh_networks({a, b}));
  REQUIRE(objs.size() == 1);
  const json cm = to_json(objs[0].node);
  CHECK(cm["kind"] == "ConfigMap");
  CHECK(cm["metadata"]["name"] == "istio");
  CHECK(cm["metadata"]["namespace"] == "istio-system");
  CHECK_FALSE(cm["metadata"].contains("labels")); // Istio's install owns the ConfigMap
  CHECK(cm["data"] == json{{"meshNetworks", text}});
  // A revisioned istiod reads its own ConfigMap, istio-<rev>.
  const auto revisioned = value_of(render_mesh_networks({a, b}, "1-24"));
  REQUIRE(revisioned.size() == 1);
  CHECK(to_json(revisioned[0].node)["metadata"]["name"] == "istio-1-24");
  CHECK(to_json(value_of(render_mesh_networks({a, b}, "default"))[0].node)["metadata"]["name"] ==
        "istio");
}

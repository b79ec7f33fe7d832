#include "render/object.hpp"
#include "support/testing.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using meshctl::render::from_json;
using meshctl::render::Object;
using meshctl::render::parse_objects;
using meshctl::render::to_json;
using meshctl::render::to_yaml_stream;
using meshctl::render::to_yaml_text;
using nlohmann::json;

TEST_CASE("to_json types scalars by the YAML 1.2 core schema and keeps quoted text", "[render]") {
  const auto node = YAML::Load(R"(
quoted_int: "15020"
single_quoted_bool: 'true'
plain_int: 15443
negative: -3
plus: +7
octal: 0o17
hex: 0x1F
big: 18446744073709551615
float: 1.5
exp: 1e3
dot: .5
inf: -.inf
bool: true
Bool: False
null1: null
null2: ~
null3:
yaml11_yes: yes
yaml11_on: on
version: 1.2.3
tagged_str: !!str 42
tagged_int: !!int "42"
text: hello world
empty_quoted: ""
)");
  const json j = to_json(node);
  CHECK(j["quoted_int"] == "15020");
  CHECK(j["single_quoted_bool"] == "true");
  CHECK(j["plain_int"] == 15443);
  CHECK(j["plain_int"].is_number_integer());
  CHECK(j["negative"] == -3);
  CHECK(j["plus"] == 7);
  CHECK(j["octal"] == 15);
  CHECK(j["hex"] == 31);
  CHECK(j["big"].is_number_unsigned());
  CHECK(j["float"] == 1.5);
  CHECK(j["exp"] == 1000.0);
  CHECK(j["dot"] == 0.5);
  CHECK(std::isinf(j["inf"].get<double>()));
  CHECK(j["bool"] == true);
  CHECK(j["Bool"] == false);
  CHECK(j["null1"].is_null());
  CHECK(j["null2"].is_null());
  CHECK(j["null3"].is_null());
  CHECK(j["yaml11_yes"] == "yes");
  CHECK(j["yaml11_on"] == "on");
  CHECK(j["version"] == "1.2.3");
  CHECK(j["tagged_str"] == "42");
  CHECK(j["tagged_int"] == 42);
  CHECK(j["text"] == "hello world");
  CHECK(j["empty_quoted"] == "");
}

TEST_CASE("from_json and to_json round-trip, also through YAML text", "[render]") {
  const json original = json::parse(R"({
    "apiVersion": "v1", "kind": "Secret",
    "metadata": {"name": "x", "labels": {"istio/multiCluster": "true", "num": "15443", "e": ""}},
    "data": {"k": "a: b # c\nkind: Secret"},
    "nums": [0, -1, 4294967295, 18446744073709551615, 1.25, 1e20, 2.0],
    "flags": [true, false, null, "null", "~", "yes", "0x10", "1e3", "-", "- x", "{}"],
    "nested": {"empty_map": {}, "empty_list": [], "deep": [{"a": [{"b": "c"}]}]},
    "odd keys": {"123": 1, "true": 2, "": 3, "a: b": 4, "#x": 5}
  })");
  const YAML::Node node = from_json(original);
  CHECK(to_json(node) == original);
  const std::string text = to_yaml_text(node);
  CHECK(to_json(YAML::Load(text)) == original);
  // Strings that look like numbers are quoted in the text; real numbers are not.
  CHECK(text.find("num: \"15443\"") != std::string::npos);
  CHECK(text.find("- 4294967295") != std::string::npos);
  CHECK(text.find("- 1.25") != std::string::npos);
  CHECK(text.find("\"123\": 1") != std::string::npos); // a key that reads as a number, too
}

TEST_CASE("to_yaml_text keeps the document's key order", "[render]") {
  const auto node = YAML::Load("kind: Service\napiVersion: v1\nmetadata: {name: a}\nspec: {z: 1, "
                               "a: 2}\n");
  CHECK(to_yaml_text(node) == "kind: Service\napiVersion: v1\nmetadata:\n  name: a\nspec:\n  z: "
                              "1\n  a: 2\n");
}

TEST_CASE("Secret data and stringData are redacted unless secrets are shown", "[render]") {
  auto objects = parse_objects(R"(apiVersion: v1
kind: Secret
metadata:
  name: cacerts
  namespace: istio-system
type: Opaque
data:
  ca-key.pem: c2VjcmV0LWtleQ==
  root-cert.pem: cm9vdA==
stringData:
  token: plain-token
)",
                               "test");
  REQUIRE(objects);
  const Object& secret = objects->front();
  const std::string hidden = to_yaml_text(secret, false);
  CHECK(hidden.find("c2VjcmV0LWtleQ==") == std::string::npos);
  CHECK(hidden.find("plain-token") == std::string::npos);
  CHECK(hidden.find("ca-key.pem: <redacted>") != std::string::npos);
  CHECK(hidden.find("root-cert.pem: <redacted>") != std::string::npos);
  CHECK(hidden.find("token: <redacted>") != std::string::npos);
  CHECK(hidden.find("type: Opaque") != std::string::npos);
  // The object itself is untouched, and shown in full on request.
  CHECK(secret.node["data"]["ca-key.pem"].Scalar() == "c2VjcmV0LWtleQ==");
  const std::string shown = to_yaml_text(secret, true);
  CHECK(shown.find("ca-key.pem: c2VjcmV0LWtleQ==") != std::string::npos);
  CHECK(shown.find("token: plain-token") != std::string::npos);

  // Only v1 Secrets: a ConfigMap's data is not secret.
  auto cm =
      parse_objects("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n", "test");
  REQUIRE(cm);
  CHECK(to_yaml_text(cm->front(), false).find("a: b") != std::string::npos);
  CHECK(to_yaml_stream(*cm, false) == "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "
                                      "c\ndata:\n  a: b\n");
}

TEST_CASE("objects expose their identity", "[render]") {
  auto objects = parse_objects(R"(apiVersion: v1
kind: Secret
metadata:
  name: cacerts
  namespace: istio-system
  labels:
    app.kubernetes.io/managed-by: meshctl
---
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: istio-reader-clusterrole-istio-system
)",
                               "test");
  REQUIRE(objects);
  REQUIRE(objects->size() == 2);
  const Object& secret = (*objects)[0];
  CHECK(secret.key() == "v1/Secret istio-system/cacerts");
  CHECK(secret.display_name() == "Secret istio-system/cacerts");
  CHECK(secret.group().empty());
  CHECK(meshctl::render::is_managed_by_meshctl(secret));
  const Object& role = (*objects)[1];
  CHECK(role.key() ==
        "rbac.authorization.k8s.io/v1/ClusterRole istio-reader-clusterrole-istio-system");
  CHECK(role.group() == "rbac.authorization.k8s.io");
  CHECK(role.namespace_().empty());
  CHECK_FALSE(meshctl::render::is_managed_by_meshctl(role));
}

TEST_CASE("parse_objects reports where a document is bad", "[render]") {
  auto bad_yaml = parse_objects("apiVersion: v1\nkind: [\n", "x.yaml");
  REQUIRE_FALSE(bad_yaml);
  CHECK(bad_yaml.error().message().rfind("x.yaml:", 0) == 0);
  CHECK(bad_yaml.error().message().find("invalid YAML") != std::string::npos);

  // yaml-cpp 0.7's LoadAll never returns for a ',' at the top of a document.
  auto comma = parse_objects("apiVersion: v1\n---\n,\n", "x.yaml");
  REQUIRE_FALSE(comma);
  CHECK(comma.error().message() == "x.yaml:3:1: invalid YAML: unexpected ','");

  auto not_map = parse_objects("- a\n", "x.yaml");
  REQUIRE_FALSE(not_map);
  CHECK(not_map.error().message().find("not a YAML map") != std::string::npos);

  auto no_name = parse_objects("apiVersion: v1\nkind: Secret\n---\n", "x.yaml");
  REQUIRE_FALSE(no_name);
  CHECK(no_name.error().message() ==
        "x.yaml:1: document 1 lacks apiVersion, kind or metadata.name");
}

#pragma once
// The Kubernetes object model every later step (plan, apply, dry-run output) works on: one parsed
// YAML document plus the conversions to JSON (for the API server and `-o json`) and back to YAML
// (for `-o yaml`), with Secret data redacted unless asked for.

#include "core/error.hpp"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

namespace meshctl::render {

/// Label meshctl puts on every object it alone owns; unjoin deletes only objects carrying it.
/// Objects Istio's own install also creates (the istio-system Namespace, the reader ServiceAccount
/// and RBAC) do not carry it: see manifests.hpp.
inline constexpr std::string_view k_managed_by_label = "app.kubernetes.io/managed-by";
inline constexpr std::string_view k_managed_by_value = "meshctl";

/// One Kubernetes object. `node` is a YAML map with apiVersion, kind and metadata.name (the
/// parsers in this folder guarantee that); its key order is the template's.
struct Object {
  YAML::Node node;

  /// "v1", "apps/v1", "networking.istio.io/v1", ... ("" when absent).
  [[nodiscard]] std::string api_version() const;
  /// The API group: "" for the core group, else the part of apiVersion before the '/'.
  [[nodiscard]] std::string group() const;
  [[nodiscard]] std::string kind() const;
  [[nodiscard]] std::string name() const;
  /// metadata.namespace, "" for cluster-scoped objects.
  [[nodiscard]] std::string namespace_() const;
  /// Identity for maps and messages: "<apiVersion>/<Kind> <namespace>/<name>", or
  /// "<apiVersion>/<Kind> <name>" when the object has no namespace. Examples:
  /// "v1/Secret istio-system/cacerts",
  /// "rbac.authorization.k8s.io/v1/ClusterRole istio-reader-clusterrole-istio-system".
  /// The same object served under two versions gets two keys; compare group() + kind() for that.
  [[nodiscard]] std::string key() const;
  /// Short form for humans: "Secret istio-system/cacerts" (what kubectl-style messages show).
  [[nodiscard]] std::string display_name() const;
  /// Value of metadata.labels[label], "" when absent.
  [[nodiscard]] std::string label(std::string_view label) const;
};

/// Whether the object carries app.kubernetes.io/managed-by: meshctl.
bool is_managed_by_meshctl(const Object& obj);

/// YAML -> JSON with YAML 1.2 core-schema typing: a quoted scalar (tag "!") or a !!str stays a
/// string; a plain scalar becomes null / bool / int / float when it spells one, else a string.
/// Map keys are always strings. (JSON objects are key-sorted; YAML output keeps the node's order.)
nlohmann::json to_json(const YAML::Node& node);

/// JSON -> YAML such that to_json(from_json(j)) == j: strings get the quoted tag "!" so that "123"
/// or "true" stay strings; numbers, bools and null are plain scalars.
YAML::Node from_json(const nlohmann::json& value);

/// Block YAML of a whole node in its own key order; strings that YAML would misread are quoted,
/// so parsing the text back yields the same to_json(). Ends with a newline; no "---".
std::string to_yaml_text(const YAML::Node& node);

/// Block YAML of one object (see above). Unless show_secrets, every value under a v1 Secret's
/// `data` and `stringData` is replaced by "<redacted>" (the keys stay visible).
std::string to_yaml_text(const Object& obj, bool show_secrets);

/// Several objects as one YAML stream, each document preceded by "---\n".
std::string to_yaml_stream(const std::vector<Object>& objects, bool show_secrets);

/// Parses a (multi-document) YAML stream into objects; empty documents are skipped. Every
/// document must be a map with apiVersion, kind and metadata.name. Errors name `origin` and the
/// line.
Result<std::vector<Object>> parse_objects(std::string_view text, std::string_view origin);

} // namespace meshctl::render

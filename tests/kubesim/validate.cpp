#include "validate.hpp"

#include "pki.hpp"

#include <fmt/format.h>

#include <regex>
#include <set>

namespace kubesim {
namespace {

ResourceType make(std::string group, std::string version, std::string resource, std::string kind,
                  bool namespaced, std::vector<std::string> short_names = {},
                  std::vector<std::string> subresources = {}) {
  ResourceType t;
  t.group = std::move(group);
  t.version = std::move(version);
  t.resource = std::move(resource);
  t.kind = std::move(kind);
  t.singular = t.kind;
  std::transform(t.singular.begin(), t.singular.end(), t.singular.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  t.list_kind = t.kind + "List";
  t.namespaced = namespaced;
  t.short_names = std::move(short_names);
  t.subresources = std::move(subresources);
  return t;
}

std::string quote(const json& v) {
  if (v.is_string()) {
    return "\"" + v.get<std::string>() + "\"";
  }
  return v.dump();
}

Cause invalid(const std::string& field, const json& value, const std::string& msg) {
  return {"FieldValueInvalid", field, "Invalid value: " + quote(value) + ": " + msg};
}

Cause required(const std::string& field, const std::string& detail = "") {
  return {"FieldValueRequired", field,
          detail.empty() ? "Required value" : "Required value: " + detail};
}

Cause unsupported(const std::string& field, const json& value, const std::vector<std::string>& ok) {
  std::string list;
  for (const auto& o : ok) {
    list += (list.empty() ? "" : ", ") + ("\"" + o + "\"");
  }
  return {"FieldValueNotSupported", field,
          "Unsupported value: " + quote(value) + ": supported values: " + list};
}

const std::regex k_label_re("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
const std::regex k_1035_re("^[a-z]([-a-z0-9]*[a-z0-9])?$");
const std::regex
    k_subdomain_re("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
const std::regex k_config_key_re("^[-._a-zA-Z0-9]+$");
const std::regex k_qualified_name_re("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$");
const std::regex k_label_value_re("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$");

void validate_labels(const json& md, std::vector<Cause>& causes) {
  if (md.contains("labels") && md["labels"].is_object()) {
    for (const auto& [k, v] : md["labels"].items()) {
      const std::string name = k.substr(k.find('/') == std::string::npos ? 0 : k.find('/') + 1);
      if (!std::regex_match(name, k_qualified_name_re) || name.size() > 63) {
        causes.push_back(
            invalid("metadata.labels", k,
                    "name part must consist of alphanumeric characters, '-', '_' or "
                    "'.', and must start and end with an alphanumeric character (e.g. "
                    "'MyName',  or 'my.name',  or '123-abc', regex used for validation "
                    "is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"));
      }
      if (!v.is_string()) {
        causes.push_back(invalid("metadata.labels", v, "must be a string"));
      } else if (!std::regex_match(v.get<std::string>(), k_label_value_re) ||
                 v.get<std::string>().size() > 63) {
        causes.push_back(invalid("metadata.labels", v,
                                 "a valid label must be an empty string or consist of alphanumeric "
                                 "characters, '-', '_' or '.', and must start and end with an "
                                 "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
                                 "'12345', regex used for validation is "
                                 "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"));
      }
    }
  }
  if (md.contains("annotations") && md["annotations"].is_object()) {
    for (const auto& [k, v] : md["annotations"].items()) {
      if (!v.is_string()) {
        causes.push_back(invalid("metadata.annotations", v, "must be a string"));
      }
    }
  }
}

// Name validation per kind, as kube's ValidateObjectMeta with each type's name function.
void validate_name(const ResourceType& t, const json& obj, std::vector<Cause>& causes) {
  const json& md = obj.contains("metadata") ? obj["metadata"] : json::object();
  const std::string name = md.value("name", "");
  if (name.empty()) {
    causes.push_back(required("metadata.name", "name or generateName is required"));
    return;
  }
  std::string err;
  if (t.kind == "Namespace") {
    err = dns1123_label_error(name);
  } else if (t.kind == "Service") {
    err = dns1035_label_error(name);
  } else if (t.group == "rbac.authorization.k8s.io") {
    if (name == "." || name == "..") {
      err = "may not be '" + name + "'";
    } else if (name.find('/') != std::string::npos || name.find('%') != std::string::npos) {
      err = std::string("may not contain '") + (name.find('/') != std::string::npos ? "/" : "%") +
            "'";
    }
  } else {
    err = dns1123_subdomain_error(name);
  }
  if (!err.empty()) {
    causes.push_back(invalid("metadata.name", name, err));
  }
}

// --- CRD schema validation ---

std::string type_name(const json& v) {
  if (v.is_string()) {
    return "string";
  }
  if (v.is_number_integer()) {
    return "integer";
  }
  if (v.is_number()) {
    return "number";
  }
  if (v.is_boolean()) {
    return "boolean";
  }
  if (v.is_array()) {
    return "array";
  }
  if (v.is_object()) {
    return "object";
  }
  return "null";
}

void validate_schema(const json& schema, const json& v, const std::string& path,
                     std::vector<Cause>& causes) {
  if (!schema.is_object()) {
    return;
  }
  if (v.is_null()) {
    if (!schema.value("nullable", false) && schema.contains("type")) {
      causes.push_back(invalid(
          path, v, "in body must be of type " + schema["type"].get<std::string>() + ": \"null\""));
    }
    return;
  }
  if (schema.value("x-kubernetes-int-or-string", false)) {
    if (!v.is_string() && !v.is_number_integer()) {
      causes.push_back(
          invalid(path, v, "in body must be of type integer or string: \"" + type_name(v) + "\""));
    }
    return;
  }
  const std::string type = schema.value("type", "");
  const std::string actual = type_name(v);
  if (!type.empty()) {
    const bool ok = type == actual || (type == "number" && actual == "integer");
    if (!ok) {
      causes.push_back({"FieldValueTypeInvalid", path,
                        "Invalid value: \"" + actual + "\": " + path + " in body must be of type " +
                            type + ": \"" + actual + "\""});
      return;
    }
  }
  if (schema.contains("enum") && schema["enum"].is_array()) {
    bool found = false;
    std::vector<std::string> allowed;
    for (const auto& e : schema["enum"]) {
      found = found || e == v;
      allowed.push_back(e.is_string() ? e.get<std::string>() : e.dump());
    }
    if (!found) {
      causes.push_back(unsupported(path, v, allowed));
    }
  }
  if (v.is_number() && schema.contains("minimum") &&
      v.get<double>() < schema["minimum"].get<double>()) {
    causes.push_back(
        invalid(path, v, "in body should be greater than or equal to " + schema["minimum"].dump()));
  }
  if (v.is_number() && schema.contains("maximum") &&
      v.get<double>() > schema["maximum"].get<double>()) {
    causes.push_back(
        invalid(path, v, "in body should be less than or equal to " + schema["maximum"].dump()));
  }
  if (v.is_string() && schema.contains("pattern")) {
    try {
      if (!std::regex_search(v.get<std::string>(),
                             std::regex(schema["pattern"].get<std::string>()))) {
        causes.push_back(invalid(
            path, v, "in body should match '" + schema["pattern"].get<std::string>() + "'"));
      }
    } catch (const std::regex_error&) {
      // ECMAScript cannot express every Go regexp; skip what it cannot compile.
    }
  }
  if (v.is_object()) {
    if (schema.contains("required") && schema["required"].is_array()) {
      for (const auto& r : schema["required"]) {
        if (!v.contains(r.get<std::string>())) {
          causes.push_back(required(path + "." + r.get<std::string>()));
        }
      }
    }
    for (const auto& [k, child] : v.items()) {
      if (schema.contains("properties") && schema["properties"].contains(k)) {
        validate_schema(schema["properties"][k], child, path + "." + k, causes);
      } else if (schema.contains("additionalProperties") &&
                 schema["additionalProperties"].is_object()) {
        validate_schema(schema["additionalProperties"], child, path + "." + k, causes);
      }
    }
  }
  if (v.is_array() && schema.contains("items")) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      validate_schema(schema["items"], v[i], fmt::format("{}[{}]", path, i), causes);
    }
  }
}

void prune(const json& schema, json& v, const std::string& path, std::vector<std::string>& out) {
  if (!schema.is_object()) {
    return;
  }
  // x-kubernetes-preserve-unknown-fields keeps unknown fields at this level only; declared
  // properties below are still pruned (kube's structural pruning).
  const bool preserve = schema.value("x-kubernetes-preserve-unknown-fields", false);
  if (v.is_object()) {
    const bool has_props = schema.contains("properties");
    const bool has_additional =
        schema.contains("additionalProperties") && schema["additionalProperties"].is_object();
    if (!has_props && !has_additional) {
      return;
    }
    std::vector<std::string> drop;
    for (auto& [k, child] : v.items()) {
      if (has_props && schema["properties"].contains(k)) {
        prune(schema["properties"][k], child, path + "." + k, out);
      } else if (has_additional) {
        prune(schema["additionalProperties"], child, path + "." + k, out);
      } else if (!preserve) {
        drop.push_back(k);
      }
    }
    for (const auto& k : drop) {
      out.push_back(path + "." + k);
      v.erase(k);
    }
  } else if (v.is_array() && schema.contains("items")) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      prune(schema["items"], v[i], fmt::format("{}[{}]", path, i), out);
    }
  }
}

void validate_service(const json& obj, const json& old_obj, std::vector<Cause>& causes) {
  const json& spec = obj.contains("spec") ? obj["spec"] : json::object();
  const std::string type = spec.value("type", "ClusterIP");
  static const std::vector<std::string> k_types = {"ClusterIP", "ExternalName", "LoadBalancer",
                                                   "NodePort"};
  if (std::find(k_types.begin(), k_types.end(), type) == k_types.end()) {
    causes.push_back(unsupported("spec.type", type, k_types));
  }
  const bool headless = spec.value("clusterIP", "") == "None";
  const json ports = spec.contains("ports") ? spec["ports"] : json::array();
  if (ports.empty() && type != "ExternalName" && !headless) {
    causes.push_back(required("spec.ports"));
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    const json& p = ports[i];
    const std::string base = fmt::format("spec.ports[{}]", i);
    const int port = p.value("port", 0);
    if (port < 1 || port > 65535) {
      causes.push_back(invalid(base + ".port", port, "must be between 1 and 65535, inclusive"));
    }
    const std::string name = p.value("name", "");
    if (ports.size() > 1 && name.empty()) {
      causes.push_back(required(base + ".name"));
    } else if (!name.empty()) {
      const std::string e = dns1123_label_error(name);
      if (!e.empty()) {
        causes.push_back(invalid(base + ".name", name, e));
      }
      if (!names.insert(name).second) {
        causes.push_back(
            {"FieldValueDuplicate", base + ".name", "Duplicate value: \"" + name + "\""});
      }
    }
    const std::string proto = p.value("protocol", "TCP");
    if (proto != "TCP" && proto != "UDP" && proto != "SCTP") {
      causes.push_back(unsupported(base + ".protocol", proto, {"SCTP", "TCP", "UDP"}));
    }
    if (p.contains("nodePort")) {
      const int np = p["nodePort"].get<int>();
      if (type == "ClusterIP" && np != 0) {
        causes.push_back({"FieldValueForbidden", base + ".nodePort",
                          "Forbidden: may not be used when `type` is 'ClusterIP'"});
      } else if (np != 0 && (np < 30000 || np > 32767)) {
        causes.push_back(invalid(base + ".nodePort", np,
                                 "provided port is not in the valid range. The range of valid "
                                 "ports is 30000-32767"));
      }
    }
  }
  if (!old_obj.is_null() && old_obj.contains("spec")) {
    const std::string old_ip = old_obj["spec"].value("clusterIP", "");
    const std::string new_ip = spec.value("clusterIP", "");
    if (!old_ip.empty() && !new_ip.empty() && old_ip != new_ip && type != "ExternalName" &&
        old_obj["spec"].value("type", "ClusterIP") != "ExternalName") {
      causes.push_back(
          invalid("spec.clusterIPs[0]", json::array({new_ip}), "may not change once set"));
    }
  }
}

void validate_pod_spec(const json& spec, const std::string& base, std::vector<Cause>& causes) {
  if (!spec.contains("containers") || !spec["containers"].is_array() ||
      spec["containers"].empty()) {
    causes.push_back(required(base + ".containers"));
    return;
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < spec["containers"].size(); ++i) {
    const json& c = spec["containers"][i];
    const std::string p = fmt::format("{}.containers[{}]", base, i);
    const std::string name = c.value("name", "");
    if (name.empty()) {
      causes.push_back(required(p + ".name"));
    } else if (!names.insert(name).second) {
      causes.push_back({"FieldValueDuplicate", p + ".name", "Duplicate value: \"" + name + "\""});
    }
    if (c.value("image", "").empty()) {
      causes.push_back(required(p + ".image"));
    }
  }
}

void validate_by_kind(const ResourceType& t, const json& obj, const json& old_obj,
                      std::vector<Cause>& causes) {
  const json& spec = obj.contains("spec") && obj["spec"].is_object() ? obj["spec"] : json::object();
  if (t.kind == "Service") {
    validate_service(obj, old_obj, causes);
  } else if (t.kind == "ConfigMap" || t.kind == "Secret") {
    for (const char* field : {"data", "binaryData", "stringData"}) {
      if (!obj.contains(field) || !obj[field].is_object()) {
        continue;
      }
      for (const auto& [k, v] : obj[field].items()) {
        if (!std::regex_match(k, k_config_key_re)) {
          causes.push_back(invalid(std::string(field), k,
                                   "a valid config key must consist of alphanumeric characters, "
                                   "'-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or "
                                   "'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
        }
        if (!v.is_string()) {
          causes.push_back(invalid(std::string(field) + "[" + k + "]", v, "must be a string"));
        }
      }
    }
    if (!old_obj.is_null() && t.kind == "Secret" &&
        obj.value("type", "Opaque") != old_obj.value("type", "Opaque")) {
      causes.push_back(invalid("type", obj.value("type", ""), "field is immutable"));
    }
  } else if (t.kind == "Pod") {
    validate_pod_spec(spec, "spec", causes);
  } else if (t.kind == "Deployment") {
    if (!spec.contains("selector")) {
      causes.push_back(required("spec.selector"));
    } else {
      const json labels = spec.contains("template") && spec["template"].contains("metadata")
                              ? spec["template"]["metadata"].value("labels", json::object())
                              : json::object();
      const json& sel = spec["selector"];
      bool ok = true;
      if (sel.contains("matchLabels")) {
        for (const auto& [k, v] : sel["matchLabels"].items()) {
          ok = ok && labels.contains(k) && labels[k] == v;
        }
      }
      if (!ok) {
        causes.push_back(invalid("spec.template.metadata.labels", labels.dump(),
                                 "`selector` does not match template `labels`"));
      }
      if (!old_obj.is_null() && old_obj.contains("spec") && old_obj["spec"].contains("selector") &&
          old_obj["spec"]["selector"] != sel) {
        causes.push_back(invalid("spec.selector", sel.dump(), "field is immutable"));
      }
    }
    if (spec.contains("template") && spec["template"].contains("spec")) {
      validate_pod_spec(spec["template"]["spec"], "spec.template.spec", causes);
    } else {
      causes.push_back(required("spec.template.spec.containers"));
    }
  } else if (t.kind == "RoleBinding" || t.kind == "ClusterRoleBinding") {
    if (!obj.contains("roleRef") || obj["roleRef"].value("name", "").empty()) {
      causes.push_back(required("roleRef.name"));
    } else {
      const std::string kind = obj["roleRef"].value("kind", "");
      if (kind != "ClusterRole" && !(t.kind == "RoleBinding" && kind == "Role")) {
        causes.push_back(unsupported("roleRef.kind", kind,
                                     t.kind == "RoleBinding"
                                         ? std::vector<std::string>{"Role", "ClusterRole"}
                                         : std::vector<std::string>{"ClusterRole"}));
      }
      if (!old_obj.is_null() && old_obj.contains("roleRef") &&
          old_obj["roleRef"] != obj["roleRef"]) {
        causes.push_back(invalid("roleRef", obj["roleRef"].dump(), "cannot change roleRef"));
      }
    }
  } else if (t.kind == "CustomResourceDefinition") {
    const std::string group = spec.value("group", "");
    const json names = spec.value("names", json::object());
    const std::string plural = names.value("plural", "");
    if (group.empty()) {
      causes.push_back(required("spec.group"));
    }
    if (plural.empty()) {
      causes.push_back(required("spec.names.plural"));
    }
    if (names.value("kind", "").empty()) {
      causes.push_back(required("spec.names.kind"));
    }
    const std::string scope = spec.value("scope", "");
    if (scope != "Namespaced" && scope != "Cluster") {
      causes.push_back(unsupported("spec.scope", scope, {"Cluster", "Namespaced"}));
    }
    const std::string name = obj["metadata"].value("name", "");
    if (!plural.empty() && !group.empty() && name != plural + "." + group) {
      causes.push_back(
          invalid("metadata.name", name, "must be spec.names.plural+\".\"+spec.group"));
    }
    int storage = 0;
    if (!spec.contains("versions") || spec["versions"].empty()) {
      causes.push_back(required("spec.versions"));
    } else {
      for (const auto& v : spec["versions"]) {
        storage += v.value("storage", false) ? 1 : 0;
      }
      if (storage != 1) {
        causes.push_back(invalid("spec.versions", spec["versions"].size(),
                                 "must have exactly one version marked as storage version"));
      }
    }
  }
}

} // namespace

std::string dns1123_subdomain_error(const std::string& name) {
  if (name.size() > 253) {
    return "must be no more than 253 characters";
  }
  if (!std::regex_match(name, k_subdomain_re)) {
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
           "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
           "regex used for validation is "
           "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  }
  return "";
}

std::string dns1123_label_error(const std::string& name) {
  if (name.size() > 63) {
    return "must be no more than 63 characters";
  }
  if (!std::regex_match(name, k_label_re)) {
    return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
           "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
           "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
  }
  return "";
}

std::string dns1035_label_error(const std::string& name) {
  if (name.size() > 63) {
    return "must be no more than 63 characters";
  }
  if (!std::regex_match(name, k_1035_re)) {
    return "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
           "an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
           "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
  }
  return "";
}

std::vector<ResourceType> builtin_types() {
  std::vector<ResourceType> ts;
  auto add = [&](ResourceType t, bool gen = false, bool ret = false,
                 std::vector<std::string> cats = {}) {
    t.tracks_generation = gen;
    t.return_deleted_object = ret;
    t.categories = std::move(cats);
    ts.push_back(std::move(t));
  };
  // Order as kube-apiserver's discovery: core resources alphabetically, then groups in its order.
  add(make("", "v1", "configmaps", "ConfigMap", true, {"cm"}));
  add(make("", "v1", "endpoints", "Endpoints", true, {"ep"}));
  ts.back().singular = "endpoints";
  add(make("", "v1", "namespaces", "Namespace", false, {"ns"}, {"status", "finalize"}), false,
      true);
  add(make("", "v1", "nodes", "Node", false, {"no"}, {"status", "proxy"}));
  add(make("", "v1", "pods", "Pod", true, {"po"}, {"status", "exec", "proxy", "log"}), false, true,
      {"all"});
  add(make("", "v1", "secrets", "Secret", true));
  add(make("", "v1", "serviceaccounts", "ServiceAccount", true, {"sa"}, {"token"}), false, true);
  add(make("", "v1", "services", "Service", true, {"svc"}, {"status", "proxy"}), false, true,
      {"all"});
  add(make("apps", "v1", "deployments", "Deployment", true, {"deploy"}, {"status", "scale"}), true,
      false, {"all"});
  add(make("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview",
           false));
  add(make("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", false));
  for (const auto& [res, kind, ns] :
       {std::tuple{"clusterrolebindings", "ClusterRoleBinding", false},
        std::tuple{"clusterroles", "ClusterRole", false},
        std::tuple{"rolebindings", "RoleBinding", true}, std::tuple{"roles", "Role", true}}) {
    add(make("rbac.authorization.k8s.io", "v1", res, kind, ns));
  }
  add(make("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
           false, {"crd", "crds"}, {"status"}),
      true, false, {"api-extensions"});
  return ts;
}

std::vector<ResourceType> crd_types(const json& crd) {
  std::vector<ResourceType> out;
  const json& spec = crd["spec"];
  const json& names = spec["names"];
  for (const auto& v : spec["versions"]) {
    if (!v.value("served", false)) {
      continue;
    }
    ResourceType t =
        make(spec.value("group", ""), v.value("name", ""), names.value("plural", ""),
             names.value("kind", ""), spec.value("scope", "Namespaced") == "Namespaced",
             names.value("shortNames", std::vector<std::string>{}));
    t.singular = names.value("singular", t.singular);
    t.list_kind = names.value("listKind", t.kind + "List");
    t.categories = names.value("categories", std::vector<std::string>{});
    t.from_crd = true;
    t.tracks_generation = true;
    t.return_deleted_object = true;
    t.storage_version = v.value("storage", false);
    if (v.contains("schema") && v["schema"].contains("openAPIV3Schema")) {
      t.schema = v["schema"]["openAPIV3Schema"];
    }
    if (v.contains("additionalPrinterColumns")) {
      t.printer_columns = v["additionalPrinterColumns"];
    }
    if (v.contains("subresources")) {
      if (v["subresources"].contains("status")) {
        t.subresources.push_back("status");
      }
      if (v["subresources"].contains("scale")) {
        t.subresources.push_back("scale");
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

void apply_defaults(const ResourceType& t, json& obj) {
  auto& md = obj["metadata"];
  if (!md.is_object()) {
    md = json::object();
  }
  if (t.kind == "Service") {
    auto& spec = obj["spec"];
    if (!spec.is_object()) {
      spec = json::object();
    }
    if (!spec.contains("type")) {
      spec["type"] = "ClusterIP";
    }
    if (!spec.contains("sessionAffinity")) {
      spec["sessionAffinity"] = "None";
    }
    const std::string type = spec["type"];
    if (type != "ExternalName") {
      if (!spec.contains("internalTrafficPolicy")) {
        spec["internalTrafficPolicy"] = "Cluster";
      }
      if (!spec.contains("ipFamilyPolicy")) {
        spec["ipFamilyPolicy"] = "SingleStack";
      }
      if (!spec.contains("ipFamilies")) {
        spec["ipFamilies"] = json::array({"IPv4"});
      }
    }
    if ((type == "NodePort" || type == "LoadBalancer") && !spec.contains("externalTrafficPolicy")) {
      spec["externalTrafficPolicy"] = "Cluster";
    }
    if (spec.contains("ports") && spec["ports"].is_array()) {
      for (auto& p : spec["ports"]) {
        if (!p.contains("protocol")) {
          p["protocol"] = "TCP";
        }
        if (!p.contains("targetPort") && p.contains("port")) {
          p["targetPort"] = p["port"];
        }
      }
    }
    if (!obj.contains("status")) {
      obj["status"] = {{"loadBalancer", json::object()}};
    }
  } else if (t.kind == "Secret") {
    if (!obj.contains("type")) {
      obj["type"] = "Opaque";
    }
    if (obj.contains("stringData") && obj["stringData"].is_object()) {
      for (const auto& [k, v] : obj["stringData"].items()) {
        if (v.is_string()) {
          obj["data"][k] = base64_encode(v.get<std::string>());
        }
      }
      obj.erase("stringData");
    }
  } else if (t.kind == "Namespace") {
    if (!obj.contains("spec")) {
      obj["spec"] = {{"finalizers", json::array({"kubernetes"})}};
    }
    obj["status"] = {{"phase", "Active"}};
    md["labels"]["kubernetes.io/metadata.name"] = md.value("name", "");
  } else if (t.kind == "Deployment") {
    auto& spec = obj["spec"];
    if (!spec.is_object()) {
      spec = json::object();
    }
    if (!spec.contains("replicas")) {
      spec["replicas"] = 1;
    }
    if (!spec.contains("revisionHistoryLimit")) {
      spec["revisionHistoryLimit"] = 10;
    }
    if (!spec.contains("progressDeadlineSeconds")) {
      spec["progressDeadlineSeconds"] = 600;
    }
    if (!spec.contains("strategy")) {
      spec["strategy"] = {{"type", "RollingUpdate"},
                          {"rollingUpdate", {{"maxSurge", "25%"}, {"maxUnavailable", "25%"}}}};
    }
    auto& tspec = spec["template"]["spec"];
    if (tspec.is_object()) {
      for (const char* k : {"restartPolicy", "dnsPolicy", "schedulerName"}) {
        if (!tspec.contains(k)) {
          tspec[k] = std::string(k) == "restartPolicy" ? "Always"
                     : std::string(k) == "dnsPolicy"   ? "ClusterFirst"
                                                       : "default-scheduler";
        }
      }
      if (!tspec.contains("terminationGracePeriodSeconds")) {
        tspec["terminationGracePeriodSeconds"] = 30;
      }
      if (!tspec.contains("securityContext")) {
        tspec["securityContext"] = json::object();
      }
    }
  } else if (t.kind == "Pod") {
    auto& spec = obj["spec"];
    if (spec.is_object()) {
      if (!spec.contains("restartPolicy")) {
        spec["restartPolicy"] = "Always";
      }
      if (!spec.contains("dnsPolicy")) {
        spec["dnsPolicy"] = "ClusterFirst";
      }
      if (!spec.contains("serviceAccountName")) {
        spec["serviceAccountName"] = "default";
      }
      if (!spec.contains("terminationGracePeriodSeconds")) {
        spec["terminationGracePeriodSeconds"] = 30;
      }
    }
    if (!obj.contains("status")) {
      obj["status"] = {{"phase", "Pending"}, {"qosClass", "BestEffort"}};
    }
  } else if (t.kind == "ConfigMap" || t.kind == "ServiceAccount" || t.kind == "Endpoints") {
    // no defaults
  } else if (t.kind == "CustomResourceDefinition") {
    auto& spec = obj["spec"];
    if (spec.is_object()) {
      auto& names = spec["names"];
      if (names.is_object()) {
        if (!names.contains("singular") && names.contains("kind")) {
          std::string s = names["kind"];
          std::transform(s.begin(), s.end(), s.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
          names["singular"] = s;
        }
        if (!names.contains("listKind") && names.contains("kind")) {
          names["listKind"] = names["kind"].get<std::string>() + "List";
        }
      }
      if (!spec.contains("conversion")) {
        spec["conversion"] = {{"strategy", "None"}};
      }
    }
  }
}

std::vector<Cause> validate_object(const ResourceType& t, const json& obj, const json& old_obj) {
  std::vector<Cause> causes;
  validate_name(t, obj, causes);
  if (obj.contains("metadata")) {
    validate_labels(obj["metadata"], causes);
  }
  if (t.from_crd && t.schema.is_object()) {
    json body = obj;
    body.erase("apiVersion");
    body.erase("kind");
    body.erase("metadata");
    json schema = t.schema;
    if (schema.contains("properties")) {
      schema["properties"].erase("metadata");
      schema["properties"].erase("apiVersion");
      schema["properties"].erase("kind");
    }
    if (schema.contains("required")) {
      json req = json::array();
      for (const auto& r : schema["required"]) {
        if (r != "metadata" && r != "apiVersion" && r != "kind") {
          req.push_back(r);
        }
      }
      schema["required"] = req;
    }
    std::vector<Cause> schema_causes;
    validate_schema(schema, body, "", schema_causes);
    for (auto& c : schema_causes) {
      if (!c.field.empty() && c.field[0] == '.') {
        c.field = c.field.substr(1);
      }
      causes.push_back(c);
    }
  }
  validate_by_kind(t, obj, old_obj, causes);
  return causes;
}

std::vector<std::string> prune_unknown(const json& schema, json& obj) {
  std::vector<std::string> out;
  if (!schema.is_object()) {
    return out;
  }
  for (auto& [k, v] : obj.items()) {
    if (k == "apiVersion" || k == "kind" || k == "metadata") {
      continue;
    }
    if (schema.contains("properties") && schema["properties"].contains(k)) {
      prune(schema["properties"][k], v, "." + k, out);
    }
  }
  std::vector<std::string> drop;
  if (schema.contains("properties") &&
      !schema.value("x-kubernetes-preserve-unknown-fields", false)) {
    for (const auto& [k, v] : obj.items()) {
      if (k != "apiVersion" && k != "kind" && k != "metadata" &&
          !schema["properties"].contains(k)) {
        drop.push_back(k);
      }
    }
  }
  for (const auto& k : drop) {
    out.push_back("." + k);
    obj.erase(k);
  }
  return out;
}

} // namespace kubesim

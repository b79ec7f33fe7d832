#include "discovery.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <regex>
#include <set>

namespace kubesim {
namespace {

const std::vector<std::string> k_verbs = {"create", "delete", "deletecollection", "get",
                                          "list",   "patch",  "update",           "watch"};

std::vector<std::string> verbs_of(const ResourceType& t) {
  if (t.group == "authorization.k8s.io") {
    return {"create"};
  }
  return k_verbs;
}

std::vector<std::string> subresource_verbs(const std::string& sub) {
  if (sub == "exec") {
    return {"create", "get"};
  }
  if (sub == "log") {
    return {"get"};
  }
  if (sub == "token") {
    return {"create"};
  }
  if (sub == "proxy") {
    return {"create", "delete", "get", "patch", "update"};
  }
  if (sub == "finalize") {
    return {"update"};
  }
  return {"get", "patch", "update"};
}

std::string subresource_kind(const ResourceType& t, const std::string& sub) {
  if (sub == "exec") {
    return "PodExecOptions";
  }
  if (sub == "proxy") {
    return t.kind == "Pod" ? "PodProxyOptions" : t.kind + "ProxyOptions";
  }
  if (sub == "token") {
    return "TokenRequest";
  }
  if (sub == "scale") {
    return "Scale";
  }
  return t.kind;
}

std::vector<std::string> groups_in_order(const Store& store) {
  std::vector<std::string> builtin;
  std::vector<std::string> crd;
  for (const auto& t : store.types()) {
    if (t.group.empty()) {
      continue;
    }
    auto& list = t.from_crd ? crd : builtin;
    if (std::find(builtin.begin(), builtin.end(), t.group) == builtin.end() &&
        std::find(crd.begin(), crd.end(), t.group) == crd.end()) {
      list.push_back(t.group);
    }
  }
  std::sort(crd.begin(), crd.end());
  builtin.insert(builtin.end(), crd.begin(), crd.end());
  return builtin;
}

std::vector<std::string> versions_of(const Store& store, const std::string& group) {
  std::vector<std::string> out;
  for (const auto& t : store.types()) {
    if (t.group == group && std::find(out.begin(), out.end(), t.version) == out.end()) {
      out.push_back(t.version);
    }
  }
  std::sort(out.begin(), out.end(), version_before);
  return out;
}

json group_json(const Store& store, const std::string& group) {
  json versions = json::array();
  for (const auto& v : versions_of(store, group)) {
    versions.push_back({{"groupVersion", group + "/" + v}, {"version", v}});
  }
  return {{"name", group}, {"versions", versions}, {"preferredVersion", versions[0]}};
}

std::string hash_hex(const std::string& s) {
  return fmt::format("{:016X}", std::hash<std::string>{}(s));
}

json gvk(const ResourceType& t) {
  return {{"group", t.group}, {"version", t.version}, {"kind", t.kind}};
}

json param(const std::string& name, const std::string& in, bool required = false) {
  return {{"name", name}, {"in", in}, {"required", required}, {"schema", {{"type", "string"}}}};
}

json operation(const ResourceType& t, const std::string& action, const std::string& id_prefix,
               bool write) {
  json params = json::array({param("pretty", "query")});
  if (write) {
    params.push_back(param("dryRun", "query"));
    params.push_back(param("fieldManager", "query"));
    params.push_back(param("fieldValidation", "query"));
  }
  if (action == "patch") {
    params.push_back(param("force", "query"));
  }
  const std::string schema_ref = "#/components/schemas/" + id_prefix;
  return {{"operationId", action + t.kind},
          {"parameters", params},
          {"responses",
           {{"200",
             {{"description", "OK"},
              {"content", {{"application/json", {{"schema", {{"$ref", schema_ref}}}}}}}}}}},
          {"x-kubernetes-action", action},
          {"x-kubernetes-group-version-kind", gvk(t)}};
}

std::string schema_name(const ResourceType& t) {
  // io.k8s.api.core.v1.Pod style for built-ins, reversed group for CRDs (as kube does).
  if (!t.from_crd) {
    std::string g = t.group.empty() ? "core" : t.group.substr(0, t.group.find('.'));
    return "io.k8s.api." + g + "." + t.version + "." + t.kind;
  }
  std::vector<std::string> parts;
  std::string cur;
  for (char c : t.group + ".") {
    if (c == '.') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  std::reverse(parts.begin(), parts.end());
  std::string out;
  for (const auto& p : parts) {
    out += p + ".";
  }
  return out + t.version + "." + t.kind;
}

} // namespace

bool version_before(const std::string& a, const std::string& b) {
  static const std::regex re("^v(\\d+)(?:(alpha|beta)(\\d+))?$");
  std::smatch ma;
  std::smatch mb;
  const bool ka = std::regex_match(a, ma, re);
  const bool kb = std::regex_match(b, mb, re);
  if (ka != kb) {
    return ka;
  }
  if (!ka) {
    return a < b;
  }
  auto level = [](const std::smatch& m) { return m[2] == "" ? 3 : m[2] == "beta" ? 2 : 1; };
  if (level(ma) != level(mb)) {
    return level(ma) > level(mb);
  }
  if (std::stoi(ma[1]) != std::stoi(mb[1])) {
    return std::stoi(ma[1]) > std::stoi(mb[1]);
  }
  return (ma[3] == "" ? 0 : std::stoi(ma[3])) > (mb[3] == "" ? 0 : std::stoi(mb[3]));
}

json api_versions() {
  return {{"kind", "APIVersions"},
          {"versions", json::array({"v1"})},
          {"serverAddressByClientCIDRs",
           json::array({{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", "127.0.0.1:6443"}}})}};
}

std::optional<json> api_resource_list(const Store& store, const std::string& group,
                                      const std::string& version) {
  json resources = json::array();
  bool found = false;
  for (const auto& t : store.types()) {
    if (t.group != group || t.version != version) {
      continue;
    }
    found = true;
    json r = {{"name", t.resource},
              {"singularName", t.singular},
              {"namespaced", t.namespaced},
              {"kind", t.kind},
              {"verbs", verbs_of(t)},
              {"storageVersionHash", hash_hex(t.group + "/" + t.resource).substr(0, 11)}};
    if (!t.short_names.empty()) {
      r["shortNames"] = t.short_names;
    }
    if (!t.categories.empty()) {
      r["categories"] = t.categories;
    }
    if (!t.group.empty() && t.group == "authorization.k8s.io") {
      r.erase("storageVersionHash");
    }
    resources.push_back(r);
    for (const auto& sub : t.subresources) {
      json s = {{"name", t.resource + "/" + sub},
                {"singularName", ""},
                {"namespaced", t.namespaced},
                {"kind", subresource_kind(t, sub)},
                {"verbs", subresource_verbs(sub)}};
      if (sub == "scale") {
        s["group"] = "autoscaling";
        s["version"] = "v1";
      }
      resources.push_back(s);
    }
  }
  if (!found) {
    return std::nullopt;
  }
  return json{{"kind", "APIResourceList"},
              {"apiVersion", "v1"},
              {"groupVersion", group.empty() ? version : group + "/" + version},
              {"resources", resources}};
}

json api_group_list(const Store& store) {
  json groups = json::array();
  for (const auto& g : groups_in_order(store)) {
    groups.push_back(group_json(store, g));
  }
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

std::optional<json> api_group(const Store& store, const std::string& group) {
  if (versions_of(store, group).empty()) {
    return std::nullopt;
  }
  json g = group_json(store, group);
  g["kind"] = "APIGroup";
  g["apiVersion"] = "v1";
  return g;
}

json aggregated_discovery(const Store& store, bool core) {
  json items = json::array();
  const std::vector<std::string> groups =
      core ? std::vector<std::string>{""} : groups_in_order(store);
  for (const auto& g : groups) {
    json versions = json::array();
    for (const auto& v : versions_of(store, g)) {
      json resources = json::array();
      for (const auto& t : store.types()) {
        if (t.group != g || t.version != v) {
          continue;
        }
        json r = {{"resource", t.resource},
                  {"responseKind", gvk(t)},
                  {"scope", t.namespaced ? "Namespaced" : "Cluster"},
                  {"singularResource", t.singular},
                  {"verbs", verbs_of(t)}};
        if (!t.short_names.empty()) {
          r["shortNames"] = t.short_names;
        }
        if (!t.categories.empty()) {
          r["categories"] = t.categories;
        }
        json subs = json::array();
        for (const auto& sub : t.subresources) {
          subs.push_back({{"subresource", sub},
                          {"responseKind",
                           {{"group", sub == "scale" ? "autoscaling" : t.group},
                            {"version", sub == "scale" ? "v1" : t.version},
                            {"kind", subresource_kind(t, sub)}}},
                          {"verbs", subresource_verbs(sub)}});
        }
        if (!subs.empty()) {
          r["subresources"] = subs;
        }
        resources.push_back(r);
      }
      versions.push_back({{"version", v}, {"resources", resources}, {"freshness", "Current"}});
    }
    items.push_back({{"metadata", {{"name", g}}}, {"versions", versions}});
  }
  return {{"kind", "APIGroupDiscoveryList"},
          {"apiVersion", "apidiscovery.k8s.io/v2"},
          {"metadata", json::object()},
          {"items", items}};
}

json version_info(const std::string& version) {
  static const std::regex re("^v(\\d+)\\.(\\d+)\\..*$");
  std::smatch m;
  std::string major = "1";
  std::string minor = "32";
  if (std::regex_match(version, m, re)) {
    major = m[1];
    minor = m[2];
  }
  return {{"major", major},           {"minor", minor},
          {"gitVersion", version},    {"gitCommit", "0000000000000000000000000000000000000000"},
          {"gitTreeState", "clean"},  {"buildDate", "2025-01-01T00:00:00Z"},
          {"goVersion", "go1.23.0"},  {"compiler", "gc"},
          {"platform", "linux/amd64"}};
}

json openapi_v3_root(const Store& store) {
  json paths = json::object();
  std::set<std::string> gvs;
  for (const auto& t : store.types()) {
    gvs.insert(t.group.empty() ? "api/" + t.version : "apis/" + t.group + "/" + t.version);
  }
  for (const auto& gv : gvs) {
    paths[gv] = {
        {"serverRelativeURL",
         "/openapi/v3/" + gv + "?hash=" + hash_hex(gv + std::to_string(store.types_generation()))}};
  }
  return {{"paths", paths}};
}

std::optional<json> openapi_v3_doc(const Store& store, const std::string& gv_path) {
  json paths = json::object();
  json schemas = json::object();
  bool found = false;
  for (const auto& t : store.types()) {
    const std::string gv =
        t.group.empty() ? "api/" + t.version : "apis/" + t.group + "/" + t.version;
    if (gv != gv_path) {
      continue;
    }
    found = true;
    const std::string base =
        "/" + gv + (t.namespaced ? "/namespaces/{namespace}/" : "/") + t.resource;
    const std::string name = schema_name(t);
    if (t.group == "authorization.k8s.io") {
      paths["/" + gv + "/" + t.resource] = {{"post", operation(t, "post", name, true)}};
    } else {
      paths[base] = {{"get", operation(t, "list", name, false)},
                     {"post", operation(t, "post", name, true)},
                     {"delete", operation(t, "deletecollection", name, false)}};
      paths[base + "/{name}"] = {{"get", operation(t, "get", name, false)},
                                 {"put", operation(t, "put", name, true)},
                                 {"patch", operation(t, "patch", name, true)},
                                 {"delete", operation(t, "delete", name, false)}};
    }
    json schema = t.schema.is_object() ? t.schema : json{{"type", "object"}};
    schema["x-kubernetes-group-version-kind"] = json::array({gvk(t)});
    schemas[name] = schema;
  }
  if (!found) {
    return std::nullopt;
  }
  return json{{"openapi", "3.0.0"},
              {"info", {{"title", "Kubernetes"}, {"version", "kubesim"}}},
              {"paths", paths},
              {"components", {{"schemas", schemas}}}};
}

} // namespace kubesim

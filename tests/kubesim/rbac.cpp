#include "rbac.hpp"

#include <algorithm>

namespace kubesim {
namespace {

bool contains(const json& arr, const std::string& v) {
  if (!arr.is_array()) {
    return false;
  }
  return std::any_of(arr.begin(), arr.end(),
                     [&](const json& e) { return e.is_string() && e == v; });
}

bool rule_allows(const json& rule, const Attributes& a) {
  if (!contains(rule.value("verbs", json::array()), a.verb) &&
      !contains(rule.value("verbs", json::array()), "*")) {
    return false;
  }
  if (!a.resource_request) {
    if (!rule.contains("nonResourceURLs")) {
      return false;
    }
    for (const auto& u : rule["nonResourceURLs"]) {
      const std::string url = u.get<std::string>();
      if (url == "*" || url == a.path ||
          (!url.empty() && url.back() == '*' &&
           a.path.rfind(url.substr(0, url.size() - 1), 0) == 0)) {
        return true;
      }
    }
    return false;
  }
  const json groups = rule.value("apiGroups", json::array());
  if (!contains(groups, a.api_group) && !contains(groups, "*")) {
    return false;
  }
  const json resources = rule.value("resources", json::array());
  const std::string combined =
      a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  bool res_ok = false;
  for (const auto& r : resources) {
    const std::string s = r.get<std::string>();
    if (s == "*" || s == combined || (!a.subresource.empty() && s == "*/" + a.subresource) ||
        (a.subresource.empty() ? false : s == a.resource + "/*")) {
      res_ok = true;
      break;
    }
  }
  if (!res_ok) {
    return false;
  }
  const json names = rule.value("resourceNames", json::array());
  if (!names.empty() && !contains(names, a.name)) {
    return false;
  }
  return true;
}

bool subject_matches(const json& s, const Attributes& a, const std::string& binding_ns) {
  const std::string kind = s.value("kind", "");
  const std::string name = s.value("name", "");
  if (kind == "User") {
    return name == a.user;
  }
  if (kind == "Group") {
    return std::find(a.groups.begin(), a.groups.end(), name) != a.groups.end();
  }
  if (kind == "ServiceAccount") {
    const std::string ns = s.value("namespace", binding_ns);
    return a.user == "system:serviceaccount:" + ns + ":" + name;
  }
  return false;
}

std::string describe_subject(const Attributes& a, const json& s) {
  const std::string kind = s.value("kind", "");
  if (kind == "ServiceAccount") {
    return "ServiceAccount \"" + s.value("name", "") + "/" + s.value("namespace", "") + "\"";
  }
  return kind + " \"" + s.value("name", "") + "\"";
  (void)a;
}

const json* find_role(const Store& store, const json& ref, const std::string& ns) {
  const std::string kind = ref.value("kind", "");
  const std::string name = ref.value("name", "");
  if (kind == "ClusterRole") {
    return store.get("clusterroles.rbac.authorization.k8s.io", "", name);
  }
  return store.get("roles.rbac.authorization.k8s.io", ns, name);
}

bool role_allows(const json* role, const Attributes& a) {
  if (role == nullptr || !role->contains("rules") || !(*role)["rules"].is_array()) {
    return false;
  }
  return std::any_of((*role)["rules"].begin(), (*role)["rules"].end(),
                     [&](const json& r) { return rule_allows(r, a); });
}

} // namespace

Decision authorize(const Store& store, const Attributes& a) {
  if (std::find(a.groups.begin(), a.groups.end(), "system:masters") != a.groups.end()) {
    return {true, ""};
  }
  for (const json* b : store.list("clusterrolebindings.rbac.authorization.k8s.io", "")) {
    const json subjects = b->value("subjects", json::array());
    for (const auto& s : subjects) {
      if (!subject_matches(s, a, "")) {
        continue;
      }
      if (role_allows(find_role(store, (*b)["roleRef"], ""), a)) {
        return {true, "RBAC: allowed by ClusterRoleBinding \"" +
                          (*b)["metadata"].value("name", "") + "\" of ClusterRole \"" +
                          (*b)["roleRef"].value("name", "") + "\" to " + describe_subject(a, s)};
      }
    }
  }
  if (a.resource_request && !a.ns.empty()) {
    for (const json* b : store.list("rolebindings.rbac.authorization.k8s.io", a.ns)) {
      const json subjects = b->value("subjects", json::array());
      for (const auto& s : subjects) {
        if (!subject_matches(s, a, a.ns)) {
          continue;
        }
        if (role_allows(find_role(store, (*b)["roleRef"], a.ns), a)) {
          return {true, "RBAC: allowed by RoleBinding \"" + (*b)["metadata"].value("name", "") +
                            "/" + a.ns + "\" of " + (*b)["roleRef"].value("kind", "") + " \"" +
                            (*b)["roleRef"].value("name", "") + "\" to " + describe_subject(a, s)};
        }
      }
    }
  }
  return {false, ""};
}

std::string forbidden_message(const Attributes& a) {
  if (!a.resource_request) {
    return "forbidden: User \"" + a.user + "\" cannot " + a.verb + " path \"" + a.path + "\"";
  }
  const std::string res = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  std::string qualified = a.api_group.empty() ? a.resource : a.resource + "." + a.api_group;
  std::string prefix = qualified;
  if (!a.name.empty()) {
    prefix += " \"" + a.name + "\"";
  }
  std::string msg = prefix + " is forbidden: User \"" + a.user + "\" cannot " + a.verb +
                    " resource \"" + res + "\" in API group \"" + a.api_group + "\"";
  if (!a.ns.empty()) {
    msg += " in the namespace \"" + a.ns + "\"";
  } else {
    msg += " at the cluster scope";
  }
  return msg;
}

} // namespace kubesim

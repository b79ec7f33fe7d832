// Reading Kubernetes objects as istiod does: JSON accessors, the facts istiod takes from a Pod
// (readiness, its proxy container, workload and canonical names), the remote secrets it
// registers and its own cluster ID. See istiod_model_internal.hpp for the model's map.

#include "istiod_model_internal.hpp"
#include "pki.hpp"
#include "store.hpp"

#include <algorithm>
#include <cstdio>

namespace kubesim::istiod::detail {

std::string str(const json& j, const char* key) {
  if (j.is_object()) {
    auto it = j.find(key);
    if (it != j.end() && it->is_string()) {
      return it->get<std::string>();
    }
  }
  return "";
}

const json& obj(const json& j, const char* key) {
  static const json k_empty = json::object();
  if (j.is_object()) {
    auto it = j.find(key);
    if (it != j.end() && (it->is_object() || it->is_array())) {
      return *it;
    }
  }
  return k_empty;
}

const json& arr(const json& j, const char* key) {
  static const json k_empty = json::array();
  if (j.is_object()) {
    auto it = j.find(key);
    if (it != j.end() && it->is_array()) {
      return *it;
    }
  }
  return k_empty;
}

std::string label(const json& o, const std::string& key) {
  return str(obj(obj(o, "metadata"), "labels"), key.c_str());
}
std::string annotation(const json& o, const std::string& key) {
  return str(obj(obj(o, "metadata"), "annotations"), key.c_str());
}
std::string name_of(const json& o) {
  return str(obj(o, "metadata"), "name");
}
std::string ns_of(const json& o) {
  return str(obj(o, "metadata"), "namespace");
}

/// Istio's labels.Instance.SubsetOf: every key=value of `sel` is in `labels`; empty sel: true.
bool subset_of(const json& sel, const json& labels) {
  if (!sel.is_object()) {
    return true;
  }
  for (const auto& [k, v] : sel.items()) {
    if (!labels.is_object() || !labels.contains(k) || labels[k] != v) {
      return false;
    }
  }
  return true;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    out += (i == 0 ? "" : sep) + v[i];
  }
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

namespace {
bool is_ipv4(const std::string& s) {
  unsigned a = 0;
  unsigned b = 0;
  unsigned c = 0;
  unsigned d = 0;
  char tail = 0;
  return std::sscanf(s.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a < 256 &&
         b < 256 && c < 256 && d < 256;
}
} // namespace

bool is_ip(const std::string& s) {
  return is_ipv4(s) || (s.find(':') != std::string::npos &&
                        s.find_first_not_of("0123456789abcdefABCDEF:.") == std::string::npos);
}

/// The env value (not valueFrom) of `var` in container `container` of `pod`.
std::string container_env(const json& pod, const std::string& container, const std::string& var) {
  for (const auto& c : arr(obj(pod, "spec"), "containers")) {
    if (str(c, "name") != container) {
      continue;
    }
    for (const auto& e : arr(c, "env")) {
      if (str(e, "name") == var) {
        return str(e, "value");
      }
    }
  }
  return "";
}

const json* proxy_container(const json& pod) {
  for (const auto& c : arr(obj(pod, "spec"), "containers")) {
    if (str(c, "name") == "istio-proxy") {
      return &c;
    }
  }
  return nullptr;
}

bool pod_ready(const json& pod) {
  const json& st = obj(pod, "status");
  if (str(st, "phase") != "Running" || str(st, "podIP").empty() ||
      obj(pod, "metadata").contains("deletionTimestamp")) {
    return false;
  }
  for (const auto& c : arr(st, "conditions")) {
    if (str(c, "type") == "Ready") {
      return str(c, "status") == "True";
    }
  }
  return true;
}

/// A workload's name as istiod reports it: the Deployment behind a ReplicaSet owner, else the
/// owner, else the Pod.
std::string workload_name(const json& pod) {
  for (const auto& o : arr(obj(pod, "metadata"), "ownerReferences")) {
    std::string n = str(o, "name");
    if (str(o, "kind") == "ReplicaSet") {
      const std::string hash = label(pod, "pod-template-hash");
      if (!hash.empty() && n.size() > hash.size() + 1 &&
          n.compare(n.size() - hash.size() - 1, std::string::npos, "-" + hash) == 0) {
        return n.substr(0, n.size() - hash.size() - 1);
      }
    }
    return n;
  }
  const std::string hash = label(pod, "pod-template-hash");
  const std::string n = name_of(pod);
  const auto pos = hash.empty() ? std::string::npos : n.find("-" + hash + "-");
  return pos == std::string::npos ? n : n.substr(0, pos);
}

std::string canonical_name(const json& pod) {
  for (const char* k : {"service.istio.io/canonical-name", "app.kubernetes.io/name", "app"}) {
    if (auto v = label(pod, k); !v.empty()) {
      return v;
    }
  }
  return workload_name(pod);
}

std::string canonical_revision(const json& pod) {
  for (const char* k :
       {"service.istio.io/canonical-revision", "app.kubernetes.io/version", "version"}) {
    if (auto v = label(pod, k); !v.empty()) {
      return v;
    }
  }
  return "latest";
}

} // namespace kubesim::istiod::detail

namespace kubesim::istiod {

using namespace detail;

std::vector<RemoteSecretEntry> remote_secret_entries(const std::vector<json>& secrets,
                                                     const std::string& own_id) {
  std::vector<const json*> sorted;
  for (const auto& s : secrets) {
    if (ns_of(s) == "istio-system" && label(s, "istio/multiCluster") == "true") {
      sorted.push_back(&s);
    }
  }
  std::sort(sorted.begin(), sorted.end(), [](const json* a, const json* b) {
    const auto ta = parse_rfc3339(str(obj(*a, "metadata"), "creationTimestamp"));
    const auto tb = parse_rfc3339(str(obj(*b, "metadata"), "creationTimestamp"));
    return ta != tb ? ta < tb : name_of(*a) < name_of(*b);
  });
  std::vector<RemoteSecretEntry> out;
  std::set<std::string> ids;
  for (const json* s : sorted) {
    for (const auto& [key, value] : obj(*s, "data").items()) {
      if (key == own_id || ids.count(key) != 0 || !value.is_string()) {
        continue;
      }
      auto decoded = base64_decode(value.get<std::string>());
      if (!decoded) {
        continue;
      }
      ids.insert(key);
      out.push_back({key, ns_of(*s) + "/" + name_of(*s), *decoded});
    }
  }
  return out;
}

bool has_proxy(const json& pod) {
  return proxy_container(pod) != nullptr;
}

bool is_istiod(const json& pod) {
  return ns_of(pod) == "istio-system" && label(pod, "app") == "istiod";
}

std::string cluster_id_of(const std::vector<json>& istio_system_pods, const std::string& fallback) {
  for (const auto& p : istio_system_pods) {
    if (is_istiod(p)) {
      std::string id = container_env(p, "discovery", "CLUSTER_ID");
      if (!id.empty()) {
        return id;
      }
    }
  }
  return fallback;
}

} // namespace kubesim::istiod

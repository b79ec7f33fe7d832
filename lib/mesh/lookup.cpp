#include "mesh/lookup.hpp"

#include "core/fanout.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "mesh/join_live.hpp"

#include <algorithm>
#include <set>

namespace meshctl::mesh {

using nlohmann::json;

namespace {

// Whether a pod runs Envoy: an istio-proxy container, or a native sidecar of that name (an init
// container that keeps running, as Istio injects it on Kubernetes 1.29+).
bool has_proxy(const json& pod) {
  const json& spec = member(pod, "spec");
  for (const char* list : {"containers", "initContainers"}) {
    const json& containers = member(spec, list);
    for (const auto& c : containers.is_array() ? containers : json::array()) {
      if (str(c, "name") == "istio-proxy") {
        return true;
      }
    }
  }
  return false;
}

std::vector<std::string> names_in(const json& list, LookupKind kind) {
  std::vector<std::string> out;
  const json& items = member(list, "items");
  for (const auto& item : items.is_array() ? items : json::array()) {
    const json& meta = member(item, "metadata");
    const std::string name = str(meta, "name");
    if (name.empty() || (kind == LookupKind::k_proxy_pods && !has_proxy(item))) {
      continue;
    }
    out.push_back(kind == LookupKind::k_namespaces ? name : name + "." + str(meta, "namespace"));
  }
  return out;
}

} // namespace

std::vector<std::string> lookup_names(const ReadTargets& targets, const GlobalOptions& global,
                                      LookupKind kind, const std::string& namespace_) {
  GlobalOptions bounded = global;
  bounded.timeout = std::min(global.timeout, k_lookup_timeout);
  kube::ResourceRef ref{"", "v1", "", namespace_, "", ""};
  ref.resource = kind == LookupKind::k_namespaces   ? "namespaces"
                 : kind == LookupKind::k_proxy_pods ? "pods"
                                                    : "services";
  if (kind == LookupKind::k_namespaces) {
    ref.namespace_.clear();
  }
  std::vector<std::string> names;
  for (const auto& c : targets.clusters) {
    names.push_back(c.name);
  }
  const auto results = for_each_cluster(names, [&](const std::string& name) {
    const auto& c = *std::find_if(targets.clusters.begin(), targets.clusters.end(),
                                  [&](const auto& k) { return k.name == name; });
    auto client = connect_cluster(targets.kubeconfig, c, bounded);
    if (!client) {
      log::info("{}", client.error().what());
      return std::vector<std::string>{};
    }
    auto list = (*client)->list(ref);
    if (!list) {
      log::info("{}: {}", name, list.error().error.what());
      return std::vector<std::string>{};
    }
    return names_in(*list, kind);
  });
  std::set<std::string> all;
  for (const auto& r : results) {
    all.insert(r.value.begin(), r.value.end());
  }
  return {all.begin(), all.end()};
}

} // namespace meshctl::mesh

#pragma once
// What the istiod model's files share (istiod_model_*.cpp); not used outside them. The public
// interface is istiod_model.hpp. The model is split by what it computes:
//   istiod_model_objects.cpp    reading Kubernetes objects as istiod does (pods, workload names,
//                               remote secrets, cluster ID)
//   istiod_model_registry.cpp   the service registry across clusters, network gateways, the proxy
//   istiod_model_eds.cpp        DestinationRules, EDS (split horizon, locality priorities)
//   istiod_model_listeners.cpp  listeners, gateways' AUTO_PASSTHROUGH SNI routes
//   istiod_model_admin.cpp      Envoy admin answers (config_dump, clusters), /debug/clusterz
//
// Every rule is taken from Istio's code (1.2x; file names relative to istio/istio) and is the
// part of it that decides what meshctl verify looks at. Where FACTS.md and the code disagree,
// the code wins and the difference is said where the rule is implemented. Output follows Envoy's
// admin JSON (snake_case), compared with the dumps in ../shared/istio.

#include "istiod_model.hpp"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace kubesim::istiod::detail {

inline constexpr const char* k_domain = "cluster.local";
inline constexpr const char* k_label_network = "topology.istio.io/network";
inline constexpr const char* k_label_cluster = "topology.istio.io/cluster";
inline constexpr const char* k_label_region = "topology.kubernetes.io/region";
inline constexpr const char* k_label_zone = "topology.kubernetes.io/zone";
inline constexpr const char* k_label_subzone = "topology.istio.io/subzone";

// ---- reading objects (istiod_model_objects.cpp) ----

/// The string at `key` of object `j`, "" when absent or not a string.
std::string str(const json& j, const char* key);
/// The object or array at `key` of `j`, an empty object when absent.
const json& obj(const json& j, const char* key);
/// The array at `key` of `j`, an empty array when absent.
const json& arr(const json& j, const char* key);
std::string label(const json& o, const std::string& key);
std::string annotation(const json& o, const std::string& key);
std::string name_of(const json& o);
std::string ns_of(const json& o);
/// Istio's labels.Instance.SubsetOf: every key=value of `sel` is in `labels`; empty sel: true.
bool subset_of(const json& sel, const json& labels);
std::string join(const std::vector<std::string>& v, const std::string& sep);
std::vector<std::string> split(const std::string& s, char sep);
bool is_ip(const std::string& s);
/// The env value (not valueFrom) of `var` in container `container` of `pod`.
std::string container_env(const json& pod, const std::string& container, const std::string& var);
const json* proxy_container(const json& pod);
bool pod_ready(const json& pod);
/// A workload's name as istiod reports it: the Deployment behind a ReplicaSet owner, else the
/// owner, else the Pod.
std::string workload_name(const json& pod);
std::string canonical_name(const json& pod);
std::string canonical_revision(const json& pod);

// ---- the registry (istiod_model_registry.cpp) ----

struct Locality {
  std::string region;
  std::string zone;
  std::string subzone;
  [[nodiscard]] std::string str() const {
    // util.LocalityToString: region/zone/subzone, empty tails dropped.
    if (subzone.empty()) {
      return zone.empty() ? region : region + "/" + zone;
    }
    return region + "/" + zone + "/" + subzone;
  }
  [[nodiscard]] json to_json() const {
    json j = json::object();
    if (!region.empty()) {
      j["region"] = region;
    }
    if (!zone.empty()) {
      j["zone"] = zone;
    }
    if (!subzone.empty()) {
      j["sub_zone"] = subzone;
    }
    return j;
  }
};

/// istiod's view of one cluster, indexed.
struct ClusterIndex {
  const ClusterObjects* c = nullptr;
  std::string network;
  std::map<std::string, const json*> nodes;
  std::map<std::string, const json*> namespaces;

  explicit ClusterIndex(const ClusterObjects& objects);
  [[nodiscard]] Locality locality(const json& pod) const;
  [[nodiscard]] std::string pod_network(const json& pod) const;
  [[nodiscard]] bool injected(const json& pod) const;
};

/// labelutil.AugmentLabels.
json augment_labels(json labels, const std::string& cluster, const Locality& loc,
                    const std::string& network);

/// model.IstioEndpoint, with what the EDS output needs.
struct Endpoint {
  std::string addr;
  std::uint32_t port = 0;
  std::string cluster;
  std::string network;
  Locality locality;
  json labels; ///< augmented
  bool tls_istio = false;
  std::string workload; ///< metadata istio.workload
  std::uint32_t weight = 1;
};

/// A Service port as the merged service knows it.
struct ServicePort {
  std::uint32_t port = 0;
  std::string name;
  std::string protocol = "TCP";
};

/// A service across clusters: its hostname and each cluster's Service object.
struct MeshService {
  std::string host;
  std::string name;
  std::string ns;
  std::vector<std::pair<const ClusterIndex*, const json*>> members;
  std::vector<ServicePort> ports; ///< union by number, first definition wins
  bool headless = false;
  std::string cluster_ip;
};

/// The registry istiod builds from all clusters.
struct Registry {
  std::vector<ClusterIndex> clusters; ///< local first, then synced remotes
  std::map<std::string, MeshService> services;
  std::vector<NetworkGateway> gateways;
  std::uint32_t lcm = 1;

  explicit Registry(const MeshView& view);
  [[nodiscard]] std::vector<NetworkGateway> gateways_for(const std::string& network,
                                                         const std::string& cluster) const;
  /// The endpoints of `ms` on service port `port`, shard (cluster) by shard.
  [[nodiscard]] std::vector<Endpoint> endpoints(const MeshService& ms, std::uint32_t port) const;
};

/// The proxy asking (model.Proxy).
struct Proxy {
  const json* pod = nullptr;
  std::string ns;
  std::string name;
  std::string ip;
  std::string cluster;
  std::string network;
  Locality locality;
  json labels;
  bool router = false;
  std::set<std::string> network_view; ///< empty: sees every network
  std::string mesh_id;
  std::string version;
};

Proxy make_proxy(const MeshView& view, const Registry& reg, const json& pod);

// ---- DestinationRules and EDS (istiod_model_eds.cpp) ----

/// 0: no match; larger: more specific.
std::size_t host_match(const std::string& pattern, const std::string& host);
const json* find_destination_rule(const MeshView& view, const std::string& proxy_ns,
                                  const MeshService& ms);

struct LbEndpoint {
  Endpoint ep;
  bool gateway = false;
};

struct LocalityGroup {
  Locality locality;
  std::uint32_t priority = 0;
  std::vector<LbEndpoint> endpoints;
  [[nodiscard]] std::uint32_t weight() const {
    std::uint32_t w = 0;
    for (const auto& e : endpoints) {
      w += e.ep.weight;
    }
    return w;
  }
};

std::vector<LocalityGroup> build_groups(const MeshView& view, const Registry& reg,
                                        const Proxy& proxy, const MeshService& ms,
                                        std::uint32_t port, const std::string& subset);
json socket_address(const std::string& addr, std::uint32_t port);
/// The ClusterLoadAssignment (Envoy JSON) of `groups`.
json cla_json(const std::string& cluster_name, const std::vector<LocalityGroup>& groups);

// ---- listeners (istiod_model_listeners.cpp) ----

struct SniRoute {
  std::uint32_t listener_port = 0;
  std::string sni;
  const MeshService* svc = nullptr;
  ServicePort port;
  std::string subset;
};

/// The SNI routes of a gateway proxy's AUTO_PASSTHROUGH listeners (none for a sidecar).
std::vector<SniRoute> sni_routes(const MeshView& view, const Registry& reg, const Proxy& proxy);
json listeners_dump(const MeshView& view, const Registry& reg, const Proxy& proxy,
                    const std::string& now);

} // namespace kubesim::istiod::detail

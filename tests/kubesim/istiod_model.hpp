#pragma once
// A small model of istiod (multi-primary, multi-network) and of the Envoy admin answers it leads
// to: what `pilot-agent request GET config_dump…` and `clusters?format=json` return in a pod's
// istio-proxy, and istiod's /debug/clusterz. Pure functions of the objects istiod would see; the
// network part (reading remote clusters through remote secrets) lives in istiod.{hpp,cpp}.
// The rules, each from Istio's own code (FACTS.md §2, §4–6), are described in the
// istiod_model_*.cpp files that implement them (istiod_model_internal.hpp says which holds what).

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace kubesim::istiod {

using json = nlohmann::json;

/// The objects istiod reads from one cluster's API server (its own, or a remote one through a
/// remote secret): Namespaces, Services, Pods, Nodes and the sidecar injector's values.
struct ClusterObjects {
  std::string id; ///< cluster ID (CLUSTER_ID of istiod, or the remote secret's key)
  std::vector<json> namespaces;
  std::vector<json> services;
  std::vector<json> pods;
  std::vector<json> nodes;
  json injector_values; ///< ConfigMap istio-sidecar-injector `values`, parsed (or null)
};

/// A remote cluster registered from a remote secret.
struct RemoteCluster {
  std::string id;
  std::string secret_name; ///< "istio-system/<secret>", as istiod names it in /debug/clusterz
  bool synced = false;     ///< false: the API server was never read successfully ("timeout")
  ClusterObjects objects;  ///< what was read (empty unless synced)
};

/// Everything the model answers from. Istio config (Gateways, DestinationRules, mesh config)
/// comes from the local cluster only, as in multi-primary.
struct MeshView {
  ClusterObjects local;
  std::vector<json> gateways;          ///< networking.istio.io Gateways of the local cluster
  std::vector<json> destination_rules; ///< networking.istio.io DestinationRules
  json mesh_config;                    ///< ConfigMap istio `mesh`, parsed (or null)
  json mesh_networks;                  ///< ConfigMap istio `meshNetworks`, parsed (or null)
  std::vector<RemoteCluster> remotes;
};

/// One cluster entry of a remote secret, as istiod registers it.
struct RemoteSecretEntry {
  std::string cluster_id;
  std::string secret_name; ///< "istio-system/<secret>"
  std::string kubeconfig;  ///< decoded data value
};

/// The remote clusters istiod of `own_id` registers from `secrets` (Secrets of istio-system):
/// only those labelled istio/multiCluster=true; a key equal to `own_id` is ignored; a cluster ID
/// already registered by an earlier secret (creation time, then name) is ignored.
std::vector<RemoteSecretEntry> remote_secret_entries(const std::vector<json>& secrets,
                                                     const std::string& own_id);

/// True when the pod runs an Envoy the model answers for (a container named istio-proxy).
bool has_proxy(const json& pod);
/// True when the pod is istiod (label app=istiod in istio-system).
bool is_istiod(const json& pod);
/// istiod's cluster ID: env CLUSTER_ID of the istiod pod's `discovery` container, else `fallback`.
std::string cluster_id_of(const std::vector<json>& istio_system_pods, const std::string& fallback);

/// GET `path` (with query) on the Envoy admin port (15000) of `pod`'s istio-proxy:
/// config_dump[?include_eds=true][&mask=a,b], clusters?format=json, clusters (text).
/// nullopt for other paths (Envoy would answer 404).
std::optional<std::string> envoy_admin(const MeshView& view, const json& pod,
                                       const std::string& path);

/// istiod's GET /debug/clusterz: [{"id","secretName","syncStatus"}], the local cluster first.
std::string debug_clusterz(const MeshView& view);

// ---- the rules, exposed for unit tests ----

/// A network gateway: where other networks send traffic for this network.
struct NetworkGateway {
  std::string network;
  std::string cluster;
  std::string addr;
  std::uint32_t port = 0;
  bool operator<(const NetworkGateway& o) const;
  bool operator==(const NetworkGateway& o) const;
};

/// The network of a cluster: label topology.istio.io/network on istio-system, else the
/// injector's global.network ("" when neither is set).
std::string cluster_network(const ClusterObjects& c);

/// The gateways the Services of cluster `c` define (pilot kube/controller network.go): a Service
/// labelled topology.istio.io/network; port 15443 or label networking.istio.io/gatewayPort;
/// addresses from LoadBalancer ingress and spec.externalIPs, else (NodePort with annotation
/// traffic.istio.io/nodeSelector) the first ExternalIP of each selected Node. IP addresses only.
std::vector<NetworkGateway> network_gateways(const ClusterObjects& c);

/// The gateways of meshNetworks (ConfigMap istio, parsed): networks.<net>.gateways[] with an
/// address and a port, cluster "" (pkg/model/network.go); hostnames resolved as istiod would.
std::vector<NetworkGateway> mesh_network_gateways(const json& mesh_networks);

/// A gateway address as istiod hands it to proxies: an IP as it is; a hostname resolved — in
/// kubesim, only *.elb.kubesim.local names resolve (load_balancer.hpp); nullopt otherwise.
std::optional<std::string> resolve_gateway_address(const std::string& address);

/// The ClusterLoadAssignment (Envoy JSON) the proxy of `pod` (in the local cluster) receives for
/// `cluster_name` ("outbound|PORT|SUBSET|HOST" or "outbound_.PORT_.SUBSET_.HOST"); null when
/// the model knows no such service port.
json cluster_load_assignment(const MeshView& view, const json& pod,
                             const std::string& cluster_name);

/// The SNI names ("outbound_.PORT_.SUBSET_.HOST") the 15443 AUTO_PASSTHROUGH listener of
/// gateway `pod` serves, in listener order, per AUTO_PASSTHROUGH port.
std::vector<std::pair<std::uint32_t, std::vector<std::string>>>
auto_passthrough_routes(const MeshView& view, const json& pod);

} // namespace kubesim::istiod

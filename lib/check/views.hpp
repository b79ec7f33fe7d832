#pragma once
// What the raw facts mean, computed the way Istio computes it: the addresses other networks reach a
// gateway at (FACTS §4), whether a DestinationRule activates failover (FACTS §5), the SNI routes a
// gateway should have and has (FACTS §6), and what each endpoint a client sees stands for. Pure
// functions of the facts, shared by the checks and the report's tables. Objects are read with the
// tolerant getters of core/json.hpp (member, str, array_of), which this header brings along.

#include "check/facts.hpp"
#include "core/json.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshctl::check {

inline constexpr std::string_view k_network_label = "topology.istio.io/network";
inline constexpr std::string_view k_node_selector_annotation = "traffic.istio.io/nodeSelector";
inline constexpr std::string_view k_gateway_port_label = "networking.istio.io/gatewayPort";

/// metadata.labels[key] / metadata.annotations[key], "" when absent.
std::string label_of(const nlohmann::json& object, std::string_view key);
std::string annotation_of(const nlohmann::json& object, std::string_view key);
/// "namespace/name".
std::string object_name(const nlohmann::json& object);
/// Whether every key=value of `selector` (a map) is among `labels`. An empty selector matches
/// nothing (a Service without selector has no pods).
bool selector_matches(const nlohmann::json& selector, const nlohmann::json& labels);
/// A pod's Ready condition is True.
bool pod_ready(const nlohmann::json& pod);
/// The pod has an istio-proxy container (sidecar or gateway).
bool has_proxy(const nlohmann::json& pod);
/// status.podIP.
std::string pod_ip(const nlohmann::json& pod);

/// One address other networks reach a gateway at.
struct GatewayAddress {
  std::string address; ///< IP or hostname
  std::uint32_t port = 0;
  std::string source; ///< "LoadBalancer ingress", "externalIPs", "ExternalIP of node x"
};

/// One network gateway Service (labelled topology.istio.io/network) as istiod sees it.
struct GatewayView {
  std::string namespace_;
  std::string name;
  std::string network;               ///< its label
  std::string type;                  ///< spec.type
  std::optional<std::uint32_t> port; ///< the 15443 (or gatewayPort label) service port
  std::optional<std::uint32_t> node_port;
  bool has_node_selector = false;   ///< annotation present
  std::string node_selector;        ///< its raw value
  bool node_selector_valid = false; ///< a JSON object of strings
  std::vector<std::string> selected_nodes;
  std::vector<std::string> selected_without_external_ip;
  std::vector<GatewayAddress> addresses; ///< what istiod publishes (empty = unusable)
  /// `addresses` are meshctl.yaml's gateway.addresses (meshNetworks): the Service gives none.
  bool from_mesh_networks = false;
  /// gateway.addresses that istiod ignores for this cluster's workloads, because the Service
  /// gives addresses of its own (it prefers a network's gateways in the same cluster).
  std::vector<GatewayAddress> shadowed;
  int pods = 0;
  int ready_pods = 0;
  /// Its spec.selector as a kubectl label selector ("app=istio-eastwestgateway,istio=…"), for
  /// hints: an installed gateway's pods carry its installer's labels, not meshctl's.
  std::string pod_selector;
};

/// The gateways a meshNetworks text names, per network, as "address:port" — what istiod reads
/// from ConfigMap istio (networks.<net>.gateways[].address|port; registryServiceName entries are
/// skipped). Empty when the text is empty or not YAML.
std::map<std::string, std::vector<std::string>> mesh_network_gateways(const std::string& text);

/// Every gateway Service of a cluster, in the facts' order.
std::vector<GatewayView> gateway_views(const ClusterFacts& cluster);
/// The gateways of `cluster` on `network` that expose a port (what istiod uses for that network).
std::vector<GatewayView> network_gateways(const ClusterFacts& cluster);

/// A DestinationRule for the service and what it does to locality (FACTS §5).
struct RuleView {
  std::string namespace_;
  std::string name;
  bool locality_lb = false;       ///< trafficPolicy.loadBalancer.localityLbSetting (enabled)
  bool outlier_detection = false; ///< trafficPolicy.outlierDetection
  /// failover takes effect: localityLbSetting with outlierDetection.
  [[nodiscard]] bool active() const { return locality_lb && outlier_detection; }
};
std::vector<RuleView> rule_views(const ClusterFacts& cluster);

/// The Service's ports as number -> name, from this cluster or else from any cluster.
std::vector<std::pair<std::uint32_t, std::string>> service_ports(const MeshFacts& facts,
                                                                 const ClusterFacts& cluster);

/// One expected SNI route on a gateway of a cluster running the service.
struct SniRow {
  std::string gateway; ///< the gateway pod, "namespace/pod"
  std::string address; ///< the listener's address ("0.0.0.0")
  std::uint32_t listener_port = 0;
  std::uint32_t service_port = 0;
  std::string sni;         ///< outbound_.<port>_._.<host>
  std::string match;       ///< istioctl's MATCH of the chain, or "SNI: <sni>" when missing
  std::string destination; ///< "Cluster: <name>", or "" when missing
  bool present = false;
};
/// Rows for every gateway dump of `cluster` and every service port (empty without dumps).
std::vector<SniRow> sni_rows(const MeshFacts& facts, const ClusterFacts& cluster);

/// What one endpoint a client sees stands for.
enum class EndpointKind { k_local_pod, k_remote_gateway, k_remote_pod, k_unknown };

struct EndpointRow {
  std::string envoy_cluster; ///< outbound|5000||helloworld.dev.svc.cluster.local
  envoy::EndpointView endpoint;
  EndpointKind kind = EndpointKind::k_unknown;
  std::string peer_cluster; ///< the cluster it leads to ("" = unknown)
  std::string what;         ///< "pod helloworld-v2-x", "gateway of cn-shanghai", "?"
};
/// The client's endpoints of outbound|<port>||<host> for every service port, classified.
std::vector<EndpointRow> endpoint_rows(const MeshFacts& facts, const ClusterFacts& cluster);

} // namespace meshctl::check

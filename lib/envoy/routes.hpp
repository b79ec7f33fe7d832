#pragma once
// What `verify` asks of Envoy data: the SNI routes of an east-west gateway's AUTO_PASSTHROUGH
// listener, and the endpoints a client's Envoy holds for a cluster (FACTS §5–6).

#include "core/error.hpp"
#include "envoy/config_dump.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace meshctl::envoy {

/// The port of the gateway listener that routes cross-network traffic by SNI.
inline constexpr std::uint32_t k_cross_network_port = 15443;

/// "outbound_.<port>_.<subset>_.<host>": the SNI a remote client sends, and the gateway's cluster
/// name, for `host`:`port` (an empty subset gives "outbound_.5000_._.host").
std::string sni_name(std::uint32_t port, std::string_view subset, std::string_view host);

/// "outbound|<port>|<subset>|<host>": the cluster a sidecar uses for `host`:`port`.
std::string outbound_cluster_name(std::uint32_t port, std::string_view subset,
                                  std::string_view host);

/// One filter chain of the gateway's SNI listener.
struct SniRoute {
  std::vector<std::string> server_names; ///< filter_chain_match.server_names
  std::string cluster;                   ///< tcp_proxy cluster ("" if the chain has none)
  std::string match;                     ///< istioctl's MATCH text (SNI and ALPN)
  std::string listener;                  ///< listener name, e.g. "0.0.0.0_15443"
};

/// The chains of every active or static listener on `port` in a gateway's listener dump, in dump
/// order. Listeners on other ports are skipped without reading their chains.
Result<std::vector<SniRoute>> sni_routes(const DumpBytes& listener_dump,
                                         std::uint32_t port = k_cross_network_port);

/// True when some route's server_names contain `sni`.
bool has_sni(const std::vector<SniRoute>& routes, std::string_view sni);

/// One endpoint of a cluster as a client's Envoy sees it.
struct EndpointView {
  std::string address; ///< "ip:port", or a pipe/internal address as istioctl prints it
  std::string ip;
  std::uint32_t port = 0;
  std::string health;          ///< HEALTHY, UNHEALTHY, ...
  bool outlier_failed = false; ///< /clusters only: failed outlier detection
  std::uint32_t priority = 0;
  std::string locality; ///< "region/zone/subzone"
  std::uint32_t weight = 0;
  std::string workload; ///< istio.workload metadata (EDS only), ";;;;<cluster>" for a gateway
};

/// Endpoints of `cluster` from /clusters?format=json (health, outlier state, priority).
std::vector<EndpointView> cluster_endpoints(const std::vector<ClusterStatusInfo>& statuses,
                                            std::string_view cluster);
/// Endpoints of `cluster` from a config_dump?include_eds=true (priority, weight, metadata).
std::vector<EndpointView> cluster_endpoints(const std::vector<ClusterLoadAssignmentInfo>& configs,
                                            std::string_view cluster);

} // namespace meshctl::envoy

#pragma once
// Readers for Envoy's config_dump (listeners, clusters, include_eds endpoints) and for
// /clusters?format=json. They keep only what meshctl's tables and checks need, so the model of a
// 200 MB gateway dump is a few tens of MB. Every field is accepted in Envoy's snake_case and in
// istioctl's camelCase; v2-era dumps (2019-2020, "config" instead of "typed_config", legacy filter
// names) are read too.

#include "core/error.hpp"
#include "envoy/dump_source.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace meshctl::envoy {

/// Where a listener or cluster sits in the dump. istioctl's tables show only active and static.
enum class ConfigState { k_active, k_warming, k_draining, k_static };

/// One filter chain, already described the way `istioctl proxy-config listener` prints it.
struct FilterChainInfo {
  std::vector<std::string> server_names; ///< filter_chain_match.server_names (SNI)
  std::string match;       ///< istioctl's MATCH column ("SNI: ...; App: ...", "ALL", ...)
  std::string destination; ///< istioctl's DESTINATION column ("Cluster: x", "Route: 80", ...)
  std::string tcp_cluster; ///< cluster of the chain's tcp_proxy, "" if none
  bool is_default = false; ///< the listener's default_filter_chain
};

struct ListenerInfo {
  std::string name;
  std::string address; ///< socket address, or pipe path; "" for internal listeners
  std::vector<std::string> additional_addresses;
  std::uint32_t port = 0;
  ConfigState state = ConfigState::k_active;
  std::string type; ///< "HTTP", "TCP", "HTTP+TCP" or "UNKNOWN", as istioctl classifies it
  std::vector<FilterChainInfo> chains; ///< filter_chains, then default_filter_chain
  std::string raw;                     ///< the listener's JSON, only if asked for
};

/// istioctl's listener filters (--address, --port, --type); empty fields match everything.
struct ListenerFilter {
  std::string address;
  std::uint32_t port = 0;
  std::string type;
};

struct ReadOptions {
  bool keep_raw = false; ///< keep each selected object's JSON text (for -o json|yaml)
};

/// Listeners of a config_dump that pass `filter`, in dump order: dynamic (active, warming,
/// draining) then static. Filter chains of listeners on another port are skipped unread.
Result<std::vector<ListenerInfo>> read_listeners(const DumpBytes& dump,
                                                 const ListenerFilter& filter,
                                                 const ReadOptions& options = {});

struct ClusterInfo {
  std::string name;
  std::string type;             ///< STATIC, STRICT_DNS, LOGICAL_DNS, EDS, ORIGINAL_DST
  std::string destination_rule; ///< "name.namespace" from metadata istio.config, as istioctl
  ConfigState state = ConfigState::k_active;
  std::string raw;
};

/// Clusters of a config_dump in istioctl's order: dynamic active (and warming), then static.
Result<std::vector<ClusterInfo>> read_clusters(const DumpBytes& dump,
                                               const ReadOptions& options = {});

struct Locality {
  std::string region;
  std::string zone;
  std::string sub_zone;
};
/// "region/zone/subzone" with empty tails dropped, as Istio's util.LocalityToString.
std::string locality_string(const Locality& l);

/// One lb_endpoint of a ClusterLoadAssignment.
struct LbEndpointInfo {
  std::vector<std::string> addresses; ///< "ip:port", a pipe path, "envoy://listener/id"
  std::string ip;                     ///< socket address without port ("" for pipes)
  std::uint32_t port = 0;
  std::string health = "UNKNOWN"; ///< HealthStatus name
  std::uint32_t weight = 0;       ///< load_balancing_weight (0 when unset)
  std::string workload;           ///< metadata filter_metadata.istio.workload, if any
  std::size_t raw_index = 0;      ///< position in its locality group's lb_endpoints
};

struct LocalityGroup {
  Locality locality;
  std::uint32_t priority = 0;
  std::uint32_t weight = 0; ///< locality load_balancing_weight
  std::vector<LbEndpointInfo> endpoints;
};

struct ClusterLoadAssignmentInfo {
  std::string cluster_name;
  std::vector<LocalityGroup> groups;
  bool dynamic = true;
  std::string raw;
};

/// EDS endpoint configs of a config_dump?include_eds=true: dynamic then static, as istioctl.
Result<std::vector<ClusterLoadAssignmentInfo>>
read_endpoint_configs(const DumpBytes& dump, const ReadOptions& options = {});

/// One host of /clusters?format=json.
struct HostStatusInfo {
  std::string address; ///< IP, or "unix://" + pipe path
  std::uint32_t port = 0;
  std::string health = "UNKNOWN"; ///< health_status.eds_health_status
  bool failed_outlier_check = false;
  std::uint32_t priority = 0; ///< omitted by Envoy when 0
  std::uint32_t weight = 0;
  Locality locality;
  std::string hostname;
};

struct ClusterStatusInfo {
  std::string name;
  std::vector<HostStatusInfo> hosts;
  std::string raw;
};

/// The cluster_statuses of /clusters?format=json.
Result<std::vector<ClusterStatusInfo>> read_cluster_statuses(const DumpBytes& dump,
                                                             const ReadOptions& options = {});

/// Name of HealthStatus enum value `v` (UNKNOWN, HEALTHY, UNHEALTHY, DRAINING, TIMEOUT, DEGRADED).
std::string health_status_name(std::uint64_t v);

/// Istio's model.ParseSubsetKey on names with more than three '|' (else the name is the host):
/// "outbound|80|v1|reviews.default.svc.cluster.local" -> {outbound, v1, reviews..., 80}.
struct SubsetKey {
  std::string direction;
  std::string subset;
  std::string host;
  int port = 0;
};
SubsetKey safely_parse_subset_key(std::string_view name);

} // namespace meshctl::envoy

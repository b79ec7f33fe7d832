#pragma once
// istioctl's proxy-config summaries, byte for byte: the same rows, order, filters and Go tabwriter
// alignment as istioctl's writer/envoy/{configdump,clusters} (FACTS §6), plus meshctl's -o wide
// columns. Each table ends with a newline, as istioctl's output does.

#include "envoy/config_dump.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace meshctl::envoy {

/// Receives a table in chunks, so a 90,000-row table is written out without being held twice.
using TableSink = std::function<void(std::string_view)>;

struct SummaryOptions {
  bool verbose = true;     ///< listeners: MATCH/DESTINATION rows (istioctl --verbose, the default)
  bool wide = false;       ///< endpoints/eds: add LOCALITY and PRIORITY (meshctl only)
  bool with_names = false; ///< prefix a NAME column ("listener/x"), as `istioctl pc all` does
};

/// `istioctl proxy-config listener`: ADDRESSES PORT MATCH DESTINATION (or TYPE when !verbose).
/// Only active and static listeners are shown; rows are sorted by port, address, type, and each
/// listener's chains by DESTINATION, descending.
void listener_summary(const std::vector<ListenerInfo>& listeners, const SummaryOptions& options,
                      const TableSink& sink);
std::string listener_summary(const std::vector<ListenerInfo>& listeners,
                             const SummaryOptions& options = {});

/// istioctl's cluster filters (--fqdn, --port, --subset, --direction): substring matches on the
/// cluster name, as istioctl does.
struct ClusterFilter {
  std::string fqdn;
  int port = 0;
  std::string subset;
  std::string direction;
};
bool cluster_matches(const ClusterInfo& c, const ClusterFilter& f);
/// Active and static clusters passing `f`, in istioctl's order (host, subset, port, direction).
std::vector<ClusterInfo> select_clusters(std::vector<ClusterInfo> clusters, const ClusterFilter& f);
/// `istioctl proxy-config clusters`: SERVICE FQDN PORT SUBSET DIRECTION TYPE DESTINATION RULE.
void cluster_summary(const std::vector<ClusterInfo>& selected, const SummaryOptions& options,
                     const TableSink& sink);
std::string cluster_summary(const std::vector<ClusterInfo>& selected,
                            const SummaryOptions& options = {});

/// istioctl's endpoint filters (--address, --port, --cluster, --status; case-insensitive).
struct EndpointFilter {
  std::string address;
  std::uint32_t port = 0;
  std::string cluster;
  std::string status;
};

/// The EDS configs `istioctl proxy-config eds` prints: endpoints failing `f` removed, configs left
/// without endpoints dropped, sorted by host, subset, port and direction of the cluster name.
std::vector<ClusterLoadAssignmentInfo>
select_endpoint_configs(std::vector<ClusterLoadAssignmentInfo> configs, const EndpointFilter& f);
/// `istioctl proxy-config eds`: NAME STATUS LOCALITY CLUSTER (wide: + PRIORITY before CLUSTER).
void eds_summary(const std::vector<ClusterLoadAssignmentInfo>& selected,
                 const SummaryOptions& options, const TableSink& sink);
std::string eds_summary(const std::vector<ClusterLoadAssignmentInfo>& selected,
                        const SummaryOptions& options = {});

/// Clusters of /clusters?format=json with at least one host passing `f` (what -o json prints).
std::vector<ClusterStatusInfo> select_cluster_statuses(const std::vector<ClusterStatusInfo>& all,
                                                       const EndpointFilter& f);
/// `istioctl proxy-config endpoints`: ENDPOINT STATUS OUTLIER CHECK CLUSTER, one row per host
/// passing `f`, sorted by address, port, cluster (wide: + LOCALITY PRIORITY before CLUSTER).
void endpoints_summary(const std::vector<ClusterStatusInfo>& clusters, const EndpointFilter& f,
                       const SummaryOptions& options, const TableSink& sink);
std::string endpoints_summary(const std::vector<ClusterStatusInfo>& clusters,
                              const EndpointFilter& f, const SummaryOptions& options = {});

} // namespace meshctl::envoy

#pragma once
// What the areas of verify's checks (checks_<area>.cpp) share: how a finding is made, the kubectl
// and meshctl commands hints name, which clusters and facts a check may look at, and the expose
// Gateways that both the gateway and the SNI checks judge. Internal to lib/check: the public
// surface and the index of finding ids is checks.hpp.

#include "check/checks.hpp"
#include "check/facts.hpp"
#include "check/finding.hpp"
#include "check/views.hpp"

#include <string>
#include <vector>

namespace meshctl::check {

/// Something verified and fine (no hint).
Finding info(FindingId id, std::string cluster, std::string message);
/// Works, but not as the user probably wants, or could not be verified; `hint` says what to do.
Finding warning(FindingId id, std::string cluster, std::string message, std::string hint);
/// Broken; `hint` says what to run or change.
Finding error(FindingId id, std::string cluster, std::string message, std::string hint);

/// "kubectl --context <context>" (the cluster's name when it has no context), for hints.
std::string kubectl(const ClusterFacts& c);
/// The name of the istiod Deployment checked in `c` (istiod, istiod-1-24), for hints; "istiod"
/// when none was found.
std::string istiod_deployment(const ClusterFacts& c);
/// Whether checks look at the cluster: an unreachable one has only its reachability finding.
bool usable(const ClusterFacts& c);
/// Whether the fact was read: one that was not must not be reported absent.
bool readable(const ClusterFacts& c, const std::string& fact);
/// ": <why>" when reading `fact` failed, else " (<otherwise>)": the tail of an "unavailable"
/// finding's message.
std::string read_failure(const ClusterFacts& c, const std::string& fact,
                         const std::string& otherwise);
/// Every cluster of the mesh, checked or not, separated by spaces (hints such as "meshctl join …"
/// name them all).
std::string all_clusters(const MeshFacts& facts);
/// "SERVICE.NAMESPACE", as meshctl's verbs take the service.
std::string service_arg(const MeshFacts& facts);
/// How many of the pods are Ready.
int ready_pods(const std::vector<nlohmann::json>& pods);
/// "address:port (source), …".
std::string address_list(const std::vector<GatewayAddress>& addresses);

/// The Istio Gateways that expose services through the east-west gateway of a cluster.
struct Exposure {
  std::vector<std::string> gateways; ///< Gateway objects with AUTO_PASSTHROUGH on 15443
  std::vector<std::string> hosts;    ///< every host they list
  bool covered = false;              ///< one of the hosts covers the service's host
};
/// The Gateways of `c` that select its east-west gateway pods with a TLS AUTO_PASSTHROUGH server
/// on 15443, and whether their hosts ("[ns/]host", wildcards) cover the service's host.
Exposure exposure(const MeshFacts& facts, const ClusterFacts& c);

} // namespace meshctl::check

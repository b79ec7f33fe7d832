#pragma once
// Gathers verify's Facts snapshot from live clusters: every cluster in parallel (for_each_cluster),
// and inside a cluster the independent reads in parallel too, in three waves (what the later reads
// depend on: the objects, then pods/clusterz/tokens, then Envoy dumps). It only reads: the one
// question about writing (may the remote token create Secrets?) is a SelfSubjectAccessReview.

#include "check/facts.hpp"
#include "core/options.hpp"
#include "kube/client.hpp"
#include "mesh/session.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace meshctl::check {

struct CollectOptions {
  /// The service verify checks; left empty with `mesh_only`.
  mesh::ServiceName service;
  /// Read only what is about the mesh, not a service (`meshctl status`): no Service, workloads,
  /// DestinationRules, istio-ca-root-cert or Envoy dumps; the facts' service stays "".
  bool mesh_only = false;
  std::string from; ///< --from POD[.NAMESPACE]; "" = pick a client pod in each cluster
  std::chrono::milliseconds exec_timeout{60000};
  /// Bound on each check of a remote secret's token (per request, retries included).
  std::chrono::milliseconds timeout{30000};
  /// Connect timeout when trying a remote secret's own server URL before falling back to the
  /// kubeconfig's address of that cluster.
  std::chrono::milliseconds direct_connect_timeout{3000};
  /// Called once before any cluster is read, with the facts known then: the service, the time,
  /// and each checked cluster by name alone (verify prints its header from them at once).
  std::function<void(const MeshFacts&)> on_start;
};

/// Reads the facts of every cluster of the session (clients: one per cluster, same order). Never
/// fails as a whole: what could not be read is recorded in the facts, per cluster.
MeshFacts collect_facts(const mesh::Session& session,
                        std::vector<std::unique_ptr<kube::Client>>& clients,
                        const CollectOptions& options);

/// istiod's identity from its Deployment (CLUSTER_ID, the discovery image's tag as its version),
/// the injector's `values` JSON and the mesh config YAML (trustDomain, trustDomainAliases,
/// defaultConfig.meshId, with istiod's defaults), as istiod and its injector read them (pure;
/// exposed for tests).
void fill_istiod_identity(IstiodFacts& istiod, const std::string& injector_values,
                          const std::string& mesh_config);

/// Whether a DestinationRule's spec.host (in namespace `rule_namespace`) selects `host`.
bool destination_rule_selects(const std::string& rule_host, const std::string& rule_namespace,
                              const std::string& host);

/// The client pod verify reads endpoints from when --from does not name one: a running, ready pod
/// with istio-proxy in the service's namespace, preferring pods that are not the service's own
/// (e.g. sleep), then by name. nullptr when there is none.
const nlohmann::json* pick_client(const std::vector<nlohmann::json>& pods,
                                  const nlohmann::json& service);

} // namespace meshctl::check

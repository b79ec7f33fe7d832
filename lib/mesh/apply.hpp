#pragma once
// apply(plan, client): the only code that changes a cluster.
//
// For one cluster: read the live counterpart of every desired object (in parallel), plan each one
// (mesh/plan.hpp, honouring its Ownership), then write what changed with server-side apply in
// dependency waves — Namespaces first, ServiceAccount token Secrets last (the token controller
// deletes a token Secret whose ServiceAccount does not exist yet), everything else in between and
// in parallel. Unchanged objects are never written.

#include "core/error.hpp"
#include "kube/client.hpp"
#include "mesh/desired.hpp"
#include "mesh/join.hpp"
#include "mesh/plan.hpp"

#include <string>
#include <vector>

namespace meshctl::mesh {

/// One cluster's plan (and, after apply, its outcome).
struct ClusterPlan {
  std::string cluster;
  std::vector<Change> changes; ///< in the order of the desired objects
};

/// GETs the live state of every desired object in parallel and plans each one. Kinds the cluster
/// does not serve are errors (Istio kinds say "Istio is not installed in <cluster>").
Result<ClusterPlan> plan_cluster(kube::Client& client, const ClusterObjects& desired);

/// Writes the plan's creates and updates (server-side apply, fieldManager meshctl) in waves; with
/// `server_dry_run` every write carries dryRun=All. Placeholders never reach a cluster.
Result<void> apply_plan(kube::Client& client, ClusterPlan& plan, bool server_dry_run);

/// A one-line-per-object rendering of a plan, for -v and --dry-run=client:
/// "  create  Secret istio-system/cacerts" plus indented diff lines for updates when `diffs`.
std::string describe_plan(const ClusterPlan& plan, bool diffs);

} // namespace meshctl::mesh

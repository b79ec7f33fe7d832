#pragma once
// unjoin: undo what join, expose, localize and sync-svc made — and nothing else.
//
// `meshctl unjoin A B` removes the link between A and B: the remote Secret of B in A and of A in B
// (istiod stops watching the other API server at once), and each cluster's reader token Secret
// when no remote Secret that stays — in a cluster outside the unjoined set, or one meshctl did not
// make — still refers to it (deleting the token Secret revokes the token). The reader
// ServiceAccount and RBAC are left: Istio's own install creates them too, so they carry no meshctl
// label (render/manifests.hpp).
// `--all` also removes, in each named cluster, what the other verbs made: the east-west gateway
// (ServiceAccount, Role, RoleBinding, Deployment, Service), the cross-network-gateway Gateway,
// DestinationRules and the Service copies of sync-svc. `--purge-ca` also removes cacerts.
//
// Only objects carrying app.kubernetes.io/managed-by: meshctl are deleted; one without it is
// reported as left alone. Each delete carries the uid and resourceVersion it was planned on as
// preconditions, so an object replaced in the meantime is never deleted. A second run finds
// nothing to do. Planning is pure (plan_unjoin) over what was read.

#include "core/error.hpp"
#include "core/options.hpp"
#include "kube/client.hpp"
#include "mesh/join.hpp"
#include "mesh/session.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace meshctl::mesh {

struct UnjoinOptions {
  bool all = false;      ///< also gateway, expose Gateway, DestinationRules, synced Services
  bool purge_ca = false; ///< also cacerts
  DryRun dry_run = DryRun::k_none; ///< client: plan only; server: deletes with dryRun=All
};

/// An object unjoin found in a cluster.
struct FoundObject {
  kube::ResourceRef ref; ///< with namespace and name
  std::string kind;      ///< "Secret", "Deployment", …
  std::string uid;
  std::string resource_version;
  bool managed = false; ///< carries app.kubernetes.io/managed-by: meshctl
  std::string role;     ///< why unjoin looked at it: "remote secret of wuxi", "reader token", …
};

/// Reads the identity and labels unjoin needs from a live object.
FoundObject found_object(const kube::ResourceRef& ref, const nlohmann::json& live,
                         std::string role);

/// What was read from one named cluster.
struct UnjoinCluster {
  std::string cluster;
  std::map<std::string, FoundObject> remote_secrets; ///< by the source cluster they name
  std::optional<FoundObject> reader_token;
  std::optional<FoundObject> cacerts;
  std::vector<FoundObject> extras; ///< --all: gateway, expose Gateway, DestinationRules, copies
};

/// Everything plan_unjoin needs.
struct UnjoinInputs {
  std::vector<UnjoinCluster> clusters; ///< the named clusters, in order
  /// For each named cluster: the clusters outside the named set that still hold its remote
  /// Secret (they keep using its reader token).
  std::map<std::string, std::set<std::string>> reader_users;
  /// Clusters outside the named set that could not be asked (their use of a reader is unknown).
  std::vector<std::string> unknown;
  UnjoinOptions options;
};

/// One object's fate.
struct UnjoinStep {
  std::string cluster;
  FoundObject object;
  bool remove = false; ///< false: left alone (see reason)
  std::string reason;
};

struct UnjoinPlan {
  std::vector<UnjoinStep> steps; ///< per cluster: remote secrets, extras, cacerts, reader token
  std::vector<std::string> notes;
};

/// Decides what to delete (file comment). Pure.
UnjoinPlan plan_unjoin(const UnjoinInputs& inputs);

/// What a live unjoin did.
struct UnjoinReport {
  std::vector<std::string> clusters; ///< the clusters named, in order (each gets an entry in JSON)
  UnjoinPlan plan;
  DryRun dry_run = DryRun::k_none;
  /// Deletes that failed, every cluster's; an object replaced or changed since it was read
  /// (its delete preconditions failed) is among them, and its step is "kept" with that reason.
  std::vector<Error> errors;
  /// A named cluster could not be read (its error is in `errors`): nothing was planned or deleted.
  bool read_failed = false;
};

/// Reads every named cluster (and asks the config's other clusters whether they use the named
/// ones' readers), plans, and unless a client dry run, deletes. `named` are the clusters to
/// unjoin, in order; `session` must hold them with connected `clients` (same order).
Result<UnjoinReport> unjoin_live(const Session& session, const GlobalOptions& global,
                                 std::vector<std::unique_ptr<kube::Client>>& clients,
                                 const UnjoinOptions& options);

/// One line per cluster ("wuxi: 2 deleted, 1 left alone"), each object below it (the plan's
/// notes are not in it: cmd prints them on stderr).
std::string format_unjoin_report(const UnjoinReport& report);

/// -o json / yaml: {apiVersion: meshctl.dev/v1alpha1, kind: UnjoinResult, dryRun, clusters:
/// [{name, deleted, kept, objects, errors}] (every cluster named), notes: […]}.
nlohmann::json unjoin_report_json(const UnjoinReport& report);

} // namespace meshctl::mesh

#pragma once
// The live join: preconditions everywhere, then per cluster in parallel the base objects, then the
// reader tokens, then the remote Secrets in every direction. See join.hpp for the rendering.

#include "core/error.hpp"
#include "core/options.hpp"
#include "kube/client.hpp"
#include "mesh/apply.hpp"
#include "mesh/join.hpp"
#include "mesh/session.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace meshctl::mesh {

/// One kube::Client per selected cluster, in the session's order (credentials from the
/// kubeconfig; timeouts from the global --timeout). With `max_in_flight` > 0 each client gets an
/// adaptive limiter of that many requests in flight (kube/limiter.hpp).
Result<std::vector<std::unique_ptr<kube::Client>>>
connect_all(const Session& session, const GlobalOptions& global, int max_in_flight = 0);

/// A client for one cluster (its context resolved in `kubeconfig`, messages naming the cluster)
/// with client_options(global). Errors name the cluster.
Result<std::unique_ptr<kube::Client>> connect_cluster(const config::Kubeconfig& kubeconfig,
                                                      const config::ClusterConfig& cluster,
                                                      const GlobalOptions& global,
                                                      int max_in_flight = 0);

/// The client options every verb uses: --timeout per request, connect timeout capped at 10 s,
/// and a limiter of `max_in_flight` requests when positive.
kube::ClientOptions client_options(const GlobalOptions& global, int max_in_flight = 0);

/// istiod rolled (or, in a dry run, to be rolled) in one cluster, and why.
struct IstiodRestart {
  std::string cluster;
  std::string deployment; ///< in istio-system
  std::string why;
  bool done = false; ///< false in a dry run
};

/// What a live join (or its client/server dry run) did.
struct JoinReport {
  std::vector<ClusterPlan> plans; ///< per cluster: base objects then remote secrets
  std::vector<std::string> notes; ///< what the user must know or do next
  std::vector<IstiodRestart> istiod_restarts;
  std::vector<Error> precondition_errors; ///< non-empty: nothing was written
  /// Failures after writing began, one or more per cluster; `plans` then say what was written
  /// (Change::written) before them.
  std::vector<Error> errors;
  /// Clusters whose installed east-west gateway is used (no gateway of meshctl's own): cluster ->
  /// "namespace/name" of its Service.
  std::map<std::string, std::string> existing_gateways;
};

/// Runs join against live clusters. Preconditions failing anywhere stop it before any write
/// (they come back in the report, not as an error); a cluster failing later does not stop the
/// others' current phase, and every cluster's failure comes back in `errors` with what was
/// written so far. Errors before any cluster is contacted (config, PKI) are errors.
Result<JoinReport> join_live(const Session& session, const JoinOptions& options,
                             std::vector<std::unique_ptr<kube::Client>>& clients,
                             const GlobalOptions& global);

/// What a join that failed after it began writing did write, per cluster: "wuxi: 3 created, 1
/// updated before the failure" and one line per stored object.
std::string format_partial_report(const JoinReport& report);

/// The networking.istio.io version of every cluster (kube/istio_api.hpp), chosen from each
/// cluster's discovery, all clusters at once. Clusters without a usable version are in `errors`,
/// each naming its cluster and what it serves; nothing is written either way.
struct IstioApiChoice {
  IstioApis apis;
  std::vector<Error> errors;
};
IstioApiChoice choose_istio_apis(const Session& session,
                                 std::vector<std::unique_ptr<kube::Client>>& clients);

/// Plans (and unless dry_run is client, applies) one set of objects per cluster, clusters in
/// parallel; `objects` is in the session's cluster order, like `clients`. Every cluster's plan
/// (with what was written) and every cluster's failure come back in the report.
JoinReport apply_everywhere(std::vector<std::unique_ptr<kube::Client>>& clients,
                            const std::vector<ClusterObjects>& objects, DryRun dry_run);

/// Human summary: one line per cluster, per-object lines with -v (diffs with -vv), istiod restarts
/// (report.notes are not in it: cmd prints them on stderr).
std::string format_join_report(const JoinReport& report, int verbosity,
                               DryRun dry_run = DryRun::k_none);

/// -o json / -o yaml form (core/envelope.hpp): {apiVersion, kind: <kind>, dryRun, clusters:
/// [{name, created, updated, unchanged, objects, existingGateway?, errors}], notes}, and for join
/// istiodRestarts; kind is JoinResult for join, ApplyResult for expose and localize. Each error of
/// `report.errors` goes into its cluster's entry.
nlohmann::json join_report_json(const JoinReport& report, DryRun dry_run,
                                const std::string& kind = "JoinResult");

/// Polls the reader token Secret of `cluster` until the token controller has filled token and
/// ca.crt; returns {token, ca.crt PEM}. Gives up after `timeout` with a clear error.
Result<std::pair<std::string, std::string>>
wait_for_reader_token(kube::Client& client, const std::string& cluster,
                      std::chrono::milliseconds timeout);

} // namespace meshctl::mesh

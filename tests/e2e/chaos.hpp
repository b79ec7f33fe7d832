#pragma once
// Fault runs: meshctl's writing verbs against two kubesims that fail on purpose, then the checks
// that matter after any failure — nothing half-written, a clear word per cluster, and a re-run
// without faults that converges and then writes nothing. Shared by the e2e test (a few runs) and
// tests/bench/chaos_bench.cpp (scripts/chaos: many runs, the figures in README "Reliability").
//
// A fault run, from a mesh with nothing of meshctl's in it:
//   1. faults on (both clusters, or one API server killed part-way): join, expose --all,
//      localize, sync-svc, unjoin --all --purge-ca — each must finish (exit 0) or fail clearly
//      (exit 1 or 3, at most one "error: <cluster>: …" line per cluster, no crash), and after each
//      the invariant checker must find nothing half-written;
//   2. faults off (a killed API server is started again, empty): join, expose, localize, sync-svc
//      must all finish; the same again must write nothing ("0 created, 0 updated");
//   3. unjoin --all --purge-ca, so the next run starts from the same place.

#include "clusters.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace meshctl::e2e {

/// What is wrong with what meshctl wrote, as one line per problem (empty: nothing half-written):
/// every remote secret holds a parseable kubeconfig with a server, a CA and a token; cacerts has
/// its four keys, the intermediate chains to the root, the key matches it and cert-chain.pem is
/// ca-cert + root-cert; every cluster's root is the same (and the local PKI's); every Gateway and
/// DestinationRule meshctl made has its hosts; every synced Service has ports and its source hash.
/// Clusters in `skip` (a killed API server) are not read.
std::vector<std::string> check_invariants(TestClusters& clusters,
                                          const std::vector<std::string>& skip = {});

/// Whether a failed meshctl run failed clearly: exit 1 or 3, no crash or internal error, at least
/// one error line naming a cluster and at most one per cluster. `why` says what was unclear.
bool failed_clearly(const meshctl::testing::RunResult& r, const std::vector<std::string>& clusters,
                    std::string& why);

struct FaultRunOptions {
  /// Faults on every API request: 6% each of 429, 500, 503, connection resets and slow answers.
  nlohmann::json faults = {{"errorRate", {{"429", 0.06}, {"500", 0.06}, {"503", 0.06}}},
                           {"resetRate", 0.06},
                           {"slowRate", 0.06},
                           {"slowMs", 1500},
                           {"retryAfterSeconds", 1}};
  /// Instead of faults: kill this cluster's API server `kill_after_ms` into the faulted join.
  std::string kill;
  int kill_after_ms = 400;
  std::string timeout = "10s"; ///< meshctl --timeout during the run
};

/// One verb of the faulted phase.
struct VerbOutcome {
  std::string verb;
  int exit_code = 0;
  bool clear = true; ///< finished, or failed clearly
  std::string why;   ///< what was unclear, or the error lines
};

struct FaultRunResult {
  std::vector<VerbOutcome> verbs;
  std::vector<std::string> half_written; ///< invariant violations seen after any step
  bool converged = false;                ///< the fault-free re-run finished everywhere
  bool write_free = false;               ///< its repeat wrote nothing
  std::string problem;                   ///< why it did not converge / was not write-free

  /// Every verb of the faulted phase finished.
  [[nodiscard]] bool completed() const;
  /// Some verb failed, and every failure was clear.
  [[nodiscard]] bool failed_clearly() const;
};

/// Prepares `clusters` for fault runs (a Service for sync-svc to copy).
void prepare_fault_runs(TestClusters& clusters);

/// One fault run (file comment).
FaultRunResult fault_run(TestClusters& clusters, const FaultRunOptions& options);

} // namespace meshctl::e2e

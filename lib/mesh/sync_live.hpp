#pragma once
// sync-svc against live clusters: read (paged lists, streamed into small records), plan
// (mesh/sync.hpp), write (namespaces first, then copies and prunes, many at a time per cluster,
// bounded by the client's adaptive limiter), and --watch, which keeps doing it from watch streams.

#include "core/error.hpp"
#include "core/options.hpp"
#include "kube/client.hpp"
#include "mesh/join.hpp"
#include "mesh/session.hpp"
#include "mesh/sync.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace meshctl::mesh {

/// sync-svc's flags, as plain data.
struct SyncOptions {
  SyncScope scope;
  std::string selector;          ///< label selector on source Services
  std::vector<std::string> from; ///< source clusters (empty = every cluster of the session)
  std::vector<std::string> to;   ///< target clusters (empty = every cluster of the session)
  bool prune = true;
  bool create_namespaces = true;
  DryRun dry_run = DryRun::k_none; ///< client: plan only; server: writes with dryRun=All
};

/// Sources and targets (in the session's order unless --from/--to order them) and the selector.
/// Names that are not clusters of the session are usage errors with a suggestion.
Result<SyncSettings> make_sync_settings(const Session& session, const SyncOptions& options);

/// Reads what sync needs of one cluster: its namespaces and its in-scope Services, list page by
/// list page (a page's objects are dropped once turned into records).
Result<ClusterState> read_cluster(kube::Client& client, const std::string& cluster,
                                  const SyncScope& scope);

/// The outcome of a write that failed.
struct SyncFailure {
  std::string cluster;
  std::string what;       ///< "create Service dev/web", "create namespace dev"
  std::string namespace_; ///< of the Service ("" for a namespace)
  std::string name;       ///< of the Service ("" for a namespace)
  Error error;
};

/// What a run did.
struct SyncReport {
  SyncSettings settings;
  SyncPlan plan;
  DryRun dry_run = DryRun::k_none;
  std::vector<SyncFailure> failures;
  int throttled = 0; ///< times a cluster's limiter was cut after 429 answers
  /// Clusters that could not be read, one error each ("wuxi: …"): then nothing was planned or
  /// written.
  std::vector<Error> read_errors;
};

/// Writes a plan through `clients` (by cluster name): per target cluster in parallel, its
/// namespaces first, then its copies (server-side apply, force: meshctl owns them) and prunes
/// (DELETE with uid and resourceVersion preconditions, so a Service replaced meanwhile is never
/// deleted). Failures are collected, not fatal. `on_done` (optional) sees every change that was
/// written and the API server's answer (null for a delete), for watch mode's bookkeeping.
std::vector<SyncFailure>
apply_sync(const std::map<std::string, kube::Client*>& clients, const SyncPlan& plan,
           bool server_dry_run,
           const std::function<void(const SyncChange&, const nlohmann::json&)>& on_done = {});

/// One run: read every source and target in parallel, plan, and unless a client dry run, write.
Result<SyncReport> sync_once(const Session& session, const SyncOptions& options,
                             std::vector<std::unique_ptr<kube::Client>>& clients);

/// Table output: one row per source → target pair, then namespaces created, conflicts with their
/// differences, skipped names and failures; each change (-v, or always in a dry run) listed.
std::string format_sync_report(const SyncReport& report, int verbosity);
/// What the user should know besides the table (skipped namespaces, throttling); cmd prints each
/// on stderr as "note: …".
std::vector<std::string> sync_notes(const SyncReport& report);

/// -o json / yaml: {apiVersion: meshctl.dev/v1alpha1, kind: SyncResult, dryRun, clusters: [{name,
/// created, updated, unchanged, pruned, present, conflicts, skipped (what it got as a target),
/// namespaces: [created], errors: [{message, hint, what}]}], pairs: [the same counts per source →
/// target], changes: [every change but the unchanged]}.
nlohmann::json sync_report_json(const SyncReport& report);
/// One change as it appears in the report's changes and in --watch -o json lines.
nlohmann::json sync_change_json(const SyncChange& change);

/// --watch: one full run, then follow every cluster's Services (and targets' namespaces) through
/// watch streams and re-plan just the names that changed, applying each change within about a
/// second. `report_run` sees the first run's report; `on_change` each write afterwards (and each
/// new conflict). Returns when `stop` becomes true (SIGTERM), or with an error when a cluster
/// cannot be listed at the start.
Result<void> sync_watch(const Session& session, const SyncOptions& options,
                        std::vector<std::unique_ptr<kube::Client>>& clients,
                        const std::atomic<bool>& stop,
                        const std::function<void(const SyncReport&)>& report_run,
                        const std::function<void(const SyncChange&)>& on_change);

/// The one-line, human form of a change for watch mode's log:
/// "created Service dev/web in wuxi (from cn-shanghai)".
std::string describe_sync_change(const SyncChange& change);

} // namespace meshctl::mesh

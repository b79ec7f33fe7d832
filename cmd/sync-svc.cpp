// meshctl sync-svc: CLI wiring. The work is in lib/mesh/sync*.

#include "common.hpp"
#include "core/envelope.hpp"
#include "core/shown.hpp"
#include "core/strings.hpp"
#include "core/try.hpp"
#include "mesh/join.hpp"
#include "mesh/join_live.hpp"
#include "mesh/session.hpp"
#include "mesh/sync_live.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <cstdio>

namespace meshctl::cmd {
namespace {

struct SyncFlags : ClusterFlags {
  std::vector<std::string> namespaces;
  bool all_namespaces = false;
  std::string selector;
  std::vector<std::string> exclude;
  std::vector<std::string> from;
  std::vector<std::string> to;
  bool no_prune = false;
  bool no_create_namespace = false;
  int concurrency = 32;
  bool watch = false;
};

// Set by SIGTERM/SIGINT in --watch mode; the watch loop ends when it sees it.
std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "used from a signal handler");

extern "C" void on_stop_signal(int) {
  g_stop = true;
}

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

std::string now_text() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr)));
}

void print_report(const Context& ctx, const mesh::SyncReport& report) {
  print_result(
      ctx, [&] { return mesh::sync_report_json(report); },
      [&] { return mesh::format_sync_report(report, ctx.global.verbosity); });
  print_notes(mesh::sync_notes(report));
  std::fflush(stdout);
}

Result<ExitCode> run_sync(const Context& ctx, const SyncFlags& f) {
  TRY(check_no_wide(ctx, "sync-svc",
                    "its table has every count already (-o json lists every change)"));
  TRY_ASSIGN(const auto dry, mesh::parse_dry_run(f.dry_run));
  if (dry == mesh::DryRun::k_offline) {
    return usage_error("sync-svc cannot plan offline: it needs the Services of the source clusters",
                       "use --dry-run (or --dry-run=client) to plan against the clusters, or "
                       "--dry-run=server to have the API servers validate the writes too");
  }
  if (f.watch && dry != mesh::DryRun::k_none) {
    // A dry run changes nothing, so every later event would plan (and report) the same writes.
    return usage_error("--watch writes as changes happen; it has no dry run",
                       "preview one pass with sync-svc --dry-run, then start --watch");
  }
  if (f.all_namespaces && !f.namespaces.empty()) {
    return usage_error("--namespace and --all-namespaces exclude each other",
                       "name namespaces with -n (repeatable), or use -A for all of them");
  }
  for (const auto* names : {&f.namespaces, &f.exclude}) {
    for (const auto& ns : *names) {
      if (!is_dns1123_label(ns)) {
        return usage_error(
            "namespace " + shown_quoted(ns) + " is not a valid namespace name",
            "namespace names are RFC 1123 labels: lower-case letters, digits and "
            "'-', at most 63 characters, starting and ending with a letter or digit");
      }
    }
  }
  if (f.concurrency < 1 || f.concurrency > 1024) {
    return usage_error("--concurrency must be between 1 and 1024");
  }
  mesh::SyncOptions options;
  options.scope.namespaces = f.namespaces;
  if (!f.exclude.empty()) {
    options.scope.excluded = f.exclude;
  }
  options.selector = f.selector;
  options.from = f.from;
  options.to = f.to;
  options.prune = !f.no_prune;
  options.create_namespaces = !f.no_create_namespace;
  options.dry_run = dry;

  TRY_ASSIGN(const auto session, mesh::open_session(ctx.global, f.contexts));
  if (session.clusters.size() < 2) {
    return usage_error("sync-svc needs at least two clusters, got " +
                           std::to_string(session.clusters.size()),
                       "list them in the meshctl config, or name them: --context cn-shanghai "
                       "--context wuxi");
  }
  TRY_ASSIGN(auto clients, mesh::connect_all(session, ctx.global, f.concurrency));

  if (f.watch) {
    install_stop_handlers();
    const bool json = ctx.global.output == OutputFormat::k_json;
    TRY(mesh::sync_watch(
        session, options, clients, g_stop,
        [&ctx, json](const mesh::SyncReport& report) {
          if (json) {
            std::printf("%s\n", mesh::sync_report_json(report)
                                    .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                                    .c_str());
          } else {
            print_report(ctx, report);
          }
          std::fflush(stdout);
        },
        [json](const mesh::SyncChange& c) {
          if (json) {
            // One envelope per line (JSON Lines), as the reports between them are.
            nlohmann::json line = envelope("SyncChange");
            line["time"] = now_text();
            line.update(mesh::sync_change_json(c));
            std::printf(
                "%s\n",
                line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
          } else {
            std::printf("%s %s\n", now_text().c_str(), mesh::describe_sync_change(c).c_str());
            for (const auto& d : c.details) {
              std::printf("    %s\n", d.c_str());
            }
          }
          std::fflush(stdout);
        }));
    std::fprintf(stderr, "sync-svc: stopped\n");
    return ExitCode::k_ok;
  }

  TRY_ASSIGN(const auto report, mesh::sync_once(session, options, clients));
  if (!report.read_errors.empty()) {
    return fail_all(report.read_errors, "nothing was written: sync-svc plans from every cluster",
                    "run meshctl sync-svc again once every cluster answers");
  }
  print_report(ctx, report);
  const int conflicts = mesh::count_conflicts(report.plan);
  if (!report.failures.empty()) {
    // One line per cluster: how many of its writes failed, and the first one's error.
    std::map<std::string, std::vector<const mesh::SyncFailure*>> by_cluster;
    for (const auto& failure : report.failures) {
      by_cluster[failure.cluster].push_back(&failure);
    }
    std::vector<Error> errors;
    for (const auto& [cluster, failed] : by_cluster) {
      Error e = failed.front()->error;
      errors.push_back(e.with_context(fmt::format("{} write(s) failed; the first", failed.size()))
                           .with_cluster(cluster));
    }
    return fail_all(errors, fmt::format("{} write(s) failed", report.failures.size()),
                    "the table above counts what was written; run meshctl sync-svc again");
  }
  if (conflicts > 0) {
    std::fprintf(stderr,
                 "error: %d conflict(s): a Service of the same name differs between clusters "
                 "(see above); meshctl left them alone\n"
                 "hint: make the Services agree on headless or not and on every port's number, "
                 "name and protocol: Istio merges Services of one name across clusters\n",
                 conflicts);
    return ExitCode::k_failed;
  }
  return ExitCode::k_ok;
}

} // namespace

void register_sync_svc(CLI::App& app, Context& ctx) {
  const auto [sub, f] = add_verb<SyncFlags>(
      app, "sync-svc", "Copy Services to every cluster so that their names resolve everywhere");
  add_context_option(sub, f->contexts,
                     "Cluster taking part (repeatable; default: every cluster of the config)");
  sub->add_option("-n,--namespace", f->namespaces, "Namespace to sync (repeatable)");
  sub->add_flag("-A,--all-namespaces", f->all_namespaces,
                "Sync every namespace but the excluded ones (the default)");
  sub->add_option("-l,--selector", f->selector,
                  "Only source Services with these labels (kubectl syntax: app=web,tier!=db)");
  sub->add_option("--exclude-namespace", f->exclude,
                  "Namespace to skip (repeatable); replaces the default list: kube-system, "
                  "kube-public, kube-node-lease, istio-system");
  sub->add_option("--from", f->from,
                  "Source cluster (repeatable, in priority order; default: all)");
  sub->add_option("--to", f->to, "Target cluster (repeatable; default: all)");
  add_dry_run_flag(sub, f->dry_run, "client",
                   "Print the plan and write nothing (client, the bare flag), or send the writes "
                   "with dryRun=All (server)");
  sub->add_flag("--no-prune", f->no_prune, "Keep copies whose source Service is gone");
  sub->add_flag("--no-create-namespace", f->no_create_namespace,
                "Skip Services whose namespace does not exist in the target");
  sub->add_option("--concurrency", f->concurrency,
                  "Requests in flight per cluster, at most (halved while the API server answers "
                  "429)")
      ->capture_default_str();
  sub->add_flag("--watch", f->watch,
                "Keep syncing from watch streams until SIGTERM/SIGINT (for a Deployment)");
  sub->footer("A copy keeps name, namespace, labels, ports, selector and the kind of Service, and "
              "carries\nmeshctl.dev/synced-from and app.kubernetes.io/managed-by: meshctl. A "
              "Service meshctl did\nnot create is never changed: it is 'present' when it agrees "
              "with the source (headless or\nnot; ports by number, name, protocol), a conflict "
              "(exit 1) otherwise.\n\nExamples:\n  meshctl sync-svc\n  meshctl sync-svc -n dev "
              "--from cn-shanghai --to wuxi --dry-run\n  meshctl sync-svc --watch");
  set_action(sub, ctx, f, run_sync);
}

} // namespace meshctl::cmd

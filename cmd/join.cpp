// meshctl join A B [C…]: CLI wiring. The work is in lib/mesh/join.*.

#include "mesh/join.hpp"

#include "common.hpp"
#include "core/try.hpp"
#include "mesh/expose.hpp"
#include "mesh/join_live.hpp"
#include "mesh/manifest_output.hpp"
#include "mesh/service_check.hpp"
#include "mesh/session.hpp"

#include <algorithm>
#include <cstdio>

namespace meshctl::cmd {

namespace {

struct JoinFlags : ClusterFlags {
  bool show_secrets = false;
  bool force_ca = false;
  bool restart_istiod = false;
  bool no_restart_istiod = false;
};

} // namespace

namespace {

// A join (or apply) that failed after it began writing: what each cluster got so far — stdout, as
// the report of a finished run is — then every cluster's error, and one summary error whose exit
// code is the gravest class among them (3 when a cluster could not be reached).
Result<ExitCode> print_failed_apply(const Context& ctx, const mesh::JoinReport& report,
                                    mesh::DryRun dry, const std::string& kind) {
  print_result(
      ctx, [&] { return mesh::join_report_json(report, dry, kind); },
      [&] { return mesh::format_partial_report(report); });
  return fail_all(report.errors,
                  std::to_string(report.errors.size()) +
                      " error(s); the objects listed above were written, nothing else",
                  "fix what the errors say (or wait for the API server), then run the same "
                  "command again: it writes only what is still missing");
}

// Every cluster's failed precondition, one line each; nothing was written.
tl::unexpected<Error> fail_preconditions(const std::vector<Error>& errors) {
  return fail_all(errors,
                  std::to_string(errors.size()) + " precondition(s) failed; nothing was written",
                  "fix the errors above and run the command again");
}

} // namespace

Result<ExitCode> print_apply_report(const Context& ctx, const mesh::JoinReport& report,
                                    mesh::DryRun dry, const std::string& kind) {
  if (!report.precondition_errors.empty()) {
    return fail_preconditions(report.precondition_errors);
  }
  if (!report.errors.empty()) {
    return print_failed_apply(ctx, report, dry, kind);
  }
  print_result(
      ctx, [&] { return mesh::join_report_json(report, dry, kind); },
      [&] {
        int verbosity = ctx.global.verbosity;
        if (dry == mesh::DryRun::k_client || dry == mesh::DryRun::k_server) {
          verbosity = std::max(verbosity, 2); // a dry run is read for its plan and diffs
        }
        return mesh::format_join_report(report, verbosity, dry);
      });
  print_notes(report.notes);
  return ExitCode::k_ok;
}

namespace {

// --output-dir is only for an offline --dry-run's manifests; anything else is refused before a
// cluster is contacted.
Result<void> check_output_dir(const Context& ctx, mesh::DryRun dry) {
  if (!ctx.output_dir.empty() && dry != mesh::DryRun::k_offline) {
    return usage_error(
        "--output-dir holds the manifests of an offline --dry-run",
        "add --dry-run (or --dry-run=offline), e.g. --dry-run -o yaml --output-dir " +
            ctx.output_dir);
  }
  return {};
}

// An offline --dry-run's manifests: on stdout, or with --output-dir one file per cluster there.
Result<ExitCode> print_manifests(const Context& ctx,
                                 const std::vector<mesh::ClusterObjects>& objects,
                                 bool show_secrets) {
  if (ctx.output_dir.empty()) {
    const std::string text = mesh::format_manifests(objects, ctx.global.output, show_secrets);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return ExitCode::k_ok;
  }
  TRY_ASSIGN(const auto files,
             mesh::write_manifests(objects, ctx.global.output, show_secrets, ctx.output_dir));
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::printf("%s: %zu objects written to %s%s\n", objects[i].cluster.c_str(),
                objects[i].objects.size(), files[i].c_str(),
                mesh::dry_run_suffix(mesh::DryRun::k_offline));
  }
  return ExitCode::k_ok;
}

} // namespace

Result<ExitCode> render_and_apply(const Context& ctx, const std::vector<std::string>& contexts,
                                  mesh::DryRun dry, const RenderFn& render, bool find_gateways,
                                  const std::vector<mesh::ServiceName>& must_exist) {
  TRY(check_output_dir(ctx, dry));
  if (dry == mesh::DryRun::k_offline) {
    TRY_ASSIGN(const auto session, mesh::open_session(ctx.global, contexts));
    std::map<std::string, mesh::GatewayChoice> gateways;
    if (find_gateways) {
      for (const auto& c : session.clusters) {
        gateways.emplace(c.name, mesh::offline_gateway(c));
      }
    }
    TRY_ASSIGN(const auto objects, render(session.clusters, mesh::IstioApis{}, gateways, nullptr));
    return print_manifests(ctx, objects, false);
  }
  TRY_ASSIGN(auto live, open_live(ctx, contexts, find_gateways));
  for (const auto& s : must_exist) {
    TRY(mesh::require_service(s, mesh::lookup_service(live.session, live.clients, s),
                              k_force_hint));
  }
  mesh::JoinReport report;
  for (const auto& [cluster, g] : live.gateways) {
    if (g.existing) {
      report.existing_gateways[cluster] = g.service();
    }
  }
  TRY_ASSIGN(const auto objects,
             render(live.session.clusters, live.apis, live.gateways, &live.clients));
  auto applied = mesh::apply_everywhere(live.clients, objects, dry);
  report.plans = std::move(applied.plans);
  report.errors = std::move(applied.errors);
  return print_apply_report(ctx, report, dry, "ApplyResult");
}

Result<LiveMesh> open_live(const Context& ctx, const std::vector<std::string>& contexts,
                           bool find_gateways) {
  LiveMesh live;
  TRY_ASSIGN(live.session, mesh::open_session(ctx.global, contexts));
  TRY_ASSIGN(live.clients, mesh::connect_all(live.session, ctx.global));
  auto choice = mesh::choose_istio_apis(live.session, live.clients);
  auto errors = std::move(choice.errors);
  live.apis = std::move(choice.apis);
  if (find_gateways && errors.empty()) {
    auto found = mesh::find_gateways(live.session, live.clients);
    live.gateways = std::move(found.gateways);
    errors = std::move(found.errors);
  }
  if (!errors.empty()) {
    return fail_preconditions(errors);
  }
  return live;
}

namespace {

Result<ExitCode> run_join(const Context& ctx, const JoinFlags& f) {
  TRY(check_no_wide(ctx, "join", k_apply_wide_why));
  TRY_ASSIGN(const auto dry, mesh::parse_dry_run(f.dry_run));
  if (f.restart_istiod && f.no_restart_istiod) {
    return usage_error("--restart-istiod and --no-restart-istiod contradict each other",
                       "leave both out: join restarts istiod where it serves another root than "
                       "cacerts");
  }
  TRY(check_output_dir(ctx, dry));
  TRY_ASSIGN(const auto session,
             mesh::open_session(ctx.global, named_clusters(f.positional, f.contexts)));
  if (session.clusters.size() < 2) {
    return usage_error("join needs at least two clusters, got " +
                           std::to_string(session.clusters.size()),
                       "name them: meshctl join cn-shanghai wuxi");
  }
  if (dry == mesh::DryRun::k_offline) {
    TRY_ASSIGN(const auto objects,
               mesh::render_join_offline(session.config, session.clusters, session.kubeconfig));
    return print_manifests(ctx, objects, f.show_secrets);
  }
  mesh::JoinOptions options;
  options.dry_run = dry;
  options.force_ca = f.force_ca;
  options.restart_istiod = f.restart_istiod      ? mesh::RestartIstiod::k_always
                           : f.no_restart_istiod ? mesh::RestartIstiod::k_never
                                                 : mesh::RestartIstiod::k_when_stale;
  TRY_ASSIGN(auto clients, mesh::connect_all(session, ctx.global));
  TRY_ASSIGN(const auto report, mesh::join_live(session, options, clients, ctx.global));
  return print_apply_report(ctx, report, dry, "JoinResult");
}

} // namespace

void register_join(CLI::App& app, Context& ctx) {
  const auto [sub, f] = add_verb<JoinFlags>(
      app, "join",
      "Make clusters one mesh: shared CA, network labels, east-west gateways, remote secrets");
  add_cluster_args(sub, *f, "join");
  add_dry_run_flag(sub, f->dry_run, "offline",
                   "Print what would be applied: offline (bare flag, contacts nothing), client "
                   "(plan against the clusters) or server (also validated by the API server)");
  add_output_dir_option(sub, ctx);
  sub->add_flag("--show-secrets", f->show_secrets, "Show Secret values in --dry-run output");
  sub->add_flag("--force-ca", f->force_ca,
                "Replace a cacerts Secret whose root differs from this mesh's root");
  sub->add_flag("--restart-istiod", f->restart_istiod,
                "Restart istiod even where it already serves the root of cacerts");
  sub->add_flag("--no-restart-istiod", f->no_restart_istiod,
                "Never restart istiod (by default join restarts it, rolling, where the root it "
                "serves is not the root of cacerts: istiod reads cacerts only at start)");
  sub->footer("Examples:\n  meshctl join cn-shanghai wuxi\n  meshctl join cn-shanghai wuxi "
              "--dry-run -o yaml > mesh.yaml\n  meshctl join cn-shanghai wuxi --dry-run -o yaml "
              "--output-dir ./mesh   # one file per cluster, for GitOps");
  set_action(sub, ctx, f, run_join);
}

} // namespace meshctl::cmd

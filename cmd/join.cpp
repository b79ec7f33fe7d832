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

Result<ExitCode> print_apply_report(const Context& ctx, const mesh::JoinReport& report,
                                    mesh::DryRun dry, const std::string& kind) {
  if (!report.precondition_errors.empty()) {
    ExitCode code = ExitCode::k_failed;
    for (const auto& e : report.precondition_errors) {
      print_error(e, "  ");
      if (e.code() == ExitCode::k_unreachable) {
        code = ExitCode::k_unreachable;
      }
    }
    return tl::make_unexpected(Error(code,
                                     std::to_string(report.precondition_errors.size()) +
                                         " precondition(s) failed; nothing was written",
                                     "fix the errors above and run the command again"));
  }
  print_result(
      ctx, [&] { return mesh::join_report_json(report, dry, kind); },
      [&] {
        int verbosity = ctx.global.verbosity;
        if (dry == mesh::DryRun::k_client || dry == mesh::DryRun::k_server) {
          verbosity = std::max(verbosity, 2); // a dry run is read for its plan and diffs
        }
        return mesh::format_join_report(report, verbosity);
      });
  return ExitCode::k_ok;
}

Result<ExitCode> render_and_apply(const Context& ctx, const std::vector<std::string>& contexts,
                                  mesh::DryRun dry, const RenderFn& render, bool find_gateways,
                                  const std::vector<mesh::ServiceName>& must_exist) {
  if (dry == mesh::DryRun::k_offline) {
    TRY_ASSIGN(const auto session, mesh::open_session(ctx.global, contexts));
    std::map<std::string, mesh::GatewayChoice> gateways;
    if (find_gateways) {
      for (const auto& c : session.clusters) {
        gateways.emplace(c.name, mesh::offline_gateway(c));
      }
    }
    TRY_ASSIGN(const auto objects, render(session.clusters, mesh::IstioApis{}, gateways, nullptr));
    const std::string text = mesh::format_manifests(objects, ctx.global.output, false);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return ExitCode::k_ok;
  }
  TRY_ASSIGN(auto live, open_live(ctx, contexts, false));
  for (const auto& s : must_exist) {
    TRY(mesh::require_service(s, mesh::lookup_service(live.session, live.clients, s),
                              k_force_hint));
  }
  mesh::JoinReport report;
  if (!live.api_errors.empty()) {
    report.precondition_errors = std::move(live.api_errors);
    return print_apply_report(ctx, report, dry, "ApplyResult");
  }
  if (find_gateways) {
    TRY_ASSIGN(live.gateways, mesh::find_gateways(live.session, live.clients));
    for (const auto& [cluster, g] : live.gateways) {
      if (g.existing) {
        report.existing_gateways[cluster] = g.service();
      }
    }
  }
  TRY_ASSIGN(const auto objects,
             render(live.session.clusters, live.apis, live.gateways, &live.clients));
  TRY_ASSIGN(auto plans, mesh::apply_everywhere(live.clients, objects, dry));
  report.plans = std::move(plans);
  return print_apply_report(ctx, report, dry, "ApplyResult");
}

Result<LiveMesh> open_live(const Context& ctx, const std::vector<std::string>& contexts,
                           bool find_gateways) {
  LiveMesh live;
  TRY_ASSIGN(live.session, mesh::open_session(ctx.global, contexts));
  TRY_ASSIGN(live.clients, mesh::connect_all(live.session, ctx.global));
  auto choice = mesh::choose_istio_apis(live.session, live.clients);
  live.apis = std::move(choice.apis);
  live.api_errors = std::move(choice.errors);
  if (find_gateways && live.api_errors.empty()) {
    TRY_ASSIGN(live.gateways, mesh::find_gateways(live.session, live.clients));
  }
  return live;
}

namespace {

Result<ExitCode> run_join(const Context& ctx, const JoinFlags& f) {
  TRY_ASSIGN(const auto dry, mesh::parse_dry_run(f.dry_run));
  if (f.restart_istiod && f.no_restart_istiod) {
    return usage_error("--restart-istiod and --no-restart-istiod contradict each other",
                       "leave both out: join restarts istiod where it serves another root than "
                       "cacerts");
  }
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
    const std::string text = mesh::format_manifests(objects, ctx.global.output, f.show_secrets);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return ExitCode::k_ok;
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
  sub->add_flag("--show-secrets", f->show_secrets, "Show Secret values in --dry-run output");
  sub->add_flag("--force-ca", f->force_ca,
                "Replace a cacerts Secret whose root differs from this mesh's root");
  sub->add_flag("--restart-istiod", f->restart_istiod,
                "Restart istiod even where it already serves the root of cacerts");
  sub->add_flag("--no-restart-istiod", f->no_restart_istiod,
                "Never restart istiod (by default join restarts it, rolling, where the root it "
                "serves is not the root of cacerts: istiod reads cacerts only at start)");
  sub->footer("Examples:\n  meshctl join cn-shanghai wuxi\n  meshctl join cn-shanghai wuxi "
              "--dry-run -o yaml > mesh.yaml");
  set_action(sub, ctx, f, run_join);
}

} // namespace meshctl::cmd

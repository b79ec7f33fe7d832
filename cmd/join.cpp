// meshctl join A B [C…]: CLI wiring. The work is in lib/mesh/join.*.

#include "mesh/join.hpp"

#include "context.hpp"
#include "core/redact.hpp"
#include "mesh/join_live.hpp"
#include "mesh/manifest_output.hpp"
#include "mesh/session.hpp"

#include <algorithm>
#include <cstdio>

namespace meshctl::cmd {

namespace {

struct JoinFlags {
  std::vector<std::string> positional;
  std::vector<std::string> contexts;
  std::string dry_run;
  bool show_secrets = false;
  bool force_ca = false;
  bool restart_istiod = false;
};

} // namespace

Result<ExitCode> print_apply_report(const Context& ctx, const mesh::JoinReport& report,
                                    mesh::DryRun dry, const std::string& kind) {
  if (!report.precondition_errors.empty()) {
    ExitCode code = ExitCode::k_failed;
    for (const auto& e : report.precondition_errors) {
      std::fprintf(stderr, "error: %s\n", redact(e.what()).c_str());
      if (!e.hint().empty()) {
        std::fprintf(stderr, "  hint: %s\n", redact(e.hint()).c_str());
      }
      if (e.code() == ExitCode::k_unreachable) {
        code = ExitCode::k_unreachable;
      }
    }
    return tl::make_unexpected(Error(code,
                                     std::to_string(report.precondition_errors.size()) +
                                         " precondition(s) failed; nothing was written",
                                     "fix the errors above and run join again"));
  }
  if (ctx.global.output == OutputFormat::k_json) {
    std::printf("%s\n", mesh::join_report_json(report, dry, kind).dump(2).c_str());
  } else if (ctx.global.output == OutputFormat::k_yaml) {
    std::printf("%s", to_yaml(mesh::join_report_json(report, dry, kind)).c_str());
  } else {
    int verbosity = ctx.global.verbosity;
    if (dry == mesh::DryRun::k_client || dry == mesh::DryRun::k_server) {
      verbosity = std::max(verbosity, 2); // a dry run is read for its plan and diffs
    }
    std::fputs(mesh::format_join_report(report, verbosity).c_str(), stdout);
  }
  return ExitCode::k_ok;
}

Result<ExitCode> print_or_apply(const Context& ctx, const mesh::Session& session,
                                const std::vector<mesh::ClusterObjects>& objects,
                                mesh::DryRun dry) {
  if (dry == mesh::DryRun::k_offline) {
    const std::string text = mesh::format_manifests(objects, ctx.global.output, false);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return ExitCode::k_ok;
  }
  auto clients = mesh::connect_all(session, ctx.global);
  if (!clients) {
    return tl::make_unexpected(clients.error());
  }
  auto plans = mesh::apply_everywhere(*clients, objects, dry);
  if (!plans) {
    return tl::make_unexpected(plans.error());
  }
  mesh::JoinReport report;
  report.plans = std::move(*plans);
  return print_apply_report(ctx, report, dry, "ApplyResult");
}

namespace {

Result<ExitCode> run_join(const Context& ctx, const JoinFlags& f) {
  auto dry = mesh::parse_dry_run(f.dry_run);
  if (!dry) {
    return tl::make_unexpected(dry.error());
  }
  std::vector<std::string> names = f.positional;
  names.insert(names.end(), f.contexts.begin(), f.contexts.end());
  auto session = mesh::open_session(ctx.global, names);
  if (!session) {
    return tl::make_unexpected(session.error());
  }
  if (session->clusters.size() < 2) {
    return usage_error("join needs at least two clusters, got " +
                           std::to_string(session->clusters.size()),
                       "name them: meshctl join cn-shanghai wuxi");
  }
  if (*dry == mesh::DryRun::k_offline) {
    auto objects =
        mesh::render_join_offline(session->config, session->clusters, session->kubeconfig);
    if (!objects) {
      return tl::make_unexpected(objects.error());
    }
    const std::string text = mesh::format_manifests(*objects, ctx.global.output, f.show_secrets);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return ExitCode::k_ok;
  }
  mesh::JoinOptions options;
  options.dry_run = *dry;
  options.force_ca = f.force_ca;
  options.restart_istiod = f.restart_istiod;
  auto clients = mesh::connect_all(*session, ctx.global);
  if (!clients) {
    return tl::make_unexpected(clients.error());
  }
  auto report = mesh::join_live(*session, options, *clients, ctx.global);
  if (!report) {
    return tl::make_unexpected(report.error());
  }
  return print_apply_report(ctx, *report, *dry, "JoinResult");
}

} // namespace

void register_join(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<JoinFlags>();
  auto* sub = app.add_subcommand(
      "join",
      "Make clusters one mesh: shared CA, network labels, east-west gateways, remote secrets");
  sub->add_option("clusters", f->positional, "Clusters (kubeconfig contexts) to join");
  sub->add_option("--context", f->contexts, "Cluster to join (repeatable; same as positional)");
  sub->add_flag("--dry-run{offline}", f->dry_run,
                "Print what would be applied: offline (bare flag, contacts nothing), client (plan "
                "against the clusters) or server (also validated by the API server)");
  sub->add_flag("--show-secrets", f->show_secrets, "Show Secret values in --dry-run output");
  sub->add_flag("--force-ca", f->force_ca,
                "Replace a cacerts Secret whose root differs from this mesh's root");
  sub->add_flag("--restart-istiod", f->restart_istiod,
                "Restart istiod after cacerts changed (it reads cacerts only at start)");
  sub->footer("Examples:\n  meshctl join cn-shanghai wuxi\n  meshctl join cn-shanghai wuxi "
              "--dry-run -o yaml > mesh.yaml");
  sub->callback([&ctx, f] { ctx.action = [&ctx, f] { return run_join(ctx, *f); }; });
}

} // namespace meshctl::cmd

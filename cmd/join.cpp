// meshctl join A B [C…]: CLI wiring. The work is in lib/mesh/join.*.

#include "context.hpp"

#include "mesh/join.hpp"
#include "mesh/manifest_output.hpp"
#include "mesh/session.hpp"

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
    auto objects = mesh::render_join_offline(session->config, session->clusters, session->kubeconfig);
    if (!objects) {
      return tl::make_unexpected(objects.error());
    }
    const std::string text = mesh::format_manifests(*objects, ctx.global.output, f.show_secrets);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return ExitCode::k_ok;
  }
  return not_implemented("join (live; use --dry-run)");
}

} // namespace

void register_join(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<JoinFlags>();
  auto* sub = app.add_subcommand(
      "join", "Make clusters one mesh: shared CA, network labels, east-west gateways, remote secrets");
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

// meshctl unjoin A B [C…]: CLI wiring. The work is in lib/mesh/unjoin.*.

#include "mesh/unjoin.hpp"

#include "context.hpp"
#include "mesh/join.hpp"
#include "mesh/join_live.hpp"
#include "mesh/session.hpp"

#include <cstdio>

namespace meshctl::cmd {
namespace {

struct UnjoinFlags {
  std::vector<std::string> positional;
  std::vector<std::string> contexts;
  bool all = false;
  bool purge_ca = false;
  std::string dry_run;
};

Result<ExitCode> run_unjoin(const Context& ctx, const UnjoinFlags& f) {
  auto dry = mesh::parse_dry_run(f.dry_run);
  if (!dry) {
    return tl::make_unexpected(dry.error());
  }
  if (*dry == mesh::DryRun::k_offline) {
    return usage_error("unjoin cannot plan offline: it deletes only what it finds in the clusters",
                       "use --dry-run (or --dry-run=client) to see what it would delete");
  }
  std::vector<std::string> names = f.positional;
  names.insert(names.end(), f.contexts.begin(), f.contexts.end());
  const std::size_t needed = f.all ? 1 : 2;
  if (names.size() < needed) {
    return usage_error(
        f.all ? "unjoin --all needs the clusters to clean up"
              : "unjoin needs at least two clusters: it removes the links between them",
        "for example: meshctl unjoin cn-shanghai wuxi (add --all to remove "
        "everything meshctl made there)");
  }
  auto session = mesh::open_session(ctx.global, names);
  if (!session) {
    return tl::make_unexpected(session.error());
  }
  auto clients = mesh::connect_all(*session, ctx.global);
  if (!clients) {
    return tl::make_unexpected(clients.error());
  }
  mesh::UnjoinOptions options;
  options.all = f.all;
  options.purge_ca = f.purge_ca;
  options.dry_run = *dry;
  auto report = mesh::unjoin_live(*session, ctx.global, *clients, options);
  if (!report) {
    return tl::make_unexpected(report.error());
  }
  if (ctx.global.output == OutputFormat::k_json) {
    std::printf("%s\n", mesh::unjoin_report_json(*report).dump(2).c_str());
  } else if (ctx.global.output == OutputFormat::k_yaml) {
    std::printf("%s", to_yaml(mesh::unjoin_report_json(*report)).c_str());
  } else {
    std::fputs(mesh::format_unjoin_report(*report).c_str(), stdout);
  }
  return ExitCode::k_ok;
}

} // namespace

void register_unjoin(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<UnjoinFlags>();
  auto* sub = app.add_subcommand(
      "unjoin", "Remove what meshctl made between clusters (remote secrets; --all: everything)");
  sub->add_option("clusters", f->positional, "Clusters (kubeconfig contexts) to unjoin");
  sub->add_option("--context", f->contexts, "Cluster to unjoin (repeatable; same as positional)");
  sub->add_flag("--all", f->all,
                "Also remove the east-west gateway, the expose Gateway, DestinationRules and "
                "synced Services meshctl made");
  sub->add_flag("--purge-ca", f->purge_ca, "Also remove the cacerts Secret meshctl made");
  sub->add_flag("--dry-run{client}", f->dry_run,
                "Show what would be deleted (client, the bare flag), or send the deletes with "
                "dryRun=All (server)");
  sub->footer("Only objects labelled app.kubernetes.io/managed-by=meshctl are deleted; a second "
              "run deletes nothing.\n\nExamples:\n  meshctl unjoin cn-shanghai wuxi\n  meshctl "
              "unjoin cn-shanghai wuxi --all --dry-run");
  sub->callback([&ctx, f] { ctx.action = [&ctx, f] { return run_unjoin(ctx, *f); }; });
}

} // namespace meshctl::cmd

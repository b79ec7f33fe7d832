// meshctl unjoin A B [C…]: CLI wiring. The work is in lib/mesh/unjoin.*.

#include "mesh/unjoin.hpp"

#include "common.hpp"
#include "core/try.hpp"
#include "mesh/join.hpp"
#include "mesh/join_live.hpp"
#include "mesh/session.hpp"

#include <cstdio>

namespace meshctl::cmd {
namespace {

struct UnjoinFlags : ClusterFlags {
  bool all = false;
  bool purge_ca = false;
};

Result<ExitCode> run_unjoin(const Context& ctx, const UnjoinFlags& f) {
  TRY(check_no_wide(ctx, "unjoin", "its report lists every object already"));
  TRY_ASSIGN(const auto dry, mesh::parse_dry_run(f.dry_run));
  if (dry == mesh::DryRun::k_offline) {
    return usage_error("unjoin cannot plan offline: it deletes only what it finds in the clusters",
                       "use --dry-run (or --dry-run=client) to see what it would delete");
  }
  const auto names = named_clusters(f.positional, f.contexts);
  const std::size_t needed = f.all ? 1 : 2;
  if (names.size() < needed) {
    return usage_error(
        f.all ? "unjoin --all needs the clusters to clean up"
              : "unjoin needs at least two clusters: it removes the links between them",
        "for example: meshctl unjoin cn-shanghai wuxi (add --all to remove "
        "everything meshctl made there)");
  }
  TRY_ASSIGN(const auto session, mesh::open_session(ctx.global, names));
  TRY_ASSIGN(auto clients, mesh::connect_all(session, ctx.global));
  mesh::UnjoinOptions options;
  options.all = f.all;
  options.purge_ca = f.purge_ca;
  options.dry_run = dry;
  TRY_ASSIGN(const auto report, mesh::unjoin_live(session, ctx.global, clients, options));
  if (report.read_failed) {
    return fail_all(report.errors,
                    "nothing was deleted: unjoin decides from every cluster's objects",
                    "run meshctl unjoin again once every cluster answers");
  }
  print_result(
      ctx, [&] { return mesh::unjoin_report_json(report); },
      [&] { return mesh::format_unjoin_report(report); });
  print_notes(report.plan.notes);
  if (!report.errors.empty()) {
    return fail_all(report.errors, std::to_string(report.errors.size()) + " error(s)",
                    "the report above lists what was deleted; run meshctl unjoin again");
  }
  return ExitCode::k_ok;
}

} // namespace

void register_unjoin(CLI::App& app, Context& ctx) {
  const auto [sub, f] = add_verb<UnjoinFlags>(
      app, "unjoin",
      "Remove what meshctl made between clusters (remote secrets; --all: everything)");
  add_cluster_args(sub, *f, "unjoin");
  sub->add_flag("--all", f->all,
                "Also remove the east-west gateway, the expose Gateway, DestinationRules and "
                "synced Services meshctl made");
  sub->add_flag("--purge-ca", f->purge_ca, "Also remove the cacerts Secret meshctl made");
  add_dry_run_flag(sub, f->dry_run, "client",
                   "Show what would be deleted (client, the bare flag), or send the deletes with "
                   "dryRun=All (server)");
  sub->footer("Only objects labelled app.kubernetes.io/managed-by=meshctl are deleted; a second "
              "run deletes nothing.\n\nExamples:\n  meshctl unjoin cn-shanghai wuxi\n  meshctl "
              "unjoin cn-shanghai wuxi --all --dry-run");
  set_action(sub, ctx, f, run_unjoin);
}

} // namespace meshctl::cmd

// meshctl localize [SERVICE.NAMESPACE [--by …] | --remove SERVICE.NAMESPACE]: CLI wiring. The work
// is in lib/mesh/expose.*.

#include "common.hpp"
#include "core/envelope.hpp"
#include "core/output.hpp"
#include "core/try.hpp"
#include "mesh/expose.hpp"
#include "mesh/join.hpp"
#include "mesh/join_live.hpp"
#include "mesh/manifest_output.hpp"
#include "mesh/session.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace meshctl::cmd {
namespace {

struct LocalizeFlags : ClusterFlags {
  std::string service;
  std::string namespace_; ///< -n
  std::string by = "cluster";
  bool remove = false;
  bool force = false;
};

// `localize` alone: the DestinationRules meshctl made, per cluster.
Result<ExitCode> list_rules(const Context& ctx, const LocalizeFlags& f) {
  TRY_ASSIGN(auto live, open_live(ctx, f.contexts, false));
  TRY_ASSIGN(const auto rules,
             mesh::list_localize_rules(live.session.clusters, live.clients, live.apis));
  std::vector<std::string> names;
  for (const auto& c : live.session.clusters) {
    names.push_back(c.name);
  }
  print_result(
      ctx, [&] { return mesh::localize_rules_json(names, rules); },
      [&] {
        return mesh::format_localize_rules(rules, ctx.global.output == OutputFormat::k_wide);
      });
  return ExitCode::k_ok;
}

// `localize --remove SERVICE.NAMESPACE`: only rules meshctl made; others are named and left.
Result<ExitCode> remove_rule(const Context& ctx, const LocalizeFlags& f,
                             const mesh::ServiceName& service, mesh::DryRun dry) {
  if (dry == mesh::DryRun::k_offline) {
    return usage_error("a bare --dry-run reads nothing, so it cannot tell which rule --remove "
                       "would delete",
                       "use --dry-run=client (reads the clusters, writes nothing)");
  }
  TRY_ASSIGN(auto live, open_live(ctx, f.contexts, false));
  TRY_ASSIGN(const auto removals, mesh::remove_localize_rule(live.session.clusters, live.clients,
                                                             live.apis, service, dry));
  const std::string rule = "DestinationRule " + service.namespace_ + "/" + service.name;
  const bool dry_run = dry != mesh::DryRun::k_none;
  nlohmann::json clusters = nlohmann::json::array();
  std::string text;
  for (const auto& r : removals) {
    using Outcome = mesh::LocalizeRemoval::Outcome;
    const char* outcome = r.outcome == Outcome::k_deleted    ? "deleted"
                          : r.outcome == Outcome::k_not_ours ? "not-made-by-meshctl"
                                                             : "absent";
    clusters.push_back(
        {{"name", r.cluster}, {"outcome", outcome}, {"errors", nlohmann::json::array()}});
    if (r.outcome == Outcome::k_deleted) {
      text += fmt::format("{}: {} {}\n", r.cluster, rule, dry_run ? "would be deleted" : "deleted");
    } else if (r.outcome == Outcome::k_not_ours) {
      text += fmt::format("{}: {} was not made by meshctl: left alone\n", r.cluster, rule);
    } else {
      text += fmt::format("{}: no {}\n", r.cluster, rule);
    }
  }
  print_result(
      ctx,
      [&] {
        auto out = envelope("LocalizeRemoval");
        out["dryRun"] = mesh::report_dry_run(dry);
        out["clusters"] = clusters;
        return out;
      },
      [&] { return text; });
  return ExitCode::k_ok;
}

Result<ExitCode> run_localize(const Context& ctx, const LocalizeFlags& f) {
  TRY_ASSIGN(const auto dry, mesh::parse_dry_run(f.dry_run));
  if (f.service.empty()) {
    if (f.remove || !f.dry_run.empty()) {
      return usage_error(std::string(f.remove ? "--remove" : "--dry-run") +
                             " needs the service, as SERVICE.NAMESPACE",
                         "meshctl localize without arguments lists the rules meshctl made");
    }
    return list_rules(ctx, f);
  }
  TRY(check_no_wide(ctx, f.remove ? "localize --remove" : "localize SERVICE",
                    f.remove ? "its report is a line per cluster" : k_apply_wide_why));
  TRY_ASSIGN(const auto service, mesh::parse_service_name(f.service, f.namespace_));
  if (f.remove) {
    return remove_rule(ctx, f, service, dry);
  }
  TRY_ASSIGN(const auto by, mesh::parse_failover_by(f.by));
  return render_and_apply(
      ctx, f.contexts, dry,
      [&](const auto& clusters, const auto& apis, const auto& /*gateways*/, auto* /*clients*/) {
        return mesh::render_localize(clusters, apis, service, by);
      },
      false, f.force ? std::vector<mesh::ServiceName>{} : std::vector<mesh::ServiceName>{service});
}

} // namespace

void register_localize(CLI::App& app, Context& ctx) {
  const auto [sub, f] = add_verb<LocalizeFlags>(
      app, "localize",
      "Keep a service's traffic in the caller's cluster, failing over to the others; without "
      "arguments, list the rules meshctl made");
  sub->add_option("service", f->service, "The service, as SERVICE.NAMESPACE (or SERVICE -n NS)");
  sub->add_option("-n,--namespace", f->namespace_,
                  "Namespace of the service when SERVICE has none");
  sub->add_option("--by", f->by, "What counts as local: cluster, network or zone")
      ->capture_default_str();
  sub->add_flag("--remove", f->remove,
                "Delete the service's DestinationRule where meshctl made it (never another)");
  sub->add_flag("--force", f->force, "Localize a service that exists in no cluster (yet)");
  add_context_option(sub, f->contexts, "Cluster to change (repeatable; default: all)");
  add_output_dir_option(sub, ctx);
  add_dry_run_flag(sub, f->dry_run, "offline",
                   "Print what would be applied: offline (bare flag), client or server");
  sub->footer("Examples:\n  meshctl localize helloworld.dev\n  meshctl localize\n  meshctl "
              "localize --remove helloworld.dev");
  set_action(sub, ctx, f, run_localize);
}

} // namespace meshctl::cmd

// meshctl localize SERVICE.NAMESPACE: CLI wiring. The work is in lib/mesh/expose.*.

#include "common.hpp"
#include "core/try.hpp"
#include "mesh/expose.hpp"
#include "mesh/join.hpp"
#include "mesh/join_live.hpp"
#include "mesh/manifest_output.hpp"
#include "mesh/session.hpp"

#include <cstdio>

namespace meshctl::cmd {
namespace {

struct LocalizeFlags : ClusterFlags {
  std::string service;
  std::string namespace_; ///< -n
  std::string by = "cluster";
};

Result<ExitCode> run_localize(const Context& ctx, const LocalizeFlags& f) {
  TRY_ASSIGN(const auto dry, mesh::parse_dry_run(f.dry_run));
  TRY_ASSIGN(const auto service, mesh::parse_service_name(f.service, f.namespace_));
  TRY_ASSIGN(const auto by, mesh::parse_failover_by(f.by));
  return render_and_apply(ctx, f.contexts, dry,
                          [&](const auto& clusters, const auto& apis, const auto& /*gateways*/) {
                            return mesh::render_localize(clusters, apis, service, by);
                          });
}

} // namespace

void register_localize(CLI::App& app, Context& ctx) {
  const auto [sub, f] = add_verb<LocalizeFlags>(
      app, "localize",
      "Keep a service's traffic in the caller's cluster, failing over to the others");
  sub->add_option("service", f->service, "The service, as SERVICE.NAMESPACE (or SERVICE -n NS)")
      ->required();
  sub->add_option("-n,--namespace", f->namespace_,
                  "Namespace of the service when SERVICE has none");
  sub->add_option("--by", f->by, "What counts as local: cluster, network or zone")
      ->capture_default_str();
  add_context_option(sub, f->contexts, "Cluster to change (repeatable; default: all)");
  add_output_dir_option(sub, ctx);
  add_dry_run_flag(sub, f->dry_run, "offline",
                   "Print what would be applied: offline (bare flag), client or server");
  sub->footer("Example:\n  meshctl localize helloworld.dev");
  set_action(sub, ctx, f, run_localize);
}

} // namespace meshctl::cmd

// meshctl localize SERVICE.NAMESPACE: CLI wiring. The work is in lib/mesh/expose.*.

#include "context.hpp"
#include "mesh/expose.hpp"
#include "mesh/join.hpp"
#include "mesh/join_live.hpp"
#include "mesh/manifest_output.hpp"
#include "mesh/session.hpp"

#include <cstdio>

namespace meshctl::cmd {
namespace {

struct LocalizeFlags {
  std::string service;
  std::vector<std::string> contexts;
  std::string by = "cluster";
  std::string dry_run;
};

Result<ExitCode> run_localize(const Context& ctx, const LocalizeFlags& f) {
  auto dry = mesh::parse_dry_run(f.dry_run);
  if (!dry) {
    return tl::make_unexpected(dry.error());
  }
  auto service = mesh::parse_service_name(f.service);
  if (!service) {
    return tl::make_unexpected(service.error());
  }
  auto by = mesh::parse_failover_by(f.by);
  if (!by) {
    return tl::make_unexpected(by.error());
  }
  auto session = mesh::open_session(ctx.global, f.contexts);
  if (!session) {
    return tl::make_unexpected(session.error());
  }
  auto objects = mesh::render_localize(session->clusters, *service, *by);
  if (!objects) {
    return tl::make_unexpected(objects.error());
  }
  return print_or_apply(ctx, *session, *objects, *dry);
}

} // namespace

void register_localize(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<LocalizeFlags>();
  auto* sub = app.add_subcommand(
      "localize", "Keep a service's traffic in the caller's cluster, failing over to the others");
  sub->add_option("service", f->service, "The service, as SERVICE.NAMESPACE")->required();
  sub->add_option("--by", f->by, "What counts as local: cluster, network or zone")
      ->capture_default_str();
  sub->add_option("--context", f->contexts, "Cluster to change (repeatable; default: all)");
  sub->add_flag("--dry-run{offline}", f->dry_run,
                "Print what would be applied: offline (bare flag), client or server");
  sub->footer("Example:\n  meshctl localize helloworld.dev");
  sub->callback([&ctx, f] { ctx.action = [&ctx, f] { return run_localize(ctx, *f); }; });
}

} // namespace meshctl::cmd

// meshctl expose [HOST…] | --all: CLI wiring. The work is in lib/mesh/expose.*.

#include "mesh/expose.hpp"

#include "context.hpp"
#include "mesh/join.hpp"
#include "mesh/join_live.hpp"
#include "mesh/manifest_output.hpp"
#include "mesh/session.hpp"

#include <cstdio>

namespace meshctl::cmd {
namespace {

struct ExposeFlags {
  std::vector<std::string> hosts;
  std::vector<std::string> contexts;
  bool all = false;
  std::string dry_run;
};

Result<ExitCode> run_expose(const Context& ctx, const ExposeFlags& f) {
  auto dry = mesh::parse_dry_run(f.dry_run);
  if (!dry) {
    return tl::make_unexpected(dry.error());
  }
  if (f.all == !f.hosts.empty()) {
    return usage_error("expose needs either --all or one or more services",
                       "meshctl expose --all, or meshctl expose helloworld.dev ratings.prod");
  }
  std::vector<mesh::ServiceName> services;
  for (const auto& h : f.hosts) {
    auto s = mesh::parse_service_name(h);
    if (!s) {
      return tl::make_unexpected(s.error());
    }
    services.push_back(*s);
  }
  auto session = mesh::open_session(ctx.global, f.contexts);
  if (!session) {
    return tl::make_unexpected(session.error());
  }
  auto objects = mesh::render_expose(session->clusters, services);
  if (!objects) {
    return tl::make_unexpected(objects.error());
  }
  return print_or_apply(ctx, *session, *objects, *dry);
}

} // namespace

void register_expose(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<ExposeFlags>();
  auto* sub = app.add_subcommand(
      "expose", "Choose the services the east-west gateways expose to other clusters on 15443");
  sub->add_option("services", f->hosts, "Services to expose, as SERVICE.NAMESPACE");
  sub->add_flag("--all", f->all, "Expose every service (hosts \"*.local\")");
  sub->add_option("--context", f->contexts, "Cluster to change (repeatable; default: all)");
  sub->add_flag("--dry-run{offline}", f->dry_run,
                "Print what would be applied: offline (bare flag), client or server");
  sub->footer("Examples:\n  meshctl expose --all\n  meshctl expose helloworld.dev --dry-run");
  sub->callback([&ctx, f] { ctx.action = [&ctx, f] { return run_expose(ctx, *f); }; });
}

} // namespace meshctl::cmd

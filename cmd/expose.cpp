// meshctl expose [HOST…] | --all: CLI wiring. The work is in lib/mesh/expose.*.

#include "mesh/expose.hpp"

#include "common.hpp"
#include "core/try.hpp"
#include "mesh/join.hpp"
#include "mesh/join_live.hpp"
#include "mesh/manifest_output.hpp"
#include "mesh/session.hpp"

#include <cstdio>

namespace meshctl::cmd {
namespace {

struct ExposeFlags : ClusterFlags {
  std::vector<std::string> hosts;
  std::string namespace_; ///< -n
  bool all = false;
};

Result<ExitCode> run_expose(const Context& ctx, const ExposeFlags& f) {
  TRY_ASSIGN(const auto dry, mesh::parse_dry_run(f.dry_run));
  if (!f.all && f.hosts.empty()) {
    return usage_error("expose needs either --all or one or more services",
                       "meshctl expose --all, or meshctl expose helloworld.dev ratings.prod");
  }
  if (f.all && !f.hosts.empty()) {
    return usage_error("expose got both --all and services; --all already exposes every service",
                       "drop --all to expose only the services named, or drop the services");
  }
  if (f.all && !f.namespace_.empty()) {
    return usage_error("-n names the namespace of the services given; --all exposes every one",
                       "meshctl expose helloworld -n dev, or meshctl expose --all");
  }
  std::vector<mesh::ServiceName> services;
  for (const auto& h : f.hosts) {
    TRY_ASSIGN(auto s, mesh::parse_service_name(h, f.namespace_));
    services.push_back(std::move(s));
  }
  return render_and_apply(
      ctx, f.contexts, dry,
      [&](const auto& clusters, const auto& apis, const auto& gateways) {
        return mesh::render_expose(clusters, apis, services, gateways);
      },
      true);
}

} // namespace

void register_expose(CLI::App& app, Context& ctx) {
  const auto [sub, f] = add_verb<ExposeFlags>(
      app, "expose",
      "Choose the services the east-west gateways expose to other clusters on 15443");
  sub->add_option("services", f->hosts, "Services to expose, as SERVICE.NAMESPACE");
  sub->add_option("-n,--namespace", f->namespace_, "Namespace of the services that name none");
  sub->add_flag("--all", f->all, "Expose every service (hosts \"*.local\")");
  add_context_option(sub, f->contexts, "Cluster to change (repeatable; default: all)");
  add_output_dir_option(sub, ctx);
  add_dry_run_flag(sub, f->dry_run, "offline",
                   "Print what would be applied: offline (bare flag), client or server");
  sub->footer("Examples:\n  meshctl expose --all\n  meshctl expose helloworld.dev --dry-run");
  set_action(sub, ctx, f, run_expose);
}

} // namespace meshctl::cmd

// meshctl expose [HOST…] | --all | --remove HOST…: CLI wiring. The work is in lib/mesh/expose.*.

#include "mesh/expose.hpp"

#include "common.hpp"
#include "core/output.hpp"
#include "core/try.hpp"
#include "mesh/join.hpp"
#include "mesh/join_live.hpp"
#include "mesh/manifest_output.hpp"
#include "mesh/session.hpp"
#include "render/manifests.hpp"

#include <cstdio>

namespace meshctl::cmd {
namespace {

struct ExposeFlags : ClusterFlags {
  std::vector<std::string> hosts;
  std::string namespace_; ///< -n
  bool all = false;
  bool remove = false;
  bool force = false;
};

// `expose` alone: what every cluster's gateway exposes now.
Result<ExitCode> list_exposed(const Context& ctx, const ExposeFlags& f) {
  TRY_ASSIGN(auto live, open_live(ctx, f.contexts, true));
  TRY_ASSIGN(const auto exposed,
             mesh::read_exposed(live.session.clusters, live.clients, live.apis, live.gateways));
  print_result(
      ctx, [&] { return mesh::exposed_json(exposed); },
      [&] { return mesh::format_exposed(exposed, ctx.global.output == OutputFormat::k_wide); });
  return ExitCode::k_ok;
}

Result<ExitCode> run_expose(const Context& ctx, const ExposeFlags& f) {
  TRY_ASSIGN(const auto dry, mesh::parse_dry_run(f.dry_run));
  if (!f.all && f.hosts.empty()) {
    if (f.remove) {
      return usage_error("--remove needs the services to stop exposing (or --all)",
                         "meshctl expose --remove helloworld.dev; meshctl expose lists what is "
                         "exposed");
    }
    if (!f.dry_run.empty()) {
      return usage_error("--dry-run needs the services to expose (or --all)",
                         "meshctl expose without arguments lists what is exposed");
    }
    return list_exposed(ctx, f);
  }
  TRY(check_no_wide(ctx, "expose SERVICE…", k_apply_wide_why));
  if (f.remove && dry == mesh::DryRun::k_offline) {
    return usage_error("a bare --dry-run reads nothing, so it cannot show what --remove leaves",
                       "use --dry-run=client (reads the clusters, writes nothing)");
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
  std::vector<std::string> hosts;
  for (const auto& h : f.hosts) {
    TRY_ASSIGN(auto s, mesh::parse_service_name(h, f.namespace_));
    hosts.push_back(render::service_host({s.name, s.namespace_}));
    services.push_back(std::move(s));
  }
  if (f.all) {
    hosts.emplace_back(render::k_all_hosts);
  }
  const std::vector<std::string> none;
  const auto& add = f.remove ? none : hosts;
  const auto& remove = f.remove ? hosts : none;
  return render_and_apply(
      ctx, f.contexts, dry,
      [&](const auto& clusters, const auto& apis, const auto& gateways,
          auto* clients) -> Result<std::vector<mesh::ClusterObjects>> {
        if (clients == nullptr) {
          // Offline: what is exposed already is unknown; show the Gateway with the hosts named.
          std::map<std::string, std::vector<std::string>> named;
          for (const auto& c : clusters) {
            named[c.name] = add;
          }
          return mesh::render_expose_hosts(clusters, apis, named, gateways);
        }
        TRY_ASSIGN(const auto exposed, mesh::read_exposed(clusters, *clients, apis, gateways));
        std::map<std::string, std::vector<std::string>> edited;
        for (const auto& e : exposed) {
          TRY_ASSIGN(edited[e.cluster], mesh::edit_hosts(e.hosts, add, remove, e.cluster));
        }
        return mesh::render_expose_hosts(clusters, apis, edited, gateways);
      },
      true, f.remove || f.force ? std::vector<mesh::ServiceName>{} : services);
}

} // namespace

void register_expose(CLI::App& app, Context& ctx) {
  const auto [sub, f] = add_verb<ExposeFlags>(
      app, "expose",
      "Add services to (or --remove them from) what the east-west gateways expose to other "
      "clusters on 15443; without arguments, list what they expose");
  sub->add_option("services", f->hosts, "Services to expose, as SERVICE.NAMESPACE");
  sub->add_flag("--all", f->all, "Expose every service (adds the host \"*.local\")");
  sub->add_flag("--remove", f->remove,
                "Stop exposing the services named (with --all: the host \"*.local\")");
  sub->add_flag("--force", f->force, "Expose a service that exists in no cluster (yet)");
  sub->add_option("-n,--namespace", f->namespace_, "Namespace of the services that name none");
  add_context_option(sub, f->contexts, "Cluster to change (repeatable; default: all)");
  add_output_dir_option(sub, ctx);
  add_dry_run_flag(sub, f->dry_run, "offline",
                   "Print what would be applied: offline (bare flag: the named hosts only, as "
                   "nothing is read), client or server");
  sub->footer("Examples:\n  meshctl expose helloworld.dev\n  meshctl expose\n  meshctl expose "
              "--remove --all\n  meshctl expose --all --dry-run=client");
  set_action(sub, ctx, f, run_expose);
}

} // namespace meshctl::cmd

// meshctl version: meshctl's version, and each cluster's Kubernetes and istiod versions (the
// work is in lib/mesh/version.*). `--client` touches no cluster and reads no file: it is also
// what the start-up time benchmark runs.

#include "mesh/version.hpp"

#include "common.hpp"
#include "core/output.hpp"

#include <cstdio>

namespace meshctl::cmd {
namespace {

struct VersionFlags {
  bool client = false;
  std::vector<std::string> contexts;
};

constexpr const char* k_no_cluster_hint =
    "list the clusters in meshctl.yaml (-c, $MESHCTL_CONFIG or ~/.config/meshctl/config.yaml), "
    "name one with --context, or give a kubeconfig with a current context (--kubeconfig, "
    "$KUBECONFIG or ~/.kube/config); --client shows meshctl's version alone";

Result<ExitCode> run_version(const Context& ctx, const VersionFlags& f) {
  const std::string client_version = MESHCTL_VERSION;
  const std::string client_line = "meshctl " + client_version + "\n";
  if (f.client) {
    if (ctx.global.output == OutputFormat::k_wide) {
      return refuse_wide("version --client", "meshctl's version is one line");
    }
    print_result(
        ctx, [&] { return mesh::version_json(client_version, std::nullopt); },
        [&] { return client_line; });
    return ExitCode::k_ok;
  }
  auto targets = mesh::read_targets(ctx.global, f.contexts);
  if (!targets) {
    // As kubectl: the client's version first, then why the servers' are missing.
    print_result(
        ctx, [&] { return mesh::version_json(client_version, std::nullopt); },
        [&] { return client_line; });
    std::fflush(stdout);
    return tl::make_unexpected(targets.error());
  }
  const auto clusters = mesh::read_versions(*targets, ctx.global);
  print_result(
      ctx, [&] { return mesh::version_json(client_version, clusters); },
      [&] {
        return client_line +
               mesh::format_cluster_versions(clusters, ctx.global.output == OutputFormat::k_wide);
      });
  std::fflush(stdout);
  if (clusters.empty()) {
    std::fprintf(stderr, "meshctl knows no cluster to ask for its versions\nhint: %s\n",
                 k_no_cluster_hint);
    return ExitCode::k_ok;
  }
  bool failed = false;
  for (const auto& c : clusters) {
    if (c.error) {
      print_error(*c.error);
      failed = true;
    }
  }
  return failed ? ExitCode::k_failed : ExitCode::k_ok;
}

} // namespace

void register_version(CLI::App& app, Context& ctx) {
  const auto [sub, f] = add_verb<VersionFlags>(
      app, "version", "Print meshctl's version and each cluster's Kubernetes and istiod versions");
  sub->add_flag("--client", f->client,
                "Only meshctl's own version: contact no cluster, read no configuration");
  add_context_option(sub, f->contexts,
                     "Cluster to ask (repeatable; default: every cluster of meshctl.yaml, else "
                     "the kubeconfig's current context)");
  sub->footer("Exit codes: 0 every cluster answered (or none is configured), 1 a cluster could not "
              "be read (the others are still shown).\n"
              "Examples:\n  meshctl version\n  meshctl version --client\n  meshctl version "
              "--context wuxi -o json");
  set_action(sub, ctx, f, run_version);
}

} // namespace meshctl::cmd

// meshctl config view [CONTEXT...]: prints the effective config (file plus embedded defaults);
// with contexts, only the clusters a verb given those contexts would work on, checked against the
// kubeconfig (so a typo or a broken kubeconfig shows up here first, with exit 2).

#include "config/config.hpp"

#include "config/kubeconfig.hpp"
#include "context.hpp"
#include "core/output.hpp"
#include "core/try.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>
#include <vector>

namespace meshctl::cmd {

namespace {

Result<ExitCode> config_view(const Context& ctx, const std::vector<std::string>& contexts) {
  TRY_ASSIGN(auto cfg, config::load_config(ctx.global.config_file));
  if (!contexts.empty()) {
    TRY_ASSIGN(const auto kc, config::load_kubeconfig(ctx.global.kubeconfig));
    TRY_ASSIGN(auto selected, config::select_clusters(cfg, contexts, kc.context_names()));
    for (const auto& c : selected) {
      TRY_CTX(kc.resolve(c.context), "cluster " + c.name);
    }
    cfg.clusters = std::move(selected);
  }
  const std::string json = config::to_json_text(cfg);
  switch (ctx.global.output) {
  case OutputFormat::k_json:
    std::fputs(json.c_str(), stdout);
    break;
  case OutputFormat::k_table: // a config has no natural table; YAML is what a person edits
  case OutputFormat::k_yaml:
    std::fputs(to_yaml(nlohmann::ordered_json::parse(json)).c_str(), stdout); // the file's order
    break;
  case OutputFormat::k_wide:
    return usage_error("config view prints -o yaml or -o json, not -o wide");
  }
  return ExitCode::k_ok;
}

} // namespace

void register_config(CLI::App& app, Context& ctx) {
  auto* sub = app.add_subcommand("config", "Show meshctl's configuration");
  sub->require_subcommand(1);
  auto* view = sub->add_subcommand(
      "view", "Print the effective config: the file (-c, $MESHCTL_CONFIG or "
              "~/.config/meshctl/config.yaml) with every default filled in (-o yaml|json). "
              "With contexts, only the clusters a verb would use for them, checked against the "
              "kubeconfig");
  auto contexts = std::make_shared<std::vector<std::string>>();
  view->add_option("contexts", *contexts, "Clusters or kubeconfig contexts (default: all)");
  view->add_option("--context", *contexts, "Cluster or kubeconfig context (repeatable)");
  view->callback(
      [&ctx, contexts] { ctx.action = [&ctx, contexts] { return config_view(ctx, *contexts); }; });
}

} // namespace meshctl::cmd

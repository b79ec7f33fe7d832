// meshctl config view: prints the effective config (file plus embedded defaults).

#include "config/config.hpp"

#include "context.hpp"
#include "core/output.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace meshctl::cmd {

namespace {

Result<ExitCode> config_view(const Context &ctx) {
  auto cfg = config::load_config(ctx.global.config_file);
  if (!cfg) {
    return tl::make_unexpected(cfg.error());
  }
  const std::string json = config::to_json_text(*cfg);
  switch (ctx.global.output) {
  case OutputFormat::k_json:
    std::fputs(json.c_str(), stdout);
    break;
  case OutputFormat::k_table: // a config has no natural table; YAML is what a person edits
  case OutputFormat::k_yaml:
    std::fputs(to_yaml(nlohmann::json::parse(json)).c_str(), stdout);
    break;
  case OutputFormat::k_wide:
    return usage_error("config view prints -o yaml or -o json, not -o wide");
  }
  return ExitCode::k_ok;
}

} // namespace

void register_config(CLI::App &app, Context &ctx) {
  auto *sub = app.add_subcommand("config", "Show meshctl's configuration");
  sub->require_subcommand(1);
  auto *view = sub->add_subcommand(
      "view", "Print the effective config: the file (-c, $MESHCTL_CONFIG or "
              "~/.config/meshctl/config.yaml) with every default filled in (-o yaml|json)");
  view->callback([&ctx] { ctx.action = [&ctx] { return config_view(ctx); }; });
}

} // namespace meshctl::cmd

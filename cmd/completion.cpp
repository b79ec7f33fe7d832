// meshctl completion bash|zsh|fish: prints the embedded completion script.

#include "config/kubeconfig.hpp"
#include "context.hpp"
#include "core/try.hpp"

#include <cstdio>
#include <string_view>
#include <utility>

namespace meshctl::cmd {
namespace {

constexpr std::pair<std::string_view, std::string_view> k_scripts[] = {
#include "embedded_completions.inc"
};

std::string_view script_for(const std::string& shell) {
  const std::string_view file = shell == "bash"  ? "meshctl.bash"
                                : shell == "zsh" ? "_meshctl"
                                                 : "meshctl.fish";
  for (const auto& [name, text] : k_scripts) {
    if (name == file) {
      return text;
    }
  }
  return {};
}

} // namespace

void register_completion(CLI::App& app, Context& ctx) {
  auto* sub = app.add_subcommand("completion", "Print a shell completion script (bash, zsh, fish)");
  auto shell = std::make_shared<std::string>();
  sub->add_option("shell", *shell, "bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  sub->footer("Example: source <(meshctl completion bash)");
  // Hidden helper the scripts call to complete context names from the kubeconfig.
  auto* contexts = app.add_subcommand("__contexts", "");
  contexts->group("");
  contexts->callback([&ctx] {
    ctx.action = [&ctx]() -> Result<ExitCode> {
      TRY_ASSIGN(const auto kubeconfig, config::load_kubeconfig(ctx.global.kubeconfig));
      for (const auto& name : kubeconfig.context_names()) {
        std::printf("%s\n", name.c_str());
      }
      return ExitCode::k_ok;
    };
  });
  sub->callback([&ctx, shell] {
    ctx.action = [shell]() -> Result<ExitCode> {
      const auto text = script_for(*shell);
      std::fwrite(text.data(), 1, text.size(), stdout);
      return ExitCode::k_ok;
    };
  });
}

} // namespace meshctl::cmd

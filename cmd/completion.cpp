// meshctl completion bash|zsh|fish: prints the embedded completion script. Each script only asks
// `meshctl __complete` (complete.cpp) and hands the answer to its shell, so it never lists a verb
// or flag itself and never goes stale.

#include "context.hpp"

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

const std::vector<std::string>& completion_shells() {
  static const std::vector<std::string> k_shells{"bash", "zsh", "fish"};
  return k_shells;
}

void register_completion(CLI::App& app, Context& ctx) {
  auto* sub = app.add_subcommand("completion", "Print a shell completion script (bash, zsh, fish)");
  auto shell = std::make_shared<std::string>();
  sub->add_option("shell", *shell, "bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember(completion_shells()));
  sub->footer("Load it with:\n"
              "  bash: source <(meshctl completion bash)\n"
              "  zsh:  source <(meshctl completion zsh), or save it as _meshctl in $fpath\n"
              "  fish: meshctl completion fish | source, or save it in "
              "~/.config/fish/completions/meshctl.fish");
  sub->callback([&ctx, shell] {
    ctx.action = [shell]() -> Result<ExitCode> {
      const auto text = script_for(*shell);
      std::fwrite(text.data(), 1, text.size(), stdout);
      return ExitCode::k_ok;
    };
  });
}

} // namespace meshctl::cmd

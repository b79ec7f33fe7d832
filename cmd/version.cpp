// meshctl version: prints the version; also the start-up time benchmark's target.

#include "context.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace meshctl::cmd {

void register_version(CLI::App& app, Context& ctx) {
  auto* sub = app.add_subcommand("version", "Print meshctl's version");
  sub->callback([&ctx] {
    ctx.action = [&ctx]() -> Result<ExitCode> {
      if (ctx.global.output == OutputFormat::k_json) {
        std::printf("%s\n", nlohmann::json{{"version", MESHCTL_VERSION}}.dump(2).c_str());
      } else if (ctx.global.output == OutputFormat::k_yaml) {
        std::printf("version: %s\n", MESHCTL_VERSION);
      } else {
        std::printf("meshctl %s\n", MESHCTL_VERSION);
      }
      return ExitCode::k_ok;
    };
  });
}

} // namespace meshctl::cmd

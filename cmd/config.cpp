#include "context.hpp"

namespace meshctl::cmd {

void register_config(CLI::App& app, Context& ctx) {
  auto* sub = app.add_subcommand("config", "TODO");
  sub->callback([&ctx] { ctx.action = [] { return not_implemented("config"); }; });
}

} // namespace meshctl::cmd

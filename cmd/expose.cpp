// meshctl expose: CLI wiring.

#include "context.hpp"

namespace meshctl::cmd {

void register_expose(CLI::App& app, Context& ctx) {
  auto* sub = app.add_subcommand("expose", "TODO");
  sub->callback([&ctx] { ctx.action = [] { return not_implemented("expose"); }; });
}

} // namespace meshctl::cmd

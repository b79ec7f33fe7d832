// meshctl join: CLI wiring.

#include "context.hpp"

namespace meshctl::cmd {

void register_join(CLI::App& app, Context& ctx) {
  auto* sub = app.add_subcommand("join", "TODO");
  sub->callback([&ctx] { ctx.action = [] { return not_implemented("join"); }; });
}

} // namespace meshctl::cmd

// meshctl localize: CLI wiring.

#include "context.hpp"

namespace meshctl::cmd {

void register_localize(CLI::App& app, Context& ctx) {
  auto* sub = app.add_subcommand("localize", "TODO");
  sub->callback([&ctx] { ctx.action = [] { return not_implemented("localize"); }; });
}

} // namespace meshctl::cmd

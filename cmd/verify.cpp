// meshctl verify: CLI wiring.

#include "context.hpp"

namespace meshctl::cmd {

void register_verify(CLI::App& app, Context& ctx) {
  auto* sub = app.add_subcommand("verify", "Check a service across every cluster, with a hint for each problem");
  sub->callback([&ctx] { ctx.action = [] { return not_implemented("verify"); }; });
}

} // namespace meshctl::cmd

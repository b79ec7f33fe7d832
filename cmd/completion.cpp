#include "context.hpp"

namespace meshctl::cmd {

void register_completion(CLI::App& app, Context& ctx) {
  auto* sub = app.add_subcommand("completion", "TODO");
  sub->callback([&ctx] { ctx.action = [] { return not_implemented("completion"); }; });
}

} // namespace meshctl::cmd

// meshctl sync-svc: CLI wiring.

#include "context.hpp"

namespace meshctl::cmd {

void register_sync_svc(CLI::App& app, Context& ctx) {
  auto* sub = app.add_subcommand("sync-svc", "Copy Services to every cluster so that DNS resolves everywhere");
  sub->callback([&ctx] { ctx.action = [] { return not_implemented("sync-svc"); }; });
}

} // namespace meshctl::cmd

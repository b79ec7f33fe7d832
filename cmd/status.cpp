// meshctl status: the whole mesh at once, one row per cluster (lib/check/status.*, from the facts
// verify collects, without the service). --wait polls until every cluster is connected both ways
// and every gateway is ready, bounded by --timeout.

#include "check/status.hpp"

#include "check/collect.hpp"
#include "common.hpp"
#include "core/log.hpp"
#include "core/try.hpp"
#include "mesh/join_live.hpp"
#include "mesh/session.hpp"

#include <chrono>
#include <cstdio>
#include <thread>

namespace meshctl::cmd {

namespace {

struct StatusFlags {
  std::vector<std::string> contexts;
  bool wait = false;
};

constexpr std::chrono::seconds k_poll_interval{2};

std::string lines(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) {
    out += "  " + i + "\n";
  }
  return out;
}

Result<ExitCode> run_status(const Context& ctx, const StatusFlags& f) {
  TRY_ASSIGN(const auto session, mesh::open_session(ctx.global, f.contexts));
  TRY_ASSIGN(auto clients, mesh::connect_all(session, ctx.global));
  check::CollectOptions options;
  options.mesh_only = true;
  options.exec_timeout = ctx.global.timeout;
  options.timeout = ctx.global.timeout;
  options.on_start = [](const check::MeshFacts&) { log::status_title("status"); };
  const auto deadline = std::chrono::steady_clock::now() + ctx.global.timeout;
  std::vector<std::string> shown; // what --wait last said it waits for
  while (true) {
    const auto facts = check::collect_facts(session, clients, options);
    const auto status = check::build_status(facts);
    const auto missing = check::waiting_for(status);
    const bool done = missing.empty();
    const bool timed_out = std::chrono::steady_clock::now() + k_poll_interval > deadline;
    if (!f.wait || done || timed_out) {
      log::clear_status();
      print_result(
          ctx, [&] { return check::status_json(status); },
          [&] { return check::format_status(status, ctx.global.color); });
      std::fflush(stdout);
      if (f.wait && !done) {
        std::fprintf(
            stderr, "error: timed out after %llds waiting for:\n%s",
            static_cast<long long>(
                std::chrono::duration_cast<std::chrono::seconds>(ctx.global.timeout).count()),
            lines(missing).c_str());
        return ExitCode::k_failed;
      }
      return check::status_exit_code(status);
    }
    if (missing != shown) {
      log::clear_status();
      std::fprintf(stderr, "waiting for:\n%s", lines(missing).c_str());
      shown = missing;
    }
    std::this_thread::sleep_for(k_poll_interval);
  }
}

} // namespace

void register_status(CLI::App& app, Context& ctx) {
  const auto [sub, f] = add_verb<StatusFlags>(
      app, "status", "See the whole mesh at once: one row per cluster, then every problem");
  add_context_option(sub, f->contexts,
                     "Cluster to show (repeatable; default: every cluster of meshctl.yaml)");
  sub->add_flag("--wait", f->wait,
                "Poll until every cluster is connected both ways (remote secrets synced) and "
                "every gateway has an address and ready pods, at most --timeout");
  sub->footer(
      "Columns: ISTIOD version (revision) ready/pods; GATEWAY the address:port other clusters "
      "use, ready/pods; ROOT the first 8 hex digits of the SHA-256 of cacerts' root ('!' when "
      "the clusters' differ); REMOTES the other clusters whose remote secret is present, whose "
      "token is accepted and that istiod reports synced.\n"
      "Exit codes: 0 no error, 1 an error (with --wait: not ready by --timeout), 3 a cluster "
      "could not be reached.\n"
      "Examples:\n  meshctl status\n  meshctl status -o json\n  meshctl join cn-shanghai wuxi "
      "&& meshctl status --wait --timeout 5m");
  set_action(sub, ctx, f, run_status);
}

} // namespace meshctl::cmd

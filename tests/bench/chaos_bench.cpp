// Fault runs in numbers (scripts/chaos; README "Reliability"): many fault runs of join, expose,
// localize, sync-svc and unjoin against two kubesims that fail on purpose — 30% of API requests
// answered 429, 500 or 503, reset, or answered slowly — plus runs where one API server is killed
// part-way through join. Each run is checked as tests/e2e/chaos.hpp describes; the program prints
// one line per run and the totals, and exits 1 when any run failed unclearly, left something
// half-written, or did not converge without faults.
//
// usage: meshctl_bench_chaos [--runs N] [--kill-every K] [--timeout DURATION]
//   (every K-th run kills an API server instead of injecting faults; default 60 runs, K = 4)

#include "chaos.hpp"

#include <chrono>
#include <cstdio>
#include <string>

using meshctl::e2e::FaultRunOptions;
using meshctl::e2e::TestClusters;

int main(int argc, char** argv) {
  int runs = 60;
  int kill_every = 4;
  std::string timeout = "10s";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--runs") {
      runs = std::stoi(argv[i + 1]);
    } else if (flag == "--kill-every") {
      kill_every = std::stoi(argv[i + 1]);
    } else if (flag == "--timeout") {
      timeout = argv[i + 1];
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  std::printf("fault runs: two kubesims, 30%% of API requests faulted (6%% each: 429, 500, 503, "
              "reset, slow 1.5 s); every %d. run kills an API server during join instead; "
              "meshctl --timeout %s\n\n",
              kill_every, timeout.c_str());
  std::printf("%-4s %-7s %-48s %-9s %-10s %-6s %8s\n", "run", "kind", "faulted verbs (exit codes)",
              "outcome", "converged", "writes", "wall (s)");
  TestClusters clusters;
  meshctl::e2e::prepare_fault_runs(clusters);
  int completed = 0;
  int failed_clearly = 0;
  int unclear = 0;
  int half_written = 0;
  int not_converged = 0;
  int kills = 0;
  for (int run = 1; run <= runs; ++run) {
    FaultRunOptions options;
    options.timeout = timeout;
    const bool kill = kill_every > 0 && run % kill_every == 0;
    if (kill) {
      options.kill = clusters.names()[static_cast<std::size_t>(run / kill_every) % 2];
      options.kill_after_ms = 150 + (run * 137) % 900;
      ++kills;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = meshctl::e2e::fault_run(clusters, options);
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::string codes;
    for (const auto& v : r.verbs) {
      codes += v.verb + "=" + std::to_string(v.exit_code) + (v.clear ? "" : "!") + " ";
    }
    const char* outcome = r.completed() ? "completed" : r.failed_clearly() ? "failed" : "UNCLEAR";
    completed += r.completed() ? 1 : 0;
    failed_clearly += r.failed_clearly() ? 1 : 0;
    unclear += (!r.completed() && !r.failed_clearly()) ? 1 : 0;
    half_written += r.half_written.empty() ? 0 : 1;
    not_converged += (r.converged && r.write_free) ? 0 : 1;
    std::printf("%-4d %-7s %-48s %-9s %-10s %-6s %8.1f\n", run, kill ? "kill" : "faults",
                codes.c_str(), outcome, r.converged ? "yes" : "NO", r.write_free ? "0" : "SOME",
                wall);
    for (const auto& v : r.verbs) {
      if (!v.clear) {
        std::printf("     unclear %s: %s\n", v.verb.c_str(), v.why.c_str());
      }
    }
    for (const auto& h : r.half_written) {
      std::printf("     HALF-WRITTEN %s\n", h.c_str());
    }
    if (!r.problem.empty()) {
      std::printf("     %s\n", r.problem.c_str());
    }
    std::fflush(stdout);
  }
  std::printf("\nruns: %d (%d with an API server killed)\ncompleted: %d\nfailed clearly: %d\n"
              "failed unclearly: %d\nhalf-written: %d\nnot converged or not write-free: %d\n",
              runs, kills, completed, failed_clearly, unclear, half_written, not_converged);
  return unclear + half_written + not_converged == 0 ? 0 : 1;
}

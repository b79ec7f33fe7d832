// Benchmark (issue: join against slow API servers). Starts two kubesims with a fixed latency added
// to every API request, then times a fresh `meshctl join cn-shanghai wuxi` and a repeat, printing
// requests, writes and wall time per run. The PKI is made beforehand (RSA-4096 key generation is
// local CPU time, reported separately), so the figures are the clusters' request chains.
//
// usage: meshctl_bench_join [--latency-ms N] [--runs N]

#include "pki/pki.hpp"
#include "support/testing.hpp"

#include <kubesim_process.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>

using kubesim::testing::KubesimProcess;
using meshctl::testing::TempDir;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

} // namespace

int main(int argc, char** argv) {
  int latency_ms = 20;
  int runs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--latency-ms") {
      latency_ms = std::stoi(argv[i + 1]);
    } else if (flag == "--runs") {
      runs = std::stoi(argv[i + 1]);
    }
  }
  const std::vector<std::string> names{"cn-shanghai", "wuxi"};
  std::printf("join benchmark: two kubesims, %d ms added to every API request, %d runs\n",
              latency_ms, runs);

  // The PKI once (timed apart: it is CPU, not requests).
  TempDir pki_cache;
  const auto t_pki = std::chrono::steady_clock::now();
  auto root = meshctl::pki::load_or_create_root(pki_cache.path());
  for (const auto& n : names) {
    if (!root || !meshctl::pki::load_or_issue_intermediate(*root, pki_cache.path(), n)) {
      std::fprintf(stderr, "PKI generation failed\n");
      return 1;
    }
  }
  std::printf("PKI (root + 2 intermediates, RSA 4096): %.2f s, made once\n\n",
              seconds_since(t_pki));

  std::printf("%-8s %-6s %-8s %9s %9s %9s %10s %12s\n", "latency", "run", "join", "requests",
              "writes", "max/clu", "wall (s)", "round trips");
  std::map<std::string, double> baseline; // best wall time per kind of join at 0 ms
  for (const int latency : {0, latency_ms}) {
    for (int run = 1; run <= runs; ++run) {
      TempDir home;
      std::filesystem::create_directories(home.path() / ".config/meshctl/pki");
      std::filesystem::copy(pki_cache.path(), home.path() / ".config/meshctl/pki/mesh1",
                            std::filesystem::copy_options::recursive);
      std::vector<std::unique_ptr<KubesimProcess>> sims;
      std::string kubeconfig;
      std::string cfg = "mesh: {id: mesh1}\nclusters:\n";
      for (const auto& n : names) {
        auto sim = std::make_unique<KubesimProcess>();
        kubesim::testing::KubesimOptions opts;
        opts.faults = {{"latencyMs", latency}};
        sim->start(n,
                   {KubesimProcess::seed_dir() / "istio-crds.yaml",
                    KubesimProcess::seed_dir() / (n + ".yaml")},
                   opts);
        kubeconfig += (kubeconfig.empty() ? "" : ":") + sim->kubeconfig_path().string();
        cfg += "  - name: " + n + "\n    apiServer: " + sim->url() +
               "\n    gateway: {type: NodePort, externalIPs: [192.0.2.10], nodeSelector: {}}\n";
        sims.push_back(std::move(sim));
      }
      const auto config = home.write("meshctl.yaml", cfg);
      for (const char* what : {"fresh", "repeat"}) {
        std::vector<std::size_t> mark;
        for (const auto& s : sims) {
          mark.push_back(s->request_log().size());
        }
        const auto t = std::chrono::steady_clock::now();
        auto r = meshctl::testing::run_meshctl(
            {"-c", config.string(), "join", "cn-shanghai", "wuxi"},
            {{"KUBECONFIG", kubeconfig}, {"HOME", home.path().string()}});
        const double wall = seconds_since(t);
        if (r.exit_code != 0) {
          std::fprintf(stderr, "join failed: %s\n", r.err.c_str());
          return 1;
        }
        std::size_t requests = 0;
        std::size_t writes = 0;
        std::size_t max_cluster = 0;
        for (std::size_t i = 0; i < sims.size(); ++i) {
          const auto log = sims[i]->request_log_since(mark[i]);
          requests += log.size();
          writes += KubesimProcess::writes(log).size();
          max_cluster = std::max(max_cluster, log.size());
        }
        if (latency == 0) {
          auto [it, fresh] = baseline.emplace(what, wall);
          if (!fresh) {
            it->second = std::min(it->second, wall);
          }
          std::printf("%-8s %-6d %-8s %9zu %9zu %9zu %10.3f %12s\n", "0 ms", run, what, requests,
                      writes, max_cluster, wall, "-");
        } else {
          std::printf("%-8s %-6d %-8s %9zu %9zu %9zu %10.3f %12.1f\n",
                      (std::to_string(latency) + " ms").c_str(), run, what, requests, writes,
                      max_cluster, wall, (wall - baseline[what]) * 1000.0 / latency);
        }
      }
    }
  }
  std::printf(
      "\nround trips = (wall time - best wall time at 0 ms) / added latency: how many requests "
      "the\n"
      "slowest chain waited for one after another (the fresh join also waits for the token\n"
      "controller, 100 ms in kubesim). Sent one after another, a cluster's requests (max/clu) "
      "would\n"
      "take max/clu round trips.\n");
  return 0;
}

// Benchmark (issue 5: sync-svc at scale). In one run, on kubesims with the same latency added to
// every API request (a cloud cluster seen from the data centre is ~20 ms away):
//
//   1. 2,000 Services in 50 namespaces in cn-shanghai, synced to an empty wuxi by
//        meshctl sync-svc --from cn-shanghai --to wuxi
//      and by the runbook's way into a second, identical wuxi:
//        kubectl get svc -A -o json | jq <strip the fields> | kubectl apply --server-side -f -
//      first sync and a second run with nothing changed; wall time, requests, writes, ratios;
//   2. meshctl's peak resident memory syncing 10,000 Services (first run and unchanged run).
//
// usage: meshctl_bench_sync [--latency-ms 20] [--services 2000] [--namespaces 50]
//                           [--memory-services 10000] [--concurrency 32]

#include "support/testing.hpp"

#include <fcntl.h>
#include <kubesim_process.hpp>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>

using kubesim::testing::KubesimProcess;
using meshctl::testing::TempDir;

namespace {

struct Measured {
  double wall = 0;
  long max_rss_kb = 0;
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv with extra environment; wall time and peak RSS from wait4 (what /usr/bin/time says).
Measured run_measured(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& env) {
  TempDir dir;
  const auto out_path = dir.path() / "out";
  const auto err_path = dir.path() / "err";
  const auto t0 = std::chrono::steady_clock::now();
  const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const pid_t pid = meshctl::testing::spawn(argv, env, out, err);
  close(out);
  close(err);
  int status = 0;
  struct rusage usage {};
  wait4(pid, &status, 0, &usage);
  Measured m;
  m.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  m.max_rss_kb = usage.ru_maxrss;
  m.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  m.out = meshctl::testing::read_file(out_path);
  m.err = meshctl::testing::read_file(err_path);
  return m;
}

// `services` Services spread over `namespaces` namespaces "bench-NN", with the fields a real
// Service has (ports with names and nodePorts, selector, labels, annotations).
std::string generate_seed(int services, int namespaces) {
  std::string out;
  out.reserve(static_cast<std::size_t>(services) * 600);
  char ns[32];
  for (int n = 0; n < namespaces; ++n) {
    std::snprintf(ns, sizeof ns, "bench-%02d", n);
    out += std::string("---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ") + ns + "\n";
  }
  for (int i = 0; i < services; ++i) {
    std::snprintf(ns, sizeof ns, "bench-%02d", i % namespaces);
    const std::string name = "svc-" + std::to_string(i);
    out += "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: " + name +
           "\n  namespace: " + ns + "\n  labels:\n    app: " + name +
           "\n    team: bench\n  annotations:\n    example.com/owner: bench\nspec:\n"
           "  type: ClusterIP\n  selector:\n    app: " +
           name +
           "\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n  - name: grpc\n"
           "    port: 9090\n    appProtocol: grpc\n";
  }
  return out;
}

// The runbook's strip: the same fields meshctl drops, namespaces first, one document each (a
// `kind: List` would make kubectl validate against /openapi/v2, which kubesim does not serve).
const char* k_jq = R"JQ(
  [.items[] | select(.metadata.namespace | startswith("bench-"))] as $svcs
  | ($svcs | map(.metadata.namespace) | unique | .[]
     | {apiVersion: "v1", kind: "Namespace", metadata: {name: .}}),
    ($svcs[]
     | {apiVersion: "v1", kind: "Service",
        metadata: {name: .metadata.name, namespace: .metadata.namespace,
                   labels: .metadata.labels},
        spec: (.spec
               | del(.clusterIP, .clusterIPs, .externalIPs, .loadBalancerIP,
                     .loadBalancerSourceRanges, .healthCheckNodePort, .ipFamilies,
                     .ipFamilyPolicy, .externalTrafficPolicy, .sessionAffinity,
                     .internalTrafficPolicy)
               | .type = "ClusterIP"
               | .ports = [.ports[] | del(.nodePort)])})
)JQ";

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

struct Cluster {
  std::unique_ptr<KubesimProcess> sim;
  std::size_t mark = 0;
};

std::unique_ptr<KubesimProcess>
start(const std::string& name, const std::vector<std::filesystem::path>& seeds, int latency) {
  auto sim = std::make_unique<KubesimProcess>();
  kubesim::testing::KubesimOptions opts;
  opts.faults = {{"latencyMs", latency}};
  sim->start(name, seeds, opts);
  return sim;
}

} // namespace

int main(int argc, char** argv) {
  int latency = 20;
  int services = 2000;
  int namespaces = 50;
  int memory_services = 10000;
  int concurrency = 32;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int v = std::stoi(argv[i + 1]);
    if (flag == "--latency-ms") {
      latency = v;
    } else if (flag == "--services") {
      services = v;
    } else if (flag == "--namespaces") {
      namespaces = v;
    } else if (flag == "--memory-services") {
      memory_services = v;
    } else if (flag == "--concurrency") {
      concurrency = v;
    }
  }
  const auto seeds = KubesimProcess::seed_dir();
  TempDir work;
  const auto bench_seed = work.write("bench.yaml", generate_seed(services, namespaces));
  std::printf(
      "sync-svc benchmark: %d Services in %d namespaces, %d ms added to every API request\n",
      services, namespaces, latency);
  std::printf("(meshctl --concurrency %d; kubectl %s)\n\n", concurrency,
              meshctl::testing::run({"kubectl", "version", "--client"}).out.substr(0, 40).c_str());

  auto t = std::chrono::steady_clock::now();
  auto source = start("cn-shanghai",
                      {seeds / "istio-crds.yaml", seeds / "cn-shanghai.yaml", bench_seed}, latency);
  auto target_m = start("wuxi", {seeds / "istio-crds.yaml", seeds / "wuxi.yaml"}, latency);
  auto target_k = start("wuxi", {seeds / "istio-crds.yaml", seeds / "wuxi.yaml"}, latency);
  std::printf("three kubesims up in %.1f s\n\n", seconds_since(t));

  const std::string cfg = "mesh: {id: mesh1}\nclusters:\n  - name: cn-shanghai\n  - name: wuxi\n";
  const auto config = work.write("meshctl.yaml", cfg);
  const std::map<std::string, std::string> meshctl_env{
      {"KUBECONFIG",
       source->kubeconfig_path().string() + ":" + target_m->kubeconfig_path().string()},
      {"HOME", work.path().string()},
      {"MESHCTL_CONFIG", config.string()}};
  const std::string kubectl_home = (work.path() / "kubectl-home").string();
  std::filesystem::create_directories(kubectl_home);
  const std::map<std::string, std::string> kubectl_env{
      {"KUBECONFIG",
       source->kubeconfig_path().string() + ":" + target_k->kubeconfig_path().string()},
      {"HOME", kubectl_home}};
  const auto jq_file = work.write("strip.jq", k_jq);
  const std::string pipeline =
      "set -o pipefail; kubectl --context cn-shanghai get svc -A -o json | jq -c -f " +
      jq_file.string() + " | kubectl --context wuxi apply --server-side -f - >/dev/null";

  auto count = [](KubesimProcess& k, std::size_t mark, std::size_t* writes) {
    const auto log = k.request_log_since(mark);
    *writes = KubesimProcess::writes(log).size();
    return log.size();
  };
  struct Row {
    std::string what;
    double wall;
    std::size_t requests;
    std::size_t writes;
    long rss_kb;
  };
  std::vector<Row> rows;
  auto run_meshctl = [&](const std::string& what) {
    const auto ms = source->request_log().size();
    const auto mt = target_m->request_log().size();
    auto m =
        run_measured({meshctl::testing::meshctl_bin().string(), "sync-svc", "--from", "cn-shanghai",
                      "--to", "wuxi", "--concurrency", std::to_string(concurrency)},
                     meshctl_env);
    if (m.exit_code != 0) {
      std::fprintf(stderr, "meshctl failed (%d): %s%s\n", m.exit_code, m.out.c_str(),
                   m.err.c_str());
      std::exit(1);
    }
    std::size_t w1 = 0;
    std::size_t w2 = 0;
    const auto r = count(*source, ms, &w1) + count(*target_m, mt, &w2);
    rows.push_back({what, m.wall, r, w1 + w2, m.max_rss_kb});
    return m;
  };
  auto run_kubectl = [&](const std::string& what) {
    const auto ms = source->request_log().size();
    const auto mt = target_k->request_log().size();
    auto m = run_measured({"bash", "-c", pipeline}, kubectl_env);
    if (m.exit_code != 0) {
      std::fprintf(stderr, "kubectl pipeline failed (%d): %s\n", m.exit_code, m.err.c_str());
      std::exit(1);
    }
    std::size_t w1 = 0;
    std::size_t w2 = 0;
    const auto r = count(*source, ms, &w1) + count(*target_k, mt, &w2);
    rows.push_back({what, m.wall, r, w1 + w2, m.max_rss_kb});
    return m;
  };

  const auto m1 = run_meshctl("meshctl, first sync");
  const auto m2 = run_meshctl("meshctl, unchanged");
  const auto k1 = run_kubectl("kubectl+jq, first sync");
  const auto k2 = run_kubectl("kubectl+jq, unchanged");

  std::printf("%-24s %10s %10s %8s %12s\n", "run", "wall (s)", "requests", "writes", "peak RSS");
  for (const auto& r : rows) {
    std::printf("%-24s %10.3f %10zu %8zu %9.1f MB\n", r.what.c_str(), r.wall, r.requests, r.writes,
                static_cast<double>(r.rss_kb) / 1024.0);
  }
  std::printf("\nfirst sync: meshctl %.1fx faster (target >= 10x)\n", k1.wall / m1.wall);
  std::printf("unchanged:  meshctl %.1fx faster (target >= 50x), %zu writes (target 0)\n",
              k2.wall / m2.wall, rows[1].writes);
  std::printf("kubectl applied %.0f objects/s first, %.0f objects/s unchanged\n",
              (services + namespaces) / k1.wall, (services + namespaces) / k2.wall);
  source.reset();
  target_m.reset();
  target_k.reset();

  // Peak memory at 10,000 Services (no added latency: memory, not time, is measured here).
  const auto big_seed =
      work.write("big.yaml", generate_seed(memory_services, std::max(1, memory_services / 50)));
  t = std::chrono::steady_clock::now();
  source =
      start("cn-shanghai", {seeds / "istio-crds.yaml", seeds / "cn-shanghai.yaml", big_seed}, 0);
  target_m = start("wuxi", {seeds / "istio-crds.yaml", seeds / "wuxi.yaml"}, 0);
  std::printf("\n%d Services: kubesims up in %.1f s\n", memory_services, seconds_since(t));
  const std::map<std::string, std::string> big_env{
      {"KUBECONFIG",
       source->kubeconfig_path().string() + ":" + target_m->kubeconfig_path().string()},
      {"HOME", work.path().string()},
      {"MESHCTL_CONFIG", config.string()}};
  for (const char* what : {"first sync", "unchanged"}) {
    auto m = run_measured({meshctl::testing::meshctl_bin().string(), "sync-svc", "--from",
                           "cn-shanghai", "--to", "wuxi"},
                          big_env);
    if (m.exit_code != 0) {
      std::fprintf(stderr, "meshctl failed: %s%s\n", m.out.c_str(), m.err.c_str());
      return 1;
    }
    std::printf("meshctl, %-11s %8.3f s   peak RSS %6.1f MB (target < 100 MB)\n", what, m.wall,
                static_cast<double>(m.max_rss_kb) / 1024.0);
  }
  return 0;
}

// Completion from the clusters: `meshctl __complete` offers the namespaces, the pods with an Envoy
// (POD.NAMESPACE) and the Services (SERVICE.NAMESPACE) of the clusters the command line names,
// and stays quick and silent about a cluster that does not answer.

#include "clusters.hpp"

#include <chrono>
#include <map>
#include <set>
#include <sstream>

using meshctl::e2e::TestClusters;

namespace {

// The shell scripts' question comes first on the command line (TestClusters::meshctl puts -c
// there): the config goes in the environment instead.
std::map<std::string, std::string> env_of(const TestClusters& clusters) {
  return {{"KUBECONFIG", clusters.kubeconfig()},
          {"MESHCTL_CONFIG", clusters.config().string()},
          {"HOME", clusters.dir().path().string()}};
}

std::set<std::string> offered(const TestClusters& clusters, std::vector<std::string> args) {
  args.insert(args.begin(), "__completeNoDesc");
  const auto r = meshctl::testing::run_meshctl(args, env_of(clusters));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::set<std::string> words;
  std::istringstream in(r.out);
  std::string line;
  std::string last;
  while (std::getline(in, line)) {
    if (!last.empty()) {
      words.insert(last);
    }
    last = line;
  }
  CHECK(last == ":4"); // no file names for any of these
  return words;
}

} // namespace

TEST_CASE("completion offers namespaces, pods and Services from the clusters",
          "[e2e][completion]") {
  MESHCTL_REQUIRE_SIM(); // the seed's names
  TestClusters clusters;

  const auto namespaces = offered(clusters, {"verify", "-n", ""});
  CHECK(namespaces.count("dev") == 1);
  CHECK(namespaces.count("istio-system") == 1);
  CHECK(offered(clusters, {"sync-svc", "--exclude-namespace", "istio-"}) ==
        std::set<std::string>{"istio-system"});

  // Services as verify, localize and expose take them; both clusters' (helloworld is in both).
  CHECK(offered(clusters, {"verify", "hello"}) == std::set<std::string>{"helloworld.dev"});
  CHECK(offered(clusters, {"localize", "s"}) == std::set<std::string>{"sleep.dev"});
  CHECK(offered(clusters, {"expose", "helloworld.dev", "-n", "dev", "s"}) ==
        std::set<std::string>{"sleep.dev"});

  // Pods with an Envoy (not istiod's), as POD.NAMESPACE, in the cluster --context names.
  CHECK(offered(clusters, {"--context", "wuxi", "pc", "listener", ""}) ==
        std::set<std::string>{"sleep-7656cf8794-k3m9r.dev"});
  CHECK(offered(clusters, {"pc", "ep", "--context", "cn-shanghai", "-n", "dev", ""}) ==
        std::set<std::string>{"helloworld-v1-5b6c8b7f9d-4jx2m.dev", "sleep-7656cf8794-9v2xz.dev"});
  CHECK(offered(clusters, {"verify", "helloworld.dev", "--from", "sleep"}) ==
        std::set<std::string>{"sleep-7656cf8794-9v2xz.dev", "sleep-7656cf8794-k3m9r.dev"});

  // Clusters of the meshctl.yaml the tests wrote.
  CHECK(offered(clusters, {"sync-svc", "--to", ""}) ==
        std::set<std::string>{"cn-shanghai", "wuxi"});

  // The bash script, as a shell runs it, gets the same.
  meshctl::testing::TempDir dir;
  const auto script = dir.write("meshctl.bash", clusters.meshctl({"completion", "bash"}).out);
  const auto r = meshctl::testing::run(
      {"bash", "--norc", "--noprofile", "-c",
       "source '" + script.string() +
           "'\nCOMP_LINE='meshctl verify hello'\nCOMP_POINT=${#COMP_LINE}\n_meshctl\n"
           "printf '%s\\n' \"${COMPREPLY[@]}\"\n"},
      [&] {
        auto env = env_of(clusters);
        env["PATH"] = meshctl::testing::meshctl_bin().parent_path().string() + ":/usr/bin:/bin";
        return env;
      }());
  CHECK(r.out == "helloworld.dev\n");
}

TEST_CASE("completion leaves out a cluster that does not answer, quickly and silently",
          "[e2e][completion]") {
  MESHCTL_REQUIRE_SIM();
  TestClusters clusters;
  clusters.sim("wuxi").set_faults({{"latencyMs", 10000}}); // answers after completion gave up
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(offered(clusters, {"verify", "--from", "sleep"}) ==
        std::set<std::string>{"sleep-7656cf8794-9v2xz.dev"});
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(8));
  clusters.sim("wuxi").clear_faults();
  clusters.sim("cn-shanghai").stop();
  CHECK(offered(clusters, {"verify", "--from", "sleep"}) ==
        std::set<std::string>{"sleep-7656cf8794-k3m9r.dev"});
}

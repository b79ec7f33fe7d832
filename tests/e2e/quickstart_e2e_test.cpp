// The README's quick start, exactly as written there, on the seed's two clusters: every command
// succeeds and the last one, verify, passes. The commands are read from README.md itself, so the
// quick start cannot drift from what this test runs. It runs each command once, as a new user
// would: no waiting between them and no retry of verify.

#include "verify_steps.hpp"

#include <sstream>

using namespace meshctl::e2e;

namespace {

// The `$ meshctl …` lines of the README's first console block, without their comments.
std::vector<std::vector<std::string>> quick_start() {
  std::istringstream readme(
      meshctl::testing::read_file(meshctl::testing::source_dir() / "README.md"));
  std::vector<std::vector<std::string>> out;
  bool inside = false;
  for (std::string line; std::getline(readme, line);) {
    if (!inside) {
      inside = line == "```console";
      continue;
    }
    if (line == "```") {
      break;
    }
    if (line.rfind("$ meshctl ", 0) != 0) {
      continue;
    }
    line = line.substr(0, line.find('#'));
    std::istringstream words(line.substr(10));
    std::vector<std::string> args;
    for (std::string w; words >> w;) {
      args.push_back(w);
    }
    out.push_back(std::move(args));
  }
  return out;
}

} // namespace

TEST_CASE("the README's quick start ends with verify passing", "[e2e][quickstart]") {
  MESHCTL_REQUIRE_SIM(); // needs the seed's clusters as they are before join
  const auto commands = quick_start();
  REQUIRE(commands.size() == 5);
  REQUIRE(commands.front() == std::vector<std::string>{"join", "cn-shanghai", "wuxi"});
  REQUIRE(commands.back() == std::vector<std::string>{"verify", "helloworld.dev"});
  TestClusters clusters;
  for (const auto& args : commands) {
    auto r = clusters.meshctl(args);
    INFO("meshctl " << args[0] << " (exit " << r.exit_code << "):\n" << r.out << r.err);
    CHECK(r.exit_code == 0);
    if (args[0] == "join") {
      // istiod read the seed's self-signed root at start: join says it restarts it, and why.
      for (const std::string cluster : {"cn-shanghai", "wuxi"}) {
        CHECK(r.out.find(cluster + ": restarted istiod") != std::string::npos);
      }
      CHECK(r.out.find("because it serves root") != std::string::npos);
    }
  }
  // And a second join has nothing left to do: istiod already serves the mesh root.
  const auto mark = clusters.mark();
  auto again = clusters.meshctl({"join", "cn-shanghai", "wuxi"});
  INFO(again.out << again.err);
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("restarted istiod") == std::string::npos);
  CHECK(clusters.writes_since(mark).empty());
}

TEST_CASE("progress shows on a terminal's stderr and never in a pipe", "[e2e][progress]") {
  if (!std::filesystem::exists("/usr/bin/script")) {
    MESHCTL_SKIP("script(1) from util-linux is needed to give meshctl a terminal");
  }
  TestClusters clusters;
  const auto& a = clusters.names()[0];
  const auto& b = clusters.names()[1];

  // Piped: stderr holds no progress, stdout the result alone.
  auto piped = clusters.meshctl({"join", a, b});
  INFO(piped.out << piped.err);
  REQUIRE(piped.exit_code == 0);
  CHECK(piped.err.find('\r') == std::string::npos);
  CHECK(piped.out.find('\r') == std::string::npos);

  // On a terminal (script(1) gives one): the status line is drawn and erased again.
  const std::string cmd = meshctl::testing::meshctl_bin().string() + " -c " +
                          clusters.config().string() + " join " + a + " " + b;
  const std::map<std::string, std::string> env = {{"KUBECONFIG", clusters.kubeconfig()},
                                                  {"HOME", clusters.dir().path().string()},
                                                  {"TERM", "xterm"},
                                                  {"PATH", "/usr/bin:/bin"}};
  auto tty = meshctl::testing::run({"/usr/bin/script", "-qec", cmd, "/dev/null"}, env);
  INFO(tty.out);
  CHECK(tty.exit_code == 0);
  CHECK(tty.out.find("\r\033[Kjoin  ") != std::string::npos);
  CHECK(tty.out.find(a + ": 1/3 preconditions") != std::string::npos);

  // verify on a terminal: its header comes at once, before any cluster is read (the status line
  // follows it), and once only.
  const std::string verify = meshctl::testing::meshctl_bin().string() + " -c " +
                             clusters.config().string() + " verify helloworld.dev";
  auto report = meshctl::testing::run({"/usr/bin/script", "-qec", verify, "/dev/null"}, env);
  INFO(report.out);
  CHECK(report.out.starts_with("Verifying helloworld.dev "));
  CHECK(report.out.find("Verifying", 1) == std::string::npos);
  CHECK(report.out.find("\r\033[Kverify helloworld.dev") != std::string::npos);

  auto dumb_env = env;
  dumb_env["TERM"] = "dumb";
  auto dumb = meshctl::testing::run({"/usr/bin/script", "-qec", cmd, "/dev/null"}, dumb_env);
  CHECK(dumb.out.find("\033[K") == std::string::npos);
}

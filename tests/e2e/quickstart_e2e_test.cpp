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

// Completion scripts: loaded into a real bash, asked for completions as bash would.

#include "support/testing.hpp"

#include <regex>

using namespace meshctl::testing;

namespace {

// Runs bash with the script loaded and prints COMPREPLY for the given command line.
RunResult complete_in_bash(const std::string& script_path, const std::string& line) {
  const std::string program =
      "source '" + script_path + "'\n" + "COMP_LINE='" + line + "'\n" +
      "read -ra COMP_WORDS <<< \"$COMP_LINE\"\n" +
      (line.back() == ' ' ? std::string("COMP_WORDS+=('')\n") : std::string()) +
      "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n" + "_meshctl\n" +
      "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
  return run({"bash", "--norc", "--noprofile", "-c", program},
             {{"PATH", (meshctl_bin().parent_path().string() + ":/usr/bin:/bin")}});
}

} // namespace

TEST_CASE("completion prints each shell's script", "[cli][completion]") {
  auto bash = run_meshctl({"completion", "bash"});
  CHECK(bash.exit_code == 0);
  CHECK(bash.out.find("complete -F _meshctl meshctl") != std::string::npos);
  CHECK(run_meshctl({"completion", "zsh"}).out.rfind("#compdef meshctl", 0) == 0);
  CHECK(run_meshctl({"completion", "fish"}).out.find("complete -c meshctl") != std::string::npos);
  CHECK(run_meshctl({"completion", "tcsh"}).exit_code == 2);
}

TEST_CASE("bash completion completes verbs and flags in a real bash", "[cli][completion]") {
  TempDir dir;
  const auto script = dir.write("meshctl.bash", run_meshctl({"completion", "bash"}).out);
  auto verbs = complete_in_bash(script.string(), "meshctl lo");
  REQUIRE(verbs.exit_code == 0);
  CHECK(verbs.out == "localize\n");
  auto fmt = complete_in_bash(script.string(), "meshctl verify -o j");
  CHECK(fmt.out == "json\n");
  auto flag = complete_in_bash(script.string(), "meshctl join --dry");
  CHECK(flag.out == "--dry-run\n");
}

TEST_CASE("bash completion lists every verb meshctl --help shows", "[cli][completion]") {
  const auto help = run_meshctl({"--help"}).out;
  const auto script = run_meshctl({"completion", "bash"}).out;
  std::smatch m;
  REQUIRE(std::regex_search(script, m, std::regex("local verbs=\"([^\"]*)\"")));
  const std::string verbs = " " + m[1].str() + " ";
  // CLI11 lists subcommands as "  name   description" under "Subcommands:".
  const auto pos = help.find("Subcommands:");
  REQUIRE(pos != std::string::npos);
  std::istringstream lines(help.substr(pos));
  std::string line;
  std::getline(lines, line);
  int seen = 0;
  while (std::getline(lines, line) && !line.empty()) {
    std::istringstream words(line);
    std::string verb;
    words >> verb;
    if (!verb.empty() && verb.back() == ',') { // "proxy-config, pc": the name before its aliases
      verb.pop_back();
    }
    if (verb.empty()) {
      continue;
    }
    ++seen;
    CHECK(verbs.find(" " + verb + " ") != std::string::npos);
  }
  CHECK(seen >= 8);
}

TEST_CASE("bash completion offers kubeconfig contexts for join", "[cli][completion]") {
  TempDir dir;
  const auto script = dir.write("meshctl.bash", run_meshctl({"completion", "bash"}).out);
  const auto kc = (source_dir() / "examples/seed/kubeconfig.yaml").string();
  auto r = complete_in_bash(script.string(), "meshctl --kubeconfig " + kc + " join w");
  CHECK(r.out == "wuxi\n");
  auto ctx =
      complete_in_bash(script.string(), "meshctl --kubeconfig " + kc + " verify --context c");
  CHECK(ctx.out == "cn-shanghai\n");
}

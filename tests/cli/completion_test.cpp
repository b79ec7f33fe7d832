// Shell completion: `meshctl __complete` (cobra's protocol) answers from the command tree, so every
// verb's --help and its completion list the same flags; the three scripts `meshctl completion`
// prints are loaded into a real bash, zsh and fish and asked as the shell would ask them.

#include "support/testing.hpp"

#include <algorithm>
#include <chrono>
#include <set>
#include <sstream>

using namespace meshctl::testing;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    out.push_back(line);
  }
  return out;
}

// The words `__complete` offers (descriptions dropped), and its directive.
struct Offered {
  std::set<std::string> words;
  int directive = -1;
};

Offered complete(const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env = {}) {
  std::vector<std::string> full{"__complete"};
  full.insert(full.end(), args.begin(), args.end());
  const auto r = run_meshctl(full, env);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  Offered o;
  const auto lines = lines_of(r.out);
  REQUIRE_FALSE(lines.empty());
  REQUIRE(lines.back().rfind(':', 0) == 0);
  o.directive = std::stoi(lines.back().substr(1));
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    o.words.insert(lines[i].substr(0, lines[i].find('\t')));
  }
  return o;
}

// Every flag a --help text lists: "  -n,--namespace TEXT  …", "  --dry-run{offline} …".
std::set<std::string> help_flags(const std::string& help) {
  std::set<std::string> out;
  for (const auto& line : lines_of(help)) {
    const auto start = line.find_first_not_of(' ');
    if (start == std::string::npos || start == 0 || line[start] != '-') {
      continue;
    }
    const std::string names = line.substr(start, line.find(' ', start) - start);
    std::istringstream parts(names);
    std::string part;
    while (std::getline(parts, part, ',')) {
      part = part.substr(0, part.find_first_of("{=["));
      if (part.size() > 1 && part[0] == '-') {
        out.insert(part);
      }
    }
  }
  return out;
}

// The commands `meshctl --help` lists ("proxy-config, pc" gives proxy-config), then those of the
// commands that group others (proxy-config listener, config view), as paths.
std::vector<std::vector<std::string>> commands() {
  std::vector<std::vector<std::string>> out;
  auto listed = [](const std::vector<std::string>& path) {
    std::vector<std::string> args = path;
    args.emplace_back("--help");
    const auto help = run_meshctl(args).out;
    std::vector<std::string> names;
    const auto pos = help.find("Subcommands:");
    if (pos == std::string::npos) {
      return names;
    }
    for (const auto& line : lines_of(help.substr(pos))) {
      if (line.rfind("  ", 0) != 0) {
        if (!names.empty() || line.rfind("Subcommands:", 0) != 0) {
          break;
        }
        continue;
      }
      std::istringstream words(line);
      std::string name;
      words >> name;
      if (!name.empty() && name.back() == ',') {
        name.pop_back();
      }
      names.push_back(name);
    }
    return names;
  };
  for (const auto& verb : listed({})) {
    out.push_back({verb});
    if (verb == "help") {
      continue; // `help --help` is meshctl's help: its subcommands are the verbs themselves
    }
    for (const auto& sub : listed({verb})) {
      out.push_back({verb, sub});
    }
  }
  return out;
}

std::map<std::string, std::string> path_env() {
  return {{"PATH", meshctl_bin().parent_path().string() + ":/usr/bin:/bin"},
          {"HOME", "/nonexistent-meshctl-test-home"},
          {"KUBECONFIG", ""},
          {"MESHCTL_CONFIG", ""}};
}

bool have(const std::string& shell) {
  return run({"sh", "-c", "command -v " + shell}).exit_code == 0;
}

std::vector<std::string> split_line(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  std::string w;
  while (in >> w) {
    words.push_back(w);
  }
  if (line.back() == ' ') {
    words.emplace_back();
  }
  return words;
}

// Runs bash with the script loaded as `complete -F` would run it for `line` (cursor at its end)
// and returns COMPREPLY.
std::vector<std::string> in_bash(const std::string& script, const std::string& line,
                                 std::map<std::string, std::string> env = path_env()) {
  const std::string program =
      "source '" + script + "'\nCOMP_LINE='" + line +
      "'\nCOMP_POINT=${#COMP_LINE}\nread -ra COMP_WORDS <<< \"$COMP_LINE\"\n" +
      (line.back() == ' ' ? "COMP_WORDS+=('')\n" : "") +
      "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n_meshctl\n"
      "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
  const auto r = run({"bash", "--norc", "--noprofile", "-c", program}, env);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  auto out = lines_of(r.out);
  out.erase(std::remove(out.begin(), out.end(), ""), out.end());
  return out;
}

// Runs zsh with the script loaded and compsys's functions replaced by ones that print what they
// were given: _describe its candidates' words, _files "<files>".
std::vector<std::string> in_zsh(const std::string& script, const std::string& line,
                                std::map<std::string, std::string> env = path_env()) {
  std::string words_array;
  for (const auto& w : split_line(line)) {
    words_array += " '" + w + "'";
  }
  const std::string program =
      "compdef() { : }\n"
      "_describe() { shift 3; local -a c; c=(\"${(@P)1}\"); print -rl -- \"${(@)c%%:*}\" }\n"
      "_files() { print -r -- \"<files$*>\" }\n"
      "source '" +
      script + "'\nwords=(" + words_array + ")\nCURRENT=${#words}\n_meshctl\n";
  const auto r = run({"zsh", "-f", "-c", program}, env);
  INFO(r.err);
  auto out = lines_of(r.out);
  out.erase(std::remove(out.begin(), out.end(), ""), out.end());
  return out;
}

// Asks fish to complete `line` (complete -C) with the script loaded; the candidates' words.
std::vector<std::string> in_fish(const std::string& script, const std::string& line,
                                 std::map<std::string, std::string> env = path_env()) {
  env["XDG_CONFIG_HOME"] = "/nonexistent-meshctl-test-config";
  const auto r =
      run({"fish", "--no-config", "-c", "source '" + script + "'; complete -C'" + line + "'"}, env);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  std::vector<std::string> out;
  for (const auto& l : lines_of(r.out)) {
    out.push_back(l.substr(0, l.find('\t')));
  }
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

} // namespace

TEST_CASE("completion prints each shell's script", "[cli][completion]") {
  auto bash = run_meshctl({"completion", "bash"});
  CHECK(bash.exit_code == 0);
  CHECK(bash.out.find("complete -F _meshctl meshctl") != std::string::npos);
  CHECK(run_meshctl({"completion", "zsh"}).out.rfind("#compdef meshctl", 0) == 0);
  CHECK(run_meshctl({"completion", "fish"}).out.find("complete -c meshctl") != std::string::npos);
  CHECK(run_meshctl({"completion", "tcsh"}).exit_code == 2);
  // The scripts ask meshctl; none lists a verb of its own.
  for (const char* shell : {"bash", "zsh", "fish"}) {
    const auto text = run_meshctl({"completion", shell}).out;
    INFO(shell);
    CHECK(text.find("__complete") != std::string::npos);
    CHECK(text.find("sync-svc") == std::string::npos);
  }
}

TEST_CASE("__complete is hidden and speaks cobra's protocol", "[cli][completion]") {
  CHECK(run_meshctl({"--help"}).out.find("__complete") == std::string::npos);
  const auto verbs = complete({""});
  CHECK(verbs.directive == 4); // ShellCompDirectiveNoFileComp
  for (const char* verb : {"join", "unjoin", "expose", "localize", "sync-svc", "verify", "status",
                           "proxy-config", "pc", "version", "config", "completion", "help"}) {
    INFO(verb);
    CHECK(verbs.words.count(verb) == 1);
  }
  CHECK(verbs.words.count("__complete") == 0);
  // Descriptions follow a TAB; __completeNoDesc leaves them out.
  auto r = run_meshctl({"__complete", "lo"});
  CHECK(r.out.rfind("localize\t", 0) == 0);
  CHECK(r.out.find("\n:4\n") != std::string::npos);
  CHECK(run_meshctl({"__completeNoDesc", "lo"}).out == "localize\n:4\n");

  CHECK(complete({"pc", ""}).words == std::set<std::string>{"listener", "listeners", "l",
                                                            "endpoints", "endpoint", "ep", "eds",
                                                            "clusters", "cluster", "c"});
  CHECK(complete({"help", "proxy-config", "e"}).words ==
        std::set<std::string>{"endpoints", "endpoint", "ep", "eds"});
  CHECK(complete({"completion", ""}).words == std::set<std::string>{"bash", "zsh", "fish"});
  CHECK(complete({"verify", "-o", ""}).words ==
        std::set<std::string>{"table", "wide", "yaml", "json"});
  CHECK(complete({"-o", "y"}).words == std::set<std::string>{"yaml"});
  const auto status_flags = complete({"status", "-"}).words;
  CHECK(status_flags.count("--wait") == 1);
  CHECK(status_flags.count("--context") == 1);
  CHECK(complete({"verify", "--fail-on", ""}).words == std::set<std::string>{"error", "warning"});
  CHECK(complete({"join", "--dry-run="}).words ==
        std::set<std::string>{"--dry-run=none", "--dry-run=offline", "--dry-run=client",
                              "--dry-run=server"});
  CHECK(complete({"localize", "--by", ""}).words ==
        std::set<std::string>{"cluster", "network", "zone"});
  // A verb's flag before the verb (kubectl's order) still takes its value.
  CHECK(complete({"--fail-on", "w"}).words == std::set<std::string>{"warning"});
  // Files for --kubeconfig (directive 0: the shell's own), directories for --output-dir.
  CHECK(complete({"--kubeconfig", ""}).directive == 0);
  CHECK(complete({"join", "--output-dir", ""}).directive == 16);
  // Free text: nothing, and no file names.
  const auto timeout = complete({"--timeout", ""});
  CHECK(timeout.words.empty());
  CHECK(timeout.directive == 4);
}

TEST_CASE("__complete offers every flag each verb's --help lists, and no other",
          "[cli][completion]") {
  const auto all = commands();
  REQUIRE(all.size() >= 12);
  for (const auto& path : all) {
    std::vector<std::string> args = path;
    args.emplace_back("--help");
    const auto help = run_meshctl(args);
    std::string name;
    for (const auto& p : path) {
      name += p + " ";
    }
    INFO(name);
    REQUIRE(help.exit_code == 0);
    const auto listed = help_flags(help.out);
    CHECK(listed.count("--help") == 1);
    CHECK(listed.count("--kubeconfig") == 1);
    std::vector<std::string> question = path;
    question.emplace_back("-");
    CHECK(complete(question).words == listed);
  }
}

TEST_CASE("__complete offers contexts and clusters from the kubeconfig and meshctl.yaml",
          "[cli][completion]") {
  const auto kc = (source_dir() / "examples/seed/kubeconfig.yaml").string();
  CHECK(complete({"--kubeconfig", kc, "join", ""}).words ==
        std::set<std::string>{"cn-shanghai", "wuxi"});
  // Named once: join's clusters are repeatable, a cluster already given is not offered again.
  CHECK(complete({"--kubeconfig", kc, "join", "wuxi", ""}).words ==
        std::set<std::string>{"cn-shanghai"});
  CHECK(complete({"--kubeconfig", kc, "sync-svc", "--from", "w"}).words ==
        std::set<std::string>{"wuxi"});
  // A cluster of meshctl.yaml under its own name, not again as the context it stands for.
  TempDir dir;
  const auto cfg = dir.write("meshctl.yaml", "clusters:\n  - name: sh\n    context: cn-shanghai\n");
  CHECK(complete({"--kubeconfig", kc, "-c", cfg.string(), "verify", "--context", ""}).words ==
        std::set<std::string>{"sh", "wuxi"});
}

TEST_CASE("__complete asks no cluster it cannot reach for long, and says nothing",
          "[cli][completion]") {
  // The seed's kubeconfig names servers nobody listens on here.
  const auto kc = (source_dir() / "examples/seed/kubeconfig.yaml").string();
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"__complete", "--kubeconfig", kc, "verify", "-n", ""},
           {"__complete", "--kubeconfig", kc, "verify", "hello"},
           {"__complete", "--kubeconfig", kc, "--context", "wuxi", "pc", "listener", ""}}) {
    const auto r = run_meshctl(args);
    CHECK(r.exit_code == 0);
    CHECK(r.out == ":4\n");
  }
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20));
}

TEST_CASE("the bash script completes verbs, flags and values in a real bash",
          "[cli][completion][bash]") {
  TempDir dir;
  const auto script = dir.write("meshctl.bash", run_meshctl({"completion", "bash"}).out).string();
  const auto verbs = in_bash(script, "meshctl ");
  CHECK(has(verbs, "sync-svc"));
  CHECK(has(verbs, "pc"));
  CHECK(in_bash(script, "meshctl lo") == std::vector<std::string>{"localize"});
  CHECK(in_bash(script, "meshctl verify -o j") == std::vector<std::string>{"json"});
  CHECK(in_bash(script, "meshctl join --dry") == std::vector<std::string>{"--dry-run"});
  const auto flags = in_bash(script, "meshctl sync-svc --");
  CHECK(has(flags, "--exclude-namespace"));
  CHECK(has(flags, "--kubeconfig"));
  // Readline replaces what follows '=': the candidates are what goes there.
  CHECK(in_bash(script, "meshctl join --dry-run=cl") == std::vector<std::string>{"client"});
  const auto kc = (source_dir() / "examples/seed/kubeconfig.yaml").string();
  CHECK(in_bash(script, "meshctl --kubeconfig " + kc + " join w") ==
        std::vector<std::string>{"wuxi"});
  CHECK(in_bash(script, "meshctl --kubeconfig " + kc + " verify --context c") ==
        std::vector<std::string>{"cn-shanghai"});
  // Nothing offered and files allowed: the shell's file names.
  CHECK(in_bash(script, "meshctl --kubeconfig " + dir.path().string() + "/meshctl.b") ==
        std::vector<std::string>{script});
}

TEST_CASE("the zsh script completes verbs and flags in a real zsh", "[cli][completion][zsh]") {
  if (!have("zsh")) {
    MESHCTL_SKIP("zsh is not installed (scripts/setup installs it)");
  }
  TempDir dir;
  const auto script = dir.write("_meshctl", run_meshctl({"completion", "zsh"}).out).string();
  const auto verbs = in_zsh(script, "meshctl ");
  CHECK(has(verbs, "sync-svc"));
  CHECK(has(verbs, "pc"));
  CHECK(in_zsh(script, "meshctl lo") == std::vector<std::string>{"localize"});
  const auto flags = in_zsh(script, "meshctl verify --f");
  CHECK(flags == std::vector<std::string>{"--from", "--fail-on", "--from-bundle"});
  CHECK(in_zsh(script, "meshctl join --dry-run=cl") ==
        std::vector<std::string>{"--dry-run=client"});
  CHECK(in_zsh(script, "meshctl --kubeconfig ") == std::vector<std::string>{"<files>"});
  CHECK(in_zsh(script, "meshctl join --output-dir ") == std::vector<std::string>{"<files-/>"});
}

TEST_CASE("the fish script completes verbs and flags in a real fish", "[cli][completion][fish]") {
  if (!have("fish")) {
    MESHCTL_SKIP("fish is not installed (scripts/setup installs it)");
  }
  TempDir dir;
  const auto script = dir.write("meshctl.fish", run_meshctl({"completion", "fish"}).out).string();
  const auto verbs = in_fish(script, "meshctl ");
  CHECK(has(verbs, "sync-svc"));
  CHECK(has(verbs, "pc"));
  CHECK(in_fish(script, "meshctl lo") == std::vector<std::string>{"localize"});
  const auto flags = in_fish(script, "meshctl unjoin --");
  CHECK(has(flags, "--purge-ca"));
  CHECK(has(flags, "--kubeconfig"));
  CHECK(in_fish(script, "meshctl verify --fail-on w") == std::vector<std::string>{"warning"});
  const auto kc = (source_dir() / "examples/seed/kubeconfig.yaml").string();
  CHECK(in_fish(script, "meshctl --kubeconfig " + kc + " join w") ==
        std::vector<std::string>{"wuxi"});
}

// meshctl __complete ARGS… WORD: the question every completion script (completions/) asks, in
// cobra's protocol, so that meshctl completes the way kubectl and istioctl do. ARGS are the words
// before the cursor, WORD the one being typed (possibly ""). The answer is one candidate a line —
// the word, then a TAB and a description when there is one — and a last line ":DIRECTIVE", a sum
// of cobra's ShellCompDirective bits: 1 error (ignore the answer), 2 no space after the word,
// 4 no file names when nothing matched, 8 the candidates are file extensions, 16 directories only.
//
// Verbs, aliases and flags come from the CLI11 tree main.cpp built, so a verb or flag added there
// is completed without touching the scripts. Values come from what each flag means (values_of):
// fixed sets (-o, --fail-on, --dry-run=, --by, shells), clusters and contexts (meshctl.yaml and
// the kubeconfig), and namespaces, pods and Services asked from the clusters the command line
// names, within a short bound and silently on failure (mesh/lookup.hpp).

#include "args.hpp"
#include "check/report.hpp"
#include "config/config.hpp"
#include "config/kubeconfig.hpp"
#include "context.hpp"
#include "core/duration.hpp"
#include "core/output.hpp"
#include "mesh/expose.hpp"
#include "mesh/join.hpp"
#include "mesh/lookup.hpp"
#include "mesh/session.hpp"

#include <algorithm>
#include <cstdio>
#include <set>
#include <string_view>

namespace meshctl::cmd {
namespace {

// cobra's ShellCompDirective bits (cobra/completions.go).
constexpr int k_directive_error = 1;
constexpr int k_directive_no_file = 4;
constexpr int k_directive_dirs = 16;

// What a flag's or argument's values are.
enum class Values {
  k_free,      // anything: no candidates, no file names
  k_file,      // a file: the shell's own file completion
  k_dir,       // a directory
  k_output,    // -o's formats
  k_cluster,   // a cluster of meshctl.yaml or a kubeconfig context
  k_namespace, // a namespace of the clusters
  k_proxy_pod, // POD.NAMESPACE of a pod with Envoy
  k_service,   // SERVICE.NAMESPACE
  k_fail_on,
  k_dry_run,
  k_by,
  k_shell,
  k_verb, // a verb, then its subcommands (help)
};

// A flag (by its long name) or an argument (by its name) means the same in every verb that takes
// it, except where a rule names the verb.
struct Rule {
  std::string_view verb; // "" = any verb
  std::string_view name;
  Values values;
};
constexpr Rule k_rules[] = {
    {"verify", "from", Values::k_proxy_pod},
    {"sync-svc", "from", Values::k_cluster},
    {"", "kubeconfig", Values::k_file},
    {"", "config", Values::k_file},
    {"", "file", Values::k_file},
    {"", "output-dir", Values::k_dir},
    {"", "save-bundle", Values::k_dir},
    {"", "from-bundle", Values::k_dir},
    {"", "output", Values::k_output},
    {"", "context", Values::k_cluster},
    {"", "to", Values::k_cluster},
    {"", "clusters", Values::k_cluster},
    {"", "contexts", Values::k_cluster},
    {"", "namespace", Values::k_namespace},
    {"", "exclude-namespace", Values::k_namespace},
    {"", "pod", Values::k_proxy_pod},
    {"", "service", Values::k_service},
    {"", "services", Values::k_service},
    {"", "fail-on", Values::k_fail_on},
    {"", "dry-run", Values::k_dry_run},
    {"", "by", Values::k_by},
    {"", "shell", Values::k_shell},
    {"", "verb", Values::k_verb},
};

struct Candidate {
  std::string word;
  std::string description;
};

struct Answer {
  std::vector<Candidate> candidates;
  int directive = k_directive_no_file;
};

// The verb `cmd` belongs to ("proxy-config" for its listener), "" for the root.
std::string verb_of(const CLI::App& cmd) {
  const CLI::App* c = &cmd;
  while (c->get_parent() != nullptr && c->get_parent()->get_parent() != nullptr) {
    c = c->get_parent();
  }
  return c->get_parent() == nullptr ? std::string() : c->get_name();
}

std::string name_of(const CLI::Option& o) {
  if (!o.nonpositional()) {
    return o.get_name();
  }
  return o.get_lnames().empty() ? std::string() : o.get_lnames().front();
}

Values values_of(const CLI::App& cmd, const CLI::Option& o) {
  const std::string verb = verb_of(cmd);
  const std::string name = name_of(o);
  for (const auto& r : k_rules) {
    if (r.name == name && r.verb == verb) {
      return r.values;
    }
  }
  for (const auto& r : k_rules) {
    if (r.name == name && r.verb.empty()) {
      return r.values;
    }
  }
  return Values::k_free;
}

// A help text's first line: what a shell shows beside a candidate.
std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

bool hidden(const CLI::App& cmd) {
  return cmd.get_group().empty() || cmd.get_name().rfind("__", 0) == 0;
}

std::vector<Candidate> subcommands_of(const CLI::App& cmd) {
  std::vector<Candidate> out;
  for (const auto* sub : cmd.get_subcommands({})) {
    if (hidden(*sub)) {
      continue;
    }
    const std::string description = first_line(sub->get_description());
    out.push_back({sub->get_name(), description});
    for (const auto& alias : sub->get_aliases()) {
      out.push_back({alias, description});
    }
  }
  return out;
}

// Every flag `cmd` takes, as its --help lists them: its own, then the global ones (a parent's
// help flag is not one of them).
std::vector<Candidate> flags_of(const CLI::App& cmd) {
  std::vector<Candidate> out;
  for (const CLI::App* c = &cmd; c != nullptr; c = c->get_parent()) {
    for (const auto* o : c->get_options()) {
      if (!o->nonpositional() || o->get_group().empty() || (c != &cmd && o == c->get_help_ptr())) {
        continue;
      }
      const std::string description = first_line(o->get_description());
      for (const auto& s : o->get_snames()) {
        out.push_back({"-" + s, description});
      }
      for (const auto& l : o->get_lnames()) {
        out.push_back({"--" + l, description});
      }
    }
  }
  return out;
}

// The global flags and clusters the command line gave so far: where lookups go.
struct Given {
  GlobalOptions global;
  std::vector<std::string> contexts;
  std::string namespace_;
};

Given given_by(const LineSoFar& line) {
  Given g;
  g.global.timeout = mesh::k_lookup_timeout;
  for (const auto& [option, value] : line.values) {
    const std::string name = name_of(*option);
    if (name == "kubeconfig") {
      g.global.kubeconfig = value;
    } else if (name == "config") {
      g.global.config_file = value;
    } else if (name == "timeout") {
      if (auto t = parse_duration(value, "--timeout")) {
        g.global.timeout = std::min(*t, mesh::k_lookup_timeout);
      }
    } else if (name == "context") {
      g.contexts.push_back(value);
    } else if (name == "namespace") {
      g.namespace_ = value;
    }
  }
  return g;
}

std::vector<Candidate> words(const std::vector<std::string>& names, const std::string& what = {}) {
  std::vector<Candidate> out;
  out.reserve(names.size());
  for (const auto& n : names) {
    out.push_back({n, what});
  }
  return out;
}

// Clusters of meshctl.yaml, then the kubeconfig's contexts no cluster stands for.
std::vector<Candidate> clusters(const GlobalOptions& global) {
  std::vector<Candidate> out;
  std::set<std::string> taken;
  if (auto cfg = config::load_config(global.config_file)) {
    for (const auto& c : cfg->clusters) {
      out.push_back({c.name, "cluster of meshctl.yaml"});
      taken.insert(c.name);
      taken.insert(c.context);
    }
  }
  if (auto kubeconfig = config::load_kubeconfig(global.kubeconfig)) {
    for (const auto& name : kubeconfig->context_names()) {
      if (taken.count(name) == 0) {
        out.push_back({name, "kubeconfig context"});
      }
    }
  }
  return out;
}

std::vector<Candidate> from_clusters(const LineSoFar& line, mesh::LookupKind kind) {
  const Given g = given_by(line);
  auto targets = mesh::read_targets(g.global, g.contexts);
  if (!targets) {
    return {};
  }
  return words(mesh::lookup_names(*targets, g.global, kind,
                                  kind == mesh::LookupKind::k_namespaces ? "" : g.namespace_));
}

// help's arguments: a verb, then that verb's subcommands.
std::vector<Candidate> help_topics(const CLI::App& root, const LineSoFar& line) {
  const CLI::App* cmd = &root;
  for (const auto& word : line.positionals) {
    const CLI::App* next = nullptr;
    for (const auto* sub : cmd->get_subcommands({})) {
      if (!hidden(*sub) && sub->check_name(word)) {
        next = sub;
      }
    }
    if (next == nullptr) {
      return {};
    }
    cmd = next;
  }
  return subcommands_of(*cmd);
}

Answer values(const CLI::App& root, const LineSoFar& line, const CLI::Option& option) {
  Answer a;
  switch (values_of(*line.command, option)) {
  case Values::k_free:
    break;
  case Values::k_file:
    a.directive = 0;
    break;
  case Values::k_dir:
    a.directive = k_directive_dirs;
    break;
  case Values::k_output:
    a.candidates = words(output_format_names());
    break;
  case Values::k_cluster:
    a.candidates = clusters(given_by(line).global);
    break;
  case Values::k_namespace:
    a.candidates = from_clusters(line, mesh::LookupKind::k_namespaces);
    break;
  case Values::k_proxy_pod:
    a.candidates = from_clusters(line, mesh::LookupKind::k_proxy_pods);
    break;
  case Values::k_service:
    a.candidates = from_clusters(line, mesh::LookupKind::k_services);
    break;
  case Values::k_fail_on:
    a.candidates = words(check::fail_on_names());
    break;
  case Values::k_dry_run:
    a.candidates = words(mesh::dry_run_names());
    break;
  case Values::k_by:
    a.candidates = words(mesh::failover_by_names());
    break;
  case Values::k_shell:
    a.candidates = words(completion_shells());
    break;
  case Values::k_verb:
    a.candidates = help_topics(root, line);
    break;
  }
  return a;
}

// The argument of `cmd` the next word is (after `given` of them), nullptr when it takes no more.
const CLI::Option* next_positional(const CLI::App& cmd, std::size_t given) {
  for (const auto* o : cmd.get_options()) {
    if (!o->get_positional()) {
      continue;
    }
    const auto takes = static_cast<std::size_t>(std::max(0, o->get_expected_max()));
    if (given < takes) {
      return o;
    }
    given -= takes;
  }
  return nullptr;
}

Answer answer(const CLI::App& root, const LineSoFar& line, const std::string& word) {
  if (line.pending != nullptr) {
    return values(root, line, *line.pending);
  }
  if (word.rfind("--", 0) == 0 && word.find('=') != std::string::npos) {
    // --flag=VALUE: the values, each written whole.
    const std::string name = word.substr(0, word.find('='));
    const auto* option = option_named(*line.command, name);
    if (option == nullptr) {
      return {{}, k_directive_error};
    }
    Answer a = values(root, line, *option);
    for (auto& c : a.candidates) {
      c.word = name + "=" + c.word;
    }
    return a;
  }
  if (!word.empty() && word[0] == '-') {
    return {flags_of(*line.command), k_directive_no_file};
  }
  Answer a;
  if (line.positionals.empty()) {
    a.candidates = subcommands_of(*line.command);
  }
  if (const auto* arg = next_positional(*line.command, line.positionals.size())) {
    Answer more = values(root, line, *arg);
    // Repeatable arguments (join's clusters) are offered once.
    for (auto& c : more.candidates) {
      if (std::find(line.positionals.begin(), line.positionals.end(), c.word) ==
          line.positionals.end()) {
        a.candidates.push_back(std::move(c));
      }
    }
    a.directive = more.directive;
  }
  return a;
}

} // namespace

bool is_complete_request(std::string_view word) {
  return word == k_complete_verb || word == k_complete_no_desc_verb;
}

int run_complete(const CLI::App& app, const std::vector<std::string>& args) {
  const bool descriptions = args.empty() || args.front() != k_complete_no_desc_verb;
  std::vector<std::string> before(args.begin() + (args.empty() ? 0 : 1), args.end());
  const std::string word = before.empty() ? std::string() : before.back();
  if (!before.empty()) {
    before.pop_back();
  }
  const auto a = answer(app, read_line_so_far(app, before), word);
  std::set<std::string> seen;
  for (const auto& c : a.candidates) {
    if (c.word.rfind(word, 0) != 0 || !seen.insert(c.word).second) {
      continue;
    }
    // One line per candidate, whatever a description holds.
    std::string line = c.word;
    if (descriptions && !c.description.empty()) {
      line += "\t" + c.description;
    }
    std::replace(line.begin(), line.end(), '\n', ' ');
    std::printf("%s\n", line.c_str());
  }
  std::printf(":%d\n", a.directive);
  return 0;
}

} // namespace meshctl::cmd

#include "args.hpp"

#include "core/shown.hpp"
#include "core/strings.hpp"
#include "core/suggest.hpp"

#include <algorithm>

namespace meshctl::cmd {

namespace {

// One flag as written: its name ("--context", "-n") and whatever followed it in the same word.
struct FlagWord {
  std::string name;
  bool attached = false; ///< a value (or, for a short flag, more flags) in the same word
  bool equals = false;   ///< written NAME=VALUE
  std::string value{};   ///< what followed '=' (or the short flag's letter)
};

bool is_flag(const std::string& word) {
  return word.size() > 1 && word[0] == '-';
}

FlagWord split_flag(const std::string& word) {
  if (word.rfind("--", 0) == 0) {
    const auto eq = word.find('=');
    if (eq == std::string::npos) {
      return {word};
    }
    return {word.substr(0, eq), true, true, word.substr(eq + 1)};
  }
  FlagWord f{word.substr(0, 2)};
  if (word.size() > 2) {
    f.attached = true;
    f.equals = word[2] == '=';
    f.value = word.substr(f.equals ? 3 : 2);
  }
  return f;
}

const CLI::Option* own_option(const CLI::App& cmd, const std::string& name) {
  for (const auto* o : cmd.get_options()) {
    if (o->nonpositional() && o->check_name(name)) {
      return o;
    }
  }
  return nullptr;
}

// The option `name` as CLI11 finds it while parsing `cmd`: its own, else a parent's (every verb
// falls through to the global flags).
const CLI::Option* find_option(const CLI::App* cmd, const std::string& name) {
  for (; cmd != nullptr; cmd = cmd->get_parent()) {
    if (const auto* o = own_option(*cmd, name)) {
      return o;
    }
  }
  return nullptr;
}

// The option `name` of any command below `cmd`: how many words a flag given before its verb takes.
const CLI::Option* option_below(const CLI::App& cmd, const std::string& name) {
  for (const auto* sub : cmd.get_subcommands({})) {
    if (const auto* o = own_option(*sub, name)) {
      return o;
    }
    if (const auto* o = option_below(*sub, name)) {
      return o;
    }
  }
  return nullptr;
}

bool takes_value(const CLI::Option& o) {
  return o.get_type_size_max() > 0;
}

const CLI::App* subcommand(const CLI::App& cmd, const std::string& word) {
  for (const auto* sub : cmd.get_subcommands({})) {
    if (sub->check_name(word)) {
      return sub;
    }
  }
  return nullptr;
}

const CLI::App& root_of(const CLI::App& cmd) {
  const CLI::App* c = &cmd;
  while (c->get_parent() != nullptr) {
    c = c->get_parent();
  }
  return *c;
}

// "proxy-config listener" for pc's listener, "" for the root.
std::string command_path(const CLI::App& cmd) {
  std::string path;
  for (const CLI::App* c = &cmd; c->get_parent() != nullptr; c = c->get_parent()) {
    path = path.empty() ? c->get_name() : c->get_name() + " " + path;
  }
  return path;
}

std::vector<std::string> visible_subcommands(const CLI::App& cmd) {
  std::vector<std::string> names;
  for (const auto* sub : cmd.get_subcommands({})) {
    if (!sub->get_group().empty()) {
      names.push_back(sub->get_name());
    }
  }
  return names;
}

// Every command in the tree under `cmd` whose own flags include `name`, as paths; a command all of
// whose subcommands take it ("proxy-config") stands for them.
void commands_taking(const CLI::App& cmd, const std::string& name, std::vector<std::string>& out) {
  for (const auto* sub : cmd.get_subcommands({})) {
    if (sub->get_group().empty()) {
      continue; // hidden
    }
    if (own_option(*sub, name) != nullptr) {
      out.push_back(command_path(*sub));
      continue;
    }
    std::vector<std::string> below;
    commands_taking(*sub, name, below);
    if (!below.empty() && below.size() == visible_subcommands(*sub).size()) {
      out.push_back(command_path(*sub));
    } else {
      out.insert(out.end(), below.begin(), below.end());
    }
  }
}

void long_names(const CLI::App& cmd, std::vector<std::string>& out) {
  for (const auto* o : cmd.get_options()) {
    for (const auto& l : o->get_lnames()) {
      out.push_back("--" + l);
    }
  }
}

void all_long_names(const CLI::App& cmd, std::vector<std::string>& out) {
  long_names(cmd, out);
  for (const auto* sub : cmd.get_subcommands({})) {
    all_long_names(*sub, out);
  }
}

std::string help_hint(const CLI::App& cmd) {
  const std::string path = command_path(cmd);
  return "run 'meshctl " + (path.empty() ? std::string() : path + " ") + "--help'";
}

// One word of the command line, or a flag with its value, and the command it was given to.
struct Item {
  std::vector<std::string> words{};
  const CLI::App* at = nullptr;         ///< the command being parsed when it appeared
  const CLI::Option* option = nullptr;  ///< a flag `at` (or a parent) takes
  const CLI::App* subcommand = nullptr; ///< a word naming a subcommand of `at`
  bool flag = false;
};

std::vector<Item> scan(const CLI::App& app, const std::vector<std::string>& args) {
  std::vector<Item> items;
  const CLI::App* cur = &app;
  bool may_descend = true; // a word may still name a subcommand of `cur`
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "--") {
      for (; i < args.size(); ++i) {
        items.push_back({{args[i]}, cur});
      }
      break;
    }
    if (is_flag(word)) {
      const auto f = split_flag(word);
      Item it{{word}, cur, find_option(cur, f.name), nullptr, true};
      const CLI::Option* arity = it.option != nullptr ? it.option : option_below(*cur, f.name);
      const bool value_follows = arity != nullptr && takes_value(*arity) && !f.attached &&
                                 i + 1 < args.size() &&
                                 // a flag before its verb is not given the verb as its value
                                 (it.option != nullptr || subcommand(*cur, args[i + 1]) == nullptr);
      if (value_follows) {
        it.words.push_back(args[++i]);
      }
      items.push_back(std::move(it));
      continue;
    }
    if (may_descend) {
      if (const auto* sub = subcommand(*cur, word)) {
        items.push_back({{word}, cur, nullptr, sub});
        cur = sub;
        continue;
      }
      if (!cur->get_subcommands({}).empty()) {
        may_descend = false;
      }
    }
    items.push_back({{word}, cur});
  }
  return items;
}

// `meshctl help [VERB…] [flags]` as `meshctl [VERB…] --help [flags]`.
Result<std::vector<std::string>> help_args(const CLI::App& app, const std::vector<Item>& items,
                                           std::size_t help_at) {
  std::vector<std::string> out;
  const CLI::App* cmd = &app;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i == help_at) {
      continue;
    }
    const auto& it = items[i];
    if (it.flag || i < help_at) {
      out.insert(out.end(), it.words.begin(), it.words.end());
      continue;
    }
    const std::string& word = it.words.front();
    const auto* sub = subcommand(*cmd, word);
    if (sub == nullptr) {
      const auto names = visible_subcommands(*cmd);
      if (cmd == &app) {
        return usage_error("unknown verb \"" + word + "\"" + did_you_mean_suffix(word, names),
                           "run 'meshctl help' for the list of verbs");
      }
      return usage_error("\"" + command_path(*cmd) + "\" has no subcommand \"" + word + "\"" +
                             did_you_mean_suffix(word, names),
                         "it has " + join(names));
    }
    out.push_back(word);
    cmd = sub;
  }
  out.emplace_back("--help");
  return out;
}

bool asks_for_help(const std::vector<Item>& items) {
  return std::any_of(items.begin(), items.end(), [](const Item& it) {
    return it.flag && (it.words.front() == "-h" || it.words.front() == "--help");
  });
}

// A command that only groups others (proxy-config, config) given no subcommand, or a word that
// is none of them.
Result<void> check_subcommand(const CLI::App& final, const std::vector<Item>& items) {
  if (final.get_parent() == nullptr || final.get_require_subcommand_min() == 0 ||
      asks_for_help(items)) {
    return {};
  }
  const auto names = visible_subcommands(final);
  const std::string path = command_path(final);
  for (const auto& it : items) {
    if (it.at == &final && !it.flag) {
      const std::string& word = it.words.front();
      return usage_error("\"" + path + "\" has no subcommand \"" + word + "\"" +
                             did_you_mean_suffix(word, names),
                         "it has " + join(names) + "; run 'meshctl " + path + " --help'");
    }
  }
  return usage_error("\"" + path + "\" needs a subcommand: " + join(names),
                     "e.g. meshctl " + path + " " + names.front() + "; run 'meshctl " + path +
                         " --help'");
}

// `-n=dev` (pflag: "dev"; CLI11: "=dev") as `--namespace=dev`, or `-n dev` for a flag with no long
// name.
std::vector<std::string> pflag_words(const Item& it, const CLI::Option* option) {
  if (option == nullptr) {
    return it.words;
  }
  const auto f = split_flag(it.words.front());
  if (f.name.rfind("--", 0) == 0 || !f.equals) {
    return it.words;
  }
  if (!option->get_lnames().empty()) {
    return {"--" + option->get_lnames().front() + "=" + f.value};
  }
  return {f.name, f.value};
}

} // namespace

const CLI::Option* option_named(const CLI::App& cmd, const std::string& name) {
  const auto* o = find_option(&cmd, name);
  return o != nullptr || cmd.get_parent() != nullptr ? o : option_below(cmd, name);
}

LineSoFar read_line_so_far(const CLI::App& app, const std::vector<std::string>& words) {
  LineSoFar line;
  line.command = &app;
  const auto items = scan(app, words);
  for (const auto& it : items) {
    if (it.subcommand != nullptr) {
      line.command = it.subcommand;
      line.positionals.clear();
    }
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& it = items[i];
    if (it.subcommand != nullptr) {
      continue;
    }
    if (!it.flag) {
      if (it.at == line.command && it.words.front() != "--") {
        line.positionals.push_back(it.words.front());
      }
      continue;
    }
    const auto f = split_flag(it.words.front());
    const auto* option = it.option != nullptr ? it.option : option_below(*it.at, f.name);
    if (option == nullptr || !takes_value(*option)) {
      continue;
    }
    if (it.words.size() > 1) {
      line.values.emplace_back(option, it.words[1]);
    } else if (f.attached) {
      line.values.emplace_back(option, f.value);
    } else if (i + 1 == items.size()) {
      line.pending = option;
    }
  }
  return line;
}

std::string unknown_flag_message(const CLI::App& cmd, const std::string& flag) {
  const std::string path = command_path(cmd);
  std::string msg = "unknown flag " + shown_quoted(flag);
  if (!path.empty()) {
    msg += " for \"" + path + "\"";
  }
  std::vector<std::string> takers;
  commands_taking(root_of(cmd), flag, takers);
  if (!takers.empty()) {
    return msg + " (a flag of " + join(takers) + ")";
  }
  if (flag.rfind("--", 0) != 0) {
    return msg; // a one-letter flag has nothing to misspell
  }
  // A misspelling of a flag of this command (or its parents), or of any verb's.
  // The closest of them wins; on a tie, this command's own.
  std::vector<std::string> names;
  for (const CLI::App* c = &cmd; c != nullptr; c = c->get_parent()) {
    long_names(*c, names);
  }
  all_long_names(root_of(cmd), names);
  const auto s = did_you_mean(flag, names);
  return s ? msg + " (did you mean \"" + *s + "\"?)" : msg;
}

Result<std::vector<std::string>> normalize_args(const CLI::App& app,
                                                const std::vector<std::string>& args) {
  const auto items = scan(app, args);

  std::size_t last_sub = items.size(); // the word naming the command that runs
  const CLI::App* final = &app;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].subcommand != nullptr) {
      if (items[i].at == &app && items[i].subcommand->get_name() == "help") {
        return help_args(app, items, i);
      }
      last_sub = i;
      final = items[i].subcommand;
    }
  }
  if (auto r = check_subcommand(*final, items); !r) {
    return tl::make_unexpected(r.error());
  }
  if (final->get_prefix_command() && last_sub < items.size()) {
    // A command that refuses whatever follows it (proxy-config routes: istioctl's, not meshctl's)
    // has it dropped, so that its own refusal is what the user reads.
    std::vector<std::string> out;
    for (std::size_t i = 0; i <= last_sub; ++i) {
      out.insert(out.end(), items[i].words.begin(), items[i].words.end());
    }
    return out;
  }

  std::vector<std::string> out;
  std::vector<std::string> moved; // flags given before the verb that takes them
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& it = items[i];
    if (it.flag && it.option == nullptr && i < last_sub) {
      const auto name = split_flag(it.words.front()).name;
      const auto* option = find_option(final, name);
      if (option == nullptr) {
        return usage_error(unknown_flag_message(*final, name), help_hint(*final));
      }
      const auto words = pflag_words(it, option);
      moved.insert(moved.end(), words.begin(), words.end());
      continue;
    }
    const auto words = it.flag ? pflag_words(it, it.option) : it.words;
    out.insert(out.end(), words.begin(), words.end());
    if (i == last_sub) {
      out.insert(out.end(), moved.begin(), moved.end());
    }
  }
  return out;
}

} // namespace meshctl::cmd

// meshctl: wiring only. Parses flags with CLI11, then runs the action the chosen verb registered.

#include "args.hpp"
#include "common.hpp"
#include "core/duration.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/shown.hpp"
#include "core/suggest.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace meshctl::cmd {

namespace {

constexpr const char* k_footer = R"(Exit codes:
  0  success
  1  the operation or a check failed
  2  usage or configuration error
  3  a cluster could not be reached

Run 'meshctl help VERB' (or 'meshctl VERB --help') for a verb's flags.)";

// Turns CLI11's "arguments were not expected" into one line with a suggestion.
int report_extras(const CLI::App& app, const std::vector<std::string>& extras) {
  const CLI::App* deepest = &app;
  for (;;) {
    const CLI::App* next = nullptr;
    for (const auto* sub : deepest->get_subcommands()) {
      next = sub;
    }
    if (next == nullptr) {
      break;
    }
    deepest = next;
  }
  const std::string& word = extras.front();
  std::string msg;
  if (word.size() > 1 && word[0] == '-') {
    const std::string name =
        word.rfind("--", 0) == 0 ? word.substr(0, word.find('=')) : word.substr(0, 2);
    msg = unknown_flag_message(*deepest, name);
  } else if (deepest == &app) {
    std::vector<std::string> verbs;
    for (const auto* sub : app.get_subcommands({})) {
      verbs.push_back(sub->get_name());
    }
    msg = "unknown verb " + shown_quoted(word) + did_you_mean_suffix(word, verbs);
  } else {
    std::vector<std::string> subs;
    for (const auto* sub : deepest->get_subcommands({})) {
      subs.push_back(sub->get_name());
    }
    msg = "unexpected argument " + shown_quoted(word) + " for \"" + deepest->get_name() + "\"" +
          did_you_mean_suffix(word, subs);
  }
  std::string path;
  for (const CLI::App* c = deepest; c != &app; c = c->get_parent()) {
    path.insert(0, c->get_name() + " ");
  }
  std::fprintf(stderr, "error: %s\nhint: run 'meshctl %s--help'\n", msg.c_str(), path.c_str());
  return static_cast<int>(ExitCode::k_usage);
}

} // namespace
} // namespace meshctl::cmd

int main(int argc, char** argv) {
  using namespace meshctl;
  using namespace meshctl::cmd;

  Context ctx;
  CLI::App app{"meshctl: install and diagnose Istio multi-primary, multi-network meshes",
               "meshctl"};
  app.footer(k_footer);
  app.require_subcommand(1);
  app.fallthrough(); // global flags may follow the verb, as kubectl allows
  use_help_formatter(app);

  std::string kubeconfig;
  std::string config_file;
  int verbosity = 0;
  bool no_color = false;
  std::string timeout_text = "30s";
  app.add_option("--kubeconfig", kubeconfig, "Path to the kubeconfig file (overrides $KUBECONFIG)");
  app.add_option(
      "-c,--config", config_file,
      "meshctl config file (default: $MESHCTL_CONFIG, then ~/.config/meshctl/config.yaml)");
  app.add_option("-o,--output", ctx.output_text, "Output format: table|wide|yaml|json")
      ->capture_default_str();
  app.add_flag("-v,--verbose", verbosity, "More logging on stderr (repeatable: -vv, -vvv)");
  app.add_flag("--no-color", no_color, "Never colour output (also: NO_COLOR)");
  app.add_option("--timeout", timeout_text,
                 "Bound on each request to a cluster, retries included, and on every wait "
                 "(30s, 2m, 1m30s; a plain number is seconds)")
      ->capture_default_str();

  // Every verb, in one visible list.
  register_join(app, ctx);
  register_unjoin(app, ctx);
  register_expose(app, ctx);
  register_localize(app, ctx);
  register_sync_svc(app, ctx);
  register_verify(app, ctx);
  register_status(app, ctx);
  register_proxy_config(app, ctx);
  register_version(app, ctx);
  register_config(app, ctx);
  register_completion(app, ctx);
  register_help(app, ctx);

  // The completion scripts' question, answered from the tree above (hidden: no verb people type).
  if (argc > 1 && is_complete_request(argv[1])) {
    return run_complete(app, std::vector<std::string>(argv + 1, argv + argc));
  }

  auto args = normalize_args(app, std::vector<std::string>(argv + 1, argv + argc));
  if (!args) {
    print_error(args.error());
    return static_cast<int>(args.error().code());
  }
  try {
    std::reverse(args->begin(), args->end()); // CLI11 takes a vector last word first
    app.parse(*args);
  } catch (const CLI::ExtrasError&) {
    std::vector<std::string> extras;
    for (const auto* a = &app;;) {
      auto r = a->remaining();
      extras.insert(extras.end(), r.begin(), r.end());
      auto subs = a->get_subcommands();
      if (subs.empty()) {
        break;
      }
      a = subs.front();
    }
    if (extras.empty()) {
      std::fprintf(stderr, "error: unexpected arguments\n");
      return static_cast<int>(ExitCode::k_usage);
    }
    return report_extras(app, extras);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // "meshctl jion": CLI11 complains that a verb is required; the stray word is the real problem.
    if (app.get_subcommands().empty() && !app.remaining().empty()) {
      return report_extras(app, app.remaining());
    }
    // CLI11's message can quote an argument: shown like every echoed value.
    const std::string what = shown(e.what(), k_message_max);
    std::fprintf(stderr, "error: %s\nhint: run 'meshctl --help'\n", what.c_str());
    return static_cast<int>(ExitCode::k_usage);
  }

  if (!kubeconfig.empty()) {
    ctx.global.kubeconfig = kubeconfig;
  }
  if (!config_file.empty()) {
    ctx.global.config_file = config_file;
  }
  ctx.global.verbosity = verbosity;
  auto timeout = parse_duration(timeout_text, "--timeout");
  if (!timeout) {
    print_error(timeout.error());
    return static_cast<int>(timeout.error().code());
  }
  ctx.global.timeout = *timeout;
  // Colour only on a terminal that can show it: never with --no-color, NO_COLOR or TERM=dumb.
  const char* no_color_env = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  const bool color_allowed = !no_color && (no_color_env == nullptr || *no_color_env == '\0') &&
                             (term == nullptr || std::string_view(term) != "dumb");
  ctx.global.color = color_allowed && isatty(STDOUT_FILENO) != 0;
  log::set_verbosity(verbosity);
  log::set_color(color_allowed && isatty(STDERR_FILENO) != 0);
  // Progress on stderr only for a person watching a terminal: not piped, not TERM=dumb, not
  // mixed with -v's log lines.
  log::enable_status(verbosity == 0 && isatty(STDERR_FILENO) != 0 &&
                     (term == nullptr || std::string_view(term) != "dumb"));

  auto format = parse_output_format(ctx.output_text);
  if (!format) {
    print_error(format.error());
    return static_cast<int>(format.error().code());
  }
  ctx.global.output = *format;

  if (!ctx.action) {
    std::fprintf(stderr, "error: no verb given\nhint: run 'meshctl --help'\n");
    return static_cast<int>(ExitCode::k_usage);
  }
  try {
    auto result = ctx.action();
    log::clear_status();
    if (!result) {
      print_error(result.error());
      return static_cast<int>(result.error().code());
    }
    std::fflush(stdout);
    return static_cast<int>(*result);
  } catch (const std::exception& e) {
    // Third-party exceptions are meant to be turned into Errors at the edge; this is the last net.
    std::fprintf(stderr, "error: internal error: %s\n",
                 shown(redact(e.what()), k_message_max).c_str());
    return static_cast<int>(ExitCode::k_failed);
  }
}

#include "common.hpp"

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/output.hpp"
#include "core/redact.hpp"
#include "core/shown.hpp"

#include <cstdio>

namespace meshctl::cmd {

void add_context_option(CLI::App* sub, std::vector<std::string>& contexts,
                        const std::string& help) {
  sub->add_option("--context", contexts, help);
}

void add_cluster_args(CLI::App* sub, ClusterFlags& f, const std::string& verb) {
  sub->add_option("clusters", f.positional, "Clusters (kubeconfig contexts) to " + verb);
  add_context_option(sub, f.contexts, "Cluster to " + verb + " (repeatable; same as positional)");
}

void add_dry_run_flag(CLI::App* sub, std::string& dry_run, const std::string& bare,
                      const std::string& help) {
  sub->add_flag("--dry-run{" + bare + "}", dry_run, help + "; --dry-run=none: no dry run");
}

void add_output_dir_option(CLI::App* sub, Context& ctx) {
  sub->add_option("--output-dir", ctx.output_dir,
                  "With an offline --dry-run: write each cluster's manifests to DIR/CLUSTER.yaml "
                  "(.json with -o json) instead of stdout");
}

std::vector<std::string> named_clusters(const std::vector<std::string>& positional,
                                        const std::vector<std::string>& contexts) {
  std::vector<std::string> names = positional;
  names.insert(names.end(), contexts.begin(), contexts.end());
  return names;
}

void print_notes(const std::vector<std::string>& notes) {
  log::clear_status();
  std::fflush(stdout); // the result first, where both go to one terminal
  for (const auto& n : notes) {
    std::fprintf(stderr, "note: %s\n", n.c_str());
  }
}

void print_result(const Context& ctx, const std::function<nlohmann::json()>& json,
                  const std::function<std::string()>& text) {
  log::clear_status(); // the progress line is gone before the result is printed
  if (ctx.global.output == OutputFormat::k_json) {
    // Strings from servers and files may hold invalid UTF-8: replaced, as in every JSON output.
    std::printf("%s\n",
                json().dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else if (ctx.global.output == OutputFormat::k_yaml) {
    std::fputs(to_yaml(json()).c_str(), stdout);
  } else {
    std::fputs(text().c_str(), stdout);
  }
}

tl::unexpected<Error> refuse_wide(const std::string& what, const std::string& why) {
  return tl::make_unexpected(Error(ExitCode::k_usage,
                                   "-o wide adds nothing to " + what + ": " + why,
                                   "use -o table (the default), -o json or -o yaml"));
}

Result<void> check_no_wide(const Context& ctx, const std::string& what, const std::string& why) {
  if (ctx.global.output == OutputFormat::k_wide) {
    return refuse_wide(what, why);
  }
  return {};
}

void print_error(const Error& e, const std::string& hint_prefix) {
  // The last net: whatever a message echoes, no control character reaches the terminal and the
  // line stays bounded (the values in it were shortened where they were put in).
  log::clear_status();
  std::fprintf(stderr, "error: %s\n", shown(redact(e.what()), k_message_max).c_str());
  if (!e.hint().empty()) {
    std::fprintf(stderr, "%shint: %s\n", hint_prefix.c_str(),
                 shown(redact(e.hint()), k_message_max).c_str());
  }
}

tl::unexpected<Error> fail_all(const std::vector<Error>& errors, const std::string& summary,
                               const std::string& hint) {
  ExitCode code = ExitCode::k_failed;
  for (const auto& e : errors) {
    print_error(e, "  ");
    if (e.code() == ExitCode::k_unreachable) {
      code = ExitCode::k_unreachable;
    }
  }
  return tl::make_unexpected(Error(code, summary, hint));
}

} // namespace meshctl::cmd

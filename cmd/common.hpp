#pragma once
// CLI wiring every verb shares: the flags several verbs take with the same meaning, how -o picks
// between a result's JSON/YAML and its text, and how an error reaches stderr. No verb logic here:
// that stays in lib/.

#include "context.hpp"
#include "core/error.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace meshctl::cmd {

/// The clusters a verb works on and its --dry-run, as every verb that changes clusters takes them.
struct ClusterFlags {
  std::vector<std::string> positional; ///< clusters named as arguments (join, unjoin)
  std::vector<std::string> contexts;   ///< --context, repeatable
  std::string dry_run;                 ///< --dry-run's text, for mesh::parse_dry_run
};

/// Adds the clusters as arguments ("Clusters (kubeconfig contexts) to <verb>") and the repeatable
/// --context ("Cluster to <verb> (repeatable; same as positional)"), as join and unjoin take them.
void add_cluster_args(CLI::App* sub, ClusterFlags& f, const std::string& verb);

/// Adds the repeatable --context option (`help` says what the cluster is for) into `contexts`.
void add_context_option(CLI::App* sub, std::vector<std::string>& contexts, const std::string& help);

/// Adds --dry-run{bare}: the bare flag stores `bare` (offline or client), --dry-run=X stores X.
/// mesh::parse_dry_run reads what it stored.
void add_dry_run_flag(CLI::App* sub, std::string& dry_run, const std::string& bare,
                      const std::string& help);

/// Adds --output-dir DIR (into ctx.output_dir): an offline --dry-run writes one file per cluster
/// there instead of printing (join, expose, localize).
void add_output_dir_option(CLI::App* sub, Context& ctx);

/// The clusters named as positional arguments followed by those named with --context.
std::vector<std::string> named_clusters(const std::vector<std::string>& positional,
                                        const std::vector<std::string>& contexts);

/// Prints each note on stderr as "note: …" (after flushing stdout), whatever -o is: notes are for
/// people, and stdout stays the result alone.
void print_notes(const std::vector<std::string>& notes);

/// Prints a result as -o asks: -o json its JSON (indented), -o yaml the same as YAML, anything
/// else the text. Only the chosen form is built.
void print_result(const Context& ctx, const std::function<nlohmann::json()>& json,
                  const std::function<std::string()>& text);

/// The usage error (exit 2) of a verb whose text output has no wider form: "-o wide adds nothing
/// to <what>: <why>", with a hint naming the formats it has. Verbs check it before they contact a
/// cluster.
tl::unexpected<Error> refuse_wide(const std::string& what, const std::string& why);

/// refuse_wide() when -o is wide, else nothing.
Result<void> check_no_wide(const Context& ctx, const std::string& what, const std::string& why);

/// Writes `e` to stderr as "error: …" and, when it has one, "<hint_prefix>hint: …", both redacted.
void print_error(const Error& e, const std::string& hint_prefix = "");

/// Prints every error (each one line naming its cluster, with its hint) and returns one summary
/// error whose exit code is the gravest among them: 3 when a cluster could not be reached.
tl::unexpected<Error> fail_all(const std::vector<Error>& errors, const std::string& summary,
                               const std::string& hint);

/// A verb's subcommand and the flags its options write into.
template <class Flags> struct Verb {
  CLI::App* sub;
  std::shared_ptr<Flags> flags;
};

/// Adds the subcommand `name` to `app`, with fresh flags that live as long as its action.
template <class Flags>
Verb<Flags> add_verb(CLI::App& app, const std::string& name, const std::string& description) {
  return {app.add_subcommand(name, description), std::make_shared<Flags>()};
}

/// Makes the verb's action run(ctx, *flags) once CLI11 chose `sub` (main runs it after parsing).
template <class Flags, class Run>
void set_action(CLI::App* sub, Context& ctx, std::shared_ptr<Flags> flags, Run run) {
  sub->callback(
      [&ctx, flags, run] { ctx.action = [&ctx, flags, run] { return run(ctx, *flags); }; });
}

} // namespace meshctl::cmd

#pragma once
// The command line as kubectl users type it, made into one CLI11 parses. CLI11 differs from pflag
// (kubectl's flag library) in three ways this corrects before parsing:
//  - pflag reads `-n=dev` as the value "dev"; CLI11 as "=dev". `-X=VALUE` becomes `--long=VALUE`.
//  - kubectl takes a verb's flags before the verb too (`kubectl -n dev get pods`); CLI11 only
//    after it. Flags before the verb that the verb takes are moved right after it; global flags
//    stay where they are (CLI11 accepts those on either side).
//  - `meshctl help [VERB…]` is `meshctl [VERB…] --help`.
// Whatever cannot be made sense of is left for CLI11 to report, except what only this pass can
// say clearly: a flag given before a verb that does not take it, and a subcommand that is not one.

#include "core/error.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <utility>
#include <vector>

namespace meshctl::cmd {

/// `args` (without the program name) rewritten as described above, or a usage error that names
/// the flag or subcommand and where it belongs.
Result<std::vector<std::string>> normalize_args(const CLI::App& app,
                                                const std::vector<std::string>& args);

/// A command line cut at the word being completed, read as normalize_args reads it (shell
/// completion, complete.cpp): the command it reached, what was given to it, and whether the last
/// word is a flag still waiting for its value.
struct LineSoFar {
  const CLI::App* command = nullptr;    ///< the deepest (sub)command named
  std::vector<std::string> positionals; ///< words given to it that are no flag
  std::vector<std::pair<const CLI::Option*, std::string>> values; ///< every flag value given
  const CLI::Option* pending = nullptr; ///< the flag the word being completed is the value of
};
LineSoFar read_line_so_far(const CLI::App& app, const std::vector<std::string>& words);

/// The option `name` ("--context", "-n") as `cmd` takes it: its own, else a parent's; else, for
/// the root (a verb's flag given before the verb), any verb's. nullptr when none takes it.
const CLI::Option* option_named(const CLI::App& cmd, const std::string& name);

/// The error line for a flag `cmd` does not take: "unknown flag" with a suggestion among the flags
/// `cmd` and its parents take, or, when other verbs take it, which ones do.
std::string unknown_flag_message(const CLI::App& cmd, const std::string& flag);

} // namespace meshctl::cmd

#pragma once
// Running a credential plugin as a child process: no shell, no terminal (stdin is /dev/null),
// stdout and stderr captured, killed with whatever it started when it outlives a timeout.
// Internal to lib/config; exec_credential.cpp speaks the ExecCredential protocol on top of it.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace meshctl::config::detail {

/// What became of one plugin run.
struct PluginRun {
  int spawn_error = 0; ///< errno of a failed spawn (ENOENT: command missing)
  bool timed_out = false;
  int exit_status = -1; ///< exit code, or -1 when killed by a signal
  int signal = 0;
  std::string out; ///< stdout (at most the output limit)
  std::string err; ///< stderr (at most the output limit)
};

/// Looks a bare command up in $PATH as Go's exec.LookPath does (an empty entry is "."); a command
/// with '/' is returned as is. nullopt when no executable file of that name is found.
std::optional<std::string> look_path(const std::string& command);

/// Runs `path` with `args` and exactly the environment `env` ("KEY=value" entries). Output beyond
/// `output_limit` bytes per stream is dropped; after `timeout` the plugin's process group is
/// killed and `timed_out` set. Safe to call from several threads at once.
PluginRun run_plugin(const std::string& path, const std::vector<std::string>& args,
                     const std::vector<std::string>& env, std::chrono::milliseconds timeout,
                     std::size_t output_limit);

} // namespace meshctl::config::detail

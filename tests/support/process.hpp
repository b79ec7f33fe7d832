#pragma once
// The one way tests, kubesim's test support and the benchmarks start programs: no shell, the
// environment given on top of the current one, output captured through pipes or sent to a file.
// Free of meshctl_lib and Catch, so that kubesim's tests and the benchmark tools use it too.

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace meshctl::testing {

/// What a finished program left: its exit code (128 + signal when a signal ended it), its stdout
/// and stderr, and how long it ran.
struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  double seconds = 0;
  bool timed_out = false; ///< killed (SIGKILL) after RunOptions::timeout
};

/// How run() runs a program beyond its arguments and environment.
struct RunOptions {
  /// Killed with SIGKILL once this long has passed (zero: no limit).
  std::chrono::milliseconds timeout{0};
  /// A file (or device: /dev/zero) to read stdin from; empty: `input`.
  std::string stdin_path;
  /// What the program reads on stdin when no stdin_path is given (empty: end of file at once).
  std::string input;
};

/// A child's stdout or stderr goes to /dev/null (the default) or stays the caller's.
inline constexpr int k_discard = -1;
inline constexpr int k_inherit = -2;

/// Starts a program (argv[0] searched in PATH, no shell) and returns its pid; the caller waits for
/// it. env entries are set (empty value = unset) on top of the current environment; stdin is
/// `in_fd` (-1: /dev/null) and stdout/stderr go to `out_fd`/`err_fd` (k_discard, k_inherit or an
/// fd).
pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            int out_fd = k_discard, int err_fd = k_discard, int in_fd = -1);

/// Waits for the child `pid` and returns its exit code (128 + signal when a signal ended it);
/// fills `usage` (peak RSS, CPU times) when given.
int wait_exit_code(pid_t pid, struct rusage* usage = nullptr);

/// The child's exit code once it has exited within `limit`, else nothing (it keeps running).
std::optional<int> wait_for(pid_t pid, std::chrono::milliseconds limit);

/// Sends SIGTERM, waits up to `grace`, then SIGKILL; returns the exit code.
int terminate(pid_t pid, std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

/// Runs a program to its end (or to options.timeout) and returns what it printed.
RunResult run(const std::vector<std::string>& argv,
              const std::map<std::string, std::string>& env = {}, const RunOptions& options = {});
/// Runs a program to its end with `input` on stdin.
RunResult run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
              const std::string& input);

} // namespace meshctl::testing

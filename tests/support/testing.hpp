#pragma once
// Helpers for meshctl's tests: where things are, running the real binary, golden files.

#include "support/process.hpp"

#include <catch2/catch.hpp>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace meshctl::testing {

/// Source tree root (for examples/, templates/, tests/golden/).
std::filesystem::path source_dir();
/// Build tree root.
std::filesystem::path binary_dir();
/// Path of the built meshctl binary.
std::filesystem::path meshctl_bin();
/// ../shared/istio (the CMake cache variable MESHCTL_SHARED_ISTIO), if present on this machine.
std::optional<std::filesystem::path> shared_istio();

/// A fresh temporary directory, removed when the object dies.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
  /// Writes `content` to path()/name and returns the full path.
  std::filesystem::path write(const std::string& name, const std::string& content) const;

private:
  std::filesystem::path m_path;
};

/// A program running in the background, started as spawn() starts it, its stdout and stderr in
/// files (or discarded). Dying, it stops the program: SIGTERM, then SIGKILL after five seconds.
class BackgroundProcess {
public:
  explicit BackgroundProcess(const std::vector<std::string>& argv,
                             const std::map<std::string, std::string>& env = {},
                             bool capture_output = false);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  /// Sends SIGTERM and returns the exit code, or -1 if the program did not exit within `limit`.
  int stop(std::chrono::milliseconds limit = std::chrono::milliseconds(5000));
  /// What the program wrote so far (empty unless started with capture_output).
  [[nodiscard]] std::string out() const;
  [[nodiscard]] std::string err() const;

private:
  std::optional<TempDir> m_dir;
  pid_t m_pid = -1;
};

/// Runs the meshctl binary. HOME, KUBECONFIG and MESHCTL_CONFIG are cleared unless env sets them.
RunResult run_meshctl(const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env = {},
                      const RunOptions& options = {});

/// Reads a whole file (throws on error: tests only).
std::string read_file(const std::filesystem::path& p);

/// Compares `actual` with tests/golden/<name>. With MESHCTL_UPDATE_GOLDEN=1 it rewrites the file
/// instead (review the diff). Fails the current test on mismatch, with a unified-style hint.
void check_golden(const std::string& name, const std::string& actual);

} // namespace meshctl::testing

/// Skips the rest of the test case, saying why (ctest reports it as skipped).
#define MESHCTL_SKIP(reason)                                                                       \
  do {                                                                                             \
    WARN("SKIPPED: " << reason);                                                                   \
    return;                                                                                        \
  } while (false)

/// Returns the shared Istio data dir or skips the test.
#define MESHCTL_REQUIRE_SHARED_ISTIO(var)                                                          \
  auto var##_opt = ::meshctl::testing::shared_istio();                                             \
  if (!var##_opt) {                                                                                \
    MESHCTL_SKIP("Istio reference data (../shared/istio) is absent on this machine");              \
  }                                                                                                \
  const std::filesystem::path var = *var##_opt

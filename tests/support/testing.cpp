#include "support/testing.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

namespace meshctl::testing {

std::filesystem::path source_dir() {
  return MESHCTL_SOURCE_DIR;
}
std::filesystem::path binary_dir() {
  return MESHCTL_BINARY_DIR;
}
std::filesystem::path meshctl_bin() {
  return MESHCTL_BIN;
}

std::optional<std::filesystem::path> shared_istio() {
  std::filesystem::path p = MESHCTL_SHARED_ISTIO_DIR;
  std::error_code ec;
  if (std::filesystem::is_directory(p, ec)) {
    return std::filesystem::canonical(p, ec);
  }
  return std::nullopt;
}

TempDir::TempDir() {
  std::random_device rd;
  const auto base = std::filesystem::temp_directory_path();
  for (int i = 0; i < 100; ++i) {
    auto candidate = base / ("meshctl-test-" + std::to_string(rd()));
    std::error_code ec;
    if (std::filesystem::create_directory(candidate, ec)) {
      m_path = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(m_path, ec);
}

std::filesystem::path TempDir::write(const std::string& name, const std::string& content) const {
  auto p = m_path / name;
  std::filesystem::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary);
  f << content;
  return p;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) {
    throw std::runtime_error("cannot read " + p.string());
  }
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv,
                                     const std::map<std::string, std::string>& env,
                                     bool capture_output) {
  int out = -1;
  int err = -1;
  if (capture_output) {
    m_dir.emplace();
    out = open((m_dir->path() / "out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    err = open((m_dir->path() / "err").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  }
  m_pid = spawn(argv, env, out, err);
  if (out >= 0) {
    close(out);
  }
  if (err >= 0) {
    close(err);
  }
}

BackgroundProcess::~BackgroundProcess() {
  if (m_pid > 0 && stop() < 0) {
    kill(m_pid, SIGKILL);
    wait_exit_code(m_pid);
  }
}

int BackgroundProcess::stop(std::chrono::milliseconds limit) {
  if (m_pid <= 0) {
    return -1;
  }
  kill(m_pid, SIGTERM);
  const auto code = wait_for(m_pid, limit);
  if (!code) {
    return -1;
  }
  m_pid = -1;
  return *code;
}

std::string BackgroundProcess::out() const {
  return m_dir && std::filesystem::exists(m_dir->path() / "out") ? read_file(m_dir->path() / "out")
                                                                 : std::string();
}

std::string BackgroundProcess::err() const {
  return m_dir && std::filesystem::exists(m_dir->path() / "err") ? read_file(m_dir->path() / "err")
                                                                 : std::string();
}

RunResult run_meshctl(const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env, const RunOptions& options) {
  std::map<std::string, std::string> full = {{"KUBECONFIG", ""},
                                             {"MESHCTL_CONFIG", ""},
                                             {"HOME", "/nonexistent-meshctl-test-home"},
                                             {"NO_COLOR", "1"}};
  for (const auto& [k, v] : env) {
    full[k] = v;
  }
  std::vector<std::string> argv{meshctl_bin().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, full, options);
}

void check_golden(const std::string& name, const std::string& actual) {
  const auto path = source_dir() / "tests" / "golden" / name;
  const char* update = std::getenv("MESHCTL_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << actual;
    WARN("golden rewritten: " << path.string());
    return;
  }
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    FAIL("golden file missing: tests/golden/"
         << name << " (run with MESHCTL_UPDATE_GOLDEN=1 to create it)");
  }
  const std::string expected = read_file(path);
  CHECK(expected.size() == actual.size()); // counts as the test's assertion; details below
  if (expected != actual) {
    // Report the first differing line, which is what a reviewer needs first.
    std::istringstream e(expected);
    std::istringstream a(actual);
    std::string el;
    std::string al;
    int line = 0;
    while (true) {
      ++line;
      const bool eok = static_cast<bool>(std::getline(e, el));
      const bool aok = static_cast<bool>(std::getline(a, al));
      if (!eok && !aok) {
        break;
      }
      if (!eok || !aok || el != al) {
        FAIL("output differs from tests/golden/" << name << " at line " << line
                                                 << "\n  expected: " << (eok ? el : "<end>")
                                                 << "\n  actual:   " << (aok ? al : "<end>")
                                                 << "\n(MESHCTL_UPDATE_GOLDEN=1 rewrites it)");
      }
    }
    FAIL("output differs from tests/golden/" << name << " (trailing bytes)");
  }
}

} // namespace meshctl::testing

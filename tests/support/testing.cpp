#include "support/testing.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

extern char** environ;

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

pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            int out_fd, int err_fd, int in_fd) {
  const pid_t pid = fork();
  if (pid < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    const int devnull = open("/dev/null", O_RDWR);
    dup2(in_fd >= 0 ? in_fd : devnull, 0);
    dup2(out_fd >= 0 ? out_fd : devnull, 1);
    dup2(err_fd >= 0 ? err_fd : devnull, 2);
    for (const auto& [k, v] : env) {
      if (v.empty()) {
        unsetenv(k.c_str());
      } else {
        setenv(k.c_str(), v.c_str(), 1);
      }
    }
    std::vector<char*> args;
    for (const auto& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  return pid;
}

int wait_exit_code(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

namespace {
// The child's exit code once it has exited within `limit`, else nothing.
std::optional<int> wait_for(pid_t pid, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  do {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < until);
  return std::nullopt;
}
} // namespace

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

RunResult run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
              const RunOptions& options) {
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  int in_fd = -1;
  if (!options.stdin_path.empty()) {
    in_fd = open(options.stdin_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (in_fd < 0) {
      throw std::runtime_error("cannot open " + options.stdin_path);
    }
  }
  const pid_t pid = spawn(argv, env, out_pipe[1], err_pipe[1], in_fd);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (in_fd >= 0) {
    close(in_fd);
  }
  RunResult r;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  std::array<pollfd, 2> fds{{{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}}};
  int open_fds = 2;
  std::array<char, 65536> buf{};
  while (open_fds > 0) {
    int wait_ms = -1;
    if (options.timeout.count() > 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        // Stopped where it hangs; its output so far stays in r for the failure message.
        r.timed_out = true;
        kill(pid, SIGKILL);
        for (auto& f : fds) {
          if (f.fd >= 0) {
            close(f.fd);
          }
        }
        break;
      }
      wait_ms = static_cast<int>(left.count());
    }
    const int ready = poll(fds.data(), fds.size(), wait_ms);
    if (ready < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP)) != 0) {
        const ssize_t n = read(fds[i].fd, buf.data(), buf.size());
        if (n <= 0) {
          close(fds[i].fd);
          fds[i].fd = -1;
          --open_fds;
        } else {
          (i == 0 ? r.out : r.err).append(buf.data(), static_cast<std::size_t>(n));
        }
      }
    }
  }
  r.exit_code = wait_exit_code(pid);
  return r;
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

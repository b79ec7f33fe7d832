#include "support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace meshctl::testing {
namespace {

int exit_code_of(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Writes `input` to `fd` and closes it; a reader that stopped early (EPIPE) is not an error.
void feed(int fd, const std::string& input) {
  std::size_t done = 0;
  while (done < input.size()) {
    const ssize_t n = write(fd, input.data() + done, input.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  close(fd);
}

} // namespace

pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            int out_fd, int err_fd, int in_fd) {
  const pid_t pid = fork();
  if (pid < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    const int devnull = open("/dev/null", O_RDWR);
    dup2(in_fd >= 0 ? in_fd : devnull, 0);
    if (out_fd != k_inherit) {
      dup2(out_fd >= 0 ? out_fd : devnull, 1);
    }
    if (err_fd != k_inherit) {
      dup2(err_fd >= 0 ? err_fd : devnull, 2);
    }
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

int wait_exit_code(pid_t pid, struct rusage* usage) {
  int status = 0;
  while (wait4(pid, &status, 0, usage) < 0 && errno == EINTR) {
  }
  return exit_code_of(status);
}

std::optional<int> wait_for(pid_t pid, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  do {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return exit_code_of(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < until);
  return std::nullopt;
}

int terminate(pid_t pid, std::chrono::milliseconds grace) {
  kill(pid, SIGTERM);
  if (auto code = wait_for(pid, grace)) {
    return *code;
  }
  kill(pid, SIGKILL);
  return wait_exit_code(pid);
}

RunResult run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
              const RunOptions& options) {
  int in_pipe[2] = {-1, -1};
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
  } else {
    if (pipe2(in_pipe, O_CLOEXEC) != 0) {
      throw std::runtime_error("pipe failed");
    }
    in_fd = in_pipe[0];
  }
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = spawn(argv, env, out_pipe[1], err_pipe[1], in_fd);
  close(in_fd);
  close(out_pipe[1]);
  close(err_pipe[1]);
  // A child that exits without reading its input must not kill us with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  std::thread writer;
  if (in_pipe[1] >= 0) {
    writer = std::thread(feed, in_pipe[1], options.input);
  }
  RunResult r;
  const auto deadline = start + options.timeout;
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
  if (writer.joinable()) {
    writer.join();
  }
  r.exit_code = wait_exit_code(pid);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

RunResult run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
              const std::string& input) {
  RunOptions options;
  options.input = input;
  return run(argv, env, options);
}

} // namespace meshctl::testing

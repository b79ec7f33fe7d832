// Runs a command and reports what it cost: wall time, CPU time and peak resident set size.
//
// usage: meshctl_bench_measure STDOUT_FILE -- COMMAND [ARGS...]
// Prints one line: "wall_s=… user_s=… sys_s=… max_rss_kb=… exit=…". The command's stdout goes to
// STDOUT_FILE, its stderr passes through. Peak RSS comes from wait4()'s rusage (ru_maxrss), the
// same number /usr/bin/time reports.

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 4 || std::strcmp(argv[2], "--") != 0) {
    std::fprintf(stderr, "usage: %s STDOUT_FILE -- COMMAND [ARGS...]\n", argv[0]);
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    const int out = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || dup2(out, 1) < 0) {
      std::perror(argv[1]);
      _exit(127);
    }
    execvp(argv[3], argv + 3);
    std::perror(argv[3]);
    _exit(127);
  }
  int status = 0;
  struct rusage usage {};
  if (wait4(pid, &status, 0, &usage) < 0) {
    std::perror("wait4");
    return 1;
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6;
  };
  std::printf("wall_s=%.3f user_s=%.3f sys_s=%.3f max_rss_kb=%ld exit=%d\n", wall,
              seconds(usage.ru_utime), seconds(usage.ru_stime), usage.ru_maxrss,
              WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 0;
}

// Runs a command and reports what it cost: wall time, CPU time and peak resident set size.
//
// usage: meshctl_bench_measure STDOUT_FILE -- COMMAND [ARGS...]
// Prints one line: "wall_s=… user_s=… sys_s=… max_rss_kb=… exit=…". The command's stdout goes to
// STDOUT_FILE, its stderr passes through. Peak RSS comes from wait4()'s rusage (ru_maxrss), the
// same number /usr/bin/time reports.

#include "support/process.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 4 || std::strcmp(argv[2], "--") != 0) {
    std::fprintf(stderr, "usage: %s STDOUT_FILE -- COMMAND [ARGS...]\n", argv[0]);
    return 2;
  }
  const int out = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    std::perror(argv[1]);
    return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = meshctl::testing::spawn(std::vector<std::string>(argv + 3, argv + argc), {},
                                            out, meshctl::testing::k_inherit);
  close(out);
  struct rusage usage {};
  const int code = meshctl::testing::wait_exit_code(pid, &usage);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6;
  };
  std::printf("wall_s=%.3f user_s=%.3f sys_s=%.3f max_rss_kb=%ld exit=%d\n", wall,
              seconds(usage.ru_utime), seconds(usage.ru_stime), usage.ru_maxrss, code);
  return 0;
}

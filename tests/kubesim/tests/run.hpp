#pragma once
// Runs a program for kubesim's tests (no shell), with extra environment and optional stdin.

#include <map>
#include <string>
#include <vector>

namespace kubesim::testing {

struct Ran {
  int exit_code = -1;
  std::string out;
  std::string err;
  double seconds = 0;
};

/// Runs argv; `env` entries are set on top of the current environment; `input` is fed to stdin.
Ran run_program(const std::vector<std::string>& argv,
                const std::map<std::string, std::string>& env = {}, const std::string& input = "");

} // namespace kubesim::testing

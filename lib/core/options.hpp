#pragma once
// Global options every verb sees (kubectl-style flags). Plain data: lib/ never includes CLI11.

#include "core/output.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace meshctl {

struct GlobalOptions {
  std::optional<std::string> kubeconfig;  ///< --kubeconfig; overrides $KUBECONFIG
  std::optional<std::string> config_file; ///< -c/--config; else $MESHCTL_CONFIG, else default path
  OutputFormat output = OutputFormat::k_table;
  int verbosity = 0;  ///< -v repeatable
  bool color = false; ///< resolved: TTY and not --no-color and not NO_COLOR
  /// --timeout: bound on each request to a cluster, its retries included, and on every wait
  /// (tokens, credential plugins, exec into pods).
  std::chrono::milliseconds timeout{30000};
};

} // namespace meshctl

#pragma once
// Built-in commands for pods/exec and the data behind pods/proxy.
//
// Commands: `echo ARGS...`, `cat` (stdin to stdout), `true`, `false`, `exit N`, `sh -c SCRIPT`
// (SCRIPT: those commands joined by ;, && or ||, with `>&2` to write to stderr; unknown commands
// give `sh: 1: X: not found` and 127), and `pilot-agent request [--debug-port P] GET PATH`, which
// answers like Envoy's admin port (P, default 15000) of that pod. Anything else fails to start,
// like a missing executable in a container.
//
// Pod HTTP data (pilot-agent request and GET .../pods/NAME:PORT/proxy/PATH) is looked up, first
// found wins, in:
//   1. ConfigMap `kubesim-pod-data-<pod>` in the pod's namespace, key `<port>.<sanitised path>`;
//   2. --pod-data DIR: DIR/<namespace>/<pod>/<port>/<sanitised path>(.json)?
// where the sanitised path is the path with its query, without the leading '/', every character
// other than [A-Za-z0-9._-] replaced by '_' (config_dump?include_eds=true ->
// config_dump_include_eds_true). A later istiod model (issue 4) plugs in as another source.

#include "api.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace kubesim {

/// GETs `path` on `port` of the pod the command runs in; nullopt = nothing there (404).
using PodHttpGet = std::function<std::optional<std::string>(int port, const std::string& path)>;

/// Runs a built-in command.
ExecResult run_command(const std::vector<std::string>& argv, const std::string& stdin_data,
                       const PodHttpGet& http_get);
/// The file/key form of a path (see above).
std::string sanitise_path(const std::string& path);
/// Reads DIR/<ns>/<pod>/<port>/<sanitised>(.json)?; nullopt when absent.
std::optional<std::string> read_pod_data_dir(const std::string& dir, const std::string& ns,
                                             const std::string& pod, int port,
                                             const std::string& path);

} // namespace kubesim

#pragma once
// The client.authentication.k8s.io ExecCredential protocol on top of exec_plugin.hpp, with the
// per-context credential cache. Internal to lib/config: get_credentials() is the way in.

#include "config/kubeconfig.hpp"

#include <string>
#include <string_view>

namespace meshctl::config::detail {

/// Credentials from the context's exec plugin: the cached ones while they have not expired, else
/// those of a fresh run (one run at a time per context and plugin configuration; parallel callers
/// wait for it). Errors name the plugin and carry a hint (installHint for a missing command). A run
/// that outlives `timeout` is killed with its process group.
Result<Credentials> exec_credentials(const ResolvedContext& ctx, const ExecConfig& exec,
                                     std::chrono::milliseconds timeout);

/// Reads what an exec plugin printed on stdout: an ExecCredential of `api_version` holding a token
/// or a client certificate and key, and an optional RFC 3339 expiry. `who` names the plugin in
/// errors. Registers no secret (the caller does, for credentials it keeps).
Result<Credentials> parse_exec_credential(std::string_view stdout_text,
                                          const std::string& api_version, const std::string& who);

} // namespace meshctl::config::detail

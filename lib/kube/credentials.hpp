#pragma once
// Where a Client gets the credentials it presents. Asked before every attempt, so rotating tokens
// and expiring exec-plugin credentials are picked up (the kubeconfig source caches what is still
// valid); after a 401 the client calls refresh() once and tries again, as client-go does.

#include "config/kubeconfig.hpp"
#include "core/error.hpp"

#include <chrono>
#include <functional>
#include <string>

namespace meshctl::kube {

struct CredentialSource {
  std::function<Result<config::Credentials>()> get;
  /// Forgets cached credentials; empty when asking again cannot give different ones.
  std::function<void()> refresh;
  /// For hints: "token", "client certificate", "exec plugin", "basic auth" or "none".
  std::string kind = "none";
};

/// Fixed credentials (tests; a token read from a Secret). Registers every secret for redaction.
CredentialSource static_credentials(config::Credentials credentials);

/// The credentials of a kubeconfig context through config::get_credentials (token files re-read,
/// exec plugins run and cached, and killed after `plugin_timeout`); refresh() calls
/// config::invalidate_credentials.
CredentialSource kubeconfig_credentials(const config::ResolvedContext& context,
                                        std::chrono::milliseconds plugin_timeout);

/// What kind of credentials a kubeconfig user entry holds (for CredentialSource::kind).
std::string credential_kind(const config::KubeUser& user);

} // namespace meshctl::kube

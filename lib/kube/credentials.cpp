#include "kube/credentials.hpp"

#include "core/redact.hpp"

namespace meshctl::kube {

std::string credential_kind(const config::KubeUser& user) {
  if (user.exec) {
    return "exec plugin";
  }
  if (!user.token.empty() || !user.token_file.empty()) {
    return "token";
  }
  if (!user.client_certificate.empty() || !user.client_certificate_data.empty()) {
    return "client certificate";
  }
  if (!user.username.empty()) {
    return "basic auth";
  }
  return "none";
}

CredentialSource static_credentials(config::Credentials credentials) {
  register_secret(credentials.bearer_token);
  register_secret(credentials.password);
  register_secret(credentials.client_key_pem);
  CredentialSource source;
  if (!credentials.bearer_token.empty()) {
    source.kind = "token";
  } else if (!credentials.client_certificate_pem.empty()) {
    source.kind = "client certificate";
  } else if (!credentials.username.empty()) {
    source.kind = "basic auth";
  }
  source.get = [c = std::move(credentials)]() -> Result<config::Credentials> { return c; };
  return source;
}

} // namespace meshctl::kube

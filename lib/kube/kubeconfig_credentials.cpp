// The link to the kubeconfig loader lives in its own file: code and tests that build clients from
// explicit credentials do not pull config::get_credentials in.

#include "kube/client.hpp"
#include "kube/credentials.hpp"

namespace meshctl::kube {

CredentialSource kubeconfig_credentials(const config::ResolvedContext& context,
                                        std::chrono::milliseconds plugin_timeout) {
  CredentialSource source;
  source.kind = credential_kind(context.user);
  source.get = [context, plugin_timeout]() {
    return config::get_credentials(context, plugin_timeout);
  };
  // Asking again helps only where the credentials can change: exec plugins and token files.
  if (context.user.exec || !context.user.token_file.empty()) {
    source.refresh = [name = context.name]() { config::invalidate_credentials(name); };
  }
  return source;
}

} // namespace meshctl::kube

namespace meshctl::kube {

Result<std::unique_ptr<Client>> Client::connect(const config::ResolvedContext& context,
                                                ClientOptions options) {
  const auto plugin_timeout = options.credential_timeout;
  return create(context, std::move(options), kubeconfig_credentials(context, plugin_timeout));
}

} // namespace meshctl::kube

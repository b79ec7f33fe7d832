// What a context presents to its API server, as client-go's rest config builds it
// (client-go/rest and transport): static credentials (token or tokenFile, basic auth, client
// certificate) win; an exec plugin (exec_credential.cpp) runs only when none is set; the legacy
// auth-provider plugins are refused with a hint.

#include "config/exec_credential.hpp"
#include "config/files.hpp"
#include "config/kubeconfig.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/strings.hpp"
#include "core/try.hpp"

namespace meshctl::config {

namespace {

// A PEM given inline (`*-data`, already decoded) or else read from its file; "" when neither.
Result<std::string> pem_data_or_file(const std::string& data, const std::string& file,
                                     const std::string& what) {
  if (!data.empty() || file.empty()) {
    return data;
  }
  return context(detail::read_file(file), "reading " + what);
}

} // namespace

Result<Credentials> get_credentials(const ResolvedContext& ctx, std::chrono::milliseconds timeout) {
  const KubeUser& u = ctx.user;
  const std::string where = "credentials for context \"" + ctx.name + "\"";
  Credentials c;

  if (!u.token_file.empty()) {
    // Re-read every time: projected and rotated tokens change under a running process.
    // client-go trims the file's content (strings.TrimSpace) too.
    auto text = context(detail::read_file(u.token_file), "reading tokenFile");
    if (text) {
      c.bearer_token = std::string(trim(*text));
    } else if (!u.token.empty()) {
      log::warn("{}: {}; using the kubeconfig's token instead", where, text.error().what());
      c.bearer_token = u.token;
    } else {
      return tl::make_unexpected(text.error().with_context(where));
    }
  } else {
    c.bearer_token = u.token;
  }
  register_secret(c.bearer_token);

  if (!u.username.empty() || !u.password.empty()) {
    c.username = u.username;
    c.password = u.password;
  }

  TRY_ASSIGN(c.client_certificate_pem,
             context(pem_data_or_file(u.client_certificate_data, u.client_certificate,
                                      "client-certificate"),
                     where));
  TRY_ASSIGN(c.client_key_pem,
             context(pem_data_or_file(u.client_key_data, u.client_key, "client-key"), where));
  register_secret(c.client_key_pem);
  if (c.client_certificate_pem.empty() != c.client_key_pem.empty()) {
    return usage_error(where + ": the user has a client " +
                           (c.client_certificate_pem.empty()
                                ? std::string("key but no certificate")
                                : std::string("certificate but no key")),
                       "set both client-certificate(-data) and client-key(-data) in the "
                       "kubeconfig user");
  }

  const bool has_static = !c.bearer_token.empty() || !c.password.empty() || !c.username.empty() ||
                          !c.client_certificate_pem.empty();
  if (has_static) {
    return c; // as client-go: static credentials make the exec plugin unused
  }
  if (u.exec) {
    return context(detail::exec_credentials(ctx, *u.exec, timeout), where);
  }
  if (!u.auth_provider.empty()) {
    return usage_error(where + ": auth-provider \"" + u.auth_provider +
                           "\" is not supported (kubectl removed it too)",
                       "switch the kubeconfig user to an exec credential plugin (e.g. "
                       "gke-gcloud-auth-plugin or kubelogin)");
  }
  return c; // anonymous
}

} // namespace meshctl::config

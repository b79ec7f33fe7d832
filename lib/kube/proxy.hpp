#pragma once
// Which proxy a request goes through, decided the way client-go (Go's net/http
// ProxyFromEnvironment) decides it, so meshctl and kubectl agree on the same machine: the
// kubeconfig's proxy-url wins; otherwise HTTPS_PROXY / HTTP_PROXY (upper case first) unless
// NO_PROXY matches; loopback is never proxied. libcurl's own environment handling differs (no
// loopback rule, and it would match NO_PROXY against tls-server-name instead of the real host), so
// meshctl decides and tells libcurl.

#include <string>
#include <string_view>

namespace meshctl::kube {

/// The proxy settings of the environment (captured once per Client).
struct ProxyEnvironment {
  std::string https_proxy; ///< HTTPS_PROXY, else https_proxy
  std::string http_proxy;  ///< HTTP_PROXY, else http_proxy
  std::string no_proxy;    ///< NO_PROXY, else no_proxy

  /// Reads the variables of the current process.
  static ProxyEnvironment from_process();
};

/// Whether a NO_PROXY list exempts host:port. Entries are comma-separated: "*"; IP addresses and
/// CIDR ranges; domains ("example.com" matches it and its subdomains, ".example.com" and
/// "*.example.com" only subdomains); each optionally with ":port". Case-insensitive.
bool no_proxy_matches(std::string_view no_proxy, std::string_view host, int port);

/// The proxy URL for a request to scheme://host:port, or "" for a direct connection.
/// `kubeconfig_proxy_url` (the cluster's proxy-url) applies to every request when set.
/// A proxy given without a scheme is taken as http://.
std::string select_proxy(std::string_view scheme, std::string_view host, int port,
                         std::string_view kubeconfig_proxy_url, const ProxyEnvironment& env);

} // namespace meshctl::kube

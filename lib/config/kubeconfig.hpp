#pragma once
// kubeconfig as kubectl reads it (client-go clientcmd): KUBECONFIG lists merged first-wins,
// --kubeconfig overriding, relative paths resolved against the file that names them, and
// credentials from tokens, client certificates, basic auth or exec credential plugins.

#include "core/error.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace meshctl::config {

struct KubeCluster {
  std::string server;
  std::string certificate_authority;      ///< absolute path, or empty
  std::string certificate_authority_data; ///< PEM bytes (already base64-decoded), or empty
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;
  std::string proxy_url;
};

/// users[].user.exec (client.authentication.k8s.io/v1 or v1beta1).
struct ExecConfig {
  std::string api_version;
  std::string command; ///< as written; relative paths with a slash resolved against the file
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  bool provide_cluster_info = false;
  std::string install_hint;
  std::string interactive_mode; ///< Never | IfAvailable | Always (meshctl never prompts)
};

struct KubeUser {
  std::string token;
  std::string token_file;              ///< absolute path, or empty
  std::string client_certificate;      ///< absolute path, or empty
  std::string client_certificate_data; ///< PEM bytes, or empty
  std::string client_key;              ///< absolute path, or empty
  std::string client_key_data;         ///< PEM bytes, or empty
  std::string username;
  std::string password;
  std::optional<ExecConfig> exec;
  /// users[].user.auth-provider.name (legacy gcp/oidc/azure plugins): not supported, reported by
  /// get_credentials() with a hint to switch to an exec plugin.
  std::string auth_provider;
};

struct KubeContext {
  std::string cluster;
  std::string user;
  std::string namespace_;
};

/// A context with its cluster and user looked up.
struct ResolvedContext {
  std::string name;
  KubeCluster cluster;
  KubeUser user;
  std::string namespace_; ///< "default" when unset
};

/// The merged kubeconfig.
struct Kubeconfig {
  std::map<std::string, KubeCluster> clusters;
  std::map<std::string, KubeUser> users;
  std::map<std::string, KubeContext> contexts;
  std::string current_context;
  std::vector<std::string> files; ///< the files that were merged, in order
  /// Files of $KUBECONFIG that did not exist (skipped as kubectl does; named in error hints).
  std::vector<std::string> missing_files;

  /// Context names, sorted (for completion and "did you mean").
  [[nodiscard]] std::vector<std::string> context_names() const;
  /// Looks up a context (empty name = current-context); unknown names give exit 2 with a
  /// suggestion.
  [[nodiscard]] Result<ResolvedContext> resolve(const std::string& context) const;
};

/// Loads the kubeconfig: `explicit_path` (--kubeconfig) alone if given, else every file of
/// $KUBECONFIG (':'-separated, missing files skipped as kubectl does), else ~/.kube/config.
/// No file at all gives an empty Kubeconfig (not an error: offline dry-runs need none).
Result<Kubeconfig> load_kubeconfig(const std::optional<std::string>& explicit_path);

/// Parses one kubeconfig file's text; `origin` is its path (relative paths resolve against its
/// dir).
Result<Kubeconfig> parse_kubeconfig(const std::string& text, const std::string& origin);

/// What to present to the API server.
struct Credentials {
  std::string bearer_token;
  std::string client_certificate_pem;
  std::string client_key_pem;
  std::string username;
  std::string password;
  /// When exec-plugin credentials stop being valid; absent = no expiry known.
  std::optional<std::chrono::system_clock::time_point> expiry;
};

/// Resolves the credentials of a context: token / tokenFile (re-read each call, as kubectl does for
/// rotation), client cert/key files or data, basic auth, or the exec plugin (run with its env and
/// KUBERNETES_EXEC_INFO; result cached in-process until expirationTimestamp). A missing plugin
/// command gives an error whose hint is the plugin's installHint. Every secret is registered for
/// redaction. A plugin still running after `timeout` is killed (with whatever it started) and the
/// result is an error.
Result<Credentials> get_credentials(const ResolvedContext& ctx,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(120));

/// Forgets cached exec-plugin credentials for a context (after a 401, as client-go does).
void invalidate_credentials(const std::string& context_name);

/// The ExecCredential JSON put into KUBERNETES_EXEC_INFO for this context's exec plugin
/// (apiVersion, kind, spec.interactive=false, spec.cluster when provideClusterInfo).
/// Exposed for tests and for `verify` to show what a plugin receives.
std::string exec_info_json(const ResolvedContext& ctx);

/// Parses an RFC 3339 timestamp ("2024-05-01T10:00:00Z", "...+08:00", fractional seconds allowed).
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text);

} // namespace meshctl::config

#pragma once
// The API server's logic, independent of the network: authentication, authorisation (RBAC),
// routing of /api and /apis paths to resource handlers with kube-apiserver's semantics, discovery,
// OpenAPI, SelfSubjectAccessReview, the small controllers a cluster runs (token controller,
// default ServiceAccount and kube-root-ca.crt per namespace, CRD registration, Service IP/port
// allocation) and the data behind exec and pod proxy. server.cpp feeds it HTTP requests.

#include "pki.hpp"
#include "store.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace kubesim {

class WatchStream;

/// A request as the transport received it.
struct HttpRequest {
  std::string method;
  std::string target;                          ///< path + query, as sent
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::vector<std::string> impersonate_groups; ///< every Impersonate-Group header
  std::string body;
  std::optional<Identity> cert_identity; ///< from a verified client certificate
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// What the request log records about a request besides method, path and status.
struct RequestInfo {
  std::string user;
  std::string verb; ///< get, list, create, update, patch, delete, deletecollection, watch, ...
  std::string api_group;
  std::string resource;
  std::string subresource;
  std::string ns;
  std::string name;
  bool dry_run = false;
  /// Set by Api::handle for an accepted watch: the server streams it (watch.hpp) and sends the
  /// response's status and content type, not its body.
  std::shared_ptr<WatchStream> watch;
};

/// A validated, authorised exec request: what to run where.
struct ExecRequest {
  std::string ns;
  std::string pod;
  std::string container;
  std::vector<std::string> command;
  bool stdin_ = false;
  bool stdout_ = true;
  bool stderr_ = true;
  bool tty = false;
};

/// The outcome of a built-in command.
struct ExecResult {
  std::string out;
  std::string err;
  int exit_code = 0;
  std::string failure; ///< non-empty: the command could not start (error channel message)
};

struct ApiOptions {
  std::string cluster_name = "kubesim";
  std::string pod_data_dir;                   ///< --pod-data (exec/proxy answers); may be empty
  std::chrono::milliseconds token_delay{100}; ///< token controller latency
  std::string service_cidr = "10.96.0.0/12";
  std::string version = "v1.32.0";
  int istiod_cache_ms = 500; ///< how long the istiod model reuses what a remote cluster returned
  /// The cloud's load balancers (--load-balancer): "pending" (none), "ip" or "hostname".
  std::string load_balancer = "pending";
};

/// Runs `fn` after `delay` on the server's executor (the token controller is asynchronous).
using Scheduler = std::function<void(std::chrono::milliseconds delay, std::function<void()> fn)>;

class Api {
public:
  Api(ApiOptions options, Scheduler scheduler);
  ~Api();

  [[nodiscard]] const Pki& pki() const { return *m_pki; }
  [[nodiscard]] const std::string& admin_token() const { return m_admin_token; }
  [[nodiscard]] const ApiOptions& options() const { return m_options; }

  /// Loads multi-document YAML (or JSON) objects as the admin would create them (CRDs first is
  /// the caller's business; each CRD takes effect at once). Throws std::runtime_error naming the
  /// document on failure.
  void load_seed(const std::string& text, const std::string& origin);

  /// Who made the request (token or client certificate, then impersonation), or nullopt (401).
  /// On an impersonation that is not allowed, sets `forbidden` to the 403 response.
  std::optional<Identity> authenticate(const HttpRequest& req,
                                       std::optional<HttpResponse>& forbidden);
  /// True when the identity is in system:masters.
  static bool is_admin(const Identity& id);

  /// Handles a non-upgrade request end to end.
  HttpResponse handle(const HttpRequest& req, RequestInfo& info);

  /// For GET/POST .../pods/NAME/exec: the exec to run, or the error response to send.
  std::variant<ExecRequest, HttpResponse> prepare_exec(const HttpRequest& req, RequestInfo& info);
  /// Runs a built-in command (echo, cat, sh -c 'exit N', true, false, pilot-agent request ...).
  ExecResult run_exec(const ExecRequest& exec, const std::string& stdin_data);
  /// True when the command reads stdin to its end before answering (cat).
  static bool exec_reads_stdin(const ExecRequest& exec);

  /// A kubeconfig for this server with cluster/context/user named `name`; `use_token` selects the
  /// admin token instead of the admin client certificate.
  [[nodiscard]] std::string kubeconfig(const std::string& name, const std::string& server_url,
                                       bool use_token) const;

  struct Impl;

private:
  HttpResponse handle_unguarded(const HttpRequest& req, RequestInfo& info);
  std::variant<ExecRequest, HttpResponse> prepare_exec_unguarded(const HttpRequest& req,
                                                                 RequestInfo& info);

  ApiOptions m_options;
  std::unique_ptr<Pki> m_pki;
  std::string m_admin_token;
  std::unique_ptr<Impl> m_impl;
};

/// What a request is (verb, resource, namespace, name) from its method and target alone, without
/// authentication or store access (the server uses it for fault filters and dropped requests).
RequestInfo classify_request(const std::string& method, const std::string& target);
/// Percent-decodes a URL component ('+' stays '+', as in Go's PathUnescape for paths).
std::string url_decode(const std::string& s, bool plus_is_space);
/// YAML text as JSON, scalars typed as the API server types a YAML body (YAML 1.2 core schema);
/// null when the text does not parse.
nlohmann::json yaml_text_to_json(const std::string& text);
/// A metav1.Status failure body.
nlohmann::json status_failure(int code, const std::string& reason, const std::string& message,
                              const nlohmann::json& details = nullptr);

} // namespace kubesim

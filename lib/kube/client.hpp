#pragma once
// A Kubernetes API client for one cluster (one kubeconfig context), safe to use from many threads
// at once. Requests run on one libcurl multi handle owned by the client, so connections, DNS
// answers and TLS sessions are reused across requests and threads, and HTTP/2 streams are
// multiplexed on one connection when the server offers h2 (kube-apiserver does). Callers block
// on their own request; independent requests from several threads (or send_async) run in
// parallel.
//
// TLS follows the kubeconfig exactly: its CA (file or data) replaces the system roots,
// tls-server-name is the name sent in SNI and verified in the certificate while the connection
// goes to the server's address, client certificates and bearer tokens are presented, proxies are
// chosen like client-go does (kube/proxy.hpp), and verification is skipped only with
// insecure-skip-tls-verify.
//
// Failures are ApiErrors (kube/status.hpp): branch on not_found(), already_exists(), … and pass
// them up as Errors unchanged.
//
// Requests leave through a Transport (kube/transport.hpp): libcurl unless ClientOptions names
// another. Retries, re-authentication, the limiter and error mapping stay here, above it.

#include "config/kubeconfig.hpp"
#include "kube/credentials.hpp"
#include "kube/discovery.hpp"
#include "kube/exec.hpp"
#include "kube/limiter.hpp"
#include "kube/path.hpp"
#include "kube/proxy.hpp"
#include "kube/retry.hpp"
#include "kube/status.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshctl::kube {

class Transport;

/// How a Client behaves; the defaults suit an interactive CLI.
struct ClientOptions {
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds request_timeout{30000}; ///< per attempt
  /// Bound on an exec credential plugin's run (connect()); the plugin is killed after it.
  std::chrono::milliseconds credential_timeout{120000};
  RetryPolicy retry;
  std::string user_agent = std::string("meshctl/") + MESHCTL_VERSION;
  std::string field_manager = "meshctl";  ///< for server-side apply
  int max_parallel = 16;                  ///< bound on the client's own fan-out (discovery)
  std::size_t max_response = 256U << 20U; ///< larger bodies are an error
  /// Proxy variables; nothing = read HTTPS_PROXY/HTTP_PROXY/NO_PROXY when the client is made.
  std::optional<ProxyEnvironment> proxy_env;
  /// Bounds the requests in flight and backs off on 429 (kube/limiter.hpp); null = unbounded.
  std::shared_ptr<ConcurrencyLimiter> limiter;
  /// What carries the requests (kube/transport.hpp); null = libcurl to the context's server.
  std::shared_ptr<Transport> transport;
};

enum class Method { k_get, k_head, k_post, k_put, k_patch, k_delete };

/// "GET", "PATCH", ….
std::string_view method_name(Method method);

/// A raw API request. Build paths with resource_path() and friends (they escape).
struct Request {
  Method method = Method::k_get;
  std::string path; ///< absolute, escaped, without query ("/api/v1/namespaces")
  Query query;
  std::string body;
  std::string content_type; ///< for a body
  std::string accept = "application/json";
  /// Safe to repeat? Unset = by method: GET, HEAD, PUT and DELETE yes; POST and PATCH no —
  /// except what stores nothing (dryRun=All, and POSTs of access and token reviews): yes.
  std::optional<bool> idempotent;
  std::optional<std::chrono::milliseconds> timeout; ///< per attempt; unset = options
  /// Streams a 2xx body (watches): each piece goes to on_data as it arrives, on the client's I/O
  /// thread (so keep it short), instead of into Response::body; returning false ends the
  /// transfer as a success. Error bodies are collected as usual. Streams bypass the limiter.
  std::function<bool(std::string_view)> on_data;
  /// When set, the request ends (as a success if it was streaming a 2xx body, else with an
  /// error) within about 100 ms of *cancel becoming true.
  const std::atomic<bool>* cancel = nullptr;
};

/// A 2xx answer.
struct Response {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers; ///< lower-case names
  std::string http_version;                                 ///< "1.1" or "2"
  int attempts = 1;

  /// The first header of that name (case-insensitive), or "".
  [[nodiscard]] std::string header(std::string_view name) const;
};

struct ListOptions {
  std::string label_selector; ///< "app=helloworld,version in (v1,v2)"
  std::string field_selector; ///< "metadata.name=istiod"
  int limit = 500;            ///< page size; 0 = no paging
};

struct WriteOptions {
  bool dry_run = false; ///< dryRun=All: validated and admitted, not stored
  /// The caller knows that sending this write twice has the effect of sending it once (a
  /// restart annotation, a patch to a fixed value): retried like a PUT.
  bool idempotent = false;
};

struct ApplyOptions {
  bool force = false; ///< take over fields owned by other managers
  bool dry_run = false;
  std::string field_manager; ///< "" = ClientOptions::field_manager
};

enum class PatchType { k_merge, k_strategic_merge, k_json };

struct DeleteOptions {
  std::string propagation_policy; ///< "Background", "Foreground", "Orphan" or "" (server default)
  bool dry_run = false;
  /// Preconditions (sent as a DeleteOptions body when either is set): the server deletes only
  /// while the object still has this uid / resourceVersion and answers 409 Conflict otherwise.
  std::string uid;
  std::string resource_version;
};

class Client {
public:
  /// Makes a client for a resolved kubeconfig context. Fails (exit 2) when the server URL is
  /// unusable. No request is made.
  static Result<std::unique_ptr<Client>>
  create(config::ResolvedContext context, ClientOptions options, CredentialSource credentials);
  /// create() with the context's kubeconfig credentials (token, certificate, exec plugin).
  static Result<std::unique_ptr<Client>> connect(const config::ResolvedContext& context,
                                                 ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// The context this client talks to (its name is the cluster's name in messages).
  [[nodiscard]] const config::ResolvedContext& context() const;
  /// The options it was made with.
  [[nodiscard]] const ClientOptions& options() const;

  /// Sends a request with retries (kube/retry.hpp) and one re-authentication after a 401.
  /// Non-2xx answers and transport failures come back as ApiError.
  ApiResult<Response> send(const Request& request);
  /// send() on another thread; for fanning out independent requests.
  std::future<ApiResult<Response>> send_async(Request request);

  /// GET one object.
  ApiResult<nlohmann::json> get(const ResourceRef& ref);
  /// Lists a collection, following `continue` until the end; returns one List whose items are
  /// all pages' items. A continue token that expires mid-way (410) restarts the list once
  /// without paging, as kubectl does.
  ApiResult<nlohmann::json> list(const ResourceRef& ref, const ListOptions& options = {});
  /// Lists page by page, handing each page (a List object) to `on_page`, which may move its
  /// items out; an error from on_page stops the listing. Returns the last page's
  /// resourceVersion.
  ApiResult<std::string> list_pages(const ResourceRef& ref, const ListOptions& options,
                                    const std::function<Result<void>(nlohmann::json&)>& on_page);
  /// Server-side apply (PATCH application/apply-patch+yaml, fieldManager); `object` must carry
  /// apiVersion, kind and metadata.name. Safe to retry.
  ApiResult<nlohmann::json> apply(const ResourceRef& ref, const nlohmann::json& object,
                                  const ApplyOptions& options = {});
  /// apply() with the resource looked up by discovery from the object's apiVersion and kind; the
  /// namespace is metadata.namespace or, for namespaced kinds, the context's namespace.
  ApiResult<nlohmann::json> apply(const nlohmann::json& object, const ApplyOptions& options = {});
  /// POST to the collection `ref` (name ignored). Not retried after it may have reached the
  /// server, unless it stores nothing (a dry run, a SelfSubjectAccessReview or TokenReview).
  ApiResult<nlohmann::json> create(const ResourceRef& ref, const nlohmann::json& object,
                                   const WriteOptions& options = {});
  /// PUT (update); the object's resourceVersion makes a stale update fail with conflict().
  ApiResult<nlohmann::json> replace(const ResourceRef& ref, const nlohmann::json& object,
                                    const WriteOptions& options = {});
  /// PATCH with a merge, strategic-merge or JSON patch. Not retried (a patch may not be
  /// idempotent) unless options.idempotent says it is; use apply for desired state.
  ApiResult<nlohmann::json> patch(const ResourceRef& ref, PatchType type,
                                  const nlohmann::json& patch, const WriteOptions& options = {});
  /// DELETE; the answer is the deleted object or a Status.
  ApiResult<nlohmann::json> remove(const ResourceRef& ref, const DeleteOptions& options = {});
  /// GET through the API server's pod proxy to a port of a pod (FACTS §2, istiod's
  /// /debug/clusterz). The body is the pod's answer, as is.
  ApiResult<Response> proxy_get(std::string_view namespace_, std::string_view pod, int port,
                                std::string_view path, const Query& query = {});

  /// The cluster's kinds, fetched on first use (in parallel) and cached for the client's life.
  ApiResult<std::shared_ptr<const ResourceMap>> discovery();
  /// Drops the cached discovery (after installing CRDs).
  void forget_discovery();
  /// The resource serving apiVersion/kind here; unknown Istio kinds say "Istio is not installed
  /// in <context>".
  ApiResult<ResourceInfo> resource_for(std::string_view api_version, std::string_view kind);
  /// The reference of an object (apiVersion, kind, metadata.name/namespace) via discovery.
  ApiResult<ResourceRef> ref_for(const nlohmann::json& object);

  /// Runs a command in a container over WebSocket (v5.channel.k8s.io, else v4) and returns its
  /// output and exit code. A non-zero exit code is a result, not an error; failing to start the
  /// command is an error (403: the hint names the RBAC permission, create on pods/exec).
  ApiResult<ExecResult> exec(const ExecRequest& request);

  struct Impl;

private:
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

} // namespace meshctl::kube

#pragma once
// Failed API requests as values. Every failure is an ApiError: the Error a user reads (message,
// an actionable hint, context) plus what a caller branches on — the HTTP status and the Status
// reason ("NotFound", "AlreadyExists", "Conflict", …) — so `if (r.error().not_found())` replaces
// string matching. ApiResult<T> converts implicitly to Result<T> for callers that only pass errors
// up.

#include "core/error.hpp"
#include "kube/retry.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <utility>

namespace meshctl::kube {

/// A failed request: what to tell the user, and what the API server said.
struct ApiError {
  Error error;
  int http_status = 0;   ///< 0 when there was no HTTP answer (see failure)
  std::string reason;    ///< metav1.Status reason, e.g. "NotFound"; "" when none was given
  nlohmann::json status; ///< the Status object the server sent, or null
  TransportFailure failure = TransportFailure::k_none;

  [[nodiscard]] bool not_found() const { return http_status == 404; }
  [[nodiscard]] bool already_exists() const {
    return http_status == 409 && reason == "AlreadyExists";
  }
  /// 409 other than AlreadyExists: a stale resourceVersion or a server-side apply field conflict.
  [[nodiscard]] bool conflict() const { return http_status == 409 && reason != "AlreadyExists"; }
  [[nodiscard]] bool forbidden() const { return http_status == 403; }
  [[nodiscard]] bool unauthorized() const { return http_status == 401; }
  [[nodiscard]] bool invalid() const { return http_status == 422; }
  /// No HTTP answer at all (exit code 3 class).
  [[nodiscard]] bool unreachable() const {
    return http_status == 0 && failure != TransportFailure::k_none;
  }

  /// Adds an outer layer of context to the message (see Error::with_context).
  ApiError& with_context(std::string context) {
    error.with_context(std::move(context));
    return *this;
  }
  operator Error() const& { return error; }        // NOLINT(google-explicit-constructor): by design
  operator Error() && { return std::move(error); } // NOLINT(google-explicit-constructor)
};

template <class T> using ApiResult = tl::expected<T, ApiError>;

/// Wraps an Error that did not come from the API server (bad input, invalid JSON, …).
inline tl::unexpected<ApiError> api_fail(Error error) {
  ApiError e;
  e.error = std::move(error);
  return tl::make_unexpected(std::move(e));
}

/// What a request was, for messages and hints.
struct RequestInfo {
  std::string context;    ///< kubeconfig context name ("wuxi"), for "--context" hints
  std::string server;     ///< API server URL as configured
  std::string method;     ///< "GET", "PATCH", …
  std::string path;       ///< URL path without query
  std::string verb;       ///< Kubernetes verb: get, list, create, update, patch, delete, …
  std::string resource;   ///< "services", "gateways.networking.istio.io", "pods/exec"
  std::string namespace_; ///< "" for cluster-scoped requests
  std::string name;
  std::string auth;    ///< "token", "client certificate", "exec plugin", "basic auth", "none"
  bool has_ca = false; ///< the kubeconfig names a certificate authority
  std::string tls_server_name; ///< the kubeconfig's tls-server-name, or ""

  std::string proxy; ///< proxy in use, or ""
  int attempts = 1;  ///< attempts made, for "after N attempts"
};

/// Fills verb, resource, namespace_ and name of `info` from a method and an API path
/// ("/apis/networking.istio.io/v1/namespaces/istio-system/gateways/x" → get
/// gateways.networking.istio.io in istio-system). Paths outside /api and /apis leave them empty.
void describe_request(RequestInfo& info);

/// Turns a non-2xx answer into an ApiError: the Status message where there is one (body text
/// otherwise), and a hint for the reason: RBAC for Forbidden (verb, resource, `kubectl auth
/// can-i`), the causes for Invalid, credentials for Unauthorized, force for apply conflicts, ….
ApiError error_from_response(const RequestInfo& info, int http_status, std::string_view body);

/// Turns a failure without an HTTP answer into an ApiError with exit code 3 (unreachable), or 2
/// when local TLS material is unusable. `detail` is libcurl's error text. A certificate that does
/// not verify says whether the CA or the name is wrong and points at certificate-authority or
/// tls-server-name.
ApiError error_from_transport(const RequestInfo& info, TransportFailure failure,
                              std::string_view detail);

/// Parses a successful body as JSON; invalid JSON gives an error naming the request and the byte.
ApiResult<nlohmann::json> parse_json_body(const RequestInfo& info, std::string_view body);

} // namespace meshctl::kube

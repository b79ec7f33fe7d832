#pragma once
// Building API paths and query strings the way kube-apiserver expects them: one escaped segment per
// part, core group under /api, every other group under /apis/<group>.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshctl::kube {

/// Names a collection or one object of a resource. Empty namespace_ = cluster-scoped or all
/// namespaces; empty name = the collection; subresource ("status", "exec", …) needs a name.
struct ResourceRef {
  std::string group; ///< "" for the core group
  std::string version;
  std::string resource; ///< lower-case plural: "services", "gateways"
  std::string namespace_;
  std::string name;
  std::string subresource;

  /// "services", "gateways.networking.istio.io" — what kubectl and RBAC messages call it.
  [[nodiscard]] std::string qualified_resource() const;
  /// "dev/helloworld", "helloworld" (cluster-scoped) or "services in dev" (a collection); for
  /// messages.
  [[nodiscard]] std::string describe() const;
};

/// Query parameters in order; repeated keys are allowed (exec's command=…&command=…).
using Query = std::vector<std::pair<std::string, std::string>>;

/// Percent-encodes everything but RFC 3986 unreserved characters (for query keys and values).
std::string escape_query_component(std::string_view text);

/// Percent-encodes one path segment: unreserved characters and the sub-delimiters ':' and '@'
/// stay, '/' and everything else is encoded, so a name can never add a path level.
std::string escape_path_segment(std::string_view text);

/// Escapes each '/'-separated segment of a path and keeps the slashes (for pod proxy paths).
std::string escape_path(std::string_view path);

/// "a=1&b=x%20y" (no leading '?'); empty for an empty query.
std::string encode_query(const Query& query);

/// "/api/v1/namespaces/dev/services/helloworld", "/apis/apps/v1/deployments", ….
std::string resource_path(const ResourceRef& ref);

/// "/api/v1/namespaces/NS/pods/NAME:PORT/proxy/PATH": the API server forwards the request to the
/// pod's port (istiod's /debug/clusterz on 15014, FACTS §2). `path` may start with '/'.
std::string pod_proxy_path(std::string_view namespace_, std::string_view pod, int port,
                           std::string_view path);

/// "/api/v1/namespaces/NS/pods/NAME/exec".
std::string pod_exec_path(std::string_view namespace_, std::string_view pod);

/// Splits "networking.istio.io/v1" into {"networking.istio.io", "v1"} and "v1" into {"", "v1"}.
std::pair<std::string, std::string> split_api_version(std::string_view api_version);

/// The inverse: "v1" for the core group, else "group/version".
std::string join_api_version(std::string_view group, std::string_view version);

} // namespace meshctl::kube

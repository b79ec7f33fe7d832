#include "support/fake_transport.hpp"

#include "kube/credentials.hpp"
#include "kube/path.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <thread>
#include <vector>

namespace meshctl::testing {

using nlohmann::json;

std::string FakeCall::line() const {
  return std::string(kube::method_name(method)) + " " + path + (query.empty() ? "" : "?" + query);
}

FakeReply FakeReply::json(const nlohmann::json& body, int status) {
  FakeReply r;
  r.status = status;
  r.body = body.dump();
  r.headers.emplace_back("content-type", "application/json");
  return r;
}

FakeReply FakeReply::api_status(int code, const std::string& reason, const std::string& message,
                                const nlohmann::json& details) {
  nlohmann::json s = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
                      {"status", "Failure"}, {"message", message}, {"reason", reason},
                      {"code", code}};
  if (!details.is_null()) {
    s["details"] = details;
  }
  return json(s, code);
}

FakeReply FakeReply::timeout() {
  FakeReply r;
  r.failure = kube::TransportFailure::k_timeout;
  r.error = "Operation timed out after 30000 milliseconds with 0 bytes received";
  return r;
}

void FakeTransport::on(kube::Method method, const std::string& path, FakeReply reply, int times,
                       Predicate when) {
  on(
      method, path, [reply = std::move(reply)](const kube::Request&) { return reply; }, times,
      std::move(when));
}

void FakeTransport::on(kube::Method method, const std::string& path, Responder responder, int times,
                       Predicate when) {
  std::lock_guard lock(m_mutex);
  m_rules.push_back({method, path, std::move(responder), times, std::move(when)});
}

void FakeTransport::serve_object(const nlohmann::json& object) {
  const auto [group, version] = kube::split_api_version(object.value("apiVersion", ""));
  const std::string kind = object.value("kind", "");
  // The plural as the API server names it, for the kinds these tests use.
  std::string resource = kind;
  std::transform(resource.begin(), resource.end(), resource.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  resource += resource.ends_with("s") ? "es" : "s";
  const auto& md = object.at("metadata");
  const kube::ResourceRef ref{
      group, version, resource, md.value("namespace", ""), md.value("name", ""), ""};
  nlohmann::json live = object;
  live["metadata"]["uid"] = "uid-" + ref.name;
  live["metadata"]["resourceVersion"] = "1";
  on(kube::Method::k_get, kube::resource_path(ref), FakeReply::json(live));
  kube::ResourceRef collection = ref;
  collection.name.clear();
  std::lock_guard lock(m_mutex);
  m_served[kube::resource_path(collection)].push_back(std::move(live));
}

void FakeTransport::accept_applies() {
  std::lock_guard lock(m_mutex);
  m_rules.insert(m_rules.begin(), Rule{kube::Method::k_patch, "*",
                                       [](const kube::Request& r) {
                                         auto applied = nlohmann::json::parse(r.body);
                                         applied["metadata"]["uid"] = "uid-applied";
                                         applied["metadata"]["resourceVersion"] = "2";
                                         return FakeReply::json(applied);
                                       },
                                       -1,
                                       [](const kube::Request& r) {
                                         return r.content_type == "application/apply-patch+yaml";
                                       }});
}

namespace {

json resource(const std::string& name, const std::string& kind, bool namespaced) {
  return {{"name", name},
          {"singularName", ""},
          {"namespaced", namespaced},
          {"kind", kind},
          {"verbs", {"create", "delete", "get", "list", "patch", "update", "watch"}}};
}

// A vector, not a json: a one-element brace list `{resource(...)}` converted to a json parameter is
// an array under GCC but a copy of that one object under clang (CWG 1467), and discovery then reads
// "resources is not a list".
json resource_list(const std::string& group_version, const std::vector<json>& resources) {
  return {{"kind", "APIResourceList"},
          {"apiVersion", "v1"},
          {"groupVersion", group_version},
          {"resources", resources}};
}

json group(const std::string& name, const std::vector<std::string>& versions) {
  json vs = json::array();
  for (const auto& v : versions) {
    vs.push_back({{"groupVersion", name + "/" + v}, {"version", v}});
  }
  return {{"name", name}, {"versions", vs}, {"preferredVersion", vs.front()}};
}

// Whether an API path names a collection (/api/v1/pods, /apis/g/v/namespaces/ns/gateways) rather
// than one object or a subresource.
bool is_collection(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t from = 1;
  while (from <= path.size()) {
    const std::size_t slash = path.find('/', from);
    const std::size_t to = slash == std::string::npos ? path.size() : slash;
    parts.push_back(path.substr(from, to - from));
    from = to + 1;
  }
  std::size_t prefix = 0;
  if (!parts.empty() && parts[0] == "api") {
    prefix = 2;
  } else if (!parts.empty() && parts[0] == "apis") {
    prefix = 3;
  } else {
    return false;
  }
  if (parts.size() <= prefix) {
    return false;
  }
  const std::size_t rest = parts.size() - prefix;
  return rest == 1 || (rest == 3 && parts[prefix] == "namespaces");
}

// Whether an object's labels match a selector of equality terms (`a=b,c==d,e!=f`, `g`), the forms
// meshctl sends.
bool selected(const json& object, const std::string& selector) {
  const json* labels = nullptr;
  if (object.contains("metadata") && object["metadata"].contains("labels")) {
    labels = &object["metadata"]["labels"];
  }
  auto label = [&](const std::string& key) -> std::optional<std::string> {
    if (labels == nullptr || !labels->contains(key) || !(*labels)[key].is_string()) {
      return std::nullopt;
    }
    return (*labels)[key].get<std::string>();
  };
  std::size_t from = 0;
  while (from < selector.size()) {
    const std::size_t comma = selector.find(',', from);
    const std::string term =
        selector.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
    from = comma == std::string::npos ? selector.size() : comma + 1;
    if (const auto ne = term.find("!="); ne != std::string::npos) {
      if (label(term.substr(0, ne)) == term.substr(ne + 2)) {
        return false;
      }
    } else if (const auto eq = term.find('='); eq != std::string::npos) {
      const std::size_t value = term.compare(eq, 2, "==") == 0 ? eq + 2 : eq + 1;
      if (label(term.substr(0, eq)) != term.substr(value)) {
        return false;
      }
    } else if (!term.empty() && !label(term)) {
      return false;
    }
  }
  return true;
}

} // namespace

nlohmann::json FakeTransport::served_list(const kube::Request& request) const {
  std::string selector;
  for (const auto& [key, value] : request.query) {
    if (key == "labelSelector") {
      selector = value;
    }
  }
  json items = json::array();
  std::lock_guard lock(m_mutex);
  if (const auto it = m_served.find(request.path); it != m_served.end()) {
    for (const auto& object : it->second) {
      if (selected(object, selector)) {
        items.push_back(object);
      }
    }
  }
  return {{"kind", "List"},
          {"apiVersion", "v1"},
          {"metadata", {{"resourceVersion", "1"}}},
          {"items", std::move(items)}};
}

void FakeTransport::serve_discovery(bool istio_crds) {
  on(kube::Method::k_get, "/api", FakeReply::json({{"kind", "APIVersions"}, {"versions", {"v1"}}}));
  json groups = json::array({group("apps", {"v1"}), group("rbac.authorization.k8s.io", {"v1"}),
                             group("authorization.k8s.io", {"v1"})});
  if (istio_crds) {
    groups.push_back(group("networking.istio.io", {"v1", "v1beta1"}));
  }
  on(kube::Method::k_get, "/apis",
     FakeReply::json({{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}}));
  on(kube::Method::k_get, "/api/v1",
     FakeReply::json(resource_list(
         "v1", {resource("namespaces", "Namespace", false), resource("nodes", "Node", false),
                resource("secrets", "Secret", true), resource("configmaps", "ConfigMap", true),
                resource("services", "Service", true), resource("pods", "Pod", true),
                resource("serviceaccounts", "ServiceAccount", true),
                resource("endpoints", "Endpoints", true)})));
  on(kube::Method::k_get, "/apis/apps/v1",
     FakeReply::json(resource_list("apps/v1", {resource("deployments", "Deployment", true)})));
  on(kube::Method::k_get, "/apis/rbac.authorization.k8s.io/v1",
     FakeReply::json(resource_list("rbac.authorization.k8s.io/v1",
                                   {resource("clusterroles", "ClusterRole", false),
                                    resource("clusterrolebindings", "ClusterRoleBinding", false),
                                    resource("roles", "Role", true),
                                    resource("rolebindings", "RoleBinding", true)})));
  on(kube::Method::k_get, "/apis/authorization.k8s.io/v1",
     FakeReply::json(
         resource_list("authorization.k8s.io/v1",
                       {resource("selfsubjectaccessreviews", "SelfSubjectAccessReview", false)})));
  if (istio_crds) {
    for (const char* v : {"v1", "v1beta1"}) {
      const std::string gv = std::string("networking.istio.io/") + v;
      on(kube::Method::k_get, "/apis/" + gv,
         FakeReply::json(resource_list(gv, {resource("gateways", "Gateway", true),
                                            resource("destinationrules", "DestinationRule", true),
                                            resource("serviceentries", "ServiceEntry", true)})));
    }
  }
}

void FakeTransport::on_exec(const std::string& namespace_, const std::string& pod,
                            kube::ApiResult<kube::ExecResult> result) {
  std::lock_guard lock(m_mutex);
  m_exec.insert_or_assign(namespace_ + "/" + pod, std::move(result));
}

std::vector<FakeCall> FakeTransport::calls() const {
  std::lock_guard lock(m_mutex);
  return m_calls;
}

std::vector<FakeCall> FakeTransport::calls(kube::Method method, const std::string& path) const {
  std::vector<FakeCall> out;
  for (auto& c : calls()) {
    if (c.method == method && (path.empty() || c.path == path)) {
      out.push_back(std::move(c));
    }
  }
  return out;
}

std::vector<FakeCall> FakeTransport::writes() const {
  std::vector<FakeCall> out;
  for (auto& c : calls()) {
    if (c.method != kube::Method::k_get && c.method != kube::Method::k_head) {
      out.push_back(std::move(c));
    }
  }
  return out;
}

int FakeTransport::max_in_flight() const {
  std::lock_guard lock(m_mutex);
  return m_max_in_flight;
}

std::optional<FakeTransport::Responder> FakeTransport::take(const kube::Request& request) {
  for (auto it = m_rules.rbegin(); it != m_rules.rend(); ++it) {
    if (it->method != request.method || it->remaining == 0 ||
        (it->path != "*" && it->path != request.path) || (it->when && !it->when(request))) {
      continue;
    }
    if (it->remaining > 0) {
      --it->remaining;
    }
    return it->responder;
  }
  return std::nullopt;
}

kube::Exchange FakeTransport::round_trip(const kube::Request& request,
                                         const config::Credentials& credentials,
                                         std::chrono::milliseconds /*timeout*/) {
  std::optional<Responder> responder;
  {
    std::lock_guard lock(m_mutex);
    m_calls.push_back({request.method, request.path, kube::encode_query(request.query),
                       request.body, request.content_type, credentials.bearer_token});
    m_max_in_flight = std::max(m_max_in_flight, ++m_in_flight);
    responder = take(request);
  }
  FakeReply reply;
  if (responder) {
    reply = (*responder)(request);
  } else if (request.method == kube::Method::k_get && is_collection(request.path)) {
    reply = FakeReply::json(served_list(request));
  } else if (request.method == kube::Method::k_get) {
    reply =
        FakeReply::api_status(404, "NotFound", "the server could not find the requested resource");
  } else {
    reply = FakeReply::api_status(501, "NotImplemented",
                                  "the fake transport has no answer for " +
                                      std::string(kube::method_name(request.method)) + " " +
                                      request.path);
  }
  if (reply.delay.count() > 0) {
    std::this_thread::sleep_for(reply.delay);
  }
  {
    std::lock_guard lock(m_mutex);
    --m_in_flight;
  }
  kube::Exchange out;
  out.failure = reply.failure;
  if (reply.failure != kube::TransportFailure::k_none) {
    out.error = reply.error;
    return out;
  }
  out.status = reply.status;
  out.headers = std::move(reply.headers);
  out.http_version = "2";
  if (request.on_data && reply.status >= 200 && reply.status < 300) {
    // A stream: one piece per line, as a watch sends its events.
    std::size_t from = 0;
    while (from < reply.body.size()) {
      const std::size_t nl = reply.body.find('\n', from);
      const std::size_t to = nl == std::string::npos ? reply.body.size() : nl + 1;
      if (!request.on_data(std::string_view(reply.body).substr(from, to - from))) {
        break;
      }
      from = to;
    }
    return out;
  }
  out.body = std::move(reply.body);
  return out;
}

kube::ExecAttempt FakeTransport::exec(const kube::ExecRequest& request,
                                      const config::Credentials& credentials,
                                      const kube::RequestInfo& /*info*/,
                                      std::chrono::steady_clock::time_point /*deadline*/) {
  const std::string path = kube::pod_exec_path(request.namespace_, request.pod);
  kube::ExecAttempt out;
  std::lock_guard lock(m_mutex);
  m_calls.push_back({kube::Method::k_get, path, kube::encode_query(kube::exec_query(request)), "",
                     "", credentials.bearer_token});
  const auto it = m_exec.find(request.namespace_ + "/" + request.pod);
  if (it == m_exec.end()) {
    out.refused.http_status = 404;
    out.body =
        FakeReply::api_status(404, "NotFound", "pods \"" + request.pod + "\" not found").body;
    return out;
  }
  if (!it->second && it->second.error().http_status != 0) {
    out.refused.http_status = it->second.error().http_status;
    out.body = it->second.error().status.dump();
    return out;
  }
  out.ran = it->second;
  return out;
}

kube::RetryPolicy fast_retry() {
  kube::RetryPolicy p;
  p.initial_backoff = std::chrono::milliseconds(1);
  p.max_backoff = std::chrono::milliseconds(4);
  p.max_total = std::chrono::milliseconds(2000);
  p.max_retry_after = std::chrono::seconds(0);
  return p;
}

std::unique_ptr<kube::Client> fake_client(const std::string& name,
                                          std::shared_ptr<FakeTransport> transport,
                                          kube::ClientOptions options) {
  config::ResolvedContext ctx;
  ctx.name = name;
  ctx.cluster.server = "https://" + name + ".fake.test:6443";
  ctx.namespace_ = "default";
  options.transport = std::move(transport);
  if (options.retry.initial_backoff == kube::RetryPolicy{}.initial_backoff) {
    options.retry = fast_retry();
  }
  config::Credentials creds;
  creds.bearer_token = "token-" + name;
  auto client = kube::Client::create(std::move(ctx), std::move(options),
                                     kube::static_credentials(std::move(creds)));
  REQUIRE(client);
  return std::move(*client);
}

} // namespace meshctl::testing

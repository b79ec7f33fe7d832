#include "kube/status.hpp"

#include "core/json.hpp"
#include "core/shown.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace meshctl::kube {
namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < path.size()) {
    const std::size_t slash = std::min(path.find('/', start), path.size());
    if (slash > start) {
      out.emplace_back(path.substr(start, slash - start));
    }
    start = slash + 1;
  }
  return out;
}

// The reason client-go infers when the server sent no Status (apimachinery's errors.FromObject).
std::string reason_for_code(int code) {
  switch (code) {
  case 400:
    return "BadRequest";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "NotFound";
  case 405:
    return "MethodNotAllowed";
  case 406:
    return "NotAcceptable";
  case 409:
    return "Conflict";
  case 410:
    return "Gone";
  case 413:
    return "RequestEntityTooLarge";
  case 415:
    return "UnsupportedMediaType";
  case 422:
    return "Invalid";
  case 429:
    return "TooManyRequests";
  case 500:
    return "InternalError";
  case 503:
    return "ServiceUnavailable";
  case 504:
    return "Timeout";
  default:
    return code >= 500 ? "InternalError" : "";
  }
}

std::string first_line(std::string_view text, std::size_t max) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\n' || text.front() == '\r')) {
    text.remove_prefix(1);
  }
  const std::size_t nl = text.find_first_of("\r\n");
  std::string out(text.substr(0, nl));
  if (out.size() > max) {
    out = out.substr(0, max) + "…";
  }
  return out;
}

const nlohmann::json& causes_of(const nlohmann::json& status) {
  static const nlohmann::json k_empty = nlohmann::json::array();
  if (status.is_object()) {
    const auto d = status.find("details");
    if (d != status.end() && d->is_object()) {
      const auto c = d->find("causes");
      if (c != d->end() && c->is_array()) {
        return *c;
      }
    }
  }
  return k_empty;
}

std::string context_flag(const RequestInfo& info) {
  return info.context.empty() ? "" : " --context " + info.context;
}

std::string where(const RequestInfo& info) {
  return info.namespace_.empty() ? "" : " in namespace " + info.namespace_;
}

std::string after_attempts(const RequestInfo& info) {
  return info.attempts > 1 ? fmt::format(" (after {} attempts)", info.attempts) : "";
}

std::string unauthorized_hint(const RequestInfo& info) {
  const std::string ctx = info.context.empty() ? "the context" : "context " + info.context;
  if (info.auth == "exec plugin") {
    return "the credentials from " + ctx +
           "'s exec plugin were rejected even after running it again: log in again with the "
           "provider's tool (the plugin's own command) and check that the user maps to this "
           "cluster";
  }
  if (info.auth == "token") {
    return "the bearer token of " + ctx +
           " was rejected: it has expired or was revoked; get a fresh token (or re-create the "
           "ServiceAccount token Secret) and update the kubeconfig";
  }
  if (info.auth == "client certificate") {
    return "the client certificate of " + ctx +
           " was rejected: it has expired or is not signed by the cluster's client CA";
  }
  if (info.auth == "none") {
    return ctx + " has no credentials (no token, client certificate, exec plugin or basic auth "
                 "in its user entry)";
  }
  return "the credentials of " + ctx + " were rejected: they have expired or are wrong";
}

std::string forbidden_hint(const RequestInfo& info) {
  const std::string ctx = info.context.empty() ? "this context" : "context " + info.context;
  if (info.verb.empty() || info.resource.empty()) {
    return "the user of " + ctx + " lacks the RBAC permission for this request";
  }
  return fmt::format("the user of {} may not {} {}{}: grant it with a (Cluster)Role and binding, "
                     "or use a context with more rights (check: kubectl auth can-i {} {}{}{})",
                     ctx, info.verb, info.resource, where(info), info.verb, info.resource,
                     info.namespace_.empty() ? "" : " -n " + info.namespace_, context_flag(info));
}

// "Service \"x\" is invalid: spec.ports[0].port: Invalid value: 0: must be …; metadata.name: …"
std::string invalid_message(const nlohmann::json& status, const std::string& fallback) {
  const auto& causes = causes_of(status);
  if (causes.empty()) {
    return fallback;
  }
  std::string head;
  const auto details = status.is_object() ? status.value("details", nlohmann::json::object())
                                          : nlohmann::json::object();
  const std::string kind = str(details, "kind");
  const std::string name = str(details, "name");
  if (!kind.empty()) {
    head = fmt::format("{} \"{}\" is invalid", kind, name);
  } else {
    head = "the object is invalid";
  }
  std::vector<std::string> parts;
  for (const auto& c : causes) {
    const std::string field = str(c, "field");
    const std::string message = shown(str(c, "message"), 300);
    parts.push_back(field.empty() ? message : fmt::format("{}: {}", shown(field), message));
  }
  return head + ": " + fmt::format("{}", fmt::join(parts, "; "));
}

bool has_cause(const nlohmann::json& status, std::string_view reason) {
  const auto& causes = causes_of(status);
  return std::any_of(causes.begin(), causes.end(),
                     [&](const nlohmann::json& c) { return str(c, "reason") == reason; });
}

std::string url_of(const RequestInfo& info) {
  return info.server + info.path;
}

} // namespace

void describe_request(RequestInfo& info) {
  const auto segs = split_path(info.path);
  std::size_t i = 0;
  std::string group;
  if (segs.size() >= 2 && segs[0] == "api") {
    i = 2;
  } else if (segs.size() >= 3 && segs[0] == "apis") {
    group = segs[1];
    i = 3;
  } else {
    return;
  }
  std::vector<std::string> rest(segs.begin() + static_cast<std::ptrdiff_t>(i), segs.end());
  std::string ns;
  std::string resource;
  std::string name;
  std::string sub;
  if (rest.size() >= 3 && rest[0] == "namespaces" &&
      !(rest.size() == 3 && (rest[2] == "status" || rest[2] == "finalize"))) {
    ns = rest[1];
    rest.erase(rest.begin(), rest.begin() + 2);
  }
  if (!rest.empty()) {
    resource = rest[0];
  }
  if (rest.size() >= 2) {
    name = rest[1];
  }
  if (rest.size() >= 3) {
    sub = rest[2];
  }
  if (resource.empty()) {
    return;
  }
  info.resource = group.empty() ? resource : resource + "." + group;
  if (!sub.empty()) {
    info.resource += "/" + sub;
  }
  info.namespace_ = ns;
  info.name = name;
  const std::string& m = info.method;
  if (m == "GET" || m == "HEAD") {
    info.verb = name.empty() ? "list" : "get";
  } else if (m == "POST") {
    info.verb = "create";
  } else if (m == "PUT") {
    info.verb = "update";
  } else if (m == "PATCH") {
    info.verb = "patch";
  } else if (m == "DELETE") {
    info.verb = name.empty() ? "deletecollection" : "delete";
  }
}

ApiError error_from_response(const RequestInfo& info, int http_status, std::string_view body) {
  ApiError e;
  e.http_status = http_status;
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object() && (str(parsed, "kind") == "Status" || parsed.contains("reason"))) {
    e.status = std::move(parsed);
  }
  e.reason = str(e.status, "reason");
  if (e.reason.empty()) {
    e.reason = reason_for_code(http_status);
  }
  // The server's own words, shown as every echoed string is (a proxy in between may answer with
  // anything).
  std::string message = shown(str(e.status, "message"), 600);
  if (message.empty()) {
    const std::string text = shown(first_line(body, 300), 300);
    message = text.empty()
                  ? fmt::format("the server answered HTTP {} {} to {} {}", http_status, e.reason,
                                info.method, info.path)
                  : fmt::format("{} {}: HTTP {}: {}", info.method, info.path, http_status, text);
  }

  std::string hint;
  switch (http_status) {
  case 401:
    hint = unauthorized_hint(info);
    break;
  case 403:
    hint = forbidden_hint(info);
    break;
  case 404:
    if (info.resource.find("/proxy") != std::string::npos && !e.status.is_object()) {
      // A Status body is the API server's own NotFound (the pod is gone), not the pod's answer.
      hint = "the pod answered 404 through the API server's proxy: check the port and path";
    } else if (!e.status.is_object()) {
      hint = "the cluster does not serve this API path; the API group or version may not be "
             "installed";
    } else if (str(e.status.value("details", nlohmann::json::object()), "kind") == "namespaces" &&
               info.verb != "get" && info.verb != "list") {
      hint = "the namespace does not exist; create it first";
    }
    break;
  case 405:
    hint =
        fmt::format("{} does not support {}", info.resource.empty() ? "this path" : info.resource,
                    info.verb.empty() ? info.method : info.verb);
    break;
  case 409:
    if (e.reason == "AlreadyExists") {
      hint = "it already exists: apply it (server-side) to change it, or delete it first";
    } else if (has_cause(e.status, "FieldManagerConflict")) {
      hint = "another field manager owns these fields: apply with force to take them over (as "
             "kubectl apply --server-side --force-conflicts does), or leave them alone";
    } else {
      hint = "the object changed since it was read: read it again and retry";
    }
    break;
  case 410:
    hint = "the list went on for too long and its continue token expired: run the command again";
    break;
  case 413:
    hint = "the request body is larger than the API server accepts";
    break;
  case 415:
    hint = "the API server does not accept this content type for this request";
    break;
  case 422:
    message = invalid_message(e.status, message);
    hint = "the API server's validation rejected these fields: fix them in the object (or in the "
           "template or config it was rendered from)";
    break;
  case 429:
    message += after_attempts(info);
    hint = "the API server is shedding load (API priority and fairness): try again later";
    break;
  default:
    if (http_status >= 500) {
      message =
          fmt::format("{} (HTTP {} {}){}", message, http_status, e.reason, after_attempts(info));
      hint = fmt::format("the API server{} is failing or overloaded: try again later; if it "
                         "persists, check the control plane",
                         info.context.empty() ? "" : " of " + info.context);
    }
    break;
  }
  e.error = Error(ExitCode::k_failed, std::move(message), std::move(hint));
  return e;
}

ApiError error_from_transport(const RequestInfo& info, TransportFailure failure,
                              std::string_view detail_in) {
  ApiError e;
  e.failure = failure;
  const std::string detail(detail_in);
  const std::string url = url_of(info);
  const std::string ctx = info.context.empty() ? "the context" : "context " + info.context;
  const std::string attempts = after_attempts(info);
  std::string message;
  std::string hint;
  ExitCode code = ExitCode::k_unreachable;
  switch (failure) {
  case TransportFailure::k_resolve:
    message =
        fmt::format("cannot resolve the API server's host name ({}): {}", info.server, detail);
    hint =
        fmt::format("check the server address of {} in the kubeconfig and this machine's DNS", ctx);
    break;
  case TransportFailure::k_connect:
    message = fmt::format("cannot connect to the API server at {}: {}", info.server, detail);
    hint = fmt::format("is the API server running and reachable from here? Check the server "
                       "address of {} and any firewall in between",
                       ctx);
    break;
  case TransportFailure::k_timeout:
    message = fmt::format("timed out talking to the API server at {}: {}{}", info.server, detail,
                          attempts);
    hint = "the API server did not answer in time: check that it is reachable from here, or allow "
           "more time with --timeout";
    break;
  case TransportFailure::k_reset:
    message = fmt::format("the connection to {} broke: {}{}", info.server, detail, attempts);
    hint = "the connection was closed by the API server, a load balancer or a proxy: try again";
    break;
  case TransportFailure::k_tls_verify: {
    const bool name_problem = detail.find("host name") != std::string::npos ||
                              detail.find("hostname") != std::string::npos;
    const bool expired = detail.find("expired") != std::string::npos;
    if (name_problem) {
      message = info.tls_server_name.empty()
                    ? fmt::format("the API server's certificate is not valid for the address it "
                                  "is reached by ({}): {}",
                                  info.server, detail)
                    : fmt::format("the API server's certificate ({}) is not valid for "
                                  "tls-server-name {}: {}",
                                  info.server, info.tls_server_name, detail);
      hint = !info.tls_server_name.empty()
                 ? fmt::format("tls-server-name of {} is not a name in the server's certificate: "
                               "fix it in the kubeconfig",
                               ctx)
                 : fmt::format("set tls-server-name in the cluster entry of {} to a name the "
                               "certificate holds (e.g. kubernetes.default.svc), or use the "
                               "address it was issued for",
                               ctx);
    } else if (expired) {
      message =
          fmt::format("the API server's certificate has expired ({}): {}", info.server, detail);
      hint = "the cluster's serving certificate must be renewed";
    } else {
      message = fmt::format("the API server's certificate ({}) is not signed by the expected "
                            "certificate authority (CA mismatch): {}",
                            info.server, detail);
      hint = info.has_ca
                 ? fmt::format("certificate-authority(-data) of {} is not the CA that signed the "
                               "API server's certificate: take the cluster's CA into the "
                               "kubeconfig (check also tls-server-name if the server is reached "
                               "through another name)",
                               ctx)
                 : fmt::format("{} names no certificate-authority and the system's trusted CAs "
                               "do not include the cluster's: add certificate-authority-data to "
                               "its cluster entry",
                               ctx);
    }
    break;
  }
  case TransportFailure::k_tls_handshake: {
    message = fmt::format("the TLS handshake with {} failed: {}", info.server, detail);
    const bool cert_rejected = detail.find("certificate required") != std::string::npos ||
                               detail.find("bad certificate") != std::string::npos ||
                               detail.find("unknown ca") != std::string::npos ||
                               detail.find("certificate unknown") != std::string::npos;
    if (!cert_rejected) {
      hint = fmt::format("check that the server address of {} is the API server's HTTPS endpoint",
                         ctx);
    } else if (info.auth == "client certificate") {
      hint = fmt::format("the API server rejected the client certificate of {}: check "
                         "client-certificate and client-key in its user entry",
                         ctx);
    } else {
      hint = fmt::format("the API server wants a client certificate and {} presents none: set "
                         "client-certificate(-data) and client-key(-data) in its user entry",
                         ctx);
    }
    break;
  }
  case TransportFailure::k_tls_config:
    code = ExitCode::k_usage;
    message = fmt::format("the TLS settings of {} are unusable: {}", ctx, detail);
    hint = "check certificate-authority, client-certificate and client-key (PEM) in the "
           "kubeconfig";
    break;
  case TransportFailure::k_proxy:
    message = fmt::format("cannot reach {} through the proxy {}: {}", info.server,
                          info.proxy.empty() ? "(none)" : info.proxy, detail);
    hint = "check proxy-url in the kubeconfig, or HTTPS_PROXY and NO_PROXY in the environment";
    break;
  case TransportFailure::k_none:
  case TransportFailure::k_other:
    message = fmt::format("request {} {} failed: {}", info.method, url, detail);
    break;
  }
  e.error = Error(code, std::move(message), std::move(hint));
  return e;
}

ApiResult<nlohmann::json> parse_json_body(const RequestInfo& info, std::string_view body) {
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& ex) {
    return api_fail(Error(ExitCode::k_failed,
                          fmt::format("the API server answered {} {} with invalid JSON at byte "
                                      "{}: {}",
                                      info.method, info.path, ex.byte, first_line(body, 80)),
                          "the server at this address may not be a Kubernetes API server"));
  }
}

} // namespace meshctl::kube

// Subresources and virtual resources besides status: SelfSubjectAccessReview, a ServiceAccount's
// token (TokenRequest), a Pod's proxy and exec (the data behind them: canned pod data, then
// the istiod model).

#include "api_impl.hpp"
#include "exec.hpp"
#include "pki.hpp"
#include "rbac.hpp"

#include <fmt/format.h>

namespace kubesim {

HttpResponse Api::Impl::do_access_review(const ResourceType& t, const Identity& who,
                                         const HttpRequest& req) {
  std::string err;
  auto body = parse_request_body(req, err);
  if (!body || !body->is_object()) {
    return body_error(req, err.empty() ? "invalid body" : err);
  }
  json review = *body;
  const json spec = review.value("spec", json::object());
  Attributes a;
  if (t.kind == "SubjectAccessReview") {
    a.user = spec.value("user", "");
    a.groups = spec.value("groups", std::vector<std::string>{});
  } else {
    a.user = who.user;
    a.groups = who.groups;
  }
  if (spec.contains("resourceAttributes")) {
    const json& ra = spec["resourceAttributes"];
    a.verb = ra.value("verb", "");
    a.api_group = ra.value("group", "");
    a.resource = ra.value("resource", "");
    a.subresource = ra.value("subresource", "");
    a.ns = ra.value("namespace", "");
    a.name = ra.value("name", "");
  } else if (spec.contains("nonResourceAttributes")) {
    a.resource_request = false;
    a.verb = spec["nonResourceAttributes"].value("verb", "");
    a.path = spec["nonResourceAttributes"].value("path", "");
  } else {
    return invalid(t, "",
                   {{"FieldValueRequired", "spec.resourceAttributes",
                     "Required value: exactly one of nonResourceAttributes or "
                     "resourceAttributes must be specified"}});
  }
  const Decision d = authorize(store, a);
  review["apiVersion"] = t.api_version();
  review["kind"] = t.kind;
  review["metadata"] = {{"creationTimestamp", nullptr}};
  review["status"] = {{"allowed", d.allowed}};
  if (!d.reason.empty()) {
    review["status"]["reason"] = d.reason;
  }
  return json_response(201, review);
}

HttpResponse Api::Impl::do_token_request(const Target& tg, const HttpRequest& req) {
  const json* sa = store.get("serviceaccounts", tg.ns, tg.name);
  if (sa == nullptr) {
    return not_found(*store.find_type("", "v1", "serviceaccounts"), tg.name);
  }
  std::string err;
  auto body = req.body.empty() ? std::optional<json>(json::object()) : parse_request_body(req, err);
  if (!body) {
    return body_error(req, err);
  }
  json tr = body->is_object() ? *body : json::object();
  const long long ttl = tr.value("spec", json::object()).value("expirationSeconds", 3600LL);
  const long long exp = static_cast<long long>(std::time(nullptr)) + ttl;
  const std::string token = api.m_pki->sign_jwt(
      {{"iss", "kubernetes/serviceaccount"},
       {"aud", tr.value("spec", json::object()).value("audiences", json::array())},
       {"exp", exp},
       {"kubernetes.io/serviceaccount/namespace", tg.ns},
       {"kubernetes.io/serviceaccount/service-account.name", tg.name},
       {"kubernetes.io/serviceaccount/service-account.uid", (*sa)["metadata"].value("uid", "")},
       {"sub", "system:serviceaccount:" + tg.ns + ":" + tg.name}});
  std::time_t t = static_cast<std::time_t>(exp);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  tr["apiVersion"] = "authentication.k8s.io/v1";
  tr["kind"] = "TokenRequest";
  tr["metadata"] = {{"name", tg.name}, {"namespace", tg.ns}, {"creationTimestamp", nullptr}};
  tr["status"] = {{"token", token}, {"expirationTimestamp", buf}};
  return json_response(201, tr);
}

// Canned data first (ConfigMap, --pod-data), then the istiod model. `lock` (the API lock, held
// on entry) is released before the model reads other clusters.
std::optional<std::string> Api::Impl::pod_http(const std::string& ns, const std::string& pod,
                                               int port, const std::string& path,
                                               std::unique_lock<std::mutex>& lock) {
  const json* cm = store.get("configmaps", ns, "kubesim-pod-data-" + pod);
  if (cm != nullptr && cm->contains("data")) {
    const std::string key = std::to_string(port) + "." + sanitise_path(path);
    if ((*cm)["data"].contains(key)) {
      return (*cm)["data"][key].get<std::string>();
    }
  }
  if (auto canned = read_pod_data_dir(api.m_options.pod_data_dir, ns, pod, port, path)) {
    return canned;
  }
  auto snapshot = istiod.prepare(store, ns, pod, port, path);
  if (!snapshot) {
    return std::nullopt;
  }
  lock.unlock();
  return istiod.answer(std::move(*snapshot));
}

HttpResponse Api::Impl::do_pod_proxy(const Target& tg, const Query& q, const std::string& raw_query,
                                     std::unique_lock<std::mutex>& lock) {
  std::string name = tg.name;
  int port = 0;
  std::vector<std::string> parts;
  std::string cur;
  for (char c : name + ":") {
    if (c == ':') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (parts.size() == 3) { // scheme:name:port
    parts.erase(parts.begin());
  }
  name = parts[0];
  const json* pod = store.get("pods", tg.ns, name);
  const ResourceType& pt = *store.find_type("", "v1", "pods");
  if (pod == nullptr) {
    return not_found(pt, name);
  }
  if (parts.size() >= 2 && !parts[1].empty()) {
    try {
      port = std::stoi(parts[1]);
    } catch (...) {
      port = 0;
    }
  }
  if (port == 0) {
    port = 80;
    for (const auto& c : pod->value("spec", json::object()).value("containers", json::array())) {
      for (const auto& p : c.value("ports", json::array())) {
        port = p.value("containerPort", 80);
        goto found;
      }
    }
  found:;
  }
  std::string path = tg.rest.empty() ? "/" : tg.rest;
  if (!raw_query.empty()) {
    path += "?" + raw_query;
  }
  (void)q;
  const std::string ip = pod->value("status", json::object()).value("podIP", "");
  auto data = pod_http(tg.ns, name, port, path, lock);
  if (!data) {
    return status_response(503, "ServiceUnavailable",
                           fmt::format("error trying to reach service: dial tcp {}:{}: connect: "
                                       "connection refused",
                                       ip, port),
                           json::object());
  }
  HttpResponse r;
  r.status = 200;
  const auto first = data->find_first_not_of(" \t\r\n");
  r.content_type = first != std::string::npos && (((*data)[first] == '{') || (*data)[first] == '[')
                       ? "application/json"
                       : "text/plain; charset=utf-8";
  r.body = *data;
  return r;
}

std::variant<ExecRequest, HttpResponse> Api::prepare_exec_unguarded(const HttpRequest& req,
                                                                    RequestInfo& info) {
  const auto qpos = req.target.find('?');
  const Query q = parse_query(qpos == std::string::npos ? "" : req.target.substr(qpos + 1));
  std::optional<HttpResponse> forbidden;
  const auto who = authenticate(req, forbidden);
  if (forbidden) {
    return *forbidden;
  }
  if (!who) {
    return status_response(401, "Unauthorized", "Unauthorized");
  }
  info.user = who->user;
  auto target = parse_target(split_path(req.target.substr(0, qpos)));
  std::lock_guard lock(m_impl->mu);
  const ResourceType* t = m_impl->store.find_type("", "v1", "pods");
  ExecRequest e;
  e.ns = target->ns;
  e.pod = target->name;
  info.verb = "create";
  info.resource = "pods";
  info.subresource = "exec";
  info.ns = e.ns;
  info.name = e.pod;
  Attributes a{who->user, who->groups, "create", true, "", "pods", "exec", e.ns, e.pod, ""};
  if (!authorize(m_impl->store, a).allowed) {
    return status_response(403, "Forbidden", forbidden_message(a), details_for(*t, e.pod));
  }
  const json* pod = m_impl->store.get("pods", e.ns, e.pod);
  if (pod == nullptr) {
    return not_found(*t, e.pod);
  }
  e.command = q_all(q, "command");
  e.container = q_get(q, "container");
  e.stdin_ = q_true(q, "stdin");
  e.stdout_ = q_true(q, "stdout");
  e.stderr_ = q_true(q, "stderr");
  e.tty = q_true(q, "tty");
  const json containers = pod->value("spec", json::object()).value("containers", json::array());
  if (e.container.empty()) {
    if (containers.size() == 1) {
      e.container = containers[0].value("name", "");
    } else {
      std::string names;
      for (const auto& c : containers) {
        names += (names.empty() ? "" : " ") + c.value("name", "");
      }
      return bad_request("a container name must be specified for pod " + e.pod +
                         ", choose one of: [" + names + "]");
    }
  }
  bool found = false;
  for (const auto& c : containers) {
    found = found || c.value("name", "") == e.container;
  }
  if (!found) {
    return bad_request("container " + e.container + " is not valid for pod " + e.pod);
  }
  const std::string phase = pod->value("status", json::object()).value("phase", "");
  if (phase == "Succeeded" || phase == "Failed") {
    return bad_request("cannot exec into a container in a completed pod; current phase is " +
                       phase);
  }
  if (e.command.empty()) {
    return bad_request("you must specify at least one command for the container");
  }
  return e;
}

} // namespace kubesim

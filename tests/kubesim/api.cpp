#include "api_impl.hpp"
#include "discovery.hpp"
#include "exec.hpp"
#include "pki.hpp"
#include "proto.hpp"
#include "rbac.hpp"
#include "table.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <stdexcept>

namespace kubesim {

std::optional<Identity> Api::Impl::token_identity(const std::string& token) {
  if (token == api.m_admin_token) {
    return Identity{"kubernetes-admin", {"system:masters", "system:authenticated"}, ""};
  }
  auto claims = api.m_pki->verify_jwt(token);
  if (!claims || claims->value("iss", "") != "kubernetes/serviceaccount") {
    return std::nullopt;
  }
  const std::string ns = claims->value("kubernetes.io/serviceaccount/namespace", "");
  const std::string sa = claims->value("kubernetes.io/serviceaccount/service-account.name", "");
  const std::string sa_uid = claims->value("kubernetes.io/serviceaccount/service-account.uid", "");
  const std::string secret = claims->value("kubernetes.io/serviceaccount/secret.name", "");
  const json* sa_obj = store.get("serviceaccounts", ns, sa);
  if (sa_obj == nullptr || (*sa_obj)["metadata"].value("uid", "") != sa_uid) {
    return std::nullopt;
  }
  if (!secret.empty()) {
    // Legacy tokens live as long as their Secret holds them.
    const json* s = store.get("secrets", ns, secret);
    if (s == nullptr || !s->contains("data") || !(*s)["data"].contains("token") ||
        base64_decode((*s)["data"]["token"].get<std::string>()) != token) {
      return std::nullopt;
    }
  } else if (claims->contains("exp") && (*claims)["exp"].get<long long>() < std::time(nullptr)) {
    return std::nullopt;
  }
  return Identity{
      "system:serviceaccount:" + ns + ":" + sa,
      {"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
      sa_uid};
}

// ---------------------------------------------------------------------------------------------

Api::Api(ApiOptions options, Scheduler scheduler)
    : m_options(std::move(options)), m_pki(std::make_unique<Pki>(m_options.cluster_name)),
      m_admin_token(random_hex(24)), m_impl(std::make_unique<Impl>(*this, std::move(scheduler))) {
  std::lock_guard lock(m_impl->mu);
  m_impl->store.on_event([impl = m_impl.get()](const Event& ev) { impl->index_service(ev); });
  m_impl->store.on_event([impl = m_impl.get()](const Event& ev) { impl->watches.on_event(ev); });
  m_impl->seeding = true;
  m_impl->bootstrap();
  m_impl->seeding = false;
}

Api::~Api() = default;

bool Api::is_admin(const Identity& id) {
  return std::find(id.groups.begin(), id.groups.end(), "system:masters") != id.groups.end();
}

void Api::load_seed(const std::string& text, const std::string& origin) {
  std::vector<json> docs;
  try {
    for (const auto& node : YAML::LoadAll(text)) {
      json doc = yaml_to_json(node);
      if (!doc.is_object()) {
        continue;
      }
      if (doc.contains("items") && doc.value("kind", "").ends_with("List")) {
        for (const auto& item : doc["items"]) {
          docs.push_back(item);
        }
      } else {
        docs.push_back(doc);
      }
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(origin + ": " + e.what());
  }
  // CRDs first, then namespaces, then the rest: a seed may list them in any order.
  auto rank = [](const json& d) {
    const std::string k = d.value("kind", "");
    return k == "CustomResourceDefinition" ? 0 : k == "Namespace" ? 1 : 2;
  };
  std::stable_sort(docs.begin(), docs.end(),
                   [&](const json& a, const json& b) { return rank(a) < rank(b); });
  std::lock_guard lock(m_impl->mu);
  std::vector<std::pair<std::string, std::string>> seeded_deployments;
  m_impl->seeding = true;
  struct Reset {
    bool& flag;
    ~Reset() { flag = false; }
  } reset{m_impl->seeding};
  for (auto& d : docs) {
    const std::string what =
        d.value("kind", "") + " " + d.value("metadata", json::object()).value("name", "");
    const ResourceType* t = m_impl->type_for(d);
    if (t == nullptr) {
      throw std::runtime_error(origin + ": " + what + ": no such kind " +
                               d.value("apiVersion", "") + " " + d.value("kind", ""));
    }
    const std::string ns =
        t->namespaced ? d["metadata"].value("namespace", std::string("default")) : "";
    if (t->kind == "Namespace" &&
        m_impl->store.get("namespaces", "", d["metadata"].value("name", "")) != nullptr) {
      continue;
    }
    HttpResponse r = m_impl->do_create(*t, ns, d, "kubesim-seed", false, true);
    if (r.status >= 300) {
      const json s = json::parse(r.body, nullptr, false);
      throw std::runtime_error(origin + ": " + what + ": " +
                               (s.is_object() ? s.value("message", r.body) : r.body));
    }
    if (t->kind == "Deployment") {
      seeded_deployments.emplace_back(ns, d["metadata"].value("name", ""));
    }
  }
  // The Deployment controller's first sync: a seeded Deployment whose Pods the file does not seed
  // (an installed gateway, say) gets them as in a real cluster, and the injector fills them in.
  // One whose Pods are seeded keeps them (they count as current until its template changes).
  for (const auto& [ns, name] : seeded_deployments) {
    const json* dep = m_impl->store.get("deployments.apps", ns, name);
    if (dep != nullptr &&
        static_cast<int>(m_impl->pods_of(*dep).size()) < (*dep)["spec"].value("replicas", 1)) {
      m_impl->reconcile_deployment_later(ns, name);
    }
  }
}

std::optional<Identity> Api::authenticate(const HttpRequest& req,
                                          std::optional<HttpResponse>& forbidden) {
  std::optional<Identity> id;
  auto auth = req.headers.find("authorization");
  std::lock_guard lock(m_impl->mu);
  if (auth != req.headers.end() && auth->second.rfind("Bearer ", 0) == 0) {
    id = m_impl->token_identity(auth->second.substr(7));
    if (!id) {
      return std::nullopt; // a bad token is 401 even with a client certificate
    }
  } else if (req.cert_identity && !req.cert_identity->user.empty()) {
    id = req.cert_identity;
    if (std::find(id->groups.begin(), id->groups.end(), "system:authenticated") ==
        id->groups.end()) {
      id->groups.push_back("system:authenticated");
    }
  }
  if (!id) {
    return std::nullopt;
  }
  auto imp = req.headers.find("impersonate-user");
  if (imp == req.headers.end() && req.impersonate_groups.empty()) {
    return id;
  }
  if (imp == req.headers.end()) {
    forbidden = status_response(500, "InternalError",
                                "Internal error occurred: requested [{Group  "
                                "authentication.k8s.io/v1  groups}] without impersonating a user");
    return std::nullopt;
  }
  const std::string user = imp->second;
  Attributes a{id->user, id->groups, "impersonate", true, "", "users", "", "", user, ""};
  Identity target{user, {}, ""};
  const std::string sa_prefix = "system:serviceaccount:";
  if (user.rfind(sa_prefix, 0) == 0) {
    const std::string rest = user.substr(sa_prefix.size());
    const auto colon = rest.find(':');
    a.resource = "serviceaccounts";
    a.ns = rest.substr(0, colon);
    a.name = colon == std::string::npos ? "" : rest.substr(colon + 1);
    if (req.impersonate_groups.empty()) {
      target.groups = {"system:serviceaccounts", "system:serviceaccounts:" + a.ns};
    }
  }
  auto deny = [&](const Attributes& at) {
    HttpResponse r = status_response(
        403, "Forbidden",
        at.resource + " \"" + at.name + "\" is forbidden: User \"" + id->user +
            "\" cannot impersonate resource \"" + at.resource + "\" in API group \"\"" +
            (at.ns.empty() ? " at the cluster scope" : " in the namespace \"" + at.ns + "\""),
        {{"name", at.name}, {"kind", at.resource}});
    forbidden = r;
  };
  if (!authorize(m_impl->store, a).allowed) {
    deny(a);
    return std::nullopt;
  }
  for (const auto& g : req.impersonate_groups) {
    Attributes ga{id->user, id->groups, "impersonate", true, "", "groups", "", "", g, ""};
    if (!authorize(m_impl->store, ga).allowed) {
      deny(ga);
      return std::nullopt;
    }
    target.groups.push_back(g);
  }
  if (user != "system:anonymous" && std::find(target.groups.begin(), target.groups.end(),
                                              "system:authenticated") == target.groups.end()) {
    target.groups.push_back("system:authenticated");
  }
  return target;
}

namespace {

/// A protobuf length-delimited field (wire type 2) of a small message.
std::string proto_field(int number, const std::string& bytes) {
  std::string out(1, static_cast<char>((number << 3) | 2));
  std::size_t n = bytes.size();
  do { // varint length
    auto b = static_cast<unsigned char>(n & 0x7f);
    n >>= 7;
    out += static_cast<char>(n != 0 ? (b | 0x80) : b);
  } while (n != 0);
  return out + bytes;
}

/// /openapi/v2 with no paths and no definitions: gnostic's openapi_v2.Document (swagger = 1,
/// info = 2 {title = 1, version = 2}) in protobuf when asked for it, as kubectl does, else JSON.
HttpResponse openapi_v2_empty(const std::string& version, const std::string& accept) {
  if (accept.find("protobuf") != std::string::npos) {
    HttpResponse r;
    r.content_type = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
    r.body = proto_field(1, "2.0") +
             proto_field(2, proto_field(1, "Kubernetes") + proto_field(2, version));
    return r;
  }
  return json_response(200, {{"swagger", "2.0"},
                             {"info", {{"title", "Kubernetes"}, {"version", version}}},
                             {"paths", json::object()},
                             {"definitions", json::object()}});
}

} // namespace

HttpResponse Api::handle_unguarded(const HttpRequest& req, RequestInfo& info) {
  const auto qpos = req.target.find('?');
  const std::string path = req.target.substr(0, qpos);
  const std::string raw_query = qpos == std::string::npos ? "" : req.target.substr(qpos + 1);
  const Query q = parse_query(raw_query);
  std::optional<HttpResponse> forbidden;
  const auto who = authenticate(req, forbidden);
  if (forbidden) {
    return *forbidden;
  }
  if (!who) {
    return status_response(401, "Unauthorized", "Unauthorized");
  }
  info.user = who->user;
  const auto parts = split_path(path);
  auto target = parse_target(parts);
  std::unique_lock lock(m_impl->mu);
  Store& store = m_impl->store;

  if (!target) {
    // Non-resource paths: discovery, version, OpenAPI, health.
    info.verb = req.method == "GET" ? "get" : req.method == "POST" ? "post" : "unknown";
    Attributes a{who->user, who->groups, info.verb, false, "", "", "", "", "", path};
    if (!authorize(store, a).allowed) {
      return status_response(403, "Forbidden", forbidden_message(a), json::object());
    }
    if (req.method != "GET") {
      return method_not_allowed();
    }
    const auto accept = req.headers.count("accept") ? req.headers.at("accept") : "";
    const bool aggregated = accept.find("as=APIGroupDiscoveryList") != std::string::npos &&
                            accept.find("v=v2") != std::string::npos;
    auto discovery_response = [&](const json& body, bool agg) {
      HttpResponse r = json_response(200, body);
      if (agg) {
        r.content_type = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
      }
      return r;
    };
    if (parts.size() == 1 && parts[0] == "api") {
      return aggregated ? discovery_response(aggregated_discovery(store, true), true)
                        : json_response(200, api_versions());
    }
    if (parts.size() == 1 && parts[0] == "apis") {
      return aggregated ? discovery_response(aggregated_discovery(store, false), true)
                        : json_response(200, api_group_list(store));
    }
    if (parts.size() == 2 && parts[0] == "api") {
      auto l = api_resource_list(store, "", parts[1]);
      return l ? json_response(200, *l) : not_found_path();
    }
    if (parts.size() == 2 && parts[0] == "apis") {
      auto g = api_group(store, parts[1]);
      return g ? json_response(200, *g) : not_found_path();
    }
    if (parts.size() == 3 && parts[0] == "apis") {
      auto l = api_resource_list(store, parts[1], parts[2]);
      return l ? json_response(200, *l) : not_found_path();
    }
    if (parts.size() == 1 && parts[0] == "version") {
      return json_response(200, version_info(m_options.version));
    }
    if (parts.size() == 1 &&
        (parts[0] == "healthz" || parts[0] == "livez" || parts[0] == "readyz")) {
      HttpResponse r;
      r.content_type = "text/plain; charset=utf-8";
      r.body = "ok";
      return r;
    }
    if (parts.size() == 2 && parts[0] == "openapi" && parts[1] == "v2") {
      // kubectl validates a `kind: List` client-side against this document (everything else
      // goes through the server's fieldValidation). kubesim has no v2 schemas: an empty Document
      // makes kubectl skip what it has no schema for, as it does for any unknown type.
      return openapi_v2_empty(m_options.version, accept);
    }
    if (parts.size() == 2 && parts[0] == "openapi" && parts[1] == "v3") {
      return json_response(200, openapi_v3_root(store));
    }
    if (parts.size() >= 3 && parts[0] == "openapi" && parts[1] == "v3") {
      std::string gv;
      for (std::size_t i = 2; i < parts.size(); ++i) {
        gv += (i > 2 ? "/" : "") + parts[i];
      }
      auto doc = openapi_v3_doc(store, gv);
      return doc ? json_response(200, *doc) : not_found_path();
    }
    return not_found_path();
  }

  const ResourceType* t = store.find_type(target->group, target->version, target->resource_name);
  if (t == nullptr) {
    return not_found_path();
  }
  if (!t->namespaced && !target->ns.empty() && t->kind != "Namespace") {
    return not_found_path();
  }
  if (t->kind == "Namespace") {
    target->ns.clear();
  }
  if (!target->subresource.empty() && !t->has_subresource(target->subresource)) {
    return not_found_path();
  }
  // The verb, as kube's RequestInfoFactory derives it.
  std::string verb;
  const std::string& m = req.method;
  if (m == "GET" || m == "HEAD") {
    verb = target->name.empty() ? (q_true(q, "watch") ? "watch" : "list") : "get";
  } else if (m == "POST") {
    verb = "create";
  } else if (m == "PUT") {
    verb = "update";
  } else if (m == "PATCH") {
    verb = "patch";
  } else if (m == "DELETE") {
    verb = target->name.empty() ? "deletecollection" : "delete";
  } else {
    return method_not_allowed();
  }
  if (target->subresource == "exec") {
    verb = "create";
  }
  std::string auth_name = target->name;
  if (target->subresource == "proxy") {
    auth_name = auth_name.substr(0, auth_name.find(':'));
    if (std::count(target->name.begin(), target->name.end(), ':') == 2) {
      auth_name = target->name.substr(target->name.find(':') + 1);
      auth_name = auth_name.substr(0, auth_name.find(':'));
    }
  }
  info.verb = verb;
  info.api_group = t->group;
  info.resource = t->resource;
  info.subresource = target->subresource;
  info.ns = target->ns;
  info.name = auth_name;
  info.dry_run = q_get(q, "dryRun") == "All";
  Attributes a{who->user,   who->groups,         verb,       true,      t->group,
               t->resource, target->subresource, target->ns, auth_name, ""};
  if (!authorize(store, a).allowed) {
    return status_response(403, "Forbidden", forbidden_message(a), details_for(*t, auth_name));
  }
  if (verb == "watch") {
    return m_impl->do_watch(*t, *target, req, q, info);
  }
  if (t->group == "authorization.k8s.io") {
    if (verb != "create") {
      return method_not_allowed();
    }
    return m_impl->do_access_review(*t, *who, req);
  }
  const std::string& sub = target->subresource;
  if (sub == "exec") {
    return bad_request("Upgrade request required");
  }
  if (sub == "proxy") {
    if (t->kind != "Pod" || verb != "get") {
      return method_not_allowed();
    }
    return m_impl->do_pod_proxy(*target, q, raw_query, lock);
  }
  if (sub == "token") {
    if (verb != "create") {
      return method_not_allowed();
    }
    return m_impl->do_token_request(*target, req);
  }
  if (sub == "log") {
    if (store.get("pods", target->ns, target->name) == nullptr) {
      return not_found(*t, target->name);
    }
    HttpResponse r;
    r.content_type = "text/plain";
    return r;
  }
  if (sub == "finalize" || sub == "scale") {
    return method_not_allowed();
  }
  if (verb == "get") {
    return m_impl->do_get(*t, *target, req, q);
  }
  if (verb == "list") {
    return m_impl->do_list(*t, *target, req, q);
  }
  if (verb == "create") {
    if (!target->name.empty()) {
      return method_not_allowed();
    }
    std::string err;
    auto body = parse_request_body(req, err);
    if (!body) {
      return body_error(req, err);
    }
    json obj = *body;
    if (auto bad = m_impl->check_type(*t, obj)) {
      return *bad;
    }
    const bool strict = q_get(q, "fieldValidation") == "Strict";
    return m_impl->do_create(*t, target->ns, obj, m_impl->manager_of(req, q, "unknown"),
                             q_get(q, "dryRun") == "All", false, strict);
  }
  if (verb == "update") {
    return m_impl->do_update(*t, *target, req, q);
  }
  if (verb == "patch") {
    return m_impl->do_patch(*t, *target, req, q);
  }
  if (verb == "delete") {
    return m_impl->do_delete(*t, *target, req, q);
  }
  return m_impl->do_delete_collection(*t, *target, req, q);
}

namespace {

// A body of the right JSON syntax but the wrong types (a number for a name, a string for
// metadata) makes nlohmann throw; kube answers such bodies 400 ("cannot unmarshal ...").
HttpResponse internal_failure(const std::exception& e) {
  if (dynamic_cast<const nlohmann::json::type_error*>(&e) != nullptr ||
      dynamic_cast<const nlohmann::json::out_of_range*>(&e) != nullptr) {
    return bad_request(std::string("the request body could not be decoded: ") + e.what());
  }
  return status_response(500, "InternalError", std::string("Internal error occurred: ") + e.what());
}

} // namespace

HttpResponse Api::handle(const HttpRequest& req, RequestInfo& info) {
  try {
    return handle_unguarded(req, info);
  } catch (const std::exception& e) {
    return internal_failure(e);
  }
}

std::variant<ExecRequest, HttpResponse> Api::prepare_exec(const HttpRequest& req,
                                                          RequestInfo& info) {
  try {
    return prepare_exec_unguarded(req, info);
  } catch (const std::exception& e) {
    return internal_failure(e);
  }
}

bool Api::exec_reads_stdin(const ExecRequest& exec) {
  if (!exec.stdin_ || exec.command.empty()) {
    return false;
  }
  if (exec.command[0] == "cat") {
    return true;
  }
  return exec.command.size() >= 3 && exec.command[1] == "-c" &&
         exec.command[2].find("cat") != std::string::npos;
}

ExecResult Api::run_exec(const ExecRequest& exec, const std::string& stdin_data) {
  return run_command(exec.command, stdin_data, [&](int port, const std::string& path) {
    std::unique_lock lock(m_impl->mu);
    return m_impl->pod_http(exec.ns, exec.pod, port,
                            path.empty() || path[0] == '/' ? path : "/" + path, lock);
  });
}

std::string Api::kubeconfig(const std::string& name, const std::string& server_url,
                            bool use_token) const {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "apiVersion" << YAML::Value << "v1";
  out << YAML::Key << "kind" << YAML::Value << "Config";
  out << YAML::Key << "clusters" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << name;
  out << YAML::Key << "cluster" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "server" << YAML::Value << server_url;
  out << YAML::Key << "certificate-authority-data" << YAML::Value << base64_encode(m_pki->ca_pem());
  out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;
  out << YAML::Key << "contexts" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << name;
  out << YAML::Key << "context" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "cluster" << YAML::Value << name;
  out << YAML::Key << "user" << YAML::Value << name;
  out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;
  out << YAML::Key << "current-context" << YAML::Value << name;
  out << YAML::Key << "users" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << name;
  out << YAML::Key << "user" << YAML::Value << YAML::BeginMap;
  if (use_token) {
    out << YAML::Key << "token" << YAML::Value << m_admin_token;
  } else {
    const CertPair admin = m_pki->client_cert("kubernetes-admin", {"system:masters"});
    out << YAML::Key << "client-certificate-data" << YAML::Value << base64_encode(admin.cert_pem);
    out << YAML::Key << "client-key-data" << YAML::Value << base64_encode(admin.key_pem);
  }
  out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

} // namespace kubesim

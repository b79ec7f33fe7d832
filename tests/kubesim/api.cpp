#include "api.hpp"

#include "discovery.hpp"
#include "exec.hpp"
#include "fields.hpp"
#include "istiod.hpp"
#include "patch.hpp"
#include "proto.hpp"
#include "quantity.hpp"
#include "rbac.hpp"
#include "rootcert_controller.hpp"
#include "selectors.hpp"
#include "table.hpp"
#include "validate.hpp"
#include "watch.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <random>
#include <regex>
#include <set>
#include <stdexcept>

namespace kubesim {
namespace {

constexpr int k_node_port_min = 30000;
constexpr int k_node_port_max = 32767;

// --- small helpers ---

using Query = std::multimap<std::string, std::string>;

std::string q_get(const Query& q, const std::string& k, const std::string& def = "") {
  auto it = q.find(k);
  return it == q.end() ? def : it->second;
}

std::vector<std::string> q_all(const Query& q, const std::string& k) {
  std::vector<std::string> out;
  for (auto [it, end] = q.equal_range(k); it != end; ++it) {
    out.push_back(it->second);
  }
  return out;
}

bool q_true(const Query& q, const std::string& k) {
  const std::string v = q_get(q, k);
  return v == "true" || v == "1" || v == "True";
}

Query parse_query(const std::string& qs) {
  Query q;
  std::size_t pos = 0;
  while (pos <= qs.size() && !qs.empty()) {
    const std::size_t amp = qs.find('&', pos);
    const std::string part =
        qs.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    if (!part.empty()) {
      const std::size_t eq = part.find('=');
      q.emplace(url_decode(part.substr(0, eq), true),
                eq == std::string::npos ? "" : url_decode(part.substr(eq + 1), true));
    }
    if (amp == std::string::npos) {
      break;
    }
    pos = amp + 1;
  }
  return q;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : path) {
    if (c == '/') {
      if (!cur.empty()) {
        out.push_back(url_decode(cur, false));
      }
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) {
    out.push_back(url_decode(cur, false));
  }
  return out;
}

HttpResponse json_response(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump();
  return r;
}

HttpResponse status_response(int code, const std::string& reason, const std::string& message,
                             const json& details = nullptr) {
  return json_response(code, status_failure(code, reason, message, details));
}

json details_for(const ResourceType& t, const std::string& name) {
  json d = json::object();
  if (!name.empty()) {
    d["name"] = name;
  }
  if (!t.group.empty()) {
    d["group"] = t.group;
  }
  d["kind"] = t.resource;
  return d;
}

HttpResponse not_found(const ResourceType& t, const std::string& name) {
  return status_response(404, "NotFound", t.group_resource() + " \"" + name + "\" not found",
                         details_for(t, name));
}

HttpResponse namespace_not_found(const std::string& ns) {
  return status_response(404, "NotFound", "namespaces \"" + ns + "\" not found",
                         {{"name", ns}, {"kind", "namespaces"}});
}

HttpResponse already_exists(const ResourceType& t, const std::string& name) {
  return status_response(409, "AlreadyExists",
                         t.group_resource() + " \"" + name + "\" already exists",
                         details_for(t, name));
}

HttpResponse conflict(const ResourceType& t, const std::string& name) {
  return status_response(409, "Conflict",
                         "Operation cannot be fulfilled on " + t.group_resource() + " \"" + name +
                             "\": the object has been modified; please apply your changes to the "
                             "latest version and try again",
                         details_for(t, name));
}

HttpResponse bad_request(const std::string& message) {
  return status_response(400, "BadRequest", message);
}

HttpResponse invalid(const ResourceType& t, const std::string& name,
                     const std::vector<Cause>& causes) {
  std::string qualified = t.group.empty() ? t.kind : t.kind + "." + t.group;
  std::string joined;
  json jc = json::array();
  for (const auto& c : causes) {
    joined += (joined.empty() ? "" : ", ") + (c.field.empty() ? "" : c.field + ": ") + c.message;
    jc.push_back({{"reason", c.reason}, {"message", c.message}, {"field", c.field}});
  }
  if (causes.size() > 1) {
    joined = "[" + joined + "]";
  }
  json d = {{"name", name}, {"kind", t.kind}, {"causes", jc}};
  if (!t.group.empty()) {
    d["group"] = t.group;
  }
  return status_response(422, "Invalid", qualified + " \"" + name + "\" is invalid: " + joined, d);
}

HttpResponse not_found_path() {
  return status_response(404, "NotFound", "the server could not find the requested resource",
                         json::object());
}

HttpResponse method_not_allowed() {
  return status_response(405, "MethodNotAllowed",
                         "the server does not allow this method on the requested resource",
                         json::object());
}

// YAML scalar typing after YAML 1.2's core schema (what sigs.k8s.io/yaml effectively does).
json yaml_scalar(const YAML::Node& n) {
  const std::string s = n.Scalar();
  if (n.Tag() == "!") {
    return s;
  }
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
    return nullptr;
  }
  if (s == "true" || s == "True" || s == "TRUE") {
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    return false;
  }
  static const std::regex int_re("^[-+]?[0-9]+$");
  static const std::regex float_re("^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$");
  if (std::regex_match(s, int_re)) {
    try {
      return std::stoll(s);
    } catch (...) {
      return s;
    }
  }
  if (std::regex_match(s, float_re)) {
    return std::stod(s);
  }
  return s;
}

json yaml_to_json(const YAML::Node& n) {
  switch (n.Type()) {
  case YAML::NodeType::Map: {
    json o = json::object();
    for (const auto& kv : n) {
      o[kv.first.as<std::string>()] = yaml_to_json(kv.second);
    }
    return o;
  }
  case YAML::NodeType::Sequence: {
    json a = json::array();
    for (const auto& e : n) {
      a.push_back(yaml_to_json(e));
    }
    return a;
  }
  case YAML::NodeType::Scalar:
    return yaml_scalar(n);
  default:
    return nullptr;
  }
}

// Parses a body that may be JSON or YAML; nullopt with `error` set when it is neither.
std::optional<json> parse_body(const std::string& body, std::string& error) {
  const auto first = body.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (body[first] == '{' || body[first] == '[')) {
    auto j = json::parse(body, nullptr, false);
    if (!j.is_discarded()) {
      return j;
    }
  }
  try {
    return yaml_to_json(YAML::Load(body));
  } catch (const std::exception& e) {
    error = e.what();
    return std::nullopt;
  }
}

bool is_protobuf(const HttpRequest& req) {
  auto it = req.headers.find("content-type");
  return it != req.headers.end() && it->second.rfind("application/vnd.kubernetes.protobuf", 0) == 0;
}

// The request body as JSON, from JSON, YAML or (for a few kinds) protobuf.
std::optional<json> parse_request_body(const HttpRequest& req, std::string& error) {
  if (is_protobuf(req)) {
    return decode_k8s_protobuf(req.body, error);
  }
  return parse_body(req.body, error);
}

HttpResponse body_error(const HttpRequest& req, const std::string& error) {
  if (is_protobuf(req)) {
    return status_response(415, "UnsupportedMediaType", error, json::object());
  }
  return bad_request(error);
}

std::uint32_t ip_to_u32(const std::string& ip) {
  in_addr a{};
  if (inet_pton(AF_INET, ip.c_str(), &a) != 1) {
    return 0;
  }
  return ntohl(a.s_addr);
}

std::string u32_to_ip(std::uint32_t v) {
  in_addr a{};
  a.s_addr = htonl(v);
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

std::string generate_suffix() {
  static const char* k_alphabet = "bcdfghjklmnpqrstvwxz2456789";
  static thread_local std::mt19937 rng{std::random_device{}()};
  std::string s;
  for (int i = 0; i < 5; ++i) {
    s.push_back(k_alphabet[rng() % 27]);
  }
  return s;
}

// What the URL says.
struct Target {
  bool resource = false;
  std::string group;
  std::string version;
  std::string ns;
  std::string resource_name; // plural
  std::string name;
  std::string subresource;
  std::string rest; // after the subresource (pod proxy path)
};

std::optional<Target> parse_target(const std::vector<std::string>& parts) {
  Target t;
  std::size_t i = 0;
  if (parts.size() >= 2 && parts[0] == "api") {
    t.version = parts[1];
    i = 2;
  } else if (parts.size() >= 3 && parts[0] == "apis") {
    t.group = parts[1];
    t.version = parts[2];
    i = 3;
  } else {
    return std::nullopt;
  }
  if (i >= parts.size()) {
    return std::nullopt;
  }
  t.resource = true;
  std::vector<std::string> rest(parts.begin() + static_cast<long>(i), parts.end());
  if (rest[0] == "namespaces" && rest.size() >= 3) {
    t.ns = rest[1];
    rest.erase(rest.begin(), rest.begin() + 2);
  } else if (rest[0] == "namespaces" && rest.size() == 2) {
    t.resource_name = "namespaces";
    t.name = rest[1];
    t.ns = rest[1];
    return t;
  }
  t.resource_name = rest[0];
  if (rest.size() >= 2) {
    t.name = rest[1];
  }
  if (rest.size() >= 3) {
    t.subresource = rest[2];
  }
  for (std::size_t k = 3; k < rest.size(); ++k) {
    t.rest += "/" + rest[k];
  }
  if (t.resource_name == "namespaces" && t.ns.empty() == false && !t.name.empty()) {
    // /api/v1/namespaces/NS/status etc. handled above; nothing to do.
  }
  return t;
}

} // namespace

RequestInfo classify_request(const std::string& method, const std::string& target) {
  RequestInfo info;
  const auto qpos = target.find('?');
  const Query q = parse_query(qpos == std::string::npos ? "" : target.substr(qpos + 1));
  auto t = parse_target(split_path(target.substr(0, qpos)));
  if (!t) {
    info.verb = method == "GET" ? "get" : method == "POST" ? "post" : "unknown";
    return info;
  }
  info.api_group = t->group;
  info.resource = t->resource_name;
  info.subresource = t->subresource;
  info.ns = t->resource_name == "namespaces" ? "" : t->ns;
  info.name = t->name;
  if (method == "GET" || method == "HEAD") {
    info.verb = t->name.empty() ? (q_true(q, "watch") ? "watch" : "list") : "get";
  } else if (method == "POST") {
    info.verb = "create";
  } else if (method == "PUT") {
    info.verb = "update";
  } else if (method == "PATCH") {
    info.verb = "patch";
  } else if (method == "DELETE") {
    info.verb = t->name.empty() ? "deletecollection" : "delete";
  }
  if (t->subresource == "exec") {
    info.verb = "create";
  }
  info.dry_run = q_get(q, "dryRun") == "All";
  return info;
}

json yaml_text_to_json(const std::string& text) {
  try {
    return yaml_to_json(YAML::Load(text));
  } catch (const std::exception&) {
    return nullptr;
  }
}

std::string url_decode(const std::string& s, bool plus_is_space) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

json status_failure(int code, const std::string& reason, const std::string& message,
                    const json& details) {
  json s = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
            {"status", "Failure"}, {"message", message}, {"reason", reason}};
  if (!details.is_null()) {
    s["details"] = details;
  }
  s["code"] = code;
  return s;
}

// ---------------------------------------------------------------------------------------------

struct Api::Impl {
  Api& api;
  Scheduler scheduler;
  Store store;
  std::mutex mu;
  WatchHub watches; ///< open watches (watch.hpp)
  std::uint32_t svc_base = 0;
  std::uint32_t svc_size = 0;
  std::uint32_t next_pod_ip = 0;
  // True while bootstrapping and loading seeds: the Deployment controller leaves seeded
  // Deployments and their seeded Pods alone.
  bool seeding = false;
  // Deployment key -> hash of its template as seeded: while the template is unchanged, every Pod
  // its selector matches counts as current (seeded Pods carry made-up pod-template-hash labels).
  std::map<std::string, std::string> seeded_templates;
  // The istiod model behind exec `pilot-agent request` and istiod's pod proxy (istiod.hpp).
  istiod::Istiod istiod;
  // The root istiod publishes as istio-ca-root-cert (rootcert_controller.hpp).
  RootCertController rootcert;

  Impl(Api& a, Scheduler s)
      : api(a), scheduler(std::move(s)),
        istiod(istiod::IstiodOptions{a.m_options.cluster_name,
                                     std::chrono::milliseconds(a.m_options.istiod_cache_ms)}) {}

  // ----- identity -----

  std::optional<Identity> token_identity(const std::string& token) {
    if (token == api.m_admin_token) {
      return Identity{"kubernetes-admin", {"system:masters", "system:authenticated"}, ""};
    }
    auto claims = api.m_pki->verify_jwt(token);
    if (!claims || claims->value("iss", "") != "kubernetes/serviceaccount") {
      return std::nullopt;
    }
    const std::string ns = claims->value("kubernetes.io/serviceaccount/namespace", "");
    const std::string sa = claims->value("kubernetes.io/serviceaccount/service-account.name", "");
    const std::string sa_uid =
        claims->value("kubernetes.io/serviceaccount/service-account.uid", "");
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

  // ----- bootstrap -----

  void bootstrap() {
    for (const auto& t : builtin_types()) {
      store.add_type(t);
    }
    const auto slash = api.m_options.service_cidr.find('/');
    svc_base = ip_to_u32(api.m_options.service_cidr.substr(0, slash));
    const int bits = std::stoi(api.m_options.service_cidr.substr(slash + 1));
    svc_size = bits >= 32 ? 1 : (1u << (32 - bits));
    next_pod_ip = ip_to_u32("10.244.0.10");
    for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
      create_internal(
          json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
    }
    create_internal(json{{"apiVersion", "v1"},
                         {"kind", "Service"},
                         {"metadata",
                          {{"name", "kubernetes"},
                           {"namespace", "default"},
                           {"labels", {{"component", "apiserver"}, {"provider", "kubernetes"}}}}},
                         {"spec",
                          {{"clusterIP", u32_to_ip(svc_base + 1)},
                           {"ports", json::array({{{"name", "https"},
                                                   {"port", 443},
                                                   {"protocol", "TCP"},
                                                   {"targetPort", 6443}}})}}}});
    const std::string rbac = "rbac.authorization.k8s.io/v1";
    auto cluster_role = [&](const std::string& name, const json& rules) {
      create_internal(
          json{{"apiVersion", rbac},
               {"kind", "ClusterRole"},
               {"metadata",
                {{"name", name}, {"labels", {{"kubernetes.io/bootstrapping", "rbac-defaults"}}}}},
               {"rules", rules}});
    };
    auto binding = [&](const std::string& name, const std::string& role, const json& subjects) {
      create_internal(json{
          {"apiVersion", rbac},
          {"kind", "ClusterRoleBinding"},
          {"metadata",
           {{"name", name}, {"labels", {{"kubernetes.io/bootstrapping", "rbac-defaults"}}}}},
          {"roleRef",
           {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", role}}},
          {"subjects", subjects}});
    };
    auto group = [](const std::string& g) {
      return json{{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Group"}, {"name", g}};
    };
    cluster_role("cluster-admin",
                 json::array({{{"apiGroups", {"*"}}, {"resources", {"*"}}, {"verbs", {"*"}}},
                              {{"nonResourceURLs", {"*"}}, {"verbs", {"*"}}}}));
    cluster_role("system:discovery",
                 json::array({{{"nonResourceURLs",
                                {"/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
                                 "/openapi", "/openapi/*", "/readyz", "/version", "/version/"}},
                               {"verbs", {"get"}}}}));
    cluster_role("system:public-info-viewer",
                 json::array({{{"nonResourceURLs",
                                {"/healthz", "/livez", "/readyz", "/version", "/version/"}},
                               {"verbs", {"get"}}}}));
    cluster_role(
        "system:basic-user",
        json::array({{{"apiGroups", {"authorization.k8s.io"}},
                      {"resources", {"selfsubjectaccessreviews", "selfsubjectrulesreviews"}},
                      {"verbs", {"create"}}},
                     {{"apiGroups", {"authentication.k8s.io"}},
                      {"resources", {"selfsubjectreviews"}},
                      {"verbs", {"create"}}}}));
    const json read = {"get", "list", "watch"};
    cluster_role(
        "view",
        json::array(
            {{{"apiGroups", {""}},
              {"resources",
               {"configmaps", "endpoints", "pods", "services", "serviceaccounts", "namespaces"}},
              {"verbs", read}},
             {{"apiGroups", {"apps"}}, {"resources", {"deployments"}}, {"verbs", read}}}));
    binding("cluster-admin", "cluster-admin", json::array({group("system:masters")}));
    binding("system:discovery", "system:discovery", json::array({group("system:authenticated")}));
    binding("system:basic-user", "system:basic-user", json::array({group("system:authenticated")}));
    binding("system:public-info-viewer", "system:public-info-viewer",
            json::array({group("system:authenticated"), group("system:unauthenticated")}));
  }

  // ----- creation shared by HTTP and seeding -----

  const ResourceType* type_for(const json& obj) {
    const std::string av = obj.value("apiVersion", "");
    const auto slash = av.find('/');
    const std::string group = slash == std::string::npos ? "" : av.substr(0, slash);
    const std::string version = slash == std::string::npos ? av : av.substr(slash + 1);
    return store.find_kind(group, version, obj.value("kind", ""));
  }

  // Creates as the system would (seed, bootstrap, controllers); throws on failure.
  void create_internal(json obj) {
    const ResourceType* t = type_for(obj);
    if (t == nullptr) {
      throw std::runtime_error("no type " + obj.value("apiVersion", "") + " " +
                               obj.value("kind", ""));
    }
    const std::string ns = t->namespaced ? obj["metadata"].value("namespace", "default") : "";
    if (t->namespaced) {
      obj["metadata"]["namespace"] = ns;
    }
    HttpResponse r = do_create(*t, ns, obj, "kubesim-seed", false, true);
    if (r.status >= 300) {
      throw std::runtime_error(r.body);
    }
  }

  std::string storage_api_version(const ResourceType& t) {
    if (!t.from_crd) {
      return t.api_version();
    }
    for (const auto& o : store.types()) {
      if (o.group == t.group && o.resource == t.resource && o.storage_version) {
        return o.api_version();
      }
    }
    return t.api_version();
  }

  json present(const ResourceType& t, json obj) {
    obj["apiVersion"] = t.api_version();
    obj["kind"] = t.kind;
    return obj;
  }

  // ----- services -----

  // Which Service holds each cluster IP and node port, kept by a store listener so that
  // allocation does not scan every Service (sync-svc benchmarks create thousands).
  std::map<std::uint32_t, std::string> ip_owner;
  std::map<int, std::string> port_owner;
  std::map<std::string, std::pair<std::uint32_t, std::vector<int>>> service_holdings;

  void index_service(const Event& ev) {
    if (ev.group_resource != "services") {
      return;
    }
    const json& md = ev.object["metadata"];
    const std::string key = object_key(md.value("namespace", ""), md.value("name", ""));
    auto held = service_holdings.find(key);
    if (held != service_holdings.end()) {
      ip_owner.erase(held->second.first);
      for (int p : held->second.second) {
        port_owner.erase(p);
      }
      service_holdings.erase(held);
    }
    if (ev.type == "DELETED") {
      return;
    }
    auto spec = ev.object.find("spec");
    if (spec == ev.object.end() || !spec->is_object()) {
      return;
    }
    std::pair<std::uint32_t, std::vector<int>> holding{0, {}};
    auto ip = spec->find("clusterIP");
    if (ip != spec->end() && ip->is_string()) {
      holding.first = ip_to_u32(ip->get<std::string>()); // 0 for "None" and ""
      if (holding.first != 0) {
        ip_owner[holding.first] = key;
      }
    }
    auto ports = spec->find("ports");
    if (ports != spec->end() && ports->is_array()) {
      for (const auto& p : *ports) {
        auto np = p.find("nodePort");
        if (np != p.end() && np->is_number_integer() && np->get<int>() != 0) {
          holding.second.push_back(np->get<int>());
          port_owner[np->get<int>()] = key;
        }
      }
    }
    service_holdings[key] = holding;
  }

  bool ip_taken(std::uint32_t ip, const std::string& self) const {
    auto it = ip_owner.find(ip);
    return it != ip_owner.end() && it->second != self;
  }

  bool port_taken(int port, const std::string& self) const {
    auto it = port_owner.find(port);
    return it != port_owner.end() && it->second != self;
  }

  // Allocates clusterIP and nodePorts; keeps what `old` had when the request left them out.
  std::vector<Cause> allocate_service(json& svc, const json& old) {
    std::vector<Cause> causes;
    json& spec = svc["spec"];
    const std::string type = spec.value("type", "ClusterIP");
    const std::string self =
        object_key(svc["metadata"].value("namespace", ""), svc["metadata"].value("name", ""));
    const json old_spec = old.is_null() ? json::object() : old.value("spec", json::object());
    if (type == "ExternalName") {
      spec.erase("clusterIP");
      spec.erase("clusterIPs");
    } else {
      std::string ip = spec.value("clusterIP", "");
      if (ip.empty() && spec.contains("clusterIPs") && !spec["clusterIPs"].empty()) {
        ip = spec["clusterIPs"][0];
      }
      if (ip.empty()) {
        ip = old_spec.value("clusterIP", "");
      }
      if (ip.empty()) {
        for (std::uint32_t i = 10; i + 1 < svc_size; ++i) {
          if (!ip_taken(svc_base + i, self)) {
            ip = u32_to_ip(svc_base + i);
            break;
          }
        }
      } else if (ip != "None" && ip != old_spec.value("clusterIP", "")) {
        const std::uint32_t v = ip_to_u32(ip);
        if (v == 0 || v < svc_base || v >= svc_base + svc_size) {
          causes.push_back({"FieldValueInvalid", "spec.clusterIPs",
                            "Invalid value: [\"" + ip + "\"]: failed to allocate IP " + ip +
                                ": the provided IP (" + ip +
                                ") is not in the valid range. The "
                                "range of valid IPs is " +
                                api.m_options.service_cidr});
        } else if (ip_taken(v, self)) {
          causes.push_back({"FieldValueInvalid", "spec.clusterIPs",
                            "Invalid value: [\"" + ip + "\"]: failed to allocate IP " + ip +
                                ": provided IP is already allocated"});
        }
      }
      spec["clusterIP"] = ip;
      spec["clusterIPs"] = json::array({ip});
    }
    if (type == "NodePort" || type == "LoadBalancer") {
      std::set<int> used; // ports of this request
      json& ports = spec["ports"];
      for (std::size_t i = 0; i < ports.size(); ++i) {
        json& p = ports[i];
        int np = p.value("nodePort", 0);
        if (np == 0) {
          for (const auto& op : old_spec.value("ports", json::array())) {
            if (op.value("port", 0) == p.value("port", -1) && op.contains("nodePort")) {
              np = op["nodePort"];
            }
          }
        }
        if (np != 0) {
          if (port_taken(np, self) || used.contains(np)) {
            causes.push_back(
                {"FieldValueInvalid", fmt::format("spec.ports[{}].nodePort", i),
                 fmt::format("Invalid value: {}: provided port is already allocated", np)});
          }
        } else {
          for (int c = k_node_port_min; c <= k_node_port_max; ++c) {
            if (!port_taken(c, self) && !used.contains(c)) {
              np = c;
              break;
            }
          }
        }
        p["nodePort"] = np;
        used.insert(np);
      }
    } else if (spec.contains("ports")) {
      for (auto& p : spec["ports"]) {
        // Moving to ClusterIP releases the node ports (they may be left in the request).
        if (type == "ClusterIP" && !old.is_null() && p.contains("nodePort")) {
          p.erase("nodePort");
        }
      }
    }
    return causes;
  }

  // ----- the token controller and other small controllers -----

  void after_create(const ResourceType& t, const json& obj) {
    const std::string ns = obj["metadata"].value("namespace", "");
    const std::string name = obj["metadata"].value("name", "");
    if (t.kind == "Namespace") {
      // ServiceAccount controller and root-CA publisher.
      json sa = {{"apiVersion", "v1"},
                 {"kind", "ServiceAccount"},
                 {"metadata", {{"name", "default"}, {"namespace", name}}}};
      json cm = {{"apiVersion", "v1"},
                 {"kind", "ConfigMap"},
                 {"metadata",
                  {{"name", "kube-root-ca.crt"},
                   {"namespace", name},
                   {"annotations",
                    {{"kubernetes.io/description",
                      "Contains a CA bundle that can be used to verify the kube-apiserver when "
                      "using internal endpoints such as the internal service IP or "
                      "kubernetes.default.svc. No other usage is guaranteed across distributions "
                      "of Kubernetes clusters."}}}}},
                 {"data", {{"ca.crt", api.m_pki->ca_pem()}}}};
      for (auto* o : {&sa, &cm}) {
        const ResourceType* ot = type_for(*o);
        if (store.get(ot->group_resource(), name, (*o)["metadata"]["name"]) == nullptr) {
          do_create(*ot, name, *o, "kube-controller-manager", false, true);
        }
      }
      if (istiod_running()) {
        publish_root_cert(name);
      }
    } else if (t.kind == "Secret" &&
               obj.value("type", "") == "kubernetes.io/service-account-token") {
      const std::string uid = obj["metadata"].value("uid", "");
      scheduler(api.m_options.token_delay, [this, ns, name, uid] {
        std::lock_guard lock(mu);
        fill_token(ns, name, uid);
      });
    } else if (t.kind == "CustomResourceDefinition") {
      register_crd(obj);
    } else if (t.kind == "Pod") {
      if (obj.value("status", json::object()).value("phase", "Pending") == "Pending") {
        start_pod_later(ns, name, obj["metadata"].value("uid", ""));
      }
      reconcile_endpoints(ns);
      if (RootCertController::is_istiod_pod(obj)) {
        // istiod loads its CA root at start only: decide it now, publish it everywhere.
        rootcert.istiod_started(store.get("secrets", "istio-system", "cacerts"));
        std::vector<std::string> names;
        for (const json* n : store.list("namespaces", "")) {
          names.push_back((*n)["metadata"].value("name", ""));
        }
        for (const auto& n : names) {
          publish_root_cert(n);
        }
      }
    } else if (t.kind == "Service") {
      reconcile_endpoints(ns, name);
    } else if (t.kind == "Deployment") {
      if (seeding) {
        seeded_templates[object_key(ns, name)] = template_hash(obj);
      } else {
        reconcile_deployment_later(ns, name);
      }
    }
  }

  void after_update(const ResourceType& t, const json& obj, const json& old) {
    const std::string ns = obj["metadata"].value("namespace", "");
    const std::string name = obj["metadata"].value("name", "");
    if (t.kind == "CustomResourceDefinition") {
      register_crd(obj);
    } else if (t.kind == "Pod") {
      reconcile_endpoints(ns);
    } else if (t.kind == "Service") {
      reconcile_endpoints(ns, name);
    } else if (t.kind == "Deployment" &&
               obj["metadata"].value("generation", 0) != old["metadata"].value("generation", 0)) {
      reconcile_deployment_later(ns, name);
    }
  }

  // ----- istiod's root-certificate publisher -----

  bool istiod_running() {
    if (rootcert.root().empty()) {
      return false;
    }
    for (const json* p : store.list("pods", "istio-system")) {
      if (RootCertController::is_istiod_pod(*p)) {
        return true;
      }
    }
    return false;
  }

  // Creates or updates istio-ca-root-cert in `ns` with istiod's root, as istiod does (Update).
  void publish_root_cert(const std::string& ns) {
    const json want = rootcert.config_map(ns);
    const json* cur = store.get("configmaps", ns, "istio-ca-root-cert");
    if (cur == nullptr) {
      do_create(*type_for(want), ns, want, "istiod", false, false);
      return;
    }
    json next = *cur;
    next["data"] = want["data"];
    next["metadata"]["labels"]["istio.io/config"] = "true";
    if (next != *cur) {
      record_update(next, *cur, "istiod", json(), "v1", "");
      store.put("configmaps", next, false);
    }
  }

  // ----- kubelet, Deployment and Endpoints controllers (simplified, immediate) -----

  static std::string template_hash(const json& deployment) {
    static const char* k_alphabet = "bcdfghjklmnpqrstvwxz2456789";
    std::size_t h = std::hash<std::string>{}(
        deployment.value("spec", json::object()).value("template", json::object()).dump());
    std::string out;
    for (int i = 0; i < 10; ++i) {
      out.push_back(k_alphabet[h % 27]);
      h /= 27;
    }
    return out;
  }

  std::string pick_node() {
    auto nodes = store.list("nodes", "");
    return nodes.empty() ? "kubesim-node" : (*nodes[0])["metadata"].value("name", "kubesim-node");
  }

  std::string node_ip(const std::string& node) {
    const json* n = store.get("nodes", "", node);
    if (n != nullptr) {
      for (const auto& a : n->value("status", json::object()).value("addresses", json::array())) {
        if (a.value("type", "") == "InternalIP") {
          return a.value("address", "");
        }
      }
    }
    return "10.0.0.1";
  }

  // A Pod IP from the Node's spec.podCIDR (the first unused one from .2), else 10.244.0.0/16.
  std::string allocate_pod_ip(const std::string& node) {
    const json* n = store.get("nodes", "", node);
    const std::string cidr =
        n == nullptr ? "" : n->value("spec", json::object()).value("podCIDR", "");
    const auto slash = cidr.find('/');
    if (slash != std::string::npos) {
      std::set<std::string> used;
      for (const json* p : store.list("pods", "")) {
        used.insert(p->value("status", json::object()).value("podIP", ""));
      }
      const std::uint32_t base = ip_to_u32(cidr.substr(0, slash));
      const int bits = std::stoi(cidr.substr(slash + 1));
      const std::uint32_t size = bits >= 31 ? 2 : (1u << (32 - bits));
      for (std::uint32_t i = 2; i + 1 < size; ++i) {
        if (used.count(u32_to_ip(base + i)) == 0) {
          return u32_to_ip(base + i);
        }
      }
    }
    return u32_to_ip(next_pod_ip++);
  }

  // The kubelet: a Pending Pod is scheduled and running (every container ready) shortly after.
  void start_pod_later(const std::string& ns, const std::string& name, const std::string& uid) {
    scheduler(std::chrono::milliseconds(20), [this, ns, name, uid] {
      std::lock_guard lock(mu);
      const json* cur = store.get("pods", ns, name);
      if (cur == nullptr || (*cur)["metadata"].value("uid", "") != uid) {
        return;
      }
      json pod = *cur;
      auto& spec = pod["spec"];
      if (spec.value("nodeName", "").empty()) {
        spec["nodeName"] = pick_node();
      }
      const std::string now = now_rfc3339();
      std::string ip = allocate_pod_ip(spec["nodeName"]);
      json statuses = json::array();
      for (const auto& c : spec.value("containers", json::array())) {
        statuses.push_back({{"name", c.value("name", "")},
                            {"image", c.value("image", "")},
                            {"imageID", ""},
                            {"containerID", "containerd://" + random_hex(32)},
                            {"ready", true},
                            {"started", true},
                            {"restartCount", 0},
                            {"state", {{"running", {{"startedAt", now}}}}}});
      }
      json conditions = json::array();
      for (const char* type : {"Initialized", "Ready", "ContainersReady", "PodScheduled"}) {
        conditions.push_back({{"type", type},
                              {"status", "True"},
                              {"lastProbeTime", nullptr},
                              {"lastTransitionTime", now}});
      }
      pod["status"] = {{"phase", "Running"},
                       {"podIP", ip},
                       {"podIPs", json::array({{{"ip", ip}}})},
                       {"hostIP", node_ip(spec["nodeName"])},
                       {"startTime", now},
                       {"qosClass", "BestEffort"},
                       {"conditions", conditions},
                       {"containerStatuses", statuses}};
      record_update(pod, *cur, "kubelet", json(), "v1", "status");
      store.put("pods", pod, false);
      reconcile_endpoints(ns);
      for (const json* d : store.list("deployments.apps", ns)) {
        if (matches_label_selector_object((*d)["spec"].value("selector", json::object()),
                                          pod["metadata"].value("labels", json::object()))) {
          update_deployment_status(ns, (*d)["metadata"].value("name", ""));
        }
      }
    });
  }

  void reconcile_deployment_later(const std::string& ns, const std::string& name) {
    scheduler(std::chrono::milliseconds(10), [this, ns, name] {
      std::lock_guard lock(mu);
      reconcile_deployment(ns, name);
    });
  }

  std::vector<json> pods_of(const json& deployment) {
    std::vector<json> out;
    const std::string ns = deployment["metadata"].value("namespace", "");
    const json selector = deployment["spec"].value("selector", json::object());
    for (const json* p : store.list("pods", ns)) {
      if (matches_label_selector_object(selector,
                                        (*p)["metadata"].value("labels", json::object()))) {
        out.push_back(*p);
      }
    }
    return out;
  }

  bool is_current(const json& deployment, const json& pod, const std::string& hash) {
    const std::string key = object_key(deployment["metadata"].value("namespace", ""),
                                       deployment["metadata"].value("name", ""));
    auto it = seeded_templates.find(key);
    if (it != seeded_templates.end() && it->second == hash) {
      return true;
    }
    return pod["metadata"].value("labels", json::object()).value("pod-template-hash", "") == hash;
  }

  // Rolls a Deployment out at once: Pods of another template go, missing ones are created.
  void reconcile_deployment(const std::string& ns, const std::string& name) {
    const json* cur = store.get("deployments.apps", ns, name);
    if (cur == nullptr) {
      return;
    }
    const json d = *cur;
    const std::string hash = template_hash(d);
    const int replicas = d["spec"].value("replicas", 1);
    int current = 0;
    const ResourceType& pod_type = *store.find_type("", "v1", "pods");
    for (const auto& p : pods_of(d)) {
      const std::string pname = p["metadata"].value("name", "");
      if (is_current(d, p, hash) && current < replicas) {
        ++current;
      } else {
        store.erase("pods", ns, pname);
        reconcile_endpoints(ns);
      }
    }
    const json tmpl = d["spec"].value("template", json::object());
    for (; current < replicas; ++current) {
      json pod = {{"apiVersion", "v1"},
                  {"kind", "Pod"},
                  {"metadata", tmpl.value("metadata", json::object())},
                  {"spec", tmpl.value("spec", json::object())}};
      pod["metadata"]["name"] = name + "-" + hash + "-" + generate_suffix();
      pod["metadata"]["namespace"] = ns;
      pod["metadata"]["labels"]["pod-template-hash"] = hash;
      pod["metadata"]["ownerReferences"] = json::array({{{"apiVersion", "apps/v1"},
                                                         {"kind", "ReplicaSet"},
                                                         {"name", name + "-" + hash},
                                                         {"uid", new_uid()},
                                                         {"controller", true},
                                                         {"blockOwnerDeletion", true}}});
      do_create(pod_type, ns, pod, "kube-controller-manager", false, false);
    }
    update_deployment_status(ns, name);
  }

  void update_deployment_status(const std::string& ns, const std::string& name) {
    const json* cur = store.get("deployments.apps", ns, name);
    if (cur == nullptr) {
      return;
    }
    json d = *cur;
    const std::string hash = template_hash(d);
    int total = 0;
    int updated = 0;
    int ready = 0;
    for (const auto& p : pods_of(d)) {
      ++total;
      const bool up = is_current(d, p, hash);
      updated += up ? 1 : 0;
      ready += p.value("status", json::object()).value("phase", "") == "Running" ? 1 : 0;
    }
    const int replicas = d["spec"].value("replicas", 1);
    const std::string now = now_rfc3339();
    json status = {{"observedGeneration", d["metadata"].value("generation", 1)},
                   {"replicas", total},
                   {"updatedReplicas", updated},
                   {"readyReplicas", ready},
                   {"availableReplicas", ready}};
    if (total > ready) {
      status["unavailableReplicas"] = total - ready;
    }
    if (ready == 0) {
      status.erase("readyReplicas");
      status.erase("availableReplicas");
    }
    const bool available = ready >= replicas;
    status["conditions"] = json::array(
        {{{"type", "Available"},
          {"status", available ? "True" : "False"},
          {"reason", available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable"},
          {"message", available ? "Deployment has minimum availability."
                                : "Deployment does not have minimum availability."},
          {"lastUpdateTime", now},
          {"lastTransitionTime", now}},
         {{"type", "Progressing"},
          {"status", "True"},
          {"reason", "NewReplicaSetAvailable"},
          {"message", "ReplicaSet \"" + name + "-" + hash + "\" has successfully progressed."},
          {"lastUpdateTime", now},
          {"lastTransitionTime", now}}});
    json old_cmp = d.value("status", json::object());
    json new_cmp = status;
    for (auto* j : {&old_cmp, &new_cmp}) {
      if (j->contains("conditions")) {
        for (auto& c : (*j)["conditions"]) {
          c.erase("lastUpdateTime");
          c.erase("lastTransitionTime");
        }
      }
    }
    if (old_cmp == new_cmp) {
      return;
    }
    json next = d;
    next["status"] = status;
    record_update(next, d, "kube-controller-manager", json(), "apps/v1", "status");
    store.put("deployments.apps", next, false);
  }

  // Endpoints for every Service with a selector (or just `only`): the ready Pods it selects.
  // Writes go to the endpoints map only, so the Service pointers stay valid.
  void reconcile_endpoints(const std::string& ns, const std::string& only = "") {
    const ResourceType& ep_type = *store.find_type("", "v1", "endpoints");
    std::vector<const json*> services;
    if (only.empty()) {
      services = store.list("services", ns);
    } else if (const json* one = store.get("services", ns, only)) {
      services.push_back(one);
    }
    for (const json* svc_ptr : services) {
      const json& svc = *svc_ptr;
      const json spec = svc.value("spec", json::object());
      const json selector = spec.value("selector", json::object());
      if (selector.empty() || spec.value("type", "") == "ExternalName") {
        continue;
      }
      const std::string name = svc["metadata"].value("name", "");
      json addresses = json::array();
      std::vector<json> pods;
      for (const json* p : store.list("pods", ns)) {
        const json labels = (*p)["metadata"].value("labels", json::object());
        bool match = true;
        for (const auto& [k, v] : selector.items()) {
          match = match && labels.contains(k) && labels[k] == v;
        }
        const json st = p->value("status", json::object());
        if (!match || st.value("phase", "") != "Running" || st.value("podIP", "").empty()) {
          continue;
        }
        pods.push_back(*p);
        addresses.push_back({{"ip", st.value("podIP", "")},
                             {"nodeName", (*p)["spec"].value("nodeName", "")},
                             {"targetRef",
                              {{"kind", "Pod"},
                               {"name", (*p)["metadata"].value("name", "")},
                               {"namespace", ns},
                               {"uid", (*p)["metadata"].value("uid", "")}}}});
      }
      json ports = json::array();
      for (const auto& sp : spec.value("ports", json::array())) {
        json target = sp.value("targetPort", sp.value("port", json(0)));
        if (target.is_string() && !pods.empty()) {
          for (const auto& c : pods[0]["spec"].value("containers", json::array())) {
            for (const auto& cp : c.value("ports", json::array())) {
              if (cp.value("name", "") == target.get<std::string>()) {
                target = cp.value("containerPort", 0);
              }
            }
          }
        }
        json port = {{"port", target}, {"protocol", sp.value("protocol", "TCP")}};
        if (sp.contains("name")) {
          port["name"] = sp["name"];
        }
        ports.push_back(port);
      }
      json ep = {{"apiVersion", "v1"},
                 {"kind", "Endpoints"},
                 {"metadata", {{"name", name}, {"namespace", ns}}}};
      if (svc["metadata"].contains("labels")) {
        ep["metadata"]["labels"] = svc["metadata"]["labels"];
      }
      if (!addresses.empty()) {
        ep["subsets"] = json::array({{{"addresses", addresses}, {"ports", ports}}});
      }
      const json* existing = store.get("endpoints", ns, name);
      if (existing == nullptr) {
        do_create(ep_type, ns, ep, "kube-controller-manager", false, true);
        continue;
      }
      json next = *existing;
      if (ep.contains("subsets")) {
        next["subsets"] = ep["subsets"];
      } else {
        next.erase("subsets");
      }
      if (ep["metadata"].contains("labels")) {
        next["metadata"]["labels"] = ep["metadata"]["labels"];
      }
      if (comparable(next) != comparable(*existing)) {
        record_update(next, *existing, "kube-controller-manager", json(), "v1", "");
        store.put("endpoints", next, false);
      }
    }
  }

  void fill_token(const std::string& ns, const std::string& name, const std::string& uid) {
    const json* s = store.get("secrets", ns, name);
    if (s == nullptr || (*s)["metadata"].value("uid", "") != uid) {
      return;
    }
    const json annotations = (*s)["metadata"].value("annotations", json::object());
    const std::string sa_name = annotations.value("kubernetes.io/service-account.name", "");
    const json* sa = store.get("serviceaccounts", ns, sa_name);
    if (sa == nullptr) {
      // The real controller deletes tokens of ServiceAccounts that do not exist.
      store.erase("secrets", ns, name);
      return;
    }
    json secret = *s;
    const std::string sa_uid = (*sa)["metadata"].value("uid", "");
    if (secret.contains("data") && secret["data"].contains("token")) {
      auto existing = base64_decode(secret["data"]["token"].get<std::string>());
      if (existing && token_identity(*existing)) {
        return;
      }
    }
    const std::string token =
        api.m_pki->sign_jwt({{"iss", "kubernetes/serviceaccount"},
                             {"kubernetes.io/serviceaccount/namespace", ns},
                             {"kubernetes.io/serviceaccount/secret.name", name},
                             {"kubernetes.io/serviceaccount/service-account.name", sa_name},
                             {"kubernetes.io/serviceaccount/service-account.uid", sa_uid},
                             {"sub", "system:serviceaccount:" + ns + ":" + sa_name}});
    secret["data"]["token"] = base64_encode(token);
    secret["data"]["ca.crt"] = base64_encode(api.m_pki->ca_pem());
    secret["data"]["namespace"] = base64_encode(ns);
    secret["metadata"]["annotations"]["kubernetes.io/service-account.uid"] = sa_uid;
    record_update(secret, *s, "kube-controller-manager", json(), "v1", "");
    store.put("secrets", secret, false);
  }

  void register_crd(const json& crd) {
    const json& spec = crd["spec"];
    store.remove_types(spec.value("group", ""), spec["names"].value("plural", ""));
    for (const auto& t : crd_types(crd)) {
      store.add_type(t);
    }
  }

  void crd_status(json& crd) {
    const json& spec = crd["spec"];
    json names = spec["names"];
    std::vector<std::string> stored;
    for (const auto& v : spec["versions"]) {
      if (v.value("storage", false)) {
        stored.push_back(v.value("name", ""));
      }
    }
    const std::string now = now_rfc3339();
    crd["status"] = {
        {"acceptedNames", names},
        {"conditions", json::array({{{"type", "NamesAccepted"},
                                     {"status", "True"},
                                     {"lastTransitionTime", now},
                                     {"reason", "NoConflicts"},
                                     {"message", "no conflicts found"}},
                                    {{"type", "Established"},
                                     {"status", "True"},
                                     {"lastTransitionTime", now},
                                     {"reason", "InitialNamesAccepted"},
                                     {"message", "the initial names have been accepted"}}})},
        {"storedVersions", stored}};
  }

  void after_delete(const ResourceType& t, const json& obj) {
    const std::string name = obj["metadata"].value("name", "");
    const std::string ns = obj["metadata"].value("namespace", "");
    if (t.kind == "Pod") {
      reconcile_endpoints(ns);
      // A Deployment replaces a Pod that goes away.
      for (const json* d : store.list("deployments.apps", ns)) {
        if (matches_label_selector_object((*d)["spec"].value("selector", json::object()),
                                          obj["metadata"].value("labels", json::object()))) {
          reconcile_deployment_later(ns, (*d)["metadata"].value("name", ""));
        }
      }
    } else if (t.kind == "Service") {
      if (!obj.value("spec", json::object()).value("selector", json::object()).empty()) {
        store.erase("endpoints", ns, name);
      }
    } else if (t.kind == "Deployment") {
      seeded_templates.erase(object_key(ns, name));
      for (const auto& p : pods_of(obj)) {
        store.erase("pods", ns, p["metadata"].value("name", ""));
      }
      reconcile_endpoints(ns);
    } else if (t.kind == "Namespace") {
      for (const auto& gr : store.stored_resources()) {
        std::vector<std::string> names;
        for (const json* o : store.list(gr, name)) {
          names.push_back((*o)["metadata"].value("name", ""));
        }
        for (const auto& n : names) {
          store.erase(gr, name, n);
        }
      }
    } else if (t.kind == "CustomResourceDefinition") {
      const std::string gr =
          obj["spec"]["names"].value("plural", "") + "." + obj["spec"].value("group", "");
      std::vector<std::pair<std::string, std::string>> keys;
      for (const json* o : store.list(gr, "")) {
        keys.emplace_back((*o)["metadata"].value("namespace", ""),
                          (*o)["metadata"].value("name", ""));
      }
      for (const auto& [kns, kname] : keys) {
        store.erase(gr, kns, kname);
      }
      store.remove_types(obj["spec"].value("group", ""), obj["spec"]["names"].value("plural", ""));
    } else if (t.kind == "ServiceAccount") {
      std::vector<std::string> doomed;
      for (const json* s : store.list("secrets", ns)) {
        if (s->value("type", "") == "kubernetes.io/service-account-token" &&
            (*s)["metadata"]
                    .value("annotations", json::object())
                    .value("kubernetes.io/service-account.name", "") == name) {
          doomed.push_back((*s)["metadata"].value("name", ""));
        }
      }
      for (const auto& d : doomed) {
        store.erase("secrets", ns, d);
      }
    }
  }

  // ----- create / update / patch / delete -----

  std::string manager_of(const HttpRequest& req, const Query& q, const std::string& fallback) {
    std::string m = q_get(q, "fieldManager");
    if (!m.empty()) {
      return m;
    }
    auto it = req.headers.find("user-agent");
    if (it != req.headers.end() && !it->second.empty()) {
      return it->second.substr(0, it->second.find('/'));
    }
    return fallback;
  }

  // The type errors Go's decoder reports for ObjectMeta ("cannot unmarshal ...").
  static std::optional<HttpResponse> check_meta_types(const json& obj) {
    auto fail = [](const std::string& got, const std::string& field, const std::string& want) {
      return bad_request("json: cannot unmarshal " + got + " into Go struct field " + field +
                         " of type " + want);
    };
    auto type_of = [](const json& v) {
      return v.is_string()    ? "string"
             : v.is_number()  ? "number"
             : v.is_boolean() ? "bool"
             : v.is_array()   ? "array"
                              : "object";
    };
    for (const char* k : {"apiVersion", "kind"}) {
      if (obj.contains(k) && !obj[k].is_string()) {
        return fail(type_of(obj[k]), std::string("TypeMeta.") + k, "string");
      }
    }
    if (!obj.contains("metadata") || obj["metadata"].is_null()) {
      return std::nullopt;
    }
    const json& md = obj["metadata"];
    if (!md.is_object()) {
      return fail(type_of(md), "ObjectMeta.metadata", "v1.ObjectMeta");
    }
    for (const char* k : {"name", "generateName", "namespace", "resourceVersion", "uid"}) {
      if (md.contains(k) && !md[k].is_string() && !md[k].is_null()) {
        return fail(type_of(md[k]), std::string("ObjectMeta.metadata.") + k, "string");
      }
    }
    for (const char* k : {"labels", "annotations"}) {
      if (!md.contains(k) || md[k].is_null()) {
        continue;
      }
      if (!md[k].is_object()) {
        return fail(type_of(md[k]), std::string("ObjectMeta.metadata.") + k, "map[string]string");
      }
      for (const auto& [key, v] : md[k].items()) {
        if (!v.is_string()) {
          return fail(type_of(v), std::string("ObjectMeta.metadata.") + k, "string");
        }
      }
    }
    return std::nullopt;
  }

  // Checks apiVersion/kind of a body against the URL's type. Empty when fine.
  std::optional<HttpResponse> check_type(const ResourceType& t, json& obj) {
    if (!obj.is_object()) {
      return bad_request("the body of the request was not a JSON object");
    }
    if (auto bad = check_meta_types(obj)) {
      return bad;
    }
    const std::string av = obj.value("apiVersion", "");
    const std::string kind = obj.value("kind", "");
    if (av.empty() && kind.empty()) {
      obj["apiVersion"] = t.api_version();
      obj["kind"] = t.kind;
      return std::nullopt;
    }
    if (av != t.api_version()) {
      return bad_request("the API version in the data (" + av +
                         ") does not match the expected API version (" + t.api_version() + ")");
    }
    if (kind != t.kind) {
      return bad_request(kind + " in version \"" + t.version + "\" cannot be handled as a " +
                         t.kind + ": the kind in the data (" + kind +
                         ") does not match the expected kind");
    }
    return std::nullopt;
  }

  // Returns the failure response or nullopt; finalises defaults, validation and allocation.
  std::optional<HttpResponse> prepare(const ResourceType& t, json& obj, const json& old,
                                      bool strict, std::vector<std::string>* warnings) {
    if (t.from_crd && t.schema.is_object()) {
      const auto pruned = prune_unknown(t.schema, obj);
      if (!pruned.empty()) {
        if (strict) {
          std::string msg;
          for (const auto& p : pruned) {
            msg += (msg.empty() ? "" : ", ") + std::string("unknown field \"") + p.substr(1) + "\"";
          }
          return bad_request("strict decoding error: " + msg);
        }
        if (warnings != nullptr) {
          for (const auto& p : pruned) {
            warnings->push_back("unknown field \"" + p.substr(1) + "\"");
          }
        }
      }
    }
    // Decoding stores every Quantity in canonical form (quantity.hpp); a bad one fails decoding.
    if (auto bad = canonicalize_quantities(t.kind, obj)) {
      return bad_request(t.kind + " in version \"" + t.version + "\" cannot be handled as a " +
                         t.kind + ": " + *bad);
    }
    apply_defaults(t, obj);
    const std::string name = obj["metadata"].value("name", "");
    auto causes = validate_object(t, obj, old);
    if (t.kind == "Secret" && obj.value("type", "") == "kubernetes.io/service-account-token" &&
        obj["metadata"]
            .value("annotations", json::object())
            .value("kubernetes.io/service-account.name", "")
            .empty()) {
      causes.push_back({"FieldValueRequired",
                        "metadata.annotations[kubernetes.io/service-account.name]",
                        "Required value"});
    }
    if (causes.empty() && t.kind == "Service") {
      causes = allocate_service(obj, old);
    }
    if (!causes.empty()) {
      return invalid(t, name, causes);
    }
    if (t.kind == "CustomResourceDefinition") {
      crd_status(obj);
    }
    return std::nullopt;
  }

  // Status and other fields a write to the main resource may not change.
  void keep_server_fields(const ResourceType& t, json& obj, const json& old) {
    auto& md = obj["metadata"];
    const auto& omd = old["metadata"];
    for (const char* k : {"uid", "creationTimestamp", "generation"}) {
      if (omd.contains(k)) {
        md[k] = omd[k];
      } else {
        md.erase(k);
      }
    }
    if (t.has_subresource("status") || t.kind == "Namespace") {
      if (old.contains("status")) {
        obj["status"] = old["status"];
      } else {
        obj.erase("status");
      }
    }
  }

  void bump_generation(const ResourceType& t, json& obj, const json& old) {
    if (!t.tracks_generation) {
      return;
    }
    json a = obj;
    json b = old;
    for (auto* j : {&a, &b}) {
      j->erase("status");
      j->erase("metadata");
      j->erase("apiVersion");
      j->erase("kind");
    }
    if (a != b) {
      obj["metadata"]["generation"] = old["metadata"].value("generation", 1) + 1;
    }
  }

  // Istio's sidecar injector, a mutating webhook in a real cluster, as installed with istiod (its
  // ConfigMap istio-system/istio-sidecar-injector present): a Pod is injected when its namespace
  // is labelled istio-injection=enabled (unless the Pod says sidecar.istio.io/inject: "false"), or
  // when the Pod says "true" and the namespace is not labelled disabled. It gets the istio-init
  // and istio-proxy containers of the values' hub/tag, the cluster's identity in the proxy's
  // environment, Istio's labels and the sidecar.istio.io/status annotation. Pods that already
  // carry that annotation or an istio-proxy container, and hostNetwork Pods, are left alone.
  void inject_sidecar(json& pod, const std::string& ns) {
    const json* cm = store.get("configmaps", "istio-system", "istio-sidecar-injector");
    const json* nso = store.get("namespaces", "", ns);
    if (cm == nullptr || nso == nullptr) {
      return;
    }
    auto& md = pod["metadata"];
    if (!md.contains("labels") || !md["labels"].is_object()) {
      md["labels"] = json::object();
    }
    if (!md.contains("annotations") || !md["annotations"].is_object()) {
      md["annotations"] = json::object();
    }
    const json ns_labels = (*nso)["metadata"].value("labels", json::object());
    const std::string ns_mode = ns_labels.value("istio-injection", "");
    const std::string pod_mode = md["labels"].value("sidecar.istio.io/inject", "");
    const bool want = (ns_mode == "enabled" && pod_mode != "false") ||
                      (pod_mode == "true" && ns_mode != "disabled");
    json& spec = pod["spec"];
    if (!want || !spec.is_object() || spec.value("hostNetwork", false) ||
        md["annotations"].contains("sidecar.istio.io/status")) {
      return;
    }
    for (const auto& c : spec.value("containers", json::array())) {
      if (c.value("name", "") == "istio-proxy") {
        return;
      }
    }
    const json values = json::parse(
        (*cm).value("data", json::object()).value("values", std::string("{}")), nullptr, false);
    const json global =
        values.is_object() ? values.value("global", json::object()) : json::object();
    const std::string image =
        global.value("hub", std::string("docker.io/istio")) + "/" +
        global.value("proxy", json::object()).value("image", std::string("proxyv2")) + ":" +
        global.value("tag", std::string("1.24.2"));
    const std::string cluster = global.value("multiCluster", json::object())
                                    .value("clusterName", std::string("Kubernetes"));
    const std::string app = md["labels"].value("app", md.value("name", std::string()));
    md["labels"]["security.istio.io/tlsMode"] = "istio";
    md["labels"]["service.istio.io/canonical-name"] =
        md["labels"].value("app.kubernetes.io/name", app);
    md["labels"]["service.istio.io/canonical-revision"] =
        md["labels"].value("version", std::string("latest"));
    const json& containers = spec.value("containers", json::array());
    if (!containers.empty()) {
      md["annotations"]["kubectl.kubernetes.io/default-container"] =
          containers[0].value("name", std::string());
    }
    md["annotations"]["istio.io/rev"] = "default";
    md["annotations"]["sidecar.istio.io/status"] =
        R"({"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["workload-socket","credential-socket","workload-certs","istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":"default"})";
    spec["initContainers"] = spec.value("initContainers", json::array());
    spec["initContainers"].push_back(
        {{"name", "istio-init"},
         {"image", image},
         {"args",
          {"istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i",
           "*", "-x", "", "-b", "*", "-d", "15090,15021,15020",
           "--log_output_level=default:info"}}});
    spec["containers"].push_back(
        {{"name", "istio-proxy"},
         {"image", image},
         {"args",
          {"proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local",
           "--proxyLogLevel=warning", "--proxyComponentLogLevel=misc:error",
           "--log_output_level=default:info"}},
         {"ports",
          json::array(
              {{{"containerPort", 15090}, {"name", "http-envoy-prom"}, {"protocol", "TCP"}}})},
         {"env", json::array({{{"name", "ISTIO_META_CLUSTER_ID"}, {"value", cluster}},
                              {{"name", "ISTIO_META_NETWORK"},
                               {"value", global.value("network", std::string())}},
                              {{"name", "ISTIO_META_MESH_ID"},
                               {"value", global.value("meshID", std::string())}}})},
         {"readinessProbe",
          {{"httpGet", {{"path", "/healthz/ready"}, {"port", 15021}}},
           {"initialDelaySeconds", 0},
           {"periodSeconds", 15}}},
         {"securityContext", {{"runAsUser", 1337}, {"runAsGroup", 1337}, {"runAsNonRoot", true}}}});
  }

  HttpResponse do_create(const ResourceType& t, const std::string& ns, json obj,
                         const std::string& manager, bool dry_run, bool keep_status,
                         bool strict = false) {
    auto& md = obj["metadata"];
    if (!md.is_object()) {
      md = json::object();
    }
    if (t.namespaced) {
      if (md.contains("namespace") && md["namespace"] != ns) {
        return bad_request("the namespace of the provided object does not match the namespace "
                           "sent on the request");
      }
      md["namespace"] = ns;
      if (store.get("namespaces", "", ns) == nullptr) {
        return namespace_not_found(ns);
      }
    } else {
      md.erase("namespace");
    }
    if (md.value("name", "").empty() && !md.value("generateName", "").empty()) {
      md["name"] = md["generateName"].get<std::string>() + generate_suffix();
    }
    if (!keep_status) {
      obj.erase("status");
    }
    if (t.group_resource() == "pods" && !keep_status) {
      inject_sidecar(obj, ns); // mutating admission (not for seeded objects, kept as written)
    }
    for (const char* k : {"uid", "resourceVersion", "creationTimestamp", "generation",
                          "managedFields", "deletionTimestamp", "selfLink"}) {
      md.erase(k);
    }
    std::vector<std::string> warnings;
    if (auto fail = prepare(t, obj, json(), strict, &warnings)) {
      return *fail;
    }
    const std::string name = md.value("name", "");
    if (store.get(t.group_resource(), ns, name) != nullptr) {
      return already_exists(t, name);
    }
    obj["apiVersion"] = storage_api_version(t);
    obj["kind"] = t.kind;
    obj["metadata"]["uid"] = new_uid();
    obj["metadata"]["creationTimestamp"] = now_rfc3339();
    if (t.tracks_generation) {
      obj["metadata"]["generation"] = 1;
    }
    record_update(obj, json(), manager, t.schema, t.api_version(), "");
    HttpResponse r;
    if (dry_run) {
      r = json_response(201, present(t, obj));
    } else {
      const json stored = store.put(t.group_resource(), obj, true);
      r = json_response(201, present(t, stored));
      after_create(t, stored);
    }
    for (const auto& w : warnings) {
      r.headers.emplace_back("Warning", "299 - \"" + w + "\"");
    }
    return r;
  }

  // Persists `obj` as the new state of `old` (already validated); no write when nothing changed.
  HttpResponse commit_update(const ResourceType& t, json obj, const json& old, bool dry_run,
                             int created_status = 200) {
    if (old.is_null() && t.group_resource() == "pods") {
      inject_sidecar(obj, obj["metadata"].value("namespace", "")); // a Pod created by apply
    }
    canonicalize_quantities(t.kind, obj); // status writes skip prepare(); see quantity.hpp
    obj["apiVersion"] = storage_api_version(t);
    obj["kind"] = t.kind;
    if (!old.is_null()) {
      obj["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"];
      if (comparable(obj) == comparable(old)) {
        return json_response(200, present(t, old));
      }
    }
    if (dry_run) {
      return json_response(created_status, present(t, obj));
    }
    const json stored = store.put(t.group_resource(), obj, old.is_null());
    if (old.is_null()) {
      after_create(t, stored);
    } else {
      after_update(t, stored, old);
    }
    return json_response(created_status, present(t, stored));
  }

  HttpResponse do_update(const ResourceType& t, const Target& tg, const HttpRequest& req,
                         const Query& q) {
    std::string err;
    auto body = parse_request_body(req, err);
    if (!body) {
      return body_error(req, err);
    }
    json obj = *body;
    if (auto bad = check_type(t, obj)) {
      return *bad;
    }
    const std::string name = obj["metadata"].value("name", "");
    if (name != tg.name) {
      return bad_request("the name of the object (" + name +
                         ") does not match the name on the URL (" + tg.name + ")");
    }
    const json* cur = store.get(t.group_resource(), tg.ns, tg.name);
    if (cur == nullptr) {
      return not_found(t, tg.name);
    }
    const json old = *cur;
    const std::string rv = obj["metadata"].value("resourceVersion", "");
    if (!rv.empty() && rv != old["metadata"].value("resourceVersion", "")) {
      return conflict(t, tg.name);
    }
    if (t.namespaced) {
      obj["metadata"]["namespace"] = tg.ns;
    }
    const bool dry_run = q_get(q, "dryRun") == "All";
    const std::string manager = manager_of(req, q, "unknown");
    if (tg.subresource == "status") {
      json next = old;
      if (obj.contains("status")) {
        next["status"] = obj["status"];
      } else {
        next.erase("status");
      }
      record_update(next, old, manager, t.schema, t.api_version(), "status");
      return commit_update(t, next, old, dry_run);
    }
    keep_server_fields(t, obj, old);
    obj["metadata"]["managedFields"] = old["metadata"].value("managedFields", json::array());
    if (auto fail = prepare(t, obj, old, q_get(q, "fieldValidation") == "Strict", nullptr)) {
      return *fail;
    }
    bump_generation(t, obj, old);
    record_update(obj, old, manager, t.schema, t.api_version(), "");
    return commit_update(t, obj, old, dry_run);
  }

  HttpResponse do_patch(const ResourceType& t, const Target& tg, const HttpRequest& req,
                        const Query& q) {
    std::string ctype = req.headers.count("content-type") ? req.headers.at("content-type") : "";
    ctype = ctype.substr(0, ctype.find(';'));
    const bool dry_run = q_get(q, "dryRun") == "All";
    const bool strict = q_get(q, "fieldValidation") == "Strict";
    std::string err;
    if (ctype == "application/apply-patch+yaml" || ctype == "application/apply-patch+cbor") {
      auto body = parse_body(req.body, err);
      if (!body) {
        return bad_request(err);
      }
      json cfg = *body;
      const std::string manager = q_get(q, "fieldManager");
      if (manager.empty()) {
        return status_response(400, "BadRequest",
                               "PATCH " + req.target.substr(0, req.target.find('?')) +
                                   ": fieldManager is required for apply requests");
      }
      if (!cfg.is_object() || cfg.value("apiVersion", "").empty() ||
          cfg.value("kind", "").empty()) {
        return bad_request("invalid object type: /, Kind=");
      }
      if (auto bad = check_type(t, cfg)) {
        return *bad;
      }
      if (!cfg.contains("metadata") || !cfg["metadata"].is_object()) {
        cfg["metadata"] = json::object();
      }
      if (cfg["metadata"].value("name", tg.name) != tg.name) {
        return bad_request("the name of the object (" + cfg["metadata"].value("name", "") +
                           ") does not match the name on the URL (" + tg.name + ")");
      }
      cfg["metadata"]["name"] = tg.name;
      if (t.namespaced) {
        if (cfg["metadata"].contains("namespace") && cfg["metadata"]["namespace"] != tg.ns) {
          return bad_request("the namespace of the provided object does not match the namespace "
                             "sent on the request");
        }
        cfg["metadata"].erase("namespace");
      }
      if (tg.subresource != "status") {
        cfg.erase("status");
      }
      const json* cur = store.get(t.group_resource(), tg.ns, tg.name);
      const json live = cur == nullptr ? json() : *cur;
      if (live.is_null() && t.namespaced && store.get("namespaces", "", tg.ns) == nullptr) {
        return namespace_not_found(tg.ns);
      }
      if (t.from_crd && t.schema.is_object()) {
        const auto pruned = prune_unknown(t.schema, cfg);
        if (!pruned.empty() && strict) {
          std::string msg;
          for (const auto& p : pruned) {
            msg += (msg.empty() ? "" : ", ") + std::string(".") + p.substr(1) +
                   ": field not declared in schema";
          }
          return bad_request(msg);
        }
      }
      std::vector<ApplyConflict> conflicts;
      json merged = apply_config(live, cfg, manager, q_true(q, "force"), t.schema, t.api_version(),
                                 conflicts);
      if (!conflicts.empty()) {
        json causes = json::array();
        std::string msg;
        if (conflicts.size() == 1) {
          msg = "Apply failed with 1 conflict: conflict with " + conflicts[0].manager + ": " +
                conflicts[0].path;
        } else {
          std::map<std::string, std::vector<std::string>> by;
          for (const auto& c : conflicts) {
            by[c.manager].push_back(c.path);
          }
          std::vector<std::string> lines;
          for (const auto& [m, paths] : by) {
            lines.push_back("conflicts with " + m + ":");
            for (const auto& p : paths) {
              lines.push_back("- " + p);
            }
          }
          msg = fmt::format("Apply failed with {} conflicts: ", conflicts.size());
          for (std::size_t i = 0; i < lines.size(); ++i) {
            msg += (i ? "\n" : "") + lines[i];
          }
        }
        for (const auto& c : conflicts) {
          causes.push_back({{"reason", "FieldManagerConflict"},
                            {"message", "conflict with " + c.manager},
                            {"field", c.path}});
        }
        return status_response(409, "Conflict", msg, {{"causes", causes}});
      }
      if (t.namespaced) {
        merged["metadata"]["namespace"] = tg.ns;
      }
      if (live.is_null()) {
        merged["apiVersion"] = t.api_version();
        merged["kind"] = t.kind;
        if (auto fail = prepare(t, merged, json(), false, nullptr)) {
          return *fail;
        }
        merged["metadata"]["uid"] = new_uid();
        merged["metadata"]["creationTimestamp"] = now_rfc3339();
        if (t.tracks_generation) {
          merged["metadata"]["generation"] = 1;
        }
        return commit_update(t, merged, json(), dry_run, 201);
      }
      if (tg.subresource != "status") {
        keep_server_fields(t, merged, live);
      }
      if (auto fail = prepare(t, merged, live, false, nullptr)) {
        return *fail;
      }
      bump_generation(t, merged, live);
      return commit_update(t, merged, live, dry_run);
    }
    const json* cur = store.get(t.group_resource(), tg.ns, tg.name);
    if (cur == nullptr) {
      return not_found(t, tg.name);
    }
    const json old = *cur;
    auto patch = parse_body(req.body, err);
    if (!patch) {
      return bad_request(err);
    }
    json next;
    try {
      if (ctype == "application/merge-patch+json") {
        next = merge_patch(old, *patch);
      } else if (ctype == "application/strategic-merge-patch+json") {
        if (t.from_crd) {
          return status_response(415, "UnsupportedMediaType",
                                 "the body of the request was in an unknown format - accepted "
                                 "media types include: application/json-patch+json, "
                                 "application/merge-patch+json, application/apply-patch+yaml",
                                 json::object());
        }
        next = strategic_merge_patch(old, *patch);
      } else if (ctype == "application/json-patch+json") {
        next = old.patch(*patch);
      } else {
        return status_response(415, "UnsupportedMediaType",
                               "the body of the request was in an unknown format - accepted media "
                               "types include: application/json-patch+json, "
                               "application/merge-patch+json, application/apply-patch+yaml, "
                               "application/strategic-merge-patch+json",
                               json::object());
      }
    } catch (const std::exception& e) {
      return status_response(422, "Invalid",
                             std::string("the patch could not be applied: ") + e.what());
    }
    const std::string rv = next["metadata"].value("resourceVersion", "");
    if (!rv.empty() && rv != old["metadata"].value("resourceVersion", "")) {
      return conflict(t, tg.name);
    }
    const std::string manager = manager_of(req, q, "unknown");
    if (tg.subresource == "status") {
      json status_only = old;
      if (next.contains("status")) {
        status_only["status"] = next["status"];
      }
      record_update(status_only, old, manager, t.schema, t.api_version(), "status");
      return commit_update(t, status_only, old, dry_run);
    }
    if (next.value("apiVersion", "") != old.value("apiVersion", "") ||
        next.value("kind", "") != old.value("kind", "")) {
      // The patch may only keep them (the stored apiVersion may differ from the URL's for CRDs).
      next["apiVersion"] = old["apiVersion"];
      next["kind"] = old["kind"];
    }
    if (next["metadata"].value("name", "") != tg.name) {
      return bad_request(
          "metadata.name: Invalid value: the name of a patched object may not change");
    }
    keep_server_fields(t, next, old);
    if (auto fail = prepare(t, next, old, strict, nullptr)) {
      return *fail;
    }
    bump_generation(t, next, old);
    record_update(next, old, manager, t.schema, t.api_version(), "");
    return commit_update(t, next, old, dry_run);
  }

  HttpResponse do_delete(const ResourceType& t, const Target& tg, const HttpRequest& req,
                         const Query& q) {
    const json* cur = store.get(t.group_resource(), tg.ns, tg.name);
    if (cur == nullptr) {
      return not_found(t, tg.name);
    }
    if (t.kind == "Namespace" &&
        (tg.name == "default" || tg.name == "kube-system" || tg.name == "kube-public")) {
      return status_response(403, "Forbidden",
                             "namespaces \"" + tg.name +
                                 "\" is forbidden: this namespace may not be deleted",
                             details_for(t, tg.name));
    }
    std::string err;
    bool dry_run = q_get(q, "dryRun") == "All";
    if (!req.body.empty()) {
      auto opts = parse_body(req.body, err);
      if (opts && opts->is_object()) {
        if (opts->contains("dryRun") && (*opts)["dryRun"].is_array()) {
          for (const auto& d : (*opts)["dryRun"]) {
            dry_run = dry_run || d == "All";
          }
        }
        if (opts->contains("preconditions")) {
          const json& pre = (*opts)["preconditions"];
          const json& md = (*cur)["metadata"];
          if ((pre.contains("uid") && pre["uid"] != md["uid"]) ||
              (pre.contains("resourceVersion") &&
               pre["resourceVersion"] != md["resourceVersion"])) {
            return status_response(
                409, "Conflict",
                "Operation cannot be fulfilled on " + t.group_resource() + " \"" + tg.name +
                    "\": Precondition failed: UID in precondition: " + pre.value("uid", "") +
                    ", UID in object meta: " + md.value("uid", ""),
                details_for(t, tg.name));
          }
        }
      }
    }
    json obj = *cur;
    if (!dry_run) {
      store.erase(t.group_resource(), tg.ns, tg.name);
      after_delete(t, obj);
    }
    if (t.kind == "Namespace") {
      obj["metadata"]["deletionTimestamp"] = now_rfc3339();
      obj["status"]["phase"] = "Terminating";
    }
    if (t.return_deleted_object) {
      return json_response(200, present(t, obj));
    }
    json details = details_for(t, tg.name);
    details["uid"] = obj["metadata"].value("uid", "");
    return json_response(200, {{"kind", "Status"},
                               {"apiVersion", "v1"},
                               {"metadata", json::object()},
                               {"status", "Success"},
                               {"details", details}});
  }

  // ----- get / list -----

  bool wants_table(const HttpRequest& req) {
    auto it = req.headers.find("accept");
    return it != req.headers.end() && it->second.find("as=Table") != std::string::npos;
  }

  // Accept: application/json;as=PartialObjectMetadata[List];g=meta.k8s.io;v=v1 (metadata-only
  // clients, e.g. controller-runtime's metadata client).
  bool wants_metadata(const HttpRequest& req) {
    auto it = req.headers.find("accept");
    return it != req.headers.end() &&
           it->second.find("as=PartialObjectMetadata") != std::string::npos;
  }

  static json partial(const json& obj) {
    return {{"kind", "PartialObjectMetadata"},
            {"apiVersion", "meta.k8s.io/v1"},
            {"metadata", obj["metadata"]}};
  }

  HttpResponse do_get(const ResourceType& t, const Target& tg, const HttpRequest& req,
                      const Query& q) {
    const json* cur = store.get(t.group_resource(), tg.ns, tg.name);
    if (cur == nullptr) {
      return not_found(t, tg.name);
    }
    json obj = present(t, *cur);
    if (wants_metadata(req) && !wants_table(req)) {
      return json_response(200, partial(obj));
    }
    if (wants_table(req)) {
      return json_response(200,
                           make_table(t, {obj}, q_get(q, "includeObject", "Metadata"),
                                      {{"resourceVersion", obj["metadata"]["resourceVersion"]}}));
    }
    return json_response(200, obj);
  }

  bool field_matches(const ResourceType& t, const Selector& sel, const json& obj,
                     std::string& error) {
    json fields = json::object();
    fields["metadata.name"] = obj["metadata"].value("name", "");
    if (t.namespaced) {
      fields["metadata.namespace"] = obj["metadata"].value("namespace", "");
    }
    if (t.kind == "Pod") {
      fields["spec.nodeName"] = obj.value("spec", json::object()).value("nodeName", "");
      fields["spec.serviceAccountName"] =
          obj.value("spec", json::object()).value("serviceAccountName", "");
      fields["status.phase"] = obj.value("status", json::object()).value("phase", "");
      fields["status.podIP"] = obj.value("status", json::object()).value("podIP", "");
    } else if (t.kind == "Secret") {
      fields["type"] = obj.value("type", "");
    } else if (t.kind == "Namespace") {
      fields["status.phase"] = obj.value("status", json::object()).value("phase", "");
    }
    for (const auto& r : sel.requirements) {
      if (!fields.contains(r.key)) {
        error = "field label not supported: " + r.key;
        return false;
      }
    }
    return sel.matches(fields);
  }

  HttpResponse do_list(const ResourceType& t, const Target& tg, const HttpRequest& req,
                       const Query& q) {
    std::string err;
    auto lsel = parse_label_selector(q_get(q, "labelSelector"), err);
    if (!lsel) {
      return bad_request(err);
    }
    auto fsel = parse_field_selector(q_get(q, "fieldSelector"), err);
    if (!fsel) {
      return bad_request(err);
    }
    long long limit = 0;
    try {
      limit = std::stoll(q_get(q, "limit", "0"));
    } catch (...) {
      return bad_request("invalid limit");
    }
    std::string start_after;
    std::string list_rv = std::to_string(store.current_rv());
    const std::string cont = q_get(q, "continue");
    if (!cont.empty()) {
      auto decoded = base64_decode(cont);
      auto tok = decoded ? json::parse(*decoded, nullptr, false) : json();
      if (!decoded || tok.is_discarded() || !tok.is_object()) {
        return bad_request("continue key is not valid: incorrect encoded start resourceVersion "
                           "(version meta.k8s.io/v1)");
      }
      start_after = tok.value("start", "");
      list_rv = std::to_string(tok.value("rv", 0LL));
    }
    std::vector<json> items;
    bool more = false;
    std::string last_key;
    long long remaining = 0;
    for (const json* o : store.list(t.group_resource(), tg.ns)) {
      const std::string key =
          object_key((*o)["metadata"].value("namespace", ""), (*o)["metadata"].value("name", ""));
      if (!start_after.empty() && key <= start_after) {
        continue;
      }
      if (!lsel->matches((*o)["metadata"].value("labels", json::object()))) {
        continue;
      }
      if (!fsel->requirements.empty()) {
        std::string ferr;
        if (!field_matches(t, *fsel, *o, ferr)) {
          if (!ferr.empty()) {
            return bad_request(ferr);
          }
          continue;
        }
      }
      if (limit > 0 && static_cast<long long>(items.size()) >= limit) {
        more = true;
        ++remaining;
        continue;
      }
      items.push_back(present(t, *o));
      last_key = key;
    }
    json md = {{"resourceVersion", list_rv}};
    if (more) {
      md["continue"] = base64_encode(json{{"rv", std::stoll(list_rv)}, {"start", last_key}}.dump());
      if (lsel->requirements.empty() && fsel->requirements.empty()) {
        md["remainingItemCount"] = remaining;
      }
    }
    if (wants_table(req)) {
      return json_response(200, make_table(t, items, q_get(q, "includeObject", "Metadata"), md));
    }
    if (wants_metadata(req)) {
      json partials = json::array();
      for (const auto& i : items) {
        partials.push_back(partial(i));
      }
      return json_response(200, {{"kind", "PartialObjectMetadataList"},
                                 {"apiVersion", "meta.k8s.io/v1"},
                                 {"metadata", md},
                                 {"items", partials}});
    }
    if (!t.from_crd) {
      // kube-apiserver leaves kind/apiVersion out of built-in list items.
      for (auto& i : items) {
        i.erase("kind");
        i.erase("apiVersion");
      }
    }
    return json_response(200, {{"kind", t.list_kind},
                               {"apiVersion", t.api_version()},
                               {"metadata", md},
                               {"items", items}});
  }

  // ----- watch (watch.hpp) -----

  HttpResponse do_watch(const ResourceType& t, const Target& tg, const HttpRequest& req,
                        const Query& q, RequestInfo& info) {
    std::string err;
    auto lsel = parse_label_selector(q_get(q, "labelSelector"), err);
    if (!lsel) {
      return bad_request(err);
    }
    auto fsel = parse_field_selector(q_get(q, "fieldSelector"), err);
    if (!fsel) {
      return bad_request(err);
    }
    if (!fsel->requirements.empty() &&
        !field_matches(t, *fsel, json{{"metadata", json::object()}}, err) && !err.empty()) {
      return bad_request(err);
    }
    WatchParams p;
    p.type = t;
    p.ns = tg.ns;
    p.resource_version = q_get(q, "resourceVersion");
    if (!p.resource_version.empty() &&
        p.resource_version.find_first_not_of("0123456789") != std::string::npos) {
      return status_response(400, "BadRequest",
                             "resourceVersion: Invalid value: \"" + p.resource_version +
                                 "\": strconv.ParseUint: parsing \"" + p.resource_version +
                                 "\": invalid syntax");
    }
    p.bookmarks = q_true(q, "allowWatchBookmarks");
    try {
      p.timeout = std::chrono::seconds(std::stoll(q_get(q, "timeoutSeconds", "1800")));
    } catch (...) {
      return bad_request("invalid timeoutSeconds");
    }
    p.table = wants_table(req);
    p.include_object = q_get(q, "includeObject", "Metadata");
    p.matches = [this, t, l = *lsel, f = *fsel](const json& o) {
      if (!l.matches(o["metadata"].value("labels", json::object()))) {
        return false;
      }
      std::string ignored;
      return f.requirements.empty() || field_matches(t, f, o, ignored);
    };
    HttpResponse r;
    r.content_type = p.table ? "application/json;as=Table;v=v1;g=meta.k8s.io" : "application/json";
    info.watch = watches.open(store, std::move(p));
    return r;
  }

  HttpResponse do_delete_collection(const ResourceType& t, const Target& tg, const HttpRequest& req,
                                    const Query& q) {
    std::string err;
    auto lsel = parse_label_selector(q_get(q, "labelSelector"), err);
    if (!lsel) {
      return bad_request(err);
    }
    std::vector<std::pair<std::string, std::string>> keys;
    for (const json* o : store.list(t.group_resource(), tg.ns)) {
      if (lsel->matches((*o)["metadata"].value("labels", json::object()))) {
        keys.emplace_back((*o)["metadata"].value("namespace", ""),
                          (*o)["metadata"].value("name", ""));
      }
    }
    json items = json::array();
    for (const auto& [ns, name] : keys) {
      Target one = tg;
      one.ns = ns;
      one.name = name;
      HttpResponse r = do_delete(t, one, req, q);
      if (r.status == 200) {
        items.push_back(json::parse(r.body));
      }
    }
    return json_response(200,
                         {{"kind", t.list_kind},
                          {"apiVersion", t.api_version()},
                          {"metadata", {{"resourceVersion", std::to_string(store.current_rv())}}},
                          {"items", items}});
  }

  // ----- reviews and tokens -----

  HttpResponse do_access_review(const ResourceType& t, const Identity& who,
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

  HttpResponse do_token_request(const Target& tg, const HttpRequest& req) {
    const json* sa = store.get("serviceaccounts", tg.ns, tg.name);
    if (sa == nullptr) {
      return not_found(*store.find_type("", "v1", "serviceaccounts"), tg.name);
    }
    std::string err;
    auto body =
        req.body.empty() ? std::optional<json>(json::object()) : parse_request_body(req, err);
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

  // ----- pod data (exec and proxy) -----

  // Canned data first (ConfigMap, --pod-data), then the istiod model. `lock` (the API lock, held
  // on entry) is released before the model reads other clusters.
  std::optional<std::string> pod_http(const std::string& ns, const std::string& pod, int port,
                                      const std::string& path, std::unique_lock<std::mutex>& lock) {
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

  HttpResponse do_pod_proxy(const Target& tg, const Query& q, const std::string& raw_query,
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
    r.content_type =
        first != std::string::npos && (((*data)[first] == '{') || (*data)[first] == '[')
            ? "application/json"
            : "text/plain; charset=utf-8";
    r.body = *data;
    return r;
  }
};

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

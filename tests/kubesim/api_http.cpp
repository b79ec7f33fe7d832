// The HTTP side of the API shared by every handler: query and path parsing (what a URL
// addresses), metav1.Status error responses, request bodies (JSON, YAML, protobuf), and the
// request classification the server uses before authentication.

#include "api_impl.hpp"
#include "proto.hpp"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <random>
#include <regex>

namespace kubesim {

namespace {

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

} // namespace

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

std::string q_get(const Query& q, const std::string& k, const std::string& def) {
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
                             const json& details) {
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

} // namespace kubesim

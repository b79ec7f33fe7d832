#include "proto.hpp"

#include "pki.hpp"

#include <cstdint>
#include <map>
#include <stdexcept>

namespace kubesim {
namespace {

using json = nlohmann::json;

enum class Kind {
  k_string,
  k_bytes,
  k_int,
  k_bool,
  k_message,
  k_string_map,
  k_bytes_map,
  k_int_or_string
};

struct Field;
using Schema = std::map<int, Field>;

struct Field {
  std::string name;
  Kind kind = Kind::k_string;
  bool repeated = false;
  const Schema* message = nullptr;
};

// Field numbers from k8s.io/api and k8s.io/apimachinery generated.proto.
const Schema k_object_meta = {{1, {"name"}},
                              {2, {"generateName"}},
                              {3, {"namespace"}},
                              {11, {"labels", Kind::k_string_map}},
                              {12, {"annotations", Kind::k_string_map}},
                              {14, {"finalizers", Kind::k_string, true}}};
const Schema k_resource_attributes = {{1, {"namespace"}}, {2, {"verb"}},     {3, {"group"}},
                                      {4, {"version"}},   {5, {"resource"}}, {6, {"subresource"}},
                                      {7, {"name"}}};
const Schema k_non_resource_attributes = {{1, {"path"}}, {2, {"verb"}}};
const Schema k_ssar_spec = {
    {1, {"resourceAttributes", Kind::k_message, false, &k_resource_attributes}},
    {2, {"nonResourceAttributes", Kind::k_message, false, &k_non_resource_attributes}}};
const Schema k_sar_spec = {
    {1, {"resourceAttributes", Kind::k_message, false, &k_resource_attributes}},
    {2, {"nonResourceAttributes", Kind::k_message, false, &k_non_resource_attributes}},
    {3, {"user"}},
    {4, {"groups", Kind::k_string, true}},
    {6, {"uid"}}};
const Schema k_bound_ref = {{1, {"kind"}}, {2, {"apiVersion"}}, {3, {"name"}}, {4, {"uid"}}};
const Schema k_token_request_spec = {{1, {"audiences", Kind::k_string, true}},
                                     {3, {"boundObjectRef", Kind::k_message, false, &k_bound_ref}},
                                     {4, {"expirationSeconds", Kind::k_int}}};
const Schema k_object_reference = {
    {1, {"kind"}}, {2, {"namespace"}}, {3, {"name"}}, {4, {"uid"}}, {5, {"apiVersion"}}};
const Schema k_local_ref = {{1, {"name"}}};
const Schema k_namespace_spec = {{1, {"finalizers", Kind::k_string, true}}};
const Schema k_policy_rule = {{1, {"verbs", Kind::k_string, true}},
                              {2, {"apiGroups", Kind::k_string, true}},
                              {3, {"resources", Kind::k_string, true}},
                              {4, {"resourceNames", Kind::k_string, true}},
                              {5, {"nonResourceURLs", Kind::k_string, true}}};
const Schema k_subject = {{1, {"kind"}}, {2, {"apiGroup"}}, {3, {"name"}}, {4, {"namespace"}}};
const Schema k_role_ref = {{1, {"apiGroup"}}, {2, {"kind"}}, {3, {"name"}}};

// Deployment, Pod and Service: the fields `kubectl create deployment|service`, `kubectl run` and
// `kubectl expose` set.
const Schema k_label_selector_requirement = {
    {1, {"key"}}, {2, {"operator"}}, {3, {"values", Kind::k_string, true}}};
const Schema k_label_selector = {
    {1, {"matchLabels", Kind::k_string_map}},
    {2, {"matchExpressions", Kind::k_message, true, &k_label_selector_requirement}}};
const Schema k_container_port = {{1, {"name"}},
                                 {2, {"hostPort", Kind::k_int}},
                                 {3, {"containerPort", Kind::k_int}},
                                 {4, {"protocol"}}};
const Schema k_env_var = {{1, {"name"}}, {2, {"value"}}};
const Schema k_container = {{1, {"name"}},
                            {2, {"image"}},
                            {3, {"command", Kind::k_string, true}},
                            {4, {"args", Kind::k_string, true}},
                            {5, {"workingDir"}},
                            {6, {"ports", Kind::k_message, true, &k_container_port}},
                            {7, {"env", Kind::k_message, true, &k_env_var}},
                            {14, {"imagePullPolicy"}}};
const Schema k_pod_spec = {{2, {"containers", Kind::k_message, true, &k_container}},
                           {3, {"restartPolicy"}},
                           {6, {"dnsPolicy"}},
                           {7, {"nodeSelector", Kind::k_string_map}},
                           {8, {"serviceAccountName"}},
                           {10, {"nodeName"}}};
const Schema k_template_meta = {{11, {"labels", Kind::k_string_map}},
                                {12, {"annotations", Kind::k_string_map}}};
const Schema k_pod_template = {{1, {"metadata", Kind::k_message, false, &k_template_meta}},
                               {2, {"spec", Kind::k_message, false, &k_pod_spec}}};
const Schema k_deployment_spec = {{1, {"replicas", Kind::k_int}},
                                  {2, {"selector", Kind::k_message, false, &k_label_selector}},
                                  {3, {"template", Kind::k_message, false, &k_pod_template}}};
const Schema k_service_port = {{1, {"name"}},
                               {2, {"protocol"}},
                               {3, {"port", Kind::k_int}},
                               {4, {"targetPort", Kind::k_int_or_string}},
                               {5, {"nodePort", Kind::k_int}}};
const Schema k_service_spec = {{1, {"ports", Kind::k_message, true, &k_service_port}},
                               {2, {"selector", Kind::k_string_map}},
                               {3, {"clusterIP"}},
                               {4, {"type"}},
                               {5, {"externalIPs", Kind::k_string, true}},
                               {7, {"sessionAffinity"}},
                               {10, {"externalName"}}};

const Field k_meta_field{"metadata", Kind::k_message, false, &k_object_meta};

const std::map<std::string, Schema> k_kinds = {
    {"SelfSubjectAccessReview",
     {{1, k_meta_field}, {2, {"spec", Kind::k_message, false, &k_ssar_spec}}}},
    {"SubjectAccessReview",
     {{1, k_meta_field}, {2, {"spec", Kind::k_message, false, &k_sar_spec}}}},
    {"TokenRequest",
     {{1, k_meta_field}, {2, {"spec", Kind::k_message, false, &k_token_request_spec}}}},
    {"ServiceAccount",
     {{1, k_meta_field},
      {2, {"secrets", Kind::k_message, true, &k_object_reference}},
      {3, {"imagePullSecrets", Kind::k_message, true, &k_local_ref}},
      {4, {"automountServiceAccountToken", Kind::k_bool}}}},
    {"Namespace", {{1, k_meta_field}, {2, {"spec", Kind::k_message, false, &k_namespace_spec}}}},
    {"ConfigMap",
     {{1, k_meta_field},
      {2, {"data", Kind::k_string_map}},
      {3, {"binaryData", Kind::k_bytes_map}},
      {4, {"immutable", Kind::k_bool}}}},
    {"Secret",
     {{1, k_meta_field},
      {2, {"data", Kind::k_bytes_map}},
      {3, {"type"}},
      {4, {"stringData", Kind::k_string_map}},
      {5, {"immutable", Kind::k_bool}}}},
    {"Deployment", {{1, k_meta_field}, {2, {"spec", Kind::k_message, false, &k_deployment_spec}}}},
    {"Pod", {{1, k_meta_field}, {2, {"spec", Kind::k_message, false, &k_pod_spec}}}},
    {"Service", {{1, k_meta_field}, {2, {"spec", Kind::k_message, false, &k_service_spec}}}},
    {"Role", {{1, k_meta_field}, {2, {"rules", Kind::k_message, true, &k_policy_rule}}}},
    {"ClusterRole", {{1, k_meta_field}, {2, {"rules", Kind::k_message, true, &k_policy_rule}}}},
    {"RoleBinding",
     {{1, k_meta_field},
      {2, {"subjects", Kind::k_message, true, &k_subject}},
      {3, {"roleRef", Kind::k_message, false, &k_role_ref}}}},
    {"ClusterRoleBinding",
     {{1, k_meta_field},
      {2, {"subjects", Kind::k_message, true, &k_subject}},
      {3, {"roleRef", Kind::k_message, false, &k_role_ref}}}},
};

class Reader {
public:
  Reader(const std::string& data, std::size_t begin, std::size_t end)
      : m_data(data), m_pos(begin), m_end(end) {}
  [[nodiscard]] bool done() const { return m_pos >= m_end; }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (m_pos >= m_end) {
        throw std::runtime_error("truncated varint");
      }
      const auto b = static_cast<unsigned char>(m_data[m_pos++]);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        return v;
      }
    }
    throw std::runtime_error("varint too long");
  }
  std::pair<std::size_t, std::size_t> bytes() {
    const std::uint64_t n = varint();
    if (m_pos + n > m_end) {
      throw std::runtime_error("truncated field");
    }
    const std::size_t b = m_pos;
    m_pos += n;
    return {b, m_pos};
  }
  void skip(int wire) {
    switch (wire) {
    case 0:
      varint();
      break;
    case 1:
      m_pos += 8;
      break;
    case 2:
      bytes();
      break;
    case 5:
      m_pos += 4;
      break;
    default:
      throw std::runtime_error("unsupported wire type");
    }
  }
  [[nodiscard]] const std::string& data() const { return m_data; }

private:
  const std::string& m_data;
  std::size_t m_pos;
  std::size_t m_end;
};

json decode_message(const std::string& data, std::size_t b, std::size_t e, const Schema& schema) {
  json out = json::object();
  Reader r(data, b, e);
  while (!r.done()) {
    const std::uint64_t key = r.varint();
    const int number = static_cast<int>(key >> 3);
    const int wire = static_cast<int>(key & 7);
    auto it = schema.find(number);
    if (it == schema.end()) {
      r.skip(wire);
      continue;
    }
    const Field& f = it->second;
    json value;
    switch (f.kind) {
    case Kind::k_string:
    case Kind::k_bytes: {
      auto [sb, se] = r.bytes();
      std::string s = data.substr(sb, se - sb);
      value = f.kind == Kind::k_bytes ? base64_encode(s) : s;
      break;
    }
    case Kind::k_int:
      value = static_cast<long long>(r.varint());
      break;
    case Kind::k_int_or_string: {
      // intstr.IntOrString{type=1 (0 int, 1 string), intVal=2, strVal=3}
      auto [sb, se] = r.bytes();
      Reader ios(data, sb, se);
      long long type = 0;
      long long iv = 0;
      std::string sv;
      while (!ios.done()) {
        const std::uint64_t k = ios.varint();
        if ((k >> 3) == 3) {
          auto [vb, ve] = ios.bytes();
          sv = data.substr(vb, ve - vb);
        } else if ((k >> 3) == 1) {
          type = static_cast<long long>(ios.varint());
        } else {
          iv = static_cast<long long>(ios.varint());
        }
      }
      value = type == 1 ? json(sv) : json(iv);
      break;
    }
    case Kind::k_bool:
      value = r.varint() != 0;
      break;
    case Kind::k_message: {
      auto [sb, se] = r.bytes();
      value = decode_message(data, sb, se, *f.message);
      break;
    }
    case Kind::k_string_map:
    case Kind::k_bytes_map: {
      auto [sb, se] = r.bytes();
      Reader entry(data, sb, se);
      std::string k;
      std::string v;
      while (!entry.done()) {
        const std::uint64_t ek = entry.varint();
        auto [vb, ve] = entry.bytes();
        ((ek >> 3) == 1 ? k : v) = data.substr(vb, ve - vb);
      }
      out[f.name][k] = f.kind == Kind::k_bytes_map ? base64_encode(v) : v;
      continue;
    }
    }
    if (!f.repeated && value.is_string() && value.get<std::string>().empty() &&
        f.kind == Kind::k_string) {
      continue; // omitempty, as the JSON form would have it
    }
    if (f.repeated) {
      out[f.name].push_back(value);
    } else {
      out[f.name] = value;
    }
  }
  return out;
}

} // namespace

std::optional<json> decode_k8s_protobuf(const std::string& body, std::string& error) {
  try {
    if (body.size() < 4 || body.compare(0, 4, std::string("k8s\0", 4)) != 0) {
      error = "protobuf body without the k8s envelope";
      return std::nullopt;
    }
    Reader r(body, 4, body.size());
    std::string api_version;
    std::string kind;
    std::pair<std::size_t, std::size_t> raw{0, 0};
    while (!r.done()) {
      const std::uint64_t key = r.varint();
      const int number = static_cast<int>(key >> 3);
      if ((key & 7) != 2) {
        r.skip(static_cast<int>(key & 7));
        continue;
      }
      auto [b, e] = r.bytes();
      if (number == 1) {
        Reader tm(body, b, e);
        while (!tm.done()) {
          const std::uint64_t k = tm.varint();
          auto [sb, se] = tm.bytes();
          ((k >> 3) == 1 ? api_version : kind) = body.substr(sb, se - sb);
        }
      } else if (number == 2) {
        raw = {b, e};
      }
    }
    auto it = k_kinds.find(kind);
    if (it == k_kinds.end()) {
      error = "kubesim cannot decode protobuf bodies of kind " + kind + " (send JSON)";
      return std::nullopt;
    }
    json obj = decode_message(body, raw.first, raw.second, it->second);
    obj["apiVersion"] = api_version;
    obj["kind"] = kind;
    return obj;
  } catch (const std::exception& e) {
    error = std::string("invalid protobuf body: ") + e.what();
    return std::nullopt;
  }
}

} // namespace kubesim

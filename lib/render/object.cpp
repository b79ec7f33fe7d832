// Scalar typing is the subtle part of this file. yaml-cpp hands every scalar over as text plus a
// tag: "!" for a quoted scalar (or an explicit non-specific tag), "?" (or "" for nodes built in
// code) for a plain one, or a resolved tag such as "tag:yaml.org,2002:int" when the document wrote
// !!int. The API server wants JSON, so each scalar must get the type YAML 1.2's core schema gives
// it: quoted text is always a string ("15020" stays the string an annotation needs), plain text is
// null/bool/int/float when it spells one and a string otherwise. YAML 1.1 spellings such as "yes"
// or "on" are strings here, but the emitter below quotes them anyway so that YAML 1.1 readers
// (kubectl's sigs.k8s.io/yaml) cannot misread what meshctl prints.

#include "render/object.hpp"

#include "core/output.hpp"
#include "core/redact.hpp"
#include "core/yaml.hpp"

#include <charconv>
#include <cmath>
#include <limits>

namespace meshctl::render {

namespace {

constexpr std::string_view k_tag_str = "tag:yaml.org,2002:str";
constexpr std::string_view k_tag_int = "tag:yaml.org,2002:int";
constexpr std::string_view k_tag_float = "tag:yaml.org,2002:float";
constexpr std::string_view k_tag_bool = "tag:yaml.org,2002:bool";
constexpr std::string_view k_tag_null = "tag:yaml.org,2002:null";

bool all_of(std::string_view s, bool (*pred)(char)) {
  if (s.empty()) {
    return false;
  }
  for (const char c : s) {
    if (!pred(c)) {
      return false;
    }
  }
  return true;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_octal(char c) {
  return c >= '0' && c <= '7';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_null_text(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

std::optional<bool> bool_value(std::string_view s) {
  if (s == "true" || s == "True" || s == "TRUE") {
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    return false;
  }
  return std::nullopt;
}

// [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+ (core schema), as a JSON number.
std::optional<nlohmann::json> int_value(std::string_view s) {
  int base = 10;
  bool negative = false;
  std::string_view digits = s;
  if (s.size() > 2 && s[0] == '0' && s[1] == 'o' && all_of(s.substr(2), is_octal)) {
    base = 8;
    digits = s.substr(2);
  } else if (s.size() > 2 && s[0] == '0' && s[1] == 'x' && all_of(s.substr(2), is_hex)) {
    base = 16;
    digits = s.substr(2);
  } else {
    if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
      negative = digits[0] == '-';
      digits.remove_prefix(1);
    }
    if (!all_of(digits, is_digit)) {
      return std::nullopt;
    }
  }
  std::uint64_t magnitude = 0;
  const auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
  if (ec == std::errc() && end == digits.data() + digits.size()) {
    if (!negative) {
      if (magnitude <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return nlohmann::json(static_cast<std::int64_t>(magnitude));
      }
      return nlohmann::json(magnitude);
    }
    if (magnitude <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1U) {
      return nlohmann::json(static_cast<std::int64_t>(0U - magnitude));
    }
  }
  // Out of 64-bit range: still a number for YAML; JSON can only carry it as a double.
  return nlohmann::json(std::strtod(std::string(s).c_str(), nullptr));
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? | [-+]?\.(inf|Inf|INF) | \.(nan|NaN|NAN)
std::optional<nlohmann::json> float_value(std::string_view s) {
  std::string_view rest = s;
  bool negative = false;
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) {
    negative = rest[0] == '-';
    rest.remove_prefix(1);
  }
  if (rest == ".inf" || rest == ".Inf" || rest == ".INF") {
    const double inf = std::numeric_limits<double>::infinity();
    return nlohmann::json(negative ? -inf : inf);
  }
  if (s == ".nan" || s == ".NaN" || s == ".NAN") {
    return nlohmann::json(std::numeric_limits<double>::quiet_NaN());
  }
  std::size_t i = 0;
  std::size_t int_digits = 0;
  while (i < rest.size() && is_digit(rest[i])) {
    ++i;
    ++int_digits;
  }
  std::size_t frac_digits = 0;
  if (i < rest.size() && rest[i] == '.') {
    ++i;
    while (i < rest.size() && is_digit(rest[i])) {
      ++i;
      ++frac_digits;
    }
    if (int_digits == 0 && frac_digits == 0) {
      return std::nullopt;
    }
  } else if (int_digits == 0) {
    return std::nullopt;
  }
  if (i < rest.size() && (rest[i] == 'e' || rest[i] == 'E')) {
    ++i;
    if (i < rest.size() && (rest[i] == '-' || rest[i] == '+')) {
      ++i;
    }
    if (!all_of(rest.substr(i), is_digit)) {
      return std::nullopt;
    }
    i = rest.size();
  }
  if (i != rest.size()) {
    return std::nullopt;
  }
  double v = 0;
  // from_chars does not take a leading '+'; the sign is re-applied below.
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v);
  if (end != rest.data() + rest.size() && ec != std::errc::result_out_of_range) {
    return std::nullopt;
  }
  return nlohmann::json(negative ? -v : v);
}

// The JSON value of a plain scalar under the core schema.
nlohmann::json resolve_plain(const std::string& s) {
  if (is_null_text(s)) {
    return nullptr;
  }
  if (auto b = bool_value(s)) {
    return *b;
  }
  if (auto i = int_value(s)) {
    return *i;
  }
  if (auto f = float_value(s)) {
    return *f;
  }
  return s;
}

nlohmann::json scalar_to_json(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  const std::string& text = node.Scalar();
  if (tag == "!" || tag == k_tag_str) {
    return text;
  }
  if (tag.empty() || tag == "?") {
    return resolve_plain(text);
  }
  // An explicit core tag (!!int, ...): honour it when the text fits, else keep the text.
  if (tag == k_tag_null && is_null_text(text)) {
    return nullptr;
  }
  if (tag == k_tag_bool) {
    if (auto b = bool_value(text)) {
      return *b;
    }
  }
  if (tag == k_tag_int) {
    if (auto i = int_value(text)) {
      return *i;
    }
  }
  if (tag == k_tag_float) {
    if (auto i = int_value(text)) {
      return static_cast<double>(i->get<double>());
    }
    if (auto f = float_value(text)) {
      return *f;
    }
  }
  return text;
}

// Note: yaml-cpp's Node::operator= writes through to the referenced node, so walking a path
// must use reset() (or fresh nodes), never `cur = cur[key]`.
std::string get_string(const YAML::Node& node, std::initializer_list<const char*> path) {
  YAML::Node cur;
  cur.reset(node);
  for (const char* key : path) {
    if (!cur.IsMap()) {
      return {};
    }
    const YAML::Node& const_cur = cur;
    const YAML::Node next = const_cur[key];
    if (!next.IsDefined()) {
      return {};
    }
    cur.reset(next);
  }
  return cur.IsScalar() ? cur.Scalar() : std::string();
}

// A const lookup of a missing key yields an invalid node whose IsMap() throws; this does not.
bool is_map(const YAML::Node& node) {
  return node.IsDefined() && node.IsMap();
}

void emit_node(YAML::Emitter& e, const YAML::Node& node);

void emit_string(YAML::Emitter& e, const std::string& s) {
  if (yaml_needs_quotes(s)) {
    e << YAML::DoubleQuoted << s;
  } else {
    e << s;
  }
}

void emit_node(YAML::Emitter& e, const YAML::Node& node) {
  const YAML::NodeType::value type = node.Type();
  const bool map = type == YAML::NodeType::Map;
  if ((map || type == YAML::NodeType::Sequence) && node.size() == 0) {
    // Flow style, so that an empty one reads "key: {}" or "key: []".
    e << YAML::Flow << (map ? YAML::BeginMap : YAML::BeginSeq)
      << (map ? YAML::EndMap : YAML::EndSeq);
    return;
  }
  switch (type) {
  case YAML::NodeType::Map:
    e << YAML::BeginMap;
    for (const auto& kv : node) {
      e << YAML::Key;
      emit_string(e, kv.first.Scalar());
      e << YAML::Value;
      emit_node(e, kv.second);
    }
    e << YAML::EndMap;
    return;
  case YAML::NodeType::Sequence:
    e << YAML::BeginSeq;
    for (const auto& item : node) {
      emit_node(e, item);
    }
    e << YAML::EndSeq;
    return;
  case YAML::NodeType::Scalar: {
    const nlohmann::json v = scalar_to_json(node);
    if (v.is_string()) {
      emit_string(e, node.Scalar());
    } else if (v.is_null()) {
      e << YAML::Null;
    } else {
      // A plain number or bool: its own text is already the right plain scalar.
      e << node.Scalar();
    }
    return;
  }
  case YAML::NodeType::Null:
  case YAML::NodeType::Undefined:
    e << YAML::Null;
    return;
  }
}

} // namespace

std::string Object::api_version() const {
  return get_string(node, {"apiVersion"});
}

std::string Object::group() const {
  const std::string v = api_version();
  const auto slash = v.find('/');
  return slash == std::string::npos ? std::string() : v.substr(0, slash);
}

std::string Object::kind() const {
  return get_string(node, {"kind"});
}

std::string Object::name() const {
  return get_string(node, {"metadata", "name"});
}

std::string Object::namespace_() const {
  return get_string(node, {"metadata", "namespace"});
}

std::string Object::key() const {
  std::string k = api_version() + "/" + kind() + " ";
  const std::string ns = namespace_();
  if (!ns.empty()) {
    k += ns + "/";
  }
  return k + name();
}

std::string Object::display_name() const {
  const std::string ns = namespace_();
  return kind() + " " + (ns.empty() ? name() : ns + "/" + name());
}

std::string Object::label(std::string_view label) const {
  const YAML::Node labels = is_map(node["metadata"]) ? node["metadata"]["labels"] : YAML::Node();
  if (!is_map(labels)) {
    return {};
  }
  const YAML::Node v = labels[std::string(label)];
  return v.IsDefined() && v.IsScalar() ? v.Scalar() : std::string();
}

bool is_managed_by_meshctl(const Object& obj) {
  return obj.label(k_managed_by_label) == k_managed_by_value;
}

nlohmann::json to_json(const YAML::Node& node) {
  switch (node.Type()) {
  case YAML::NodeType::Map: {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& kv : node) {
      out[kv.first.Scalar()] = to_json(kv.second);
    }
    return out;
  }
  case YAML::NodeType::Sequence: {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : node) {
      out.push_back(to_json(item));
    }
    return out;
  }
  case YAML::NodeType::Scalar:
    return scalar_to_json(node);
  case YAML::NodeType::Null:
  case YAML::NodeType::Undefined:
    break;
  }
  return nullptr;
}

YAML::Node from_json(const nlohmann::json& value) {
  switch (value.type()) {
  case nlohmann::json::value_t::object: {
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& [k, v] : value.items()) {
      YAML::Node key(k);
      key.SetTag("!");
      out.force_insert(key, from_json(v));
    }
    return out;
  }
  case nlohmann::json::value_t::array: {
    YAML::Node out(YAML::NodeType::Sequence);
    for (const auto& item : value) {
      out.push_back(from_json(item));
    }
    return out;
  }
  case nlohmann::json::value_t::string: {
    YAML::Node out(value.get<std::string>());
    out.SetTag("!");
    return out;
  }
  case nlohmann::json::value_t::boolean:
    return YAML::Node(std::string(value.get<bool>() ? "true" : "false"));
  case nlohmann::json::value_t::number_integer:
    return YAML::Node(std::to_string(value.get<std::int64_t>()));
  case nlohmann::json::value_t::number_unsigned:
    return YAML::Node(std::to_string(value.get<std::uint64_t>()));
  case nlohmann::json::value_t::number_float: {
    const double d = value.get<double>();
    if (std::isnan(d)) {
      return YAML::Node(std::string(".nan"));
    }
    if (std::isinf(d)) {
      return YAML::Node(std::string(d < 0 ? "-.inf" : ".inf"));
    }
    // nlohmann prints the shortest text that reads back to the same double ("1.0", "1e+20").
    return YAML::Node(value.dump());
  }
  case nlohmann::json::value_t::null:
  case nlohmann::json::value_t::discarded:
  case nlohmann::json::value_t::binary:
    break;
  }
  return YAML::Node(YAML::NodeType::Null);
}

std::string to_yaml_text(const YAML::Node& node) {
  YAML::Emitter e;
  e.SetIndent(2);
  e.SetMapFormat(YAML::Block);
  e.SetSeqFormat(YAML::Block);
  emit_node(e, node);
  std::string out = e.c_str();
  out += '\n';
  return out;
}

std::string to_yaml_text(const Object& obj, bool show_secrets) {
  if (show_secrets || obj.kind() != "Secret" || obj.api_version() != "v1") {
    return to_yaml_text(obj.node);
  }
  YAML::Node copy = YAML::Clone(obj.node);
  for (const char* field : {"data", "stringData"}) {
    if (!is_map(obj.node[field])) {
      continue;
    }
    YAML::Node section = copy[field];
    if (is_map(section)) {
      for (auto kv : section) {
        kv.second = std::string(k_redacted);
      }
    }
  }
  return to_yaml_text(copy);
}

std::string to_yaml_stream(const std::vector<Object>& objects, bool show_secrets) {
  std::string out;
  for (const auto& obj : objects) {
    out += "---\n";
    out += to_yaml_text(obj, show_secrets);
  }
  return out;
}

Result<std::vector<Object>> parse_objects(std::string_view text, std::string_view origin) {
  std::vector<YAML::Node> docs;
  try {
    docs = load_all_yaml(std::string(text));
  } catch (const YAML::Exception& ex) {
    return fail(std::string(origin) + ":" + std::to_string(ex.mark.line + 1) + ":" +
                std::to_string(ex.mark.column + 1) + ": invalid YAML: " + ex.msg);
  }
  std::vector<Object> out;
  int index = 0;
  for (const auto& doc : docs) {
    ++index;
    if (doc.IsNull()) {
      continue;
    }
    const std::string where = std::string(origin) + ":" + std::to_string(doc.Mark().line + 1);
    if (!doc.IsMap()) {
      return fail(where + ": document " + std::to_string(index) + " is not a YAML map");
    }
    Object obj{doc};
    if (obj.api_version().empty() || obj.kind().empty() || obj.name().empty()) {
      return fail(where + ": document " + std::to_string(index) +
                  " lacks apiVersion, kind or metadata.name");
    }
    out.push_back(std::move(obj));
  }
  return out;
}

} // namespace meshctl::render

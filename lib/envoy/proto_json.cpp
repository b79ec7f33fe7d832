// -o json as istioctl prints it, without Envoy's proto schemas (-o yaml: json_to_yaml.cpp).
//
// istioctl unmarshals each listener/cluster/endpoint config into its Go proto type and prints it
// with protojson inside json.MarshalIndent. Starting from the JSON Envoy wrote, that amounts to:
//  - field names in protojson's JSON name (lowerCamelCase: "route_config" -> "routeConfig");
//    Envoy writes snake_case, older dumps already camelCase;
//  - keys of map fields and of google.protobuf.Struct values are NOT field names: they stay as
//    written, and protojson sorts them. Which objects are maps or Structs needs the schema, so the
//    fields Envoy's listener, cluster and endpoint messages use are listed in child_mode():
//    Metadata.filter_metadata (map of Struct), typed_filter_metadata, typed_per_filter_config and
//    typed_extension_protocol_options (maps of Any), v2's opaque "config" Struct of filters and
//    access loggers, TypedStruct.value and TransportSocketMatch.match;
//  - the message's own "@type" disappears (it was the Any wrapper in the dump); nested Anys keep
//  it;
//  - field order is the order Envoy wrote, which is the proto field order protojson also uses;
//  - json.MarshalIndent: 4 spaces, "{}" and "[]" for empty values, and HTML-safe escaping.
// Verified against istioctl's goldens (eds -o json/yaml, 2020 listener/cluster/endpoints -o json).
// A field of some other map type nested in a filter config would keep its key order and get its
// keys camel-cased; no golden or known dump has one.

#include "envoy/proto_json.hpp"

#include "core/shown.hpp"
#include "envoy/field_names.hpp"
#include "envoy/json_reader.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace meshctl::envoy {

namespace {

using ojson = nlohmann::ordered_json;

enum class Mode { k_message, k_struct, k_map_of_struct, k_map_of_message };

void indent(std::string& out, int depth) {
  out.append(static_cast<std::size_t>(depth) * 4, ' ');
}

Mode child_mode(std::string_view key, std::string_view any_type, std::string_view container) {
  if (field_is(key, "filter_metadata") || field_is(key, "per_filter_config") ||
      field_is(key, "extension_protocol_options")) {
    return Mode::k_map_of_struct;
  }
  if (field_is(key, "typed_filter_metadata") || field_is(key, "typed_per_filter_config") ||
      field_is(key, "typed_extension_protocol_options")) {
    return Mode::k_map_of_message;
  }
  if (key == "config" && any_type.empty()) {
    return Mode::k_struct; // v2 Filter/AccessLog.config: google.protobuf.Struct
  }
  if (key == "value" &&
      (any_type.ends_with(".TypedStruct") || any_type.ends_with("google.protobuf.Struct"))) {
    return Mode::k_struct;
  }
  if (key == "match" && field_is(container, "transport_socket_matches")) {
    return Mode::k_struct;
  }
  return Mode::k_message;
}

// protojson's appendFloat for a double: shortest 'f' form, 'e' below 1e-6 or from 1e21 on.
std::string proto_float(double v) {
  char buf[64];
  const double a = std::fabs(v);
  const bool exp = a != 0 && (a < 1e-6 || a >= 1e21);
  auto res = std::to_chars(buf, buf + sizeof buf, v,
                           exp ? std::chars_format::scientific : std::chars_format::fixed);
  std::string s(buf, res.ptr);
  if (exp) { // Go writes e-07 as e-7 here, like to_chars, and e+21 as e+21
    const auto e = s.find('e');
    if (e != std::string::npos && s[e + 1] != '-' && s[e + 1] != '+') {
      s = s.substr(0, e + 1) + "+" + s.substr(e + 1);
    }
  }
  return s;
}

class Writer {
public:
  explicit Writer(std::string& out) : m_out(out) {}

  void value(JsonReader& r, int depth, Mode mode, std::string_view field, bool top) {
    switch (r.peek()) {
    case JsonReader::Kind::k_object:
      if (mode == Mode::k_message) {
        message(r, depth, field, top);
      } else {
        emit_special(ojson::parse(valid_utf8(r.capture_value())), depth, mode);
      }
      return;
    case JsonReader::Kind::k_array: {
      const std::string container(field);
      r.begin_array();
      bool first = true;
      while (r.next_element()) {
        open_element(first, depth);
        value(r, depth + 1, mode, container, false);
      }
      close(first, depth, '[', ']');
      return;
    }
    case JsonReader::Kind::k_string:
      m_out += go_json_quote(r.read_string());
      return;
    default:
      m_out += r.read_scalar_text();
      return;
    }
  }

  // A Struct, or a map: keys kept and sorted, values per `mode`.
  void emit_special(const ojson& j, int depth, Mode mode) {
    if (mode == Mode::k_struct) {
      emit_struct(j, depth);
      return;
    }
    if (!j.is_object()) {
      emit_struct(j, depth);
      return;
    }
    bool first = true;
    for (const auto& [key, v] : sorted_members(j)) {
      open_member(first, depth, go_json_quote(key));
      if (mode == Mode::k_map_of_struct) {
        emit_struct(*v, depth + 1);
      } else {
        const std::string text = v->dump();
        JsonReader inner(text);
        value(inner, depth + 1, Mode::k_message, key, false);
      }
    }
    close(first, depth, '{', '}');
  }

private:
  // An object's members sorted by key, as Go's encoding/json writes a map.
  static std::vector<std::pair<std::string, const ojson*>> sorted_members(const ojson& j) {
    std::vector<std::pair<std::string, const ojson*>> items;
    for (auto it = j.begin(); it != j.end(); ++it) {
      items.emplace_back(it.key(), &it.value());
    }
    std::sort(items.begin(), items.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    return items;
  }

  // Starts the next member of an object at `depth`: "{" or "," then the indented quoted key.
  void open_member(bool& first, int depth, std::string_view quoted_key) {
    m_out += first ? "{\n" : ",\n";
    first = false;
    indent(m_out, depth + 1);
    m_out += quoted_key;
    m_out += ": ";
  }

  // Starts the next element of an array at `depth`.
  void open_element(bool& first, int depth) {
    m_out += first ? "[\n" : ",\n";
    first = false;
    indent(m_out, depth + 1);
  }

  void close(bool empty, int depth, char open, char close_char) {
    if (empty) {
      m_out += open;
    } else {
      m_out += '\n';
      indent(m_out, depth);
    }
    m_out += close_char;
  }

  void message(JsonReader& r, int depth, std::string_view container, bool top) {
    (void)container;
    r.begin_object();
    std::string any_type;
    bool first = true;
    std::string_view k;
    while (r.next_member(k)) {
      if (k == "@type") {
        any_type = r.take_string();
        if (top) {
          continue; // the Any wrapper of the dump, not part of the message
        }
        open_member(first, depth, "\"@type\"");
        m_out += go_json_quote(any_type);
        continue;
      }
      const std::string key(k);
      const Mode mode = child_mode(key, any_type, container);
      open_member(first, depth, go_json_quote(json_camel_case(key)));
      value(r, depth + 1, mode, key, false);
    }
    close(first, depth, '{', '}');
  }

  void emit_struct(const ojson& j, int depth) {
    switch (j.type()) {
    case ojson::value_t::object: {
      bool first = true;
      for (const auto& [key, v] : sorted_members(j)) {
        open_member(first, depth, go_json_quote(key));
        emit_struct(*v, depth + 1);
      }
      close(first, depth, '{', '}');
      return;
    }
    case ojson::value_t::array: {
      bool first = true;
      for (const auto& v : j) {
        open_element(first, depth);
        emit_struct(v, depth + 1);
      }
      close(first, depth, '[', ']');
      return;
    }
    case ojson::value_t::string:
      m_out += go_json_quote(j.get_ref<const std::string&>());
      return;
    case ojson::value_t::number_float:
      m_out += proto_float(j.get<double>());
      return;
    default:
      m_out += j.dump();
      return;
    }
  }

  std::string& m_out;
};

} // namespace

std::string go_json_quote(std::string_view s) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
    case '"':
      out += "\\\"";
      continue;
    case '\\':
      out += "\\\\";
      continue;
    case '\b':
      out += "\\b";
      continue;
    case '\f':
      out += "\\f";
      continue;
    case '\n':
      out += "\\n";
      continue;
    case '\r':
      out += "\\r";
      continue;
    case '\t':
      out += "\\t";
      continue;
    case '<':
    case '>':
    case '&':
      out += "\\u00";
      out += k_hex[c >> 4];
      out += k_hex[c & 0xF];
      continue;
    default:
      break;
    }
    if (c < 0x20) {
      out += "\\u00";
      out += k_hex[c >> 4];
      out += k_hex[c & 0xF];
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (const std::size_t len = utf8_length_at(s, i); len == 0) {
      out += "\\ufffd"; // a byte that is not UTF-8, as Go's encoding/json writes it
    } else if (c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(s[i + 2]) & ~1U) == 0xA8) {
      out += "\\u202";
      out += k_hex[static_cast<unsigned char>(s[i + 2]) & 0xF];
      i += 2;
    } else {
      out.append(s.substr(i, len));
      i += len - 1;
    }
  }
  out += '"';
  return out;
}

std::string protojson_array(const std::vector<std::string_view>& messages) {
  std::string out;
  Writer w(out);
  bool first = true;
  for (const auto m : messages) {
    out += first ? "[\n" : ",\n";
    first = false;
    indent(out, 1);
    JsonReader r(m);
    w.value(r, 1, Mode::k_message, "", true);
    r.expect_end();
  }
  out += first ? "[]" : "\n]";
  out += '\n';
  return out;
}

std::string keep_lb_endpoints(const ClusterLoadAssignmentInfo& cla) {
  ojson j = ojson::parse(valid_utf8(cla.raw));
  auto groups = j.find("endpoints");
  if (groups == j.end() || !groups->is_array()) {
    return j.dump();
  }
  for (std::size_t g = 0; g < groups->size() && g < cla.groups.size(); ++g) {
    ojson& group = (*groups)[g];
    if (!group.is_object()) {
      continue;
    }
    for (const char* key : {"lb_endpoints", "lbEndpoints"}) {
      auto list = group.find(key);
      if (list == group.end() || !list->is_array()) {
        continue;
      }
      ojson kept = ojson::array();
      for (const auto& e : cla.groups[g].endpoints) {
        if (e.raw_index < list->size()) {
          kept.push_back((*list)[e.raw_index]);
        }
      }
      if (kept.empty()) {
        group.erase(key);
      } else {
        *list = std::move(kept);
      }
      break;
    }
  }
  return j.dump();
}

} // namespace meshctl::envoy

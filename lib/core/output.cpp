#include "core/output.hpp"

#include "core/enum_names.hpp"
#include "core/shown.hpp"
#include "core/suggest.hpp"

#include <yaml-cpp/yaml.h>

#include <regex>

namespace meshctl {

namespace {

constexpr EnumName<OutputFormat> k_formats[] = {{OutputFormat::k_table, "table"},
                                                {OutputFormat::k_wide, "wide"},
                                                {OutputFormat::k_yaml, "yaml"},
                                                {OutputFormat::k_json, "json"}};

} // namespace

std::vector<std::string> output_format_names() {
  return names_of(k_formats);
}

Result<OutputFormat> parse_output_format(std::string_view text) {
  if (const auto format = value_of(k_formats, text)) {
    return *format;
  }
  if (text.empty()) {
    return usage_error("-o names no output format",
                       "use -o table, -o wide, -o yaml or -o json, or leave -o out for a table");
  }
  return usage_error("unknown output format " + shown_quoted(text) +
                         did_you_mean_suffix(text, {"table", "wide", "yaml", "json"}),
                     "use -o table, -o wide, -o yaml or -o json");
}

bool yaml_needs_quotes(std::string_view text) {
  if (text.empty()) {
    return true;
  }
  static const std::regex k_special(
      R"(^(~|null|Null|NULL|true|True|TRUE|false|False|FALSE|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?|0x[0-9a-fA-F]+|0o[0-7]+|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$)");
  if (std::regex_match(text.begin(), text.end(), k_special)) {
    return true;
  }
  const char first = text.front();
  if (std::string_view("-?:,[]{}#&*!|>'\"%@` ").find(first) != std::string_view::npos) {
    return true;
  }
  if (text.back() == ' ' || text.back() == ':') {
    return true;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      return true;
    }
    if (text[i] == ':' && i + 1 < text.size() && text[i + 1] == ' ') {
      return true;
    }
    if (text[i] == '#' && i > 0 && text[i - 1] == ' ') {
      return true;
    }
  }
  return false;
}

std::string yaml_double_quote(std::string_view text, HexCase hex) {
  std::string out = "\"";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (c < 0x20 || c == 0x7f) {
        const char* digits = hex == HexCase::k_upper ? "0123456789ABCDEF" : "0123456789abcdef";
        out += "\\x";
        out += digits[c >> 4];
        out += digits[c & 0xf];
      } else {
        out += ch;
      }
    }
  }
  out += '"';
  return out;
}

namespace {

template <class Json> void emit(YAML::Emitter& e, const Json& v) {
  if ((v.is_object() || v.is_array()) && v.empty()) {
    // Block style would print "key:\n  []"; flow style gives the usual "key: []".
    e << YAML::Flow << (v.is_object() ? YAML::BeginMap : YAML::BeginSeq)
      << (v.is_object() ? YAML::EndMap : YAML::EndSeq);
    return;
  }
  switch (v.type()) {
  case Json::value_t::object:
    e << YAML::BeginMap;
    for (const auto& [k, item] : v.items()) {
      e << YAML::Key << valid_utf8(k) << YAML::Value;
      emit(e, item);
    }
    e << YAML::EndMap;
    break;
  case Json::value_t::array:
    e << YAML::BeginSeq;
    for (const auto& item : v) {
      emit(e, item);
    }
    e << YAML::EndSeq;
    break;
  case Json::value_t::string: {
    // yaml-cpp stops at invalid UTF-8: replaced, as JSON output replaces it.
    const std::string s = valid_utf8(v.template get_ref<const std::string&>());
    if (yaml_needs_quotes(s)) {
      e << YAML::DoubleQuoted << s;
    } else {
      e << s;
    }
    break;
  }
  case Json::value_t::boolean:
    e << (v.template get<bool>() ? "true" : "false");
    break;
  case Json::value_t::null:
    e << YAML::Null;
    break;
  default:
    e << v.dump();
  }
}

template <class Json> std::string yaml_of(const Json& value) {
  YAML::Emitter e;
  e.SetIndent(2);
  e.SetSeqFormat(YAML::Block);
  e.SetMapFormat(YAML::Block);
  if ((value.is_object() || value.is_array()) && value.empty()) {
    return value.is_object() ? "{}\n" : "[]\n";
  }
  emit(e, value);
  std::string out = e.c_str();
  out += '\n';
  return out;
}

} // namespace

std::string to_yaml(const nlohmann::json& value) {
  return yaml_of(value);
}

std::string to_yaml(const nlohmann::ordered_json& value) {
  return yaml_of(value);
}

} // namespace meshctl

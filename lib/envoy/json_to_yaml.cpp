// json_to_yaml(): -o yaml as istioctl prints it.
//
// It replays sigs.k8s.io/yaml.JSONToYAML: go-yaml v2 unmarshals the JSON into generic
// maps and marshals them back, so every mapping's keys are sorted (go-yaml's "natural" order),
// sequences sit at their key's indentation, strings are plain unless they would read back as
// another type or contain YAML indicators. go-yaml's folding of plain strings longer than 80
// columns is not reproduced.

#include "core/output.hpp"
#include "envoy/proto_json.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace meshctl::envoy {

namespace {

using ojson = nlohmann::ordered_json;

bool is_letter(std::uint32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80; // non-ASCII: letters
}
bool is_digit(std::uint32_t c) {
  return c >= '0' && c <= '9';
}

std::vector<std::uint32_t> runes(std::string_view s) {
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = c;
    std::size_t len = 1;
    if (c >= 0xF0 && i + 3 < s.size()) {
      cp = ((c & 0x07U) << 18) | ((s[i + 1] & 0x3FU) << 12) | ((s[i + 2] & 0x3FU) << 6) |
           (s[i + 3] & 0x3FU);
      len = 4;
    } else if (c >= 0xE0 && i + 2 < s.size()) {
      cp = ((c & 0x0FU) << 12) | ((s[i + 1] & 0x3FU) << 6) | (s[i + 2] & 0x3FU);
      len = 3;
    } else if (c >= 0xC0 && i + 1 < s.size()) {
      cp = ((c & 0x1FU) << 6) | (s[i + 1] & 0x3FU);
      len = 2;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

// go-yaml v2's keyList.Less for two string keys: letters after other characters, runs of digits
// compared as numbers.
bool yaml_key_less(std::string_view a_text, std::string_view b_text) {
  const auto a = runes(a_text);
  const auto b = runes(b_text);
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] == b[i]) {
      continue;
    }
    const bool al = is_letter(a[i]);
    const bool bl = is_letter(b[i]);
    if (al && bl) {
      return a[i] < b[i];
    }
    if (al || bl) {
      return bl;
    }
    std::int64_t an = 0;
    std::int64_t bn = 0;
    if (a[i] == '0' || b[i] == '0') {
      for (std::size_t j = i; j-- > 0 && is_digit(a[j]);) {
        if (a[j] != '0') {
          an = 1;
          bn = 1;
          break;
        }
      }
    }
    std::size_t ai = i;
    for (; ai < a.size() && is_digit(a[ai]); ++ai) {
      an = an * 10 + static_cast<std::int64_t>(a[ai] - '0');
    }
    std::size_t bi = i;
    for (; bi < b.size() && is_digit(b[bi]); ++bi) {
      bn = bn * 10 + static_cast<std::int64_t>(b[bi] - '0');
    }
    if (an != bn) {
      return an < bn;
    }
    if (ai != bi) {
      return ai < bi;
    }
    return a[i] < b[i];
  }
  return a.size() < b.size();
}

bool digits_in(std::string_view s, std::string_view allowed) {
  return !s.empty() && s.find_first_not_of(allowed) == std::string_view::npos &&
         s.find_first_not_of('_') != std::string_view::npos;
}

std::string_view unsigned_part(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    s.remove_prefix(1);
  }
  return s;
}

// [-+]? then 0b[01_]+, 0o?[0-7_]+, 0x[0-9a-fA-F_]+ or [0-9_]+ (go-yaml strips '_', ParseInt base
// 0).
bool yaml_int(std::string_view s) {
  s = unsigned_part(s);
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
    return digits_in(s.substr(2), "01_");
  }
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    return digits_in(s.substr(2), "0123456789abcdefABCDEF_");
  }
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
    return digits_in(s.substr(2), "01234567_");
  }
  return digits_in(s, "0123456789_");
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool yaml_float(std::string_view s) {
  s = unsigned_part(s);
  const auto digits = [&s]() {
    std::size_t n = 0;
    while (n < s.size() && s[n] >= '0' && s[n] <= '9') {
      ++n;
    }
    s.remove_prefix(n);
    return n;
  };
  if (!s.empty() && s[0] == '.') {
    s.remove_prefix(1);
    if (digits() == 0) {
      return false;
    }
  } else {
    if (digits() == 0) {
      return false;
    }
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      digits();
    }
  }
  if (!s.empty() && (s[0] == 'e' || s[0] == 'E')) {
    s.remove_prefix(1);
    s = unsigned_part(s);
    if (digits() == 0) {
      return false;
    }
  }
  return s.empty();
}

// YYYY-M-D, optionally followed by [Tt ] and a time: go-yaml v2 reads it as a timestamp.
bool yaml_timestamp(std::string_view s) {
  const auto num = [&s](std::size_t min, std::size_t max) {
    std::size_t n = 0;
    while (n < s.size() && n < max && s[n] >= '0' && s[n] <= '9') {
      ++n;
    }
    s.remove_prefix(n);
    return n >= min;
  };
  if (!num(4, 4) || s.empty() || s[0] != '-') {
    return false;
  }
  s.remove_prefix(1);
  if (!num(1, 2) || s.empty() || s[0] != '-') {
    return false;
  }
  s.remove_prefix(1);
  if (!num(1, 2)) {
    return false;
  }
  return s.empty() || s[0] == 'T' || s[0] == 't' || s[0] == ' ';
}

// YAML 1.1 sexagesimal: [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?
bool yaml_base60(std::string_view s) {
  s = unsigned_part(s);
  if (s.empty() || s[0] < '0' || s[0] > '9') {
    return false;
  }
  std::size_t i = 1;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_')) {
    ++i;
  }
  int groups = 0;
  while (i < s.size() && s[i] == ':') {
    ++i;
    std::size_t n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && n < 2) {
      ++i;
      ++n;
    }
    if (n == 0 || (n == 2 && s[i - 2] > '5')) {
      return false;
    }
    ++groups;
  }
  if (groups == 0) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_')) {
      ++i;
    }
  }
  return i == s.size();
}

// go-yaml v2's resolve(): would this plain scalar read back as something other than a string?
bool resolves_to_non_string(const std::string& s) {
  static const std::vector<std::string> k_special = {
      "",     "~",     "null",  "Null",  "NULL",  "y",     "Y",     "yes",   "Yes",   "YES",
      "true", "True",  "TRUE",  "on",    "On",    "ON",    "n",     "N",     "no",    "No",
      "NO",   "false", "False", "FALSE", "off",   "Off",   "OFF",   ".nan",  ".NaN",  ".NAN",
      ".inf", ".Inf",  ".INF",  "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", "<<"};
  if (std::find(k_special.begin(), k_special.end(), s) != k_special.end()) {
    return true;
  }
  const char c = s[0];
  if (!(is_digit(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.')) {
    return false;
  }
  return yaml_int(s) || yaml_float(s) || yaml_timestamp(s) || yaml_base60(s);
}

struct ScalarAnalysis {
  bool plain = true;  // allowed as a block plain scalar
  bool single = true; // allowed single-quoted
};

// libyaml's yaml_emitter_analyze_scalar, block context.
ScalarAnalysis analyze(std::string_view s) {
  ScalarAnalysis a;
  if (s.empty()) {
    a.plain = false;
    return a;
  }
  if (s.substr(0, 3) == "---" || s.substr(0, 3) == "...") {
    a.plain = false;
  }
  const auto blankz = [&](std::size_t i) {
    return i >= s.size() || s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r';
  };
  bool preceded_by_ws = true;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const bool followed_by_ws = blankz(i + 1);
    if (i == 0) {
      if (std::strchr("#,[]{}&*!|>'\"%@`", c) != nullptr && c != 0) {
        a.plain = false;
      }
      if ((c == '?' || c == ':' || c == '-') && followed_by_ws) {
        a.plain = false;
      }
    } else {
      if (c == ':' && followed_by_ws) {
        a.plain = false;
      }
      if (c == '#' && preceded_by_ws) {
        a.plain = false;
      }
    }
    const bool printable = c == '\n' || (c >= 0x20 && c != 0x7F);
    if (!printable) {
      a.plain = false;
      a.single = false;
    }
    if (c == ' ' && (i == 0 || i + 1 == s.size())) {
      a.plain = false; // leading or trailing space
    }
    preceded_by_ws = blankz(i);
  }
  return a;
}

std::string yaml_scalar_string(const std::string& s) {
  if (resolves_to_non_string(s)) {
    return yaml_double_quote(s, HexCase::k_upper);
  }
  const ScalarAnalysis a = analyze(s);
  if (a.plain) {
    return s;
  }
  if (a.single) {
    std::string out = "'";
    for (const char c : s) {
      out += c;
      if (c == '\'') {
        out += '\'';
      }
    }
    return out + "'";
  }
  return yaml_double_quote(s, HexCase::k_upper);
}

// strconv.FormatFloat(v, 'g', -1, 64), as go-yaml v2 writes floats.
std::string go_float_g(double v) {
  if (std::isinf(v)) {
    return v > 0 ? ".inf" : "-.inf";
  }
  if (std::isnan(v)) {
    return ".nan";
  }
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  const std::string sci(buf, res.ptr);
  const auto e = sci.find('e');
  const int exp = std::stoi(sci.substr(e + 1));
  if (exp < -4 || exp >= 21) {
    std::string mant = sci.substr(0, e);
    std::string ex = sci.substr(e + 1);
    const char sign = ex[0] == '-' ? '-' : '+';
    std::string digits = ex.substr(ex[0] == '-' || ex[0] == '+' ? 1 : 0);
    if (digits.size() < 2) {
      digits = "0" + digits;
    }
    return mant + "e" + sign + digits;
  }
  res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, res.ptr);
}

class YamlWriter {
public:
  explicit YamlWriter(std::string& out) : m_out(out) {}

  // Block node whose first line continues the current line (after "- " or at the document start).
  void node(const ojson& j, int indent_cols) {
    if (j.is_object() && !j.empty()) {
      mapping(j, indent_cols, true);
    } else if (j.is_array() && !j.empty()) {
      sequence(j, indent_cols, true);
    } else {
      m_out += scalar(j, indent_cols);
      m_out += '\n';
    }
  }

private:
  void spaces(int n) { m_out.append(static_cast<std::size_t>(n), ' '); }

  void mapping(const ojson& j, int indent_cols, bool inline_first) {
    std::vector<std::pair<std::string, const ojson*>> items;
    for (auto it = j.begin(); it != j.end(); ++it) {
      items.emplace_back(it.key(), &it.value());
    }
    std::stable_sort(items.begin(), items.end(),
                     [](const auto& a, const auto& b) { return yaml_key_less(a.first, b.first); });
    bool first = true;
    for (const auto& [key, v] : items) {
      if (!(first && inline_first)) {
        spaces(indent_cols);
      }
      first = false;
      m_out += yaml_scalar_string(key);
      m_out += ':';
      if (v->is_object() && !v->empty()) {
        m_out += '\n';
        mapping(*v, indent_cols + 2, false);
      } else if (v->is_array() && !v->empty()) {
        m_out += '\n';
        sequence(*v, indent_cols, false);
      } else {
        m_out += ' ';
        m_out += scalar(*v, indent_cols);
        m_out += '\n';
      }
    }
  }

  void sequence(const ojson& j, int indent_cols, bool inline_first) {
    bool first = true;
    for (const auto& v : j) {
      if (!(first && inline_first)) {
        spaces(indent_cols);
      }
      first = false;
      m_out += "- ";
      node(v, indent_cols + 2);
    }
  }

  std::string scalar(const ojson& j, int indent_cols) {
    switch (j.type()) {
    case ojson::value_t::object:
      return "{}";
    case ojson::value_t::array:
      return "[]";
    case ojson::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      if (s.find('\n') != std::string::npos && analyze(s).single) {
        return literal(s, indent_cols);
      }
      return yaml_scalar_string(s);
    }
    case ojson::value_t::number_float:
      return go_float_g(j.get<double>());
    case ojson::value_t::null:
      return "null";
    default:
      return j.dump();
    }
  }

  // A literal block scalar ("|-"), its lines indented two columns past the current node.
  static std::string literal(const std::string& s, int indent_cols) {
    std::size_t trailing = 0;
    while (trailing < s.size() && s[s.size() - 1 - trailing] == '\n') {
      ++trailing;
    }
    std::string out = "|";
    if (!s.empty() && s[0] == ' ') {
      out += "2";
    }
    out += trailing == 0 ? "-" : trailing == 1 ? "" : "+";
    const std::string body = s.substr(0, s.size() - (trailing > 0 ? 1 : 0));
    std::size_t start = 0;
    for (;;) {
      const std::size_t nl = body.find('\n', start);
      const std::string line = body.substr(start, nl == std::string::npos ? nl : nl - start);
      out += '\n';
      if (!line.empty()) {
        out.append(static_cast<std::size_t>(indent_cols) + 2, ' ');
        out += line;
      }
      if (nl == std::string::npos) {
        break;
      }
      start = nl + 1;
    }
    return out;
  }

  std::string& m_out;
};

} // namespace

std::string json_to_yaml(std::string_view json) {
  const ojson j = ojson::parse(json);
  std::string out;
  YamlWriter w(out);
  w.node(j, 0);
  if (out.empty() || out.back() != '\n') {
    out += '\n';
  }
  out += '\n'; // istioctl prints the YAML with Fprintln
  return out;
}

} // namespace meshctl::envoy

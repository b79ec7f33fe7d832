#include "config/yaml_reader.hpp"

#include "core/suggest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <set>

namespace meshctl::config::detail {

namespace {

std::string position(const std::string& origin, const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) {
    return origin;
  }
  return origin + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

bool is_null(const YAML::Node& n) {
  return !n.IsDefined() || n.IsNull();
}

} // namespace

// Offset of the first byte that is not valid UTF-8, or npos. YAML text must be Unicode (and Go's
// YAML parser, so kubectl, rejects anything else); checking here also keeps invalid strings from
// reaching JSON output later.
std::size_t invalid_utf8_at(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned min = 0;
    unsigned cp = 0;
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      min = 0x80;
      cp = c & 0x1fU;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      min = 0x800;
      cp = c & 0x0fU;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      min = 0x10000;
      cp = c & 0x07U;
    } else {
      return i;
    }
    if (i + len > text.size()) {
      return i;
    }
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xc0) != 0x80) {
        return i;
      }
      cp = (cp << 6) | (cc & 0x3fU);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return i;
    }
    i += len;
  }
  return std::string::npos;
}

Result<YAML::Node> parse_yaml(const std::string& text, const std::string& origin) {
  if (const auto bad = invalid_utf8_at(text); bad != std::string::npos) {
    std::size_t line = 1;
    std::size_t col = 1;
    for (std::size_t k = 0; k < bad; ++k) {
      if (text[k] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return usage_error(origin + ":" + std::to_string(line) + ":" + std::to_string(col) +
                           ": invalid UTF-8",
                       "save the file as UTF-8");
  }
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return usage_error(position(origin, e.mark) + ": invalid YAML: " + e.msg,
                       "fix the syntax at that line (indentation, a missing ':' or an unclosed "
                       "quote or bracket are the usual causes)");
  } catch (const std::exception& e) {
    return usage_error(origin + ": cannot parse YAML: " + e.what());
  }
}

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) {
    return "null";
  }
  if (node.IsMap()) {
    return "a map";
  }
  if (node.IsSequence()) {
    return "a list";
  }
  // Enough of the value to recognise it, not a whole token or key pasted into the wrong place.
  const std::string& v = node.Scalar();
  return "a string (\"" + (v.size() > 24 ? v.substr(0, 21) + "..." : v) + "\")";
}

std::string Reader::where(const YAML::Node& node) const {
  if (!node.IsDefined()) {
    return m_origin;
  }
  return position(m_origin, node.Mark());
}

tl::unexpected<Error> Reader::error_at(const YAML::Node& node, const std::string& message,
                                       std::string hint) const {
  return usage_error(where(node) + ": " + message, std::move(hint));
}

YAML::Node Reader::get(const YAML::Node& map, std::string_view key) {
  if (map.IsDefined() && map.IsMap()) {
    for (const auto& kv : map) {
      if (kv.first.IsScalar() && kv.first.Scalar() == key) {
        return kv.second;
      }
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

YAML::Node Reader::key_node(const YAML::Node& map, std::string_view key) {
  if (map.IsDefined() && map.IsMap()) {
    for (const auto& kv : map) {
      if (kv.first.IsScalar() && kv.first.Scalar() == key) {
        return kv.first;
      }
    }
  }
  return map;
}

Result<void> Reader::check_map(const YAML::Node& map, const std::string& path,
                               const std::vector<std::string>& allowed) const {
  if (is_null(map)) {
    return {};
  }
  if (!map.IsMap()) {
    return error_at(map, path + " must be a map (got " + describe(map) + ")");
  }
  std::set<std::string> seen;
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) {
      return error_at(kv.first,
                      "keys of " + path + " must be strings (got " + describe(kv.first) + ")");
    }
    const std::string& key = kv.first.Scalar();
    if (!seen.insert(key).second) {
      return error_at(kv.first, fmt::format("duplicate key \"{}\" in {}", key, path),
                      "remove one of the two; YAML keeps only one and which one is unclear");
    }
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string valid;
      for (const auto& a : allowed) {
        valid.append(valid.empty() ? "" : ", ").append(a);
      }
      return error_at(
          kv.first,
          fmt::format("unknown key \"{}\" in {}{}", key, path, did_you_mean_suffix(key, allowed)),
          fmt::format("valid keys of {}: {}", path, valid));
    }
  }
  return {};
}

Result<std::optional<std::string>> Reader::string(const YAML::Node& map, std::string_view key,
                                                  const std::string& path) const {
  const YAML::Node n = get(map, key);
  if (is_null(n)) {
    return std::nullopt;
  }
  if (!n.IsScalar()) {
    return error_at(n, path + " must be a string (got " + describe(n) + ")");
  }
  return n.Scalar();
}

Result<std::optional<bool>> Reader::boolean(const YAML::Node& map, std::string_view key,
                                            const std::string& path) const {
  const YAML::Node n = get(map, key);
  if (is_null(n)) {
    return std::nullopt;
  }
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") {
      return true;
    }
    if (s == "false" || s == "False" || s == "FALSE") {
      return false;
    }
  }
  return error_at(n, path + " must be true or false (got " + describe(n) + ")");
}

Result<std::optional<long long>> Reader::integer(const YAML::Node& map, std::string_view key,
                                                 const std::string& path) const {
  const YAML::Node n = get(map, key);
  if (is_null(n)) {
    return std::nullopt;
  }
  // A quoted scalar has the non-specific tag "!": "30443" is a string, as Kubernetes sees it.
  if (n.IsScalar() && n.Tag() != "!") {
    const std::string& s = n.Scalar();
    long long v = 0;
    const auto* end = s.data() + s.size();
    const auto [ptr, ec] = std::from_chars(s.data(), end, v);
    if (ec == std::errc() && ptr == end && !s.empty()) {
      return v;
    }
  }
  return error_at(n, path + " must be an integer (got " + describe(n) + ")");
}

Result<std::optional<std::vector<std::string>>>
Reader::string_list(const YAML::Node& map, std::string_view key, const std::string& path) const {
  const YAML::Node n = get(map, key);
  if (is_null(n)) {
    return std::nullopt;
  }
  if (!n.IsSequence()) {
    return error_at(n, path + " must be a list (got " + describe(n) + ")");
  }
  std::vector<std::string> out;
  std::size_t i = 0;
  for (const auto& item : n) {
    if (!item.IsScalar()) {
      return error_at(item, path + "[" + std::to_string(i) + "] must be a string (got " +
                                describe(item) + ")");
    }
    out.push_back(item.Scalar());
    ++i;
  }
  return out;
}

Result<std::optional<std::map<std::string, std::string>>>
Reader::string_map(const YAML::Node& map, std::string_view key, const std::string& path) const {
  const YAML::Node n = get(map, key);
  if (is_null(n)) {
    return std::nullopt;
  }
  if (!n.IsMap()) {
    return error_at(n, path + " must be a map (got " + describe(n) + ")");
  }
  if (auto ok = check_map(n, path, {}); !ok) {
    return tl::make_unexpected(ok.error());
  }
  std::map<std::string, std::string> out;
  for (const auto& kv : n) {
    if (!kv.second.IsScalar()) {
      return error_at(kv.second, path + "." + kv.first.Scalar() + " must be a string (got " +
                                     describe(kv.second) + ")");
    }
    out[kv.first.Scalar()] = kv.second.Scalar();
  }
  return out;
}

Result<YAML::Node> Reader::list(const YAML::Node& map, std::string_view key,
                                const std::string& path) const {
  const YAML::Node n = get(map, key);
  if (is_null(n)) {
    return YAML::Node(YAML::NodeType::Null);
  }
  if (!n.IsSequence()) {
    return error_at(n, path + " must be a list (got " + describe(n) + ")");
  }
  return n;
}

bool is_dns1123_label(std::string_view s) {
  if (s.empty() || s.size() > 63) {
    return false;
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) {
    return false;
  }
  for (const char c : s) {
    if (!alnum(c) && c != '-') {
      return false;
    }
  }
  return true;
}

} // namespace meshctl::config::detail

#include "config/yaml_reader.hpp"

#include "core/shown.hpp"
#include "core/strings.hpp"
#include "core/suggest.hpp"
#include "core/yaml.hpp"

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

// Deeper than any real meshctl.yaml (5 levels) or kubeconfig (7) by far, and far below what
// exhausts yaml-cpp's recursion (it gives up at 2000 with "bad file", or runs out of stack first).
constexpr std::size_t k_max_depth = 64;

// "origin:line:col" of a byte offset.
std::string position_of(const std::string& text, std::size_t offset, const std::string& origin) {
  std::size_t line = 1;
  std::size_t col = 1;
  for (std::size_t k = 0; k < offset && k < text.size(); ++k) {
    if (text[k] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return origin + ":" + std::to_string(line) + ":" + std::to_string(col);
}

// A C0 control character other than tab and line breaks, or DEL: YAML allows none of them in a
// document (yaml-cpp reports a NUL as "unknown escape character: ").
std::size_t control_character_at(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
      return i;
    }
  }
  return std::string::npos;
}

bool starts_marker(std::string_view line, std::string_view marker) {
  return line.starts_with(marker) && (line.size() == marker.size() || line[marker.size()] == ' ' ||
                                      line[marker.size()] == '\t' || line[marker.size()] == '\r');
}

// Calls `on_line(line, offset)` for every line of `text` (without its '\n') until it returns
// false; returns the offset of that line, or npos when every line was seen.
template <class F> std::size_t find_line(const std::string& text, F&& on_line) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) {
      eol = text.size();
    }
    if (!on_line(std::string_view(text.data() + pos, eol - pos), pos)) {
      return pos;
    }
    pos = eol + 1;
  }
  return std::string::npos;
}

// A cheap upper estimate of how deep `text` nests, line by line: block indentation levels, plus
// "- " sequence entries opened on the line, plus open flow brackets outside quotes and comments.
// Returns the offset of the first line going past k_max_depth, or npos. Block scalars (| and >)
// are skipped: their lines are text, not structure.
std::size_t too_deep_at(const std::string& text) {
  std::vector<std::size_t> indents;
  std::size_t flow = 0;
  std::size_t block_scalar_indent = std::string::npos; // inside a block scalar deeper than this
  return find_line(text, [&](std::string_view line, std::size_t) {
    std::size_t indent = 0;
    while (indent < line.size() && line[indent] == ' ') {
      ++indent;
    }
    if (indent == line.size() || line[indent] == '#' || line[indent] == '\r') {
      return true; // blank or comment
    }
    if (block_scalar_indent != std::string::npos) {
      if (indent > block_scalar_indent) {
        return true;
      }
      block_scalar_indent = std::string::npos;
    }
    if (flow == 0) {
      while (!indents.empty() && indents.back() > indent) {
        indents.pop_back();
      }
      if (indents.empty() || indents.back() < indent) {
        indents.push_back(indent);
      }
    }
    std::size_t dashes = 0;
    std::size_t i = indent;
    while (i + 1 < line.size() && line[i] == '-' && (line[i + 1] == ' ' || line[i + 1] == '\t')) {
      ++dashes;
      i += 2;
      while (i < line.size() && line[i] == ' ') {
        ++i;
      }
    }
    char quote = 0;
    char prev = ' ';
    std::size_t deepest = flow;
    for (; i < line.size(); ++i) {
      const char c = line[i];
      if (quote != 0) {
        if (c == '\\' && quote == '"') {
          ++i;
        } else if (c == quote) {
          quote = 0;
        }
      } else if (c == '#' && (prev == ' ' || prev == '\t')) {
        break;
      } else if ((c == '"' || c == '\'') &&
                 std::string_view(" \t[{,:").find(prev) != std::string_view::npos) {
        quote = c;
      } else if (c == '[' || c == '{') {
        deepest = std::max(deepest, ++flow);
      } else if ((c == ']' || c == '}') && flow > 0) {
        --flow;
      }
      prev = c;
    }
    if (indents.size() + dashes + deepest > k_max_depth) {
      return false;
    }
    // "key: |" or "- >-": the lines below, indented deeper, are a block scalar.
    const std::string_view rest = trim(line.substr(0, line.find(" #")));
    const std::size_t last_space = rest.find_last_of(" \t");
    const std::string_view token =
        last_space == std::string_view::npos ? rest : rest.substr(last_space + 1);
    if (quote == 0 && !token.empty() && (token[0] == '|' || token[0] == '>') &&
        token.find_first_not_of("|>+-0123456789") == std::string_view::npos) {
      block_scalar_indent = indent;
    }
    return true;
  });
}

// The offset of the line that starts a second document, or npos: a "---" line after content, or
// the second "---" line of a file whose first document is empty.
std::size_t second_document_at(const std::string& text) {
  bool content = false;
  std::size_t markers = 0;
  return find_line(text, [&](std::string_view line, std::size_t) {
    if (starts_marker(line, "---")) {
      if (content || markers > 0) {
        return false;
      }
      ++markers;
    } else if (!line.empty() && line[0] != '#' && line[0] != '%' && !trim(line).empty() &&
               !starts_marker(line, "...")) {
      content = true;
    }
    return true;
  });
}

} // namespace

Result<YAML::Node> parse_yaml(const std::string& text, const std::string& origin,
                              Documents documents) {
  if (const auto bad = invalid_utf8_at(text); bad != std::string::npos) {
    return usage_error(position_of(text, bad, origin) + ": invalid UTF-8",
                       "save the file as UTF-8");
  }
  if (const auto bad = control_character_at(text); bad != std::string::npos) {
    return usage_error(position_of(text, bad, origin) + ": control character " +
                           shown(text.substr(bad, 1)) + " (YAML allows only tab and line breaks)",
                       "is this the right file? a YAML file is text; remove the character");
  }
  if (const auto deep = too_deep_at(text); deep != std::string::npos) {
    return usage_error(position_of(text, deep, origin) + ": YAML nested more than " +
                           std::to_string(k_max_depth) + " levels deep",
                       "is this the right file? a configuration nests a few levels at most");
  }
  try {
    if (documents == Documents::k_only_one) {
      const std::vector<YAML::Node> all = load_all_yaml(text);
      if (all.size() > 1) {
        const std::size_t second = second_document_at(text);
        return usage_error(
            (second == std::string::npos ? origin : position_of(text, second, origin)) +
                ": a second YAML document (after \"---\"); the file must hold one",
            "merge the documents into one, or remove the \"---\" line and what "
            "follows it");
      }
      return all.empty() ? YAML::Node() : all.front();
    }
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
  return "a string (" + shown_quoted(node.Scalar(), 24) + ")";
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
      return error_at(kv.first, fmt::format("duplicate key {} in {}", shown_quoted(key), path),
                      "remove one of the two; YAML keeps only one and which one is unclear");
    }
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string valid;
      for (const auto& a : allowed) {
        valid.append(valid.empty() ? "" : ", ").append(a);
      }
      return error_at(kv.first,
                      fmt::format("unknown key {} in {}{}", shown_quoted(key), path,
                                  did_you_mean_suffix(key, allowed)),
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
      return error_at(kv.second, path + "." + shown(kv.first.Scalar()) + " must be a string (got " +
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

} // namespace meshctl::config::detail

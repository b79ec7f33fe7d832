#include "core/redact.hpp"

#include <algorithm>
#include <mutex>
#include <set>
#include <vector>

namespace meshctl {
namespace {

std::mutex g_mutex;
std::set<std::string, std::greater<>>& registry() {
  static std::set<std::string, std::greater<>> s;
  return s;
}

void replace_all(std::string& text, std::string_view needle) {
  if (needle.empty()) {
    return;
  }
  std::size_t pos = 0;
  while ((pos = text.find(needle, pos)) != std::string::npos) {
    text.replace(pos, needle.size(), k_redacted);
    pos += k_redacted.size();
  }
}

// Hides the value after "Bearer " up to the end of the token.
void redact_bearer(std::string& text) {
  static constexpr std::string_view k_bearer = "Bearer ";
  std::size_t pos = 0;
  while ((pos = text.find(k_bearer, pos)) != std::string::npos) {
    const std::size_t start = pos + k_bearer.size();
    std::size_t end = start;
    while (end < text.size() && text[end] != ' ' && text[end] != '\n' && text[end] != '"' &&
           text[end] != '\r') {
      ++end;
    }
    if (text.compare(start, end - start, k_redacted) != 0) {
      text.replace(start, end - start, k_redacted);
    }
    pos = start + k_redacted.size();
  }
}

// Hides PEM private key blocks wholesale.
void redact_private_keys(std::string& text) {
  static constexpr std::string_view k_begin = "-----BEGIN ";
  std::size_t pos = 0;
  while ((pos = text.find(k_begin, pos)) != std::string::npos) {
    const std::size_t line_end = text.find("-----", pos + k_begin.size());
    if (line_end == std::string::npos) {
      return;
    }
    const std::string label = text.substr(pos + k_begin.size(), line_end - pos - k_begin.size());
    if (label.find("PRIVATE KEY") == std::string::npos) {
      pos = line_end;
      continue;
    }
    const std::string end_marker = "-----END " + label + "-----";
    const std::size_t end = text.find(end_marker, line_end);
    if (end == std::string::npos) {
      text.replace(pos, std::string::npos, k_redacted);
      return;
    }
    text.replace(pos, end + end_marker.size() - pos, k_redacted);
    pos += k_redacted.size();
  }
}

} // namespace

void register_secret(std::string_view value) {
  if (value.size() < 6) {
    return;
  }
  std::lock_guard lock(g_mutex);
  registry().emplace(value);
}

std::string redact(std::string_view text) {
  std::string out(text);
  {
    std::lock_guard lock(g_mutex);
    // Longest first (the set is ordered descending, and longer strings with a common prefix sort
    // after shorter ones in ascending order), so a secret containing another is replaced whole.
    std::vector<std::string> secrets(registry().begin(), registry().end());
    std::sort(secrets.begin(), secrets.end(),
              [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& s : secrets) {
      replace_all(out, s);
    }
  }
  redact_bearer(out);
  redact_private_keys(out);
  return out;
}

} // namespace meshctl

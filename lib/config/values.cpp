#include "config/values.hpp"

#include "core/strings.hpp"

#include <arpa/inet.h>

#include <algorithm>

namespace meshctl::config::detail {

bool is_ip_address(const std::string& s) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// A DNS name as Istio's ValidateFQDN takes a gateway hostname: at most 253 characters of
// DNS-1123 labels (a trailing dot allowed).
bool is_dns_name(std::string s) {
  if (!s.empty() && s.back() == '.') {
    s.pop_back();
  }
  if (s.empty() || s.size() > 253) {
    return false;
  }
  std::size_t start = 0;
  while (true) {
    const auto dot = s.find('.', start);
    const std::string label = s.substr(start, dot == std::string::npos ? dot : dot - start);
    if (!is_dns1123_label(label)) {
      return false;
    }
    if (dot == std::string::npos) {
      return true;
    }
    start = dot + 1;
  }
}

// Istio's meshID ends up in label values: letters, digits, '-', '_', '.', alphanumeric at both
// ends.
bool is_label_value(std::string_view s) {
  if (s.empty() || s.size() > 63) {
    return false;
  }
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(s.front()) || !alnum(s.back())) {
    return false;
  }
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; });
}

// SPIFFE trust domains: lower-case letters, digits, '.', '-', '_'.
bool is_trust_domain(std::string_view s) {
  return !s.empty() && s.size() <= 255 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
  });
}

// The host part of an http(s) URL, or nullopt when `url` is not one.
std::optional<std::string> url_host(const std::string& url) {
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return std::nullopt;
  }
  rest = rest.substr(0, rest.find('/'));
  if (const auto at = rest.rfind('@'); at != std::string::npos) {
    rest = rest.substr(at + 1);
  }
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    return close == std::string::npos ? std::nullopt : std::optional(rest.substr(1, close - 1));
  }
  rest = rest.substr(0, rest.find(':'));
  if (rest.empty()) {
    return std::nullopt;
  }
  return rest;
}

} // namespace meshctl::config::detail

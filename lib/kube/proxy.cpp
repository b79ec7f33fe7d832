#include "kube/proxy.hpp"

#include "core/strings.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <optional>

namespace meshctl::kube {
namespace {

std::string env_any(const char* upper, const char* lower) {
  for (const char* name : {upper, lower}) {
    if (const char* v = std::getenv(name); v != nullptr && *v != '\0') {
      return v;
    }
  }
  return {};
}

std::string lower_trimmed(std::string_view s) {
  return to_lower(std::string(trim(s)));
}

/// An IPv4 or IPv6 address as 16 bytes (IPv4 mapped into ::ffff:0:0/96, as Go does).
struct Ip {
  std::array<unsigned char, 16> bytes{};
};

std::optional<Ip> parse_ip(std::string_view text) {
  std::string s(text);
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') {
    s = s.substr(1, s.size() - 2);
  }
  Ip ip;
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    ip.bytes[10] = 0xff;
    ip.bytes[11] = 0xff;
    std::copy_n(reinterpret_cast<const unsigned char*>(&v4), 4, ip.bytes.begin() + 12);
    return ip;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::copy_n(reinterpret_cast<const unsigned char*>(&v6), 16, ip.bytes.begin());
    return ip;
  }
  return std::nullopt;
}

bool is_v4(const Ip& ip) {
  static constexpr std::array<unsigned char, 12> k_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::equal(k_prefix.begin(), k_prefix.end(), ip.bytes.begin());
}

bool is_loopback(const Ip& ip) {
  if (is_v4(ip)) {
    return ip.bytes[12] == 127;
  }
  for (std::size_t i = 0; i < 15; ++i) {
    if (ip.bytes[i] != 0) {
      return false;
    }
  }
  return ip.bytes[15] == 1;
}

// "10.0.0.0/8" or "fd00::/8": does it contain ip?
std::optional<bool> cidr_contains(std::string_view cidr, const Ip& ip) {
  const std::size_t slash = cidr.find('/');
  if (slash == std::string_view::npos) {
    return std::nullopt;
  }
  const auto net = parse_ip(cidr.substr(0, slash));
  const std::string bits_text(cidr.substr(slash + 1));
  if (!net || bits_text.empty() || !std::all_of(bits_text.begin(), bits_text.end(), [](char c) {
        return c >= '0' && c <= '9';
      })) {
    return std::nullopt;
  }
  int bits = std::atoi(bits_text.c_str());
  const int max_bits = is_v4(*net) ? 32 : 128;
  if (bits > max_bits) {
    return std::nullopt;
  }
  if (is_v4(*net) != is_v4(ip)) {
    return false;
  }
  if (is_v4(*net)) {
    bits += 96;
  }
  for (int i = 0; i < bits; ++i) {
    const int byte = i / 8;
    const int mask = 0x80 >> (i % 8);
    if ((net->bytes[byte] & mask) != (ip.bytes[byte] & mask)) {
      return false;
    }
  }
  return true;
}

// Splits "host:port" / "[v6]:port"; a bare IPv6 address or a host without port gives port "".
std::pair<std::string, std::string> split_host_port(const std::string& entry) {
  if (!entry.empty() && entry.front() == '[') {
    const std::size_t close = entry.find(']');
    if (close != std::string::npos) {
      const std::string host = entry.substr(1, close - 1);
      if (close + 1 < entry.size() && entry[close + 1] == ':') {
        return {host, entry.substr(close + 2)};
      }
      return {host, ""};
    }
  }
  const std::size_t colon = entry.rfind(':');
  if (colon != std::string::npos && entry.find(':') == colon) {
    return {entry.substr(0, colon), entry.substr(colon + 1)};
  }
  return {entry, ""};
}

std::string normalise_proxy(std::string_view proxy) {
  if (proxy.find("://") == std::string_view::npos) {
    return "http://" + std::string(proxy);
  }
  return std::string(proxy);
}

} // namespace

ProxyEnvironment ProxyEnvironment::from_process() {
  return {env_any("HTTPS_PROXY", "https_proxy"), env_any("HTTP_PROXY", "http_proxy"),
          env_any("NO_PROXY", "no_proxy")};
}

bool no_proxy_matches(std::string_view no_proxy, std::string_view host_in, int port) {
  const std::string host = lower_trimmed(host_in);
  const std::string port_text = std::to_string(port);
  const auto ip = parse_ip(host);
  std::size_t start = 0;
  while (start <= no_proxy.size()) {
    const std::size_t comma = std::min(no_proxy.find(',', start), no_proxy.size());
    const std::string entry = lower_trimmed(no_proxy.substr(start, comma - start));
    start = comma + 1;
    if (entry.empty()) {
      continue;
    }
    if (entry == "*") {
      return true;
    }
    if (const auto in = ip ? cidr_contains(entry, *ip) : std::nullopt; in.has_value()) {
      if (*in) {
        return true;
      }
      continue;
    }
    if (entry.find('/') != std::string::npos) {
      continue; // a CIDR range never matches a host name
    }
    auto [entry_host, entry_port] = split_host_port(entry);
    if (entry_host.empty()) {
      continue;
    }
    const bool port_ok = entry_port.empty() || entry_port == port_text;
    if (const auto entry_ip = parse_ip(entry_host)) {
      if (ip && entry_ip->bytes == ip->bytes && port_ok) {
        return true;
      }
      continue;
    }
    // "*.example.com" and ".example.com" match subdomains; "example.com" also the domain itself.
    if (entry_host.rfind("*.", 0) == 0) {
      entry_host.erase(0, 1);
    }
    const bool match_host = entry_host.front() != '.';
    const std::string suffix = match_host ? "." + entry_host : entry_host;
    const bool suffix_match = host.size() >= suffix.size() &&
                              host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0;
    if ((suffix_match || (match_host && host == entry_host)) && port_ok) {
      return true;
    }
  }
  return false;
}

std::string select_proxy(std::string_view scheme, std::string_view host, int port,
                         std::string_view kubeconfig_proxy_url, const ProxyEnvironment& env) {
  if (!kubeconfig_proxy_url.empty()) {
    return normalise_proxy(kubeconfig_proxy_url);
  }
  const std::string& proxy = scheme == "https" ? env.https_proxy : env.http_proxy;
  if (proxy.empty()) {
    return {};
  }
  const std::string h = lower_trimmed(host);
  if (h == "localhost") {
    return {};
  }
  if (const auto ip = parse_ip(h); ip && is_loopback(*ip)) {
    return {};
  }
  if (no_proxy_matches(env.no_proxy, h, port)) {
    return {};
  }
  return normalise_proxy(proxy);
}

} // namespace meshctl::kube

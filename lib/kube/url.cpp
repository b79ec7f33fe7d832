#include "kube/url.hpp"

#include <arpa/inet.h>

namespace meshctl::kube {

std::string url_host(const std::string& url) {
  std::string rest = url;
  if (const auto scheme = rest.find("://"); scheme != std::string::npos) {
    rest = rest.substr(scheme + 3);
  }
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = rest.rfind('@'); at != std::string::npos) {
    rest = rest.substr(at + 1);
  }
  if (rest.starts_with("[")) {
    return rest.substr(1, rest.find(']') - 1);
  }
  return rest.substr(0, rest.find(':'));
}

bool is_loopback_url(const std::string& url) {
  const std::string host = url_host(url);
  if (host == "localhost" || host.ends_with(".localhost")) {
    return true;
  }
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6) != 0;
  }
  return false;
}

} // namespace meshctl::kube

#include "check/resolve.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <future>
#include <memory>
#include <thread>

namespace meshctl::check {

bool is_ip_literal(const std::string& address) {
  std::array<unsigned char, sizeof(struct in6_addr)> buf{};
  return inet_pton(AF_INET, address.c_str(), buf.data()) == 1 ||
         inet_pton(AF_INET6, address.c_str(), buf.data()) == 1;
}

namespace {

HostLookup getaddrinfo_lookup(const std::string& name) {
  HostLookup out;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(name.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    out.error = gai_strerror(rc);
    return out;
  }
  const std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(res, &freeaddrinfo);
  for (const addrinfo* a = res; a != nullptr; a = a->ai_next) {
    std::array<char, INET6_ADDRSTRLEN> text{};
    const void* raw = nullptr;
    if (a->ai_family == AF_INET) {
      raw = &reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr; // NOLINT
    } else if (a->ai_family == AF_INET6) {
      raw = &reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr; // NOLINT
    }
    if (raw != nullptr && inet_ntop(a->ai_family, raw, text.data(), text.size()) != nullptr) {
      out.addresses.emplace_back(text.data());
    }
  }
  std::sort(out.addresses.begin(), out.addresses.end());
  out.addresses.erase(std::unique(out.addresses.begin(), out.addresses.end()), out.addresses.end());
  if (out.addresses.empty()) {
    out.error = "no address";
  }
  return out;
}

} // namespace

HostLookup lookup_host(const std::string& name, std::chrono::milliseconds timeout) {
  // getaddrinfo has no timeout of its own; a detached thread keeps a slow resolver from holding
  // verify up. The promise outlives this call through the thread's shared_ptr.
  auto promise = std::make_shared<std::promise<HostLookup>>();
  auto result = promise->get_future();
  std::thread([promise, name] { promise->set_value(getaddrinfo_lookup(name)); }).detach();
  if (result.wait_for(timeout) != std::future_status::ready) {
    HostLookup out;
    out.error = "no answer within " + std::to_string(timeout.count() / 1000) + " s";
    return out;
  }
  return result.get();
}

} // namespace meshctl::check

#pragma once
// Internal to lib/kube: the state behind a Client, shared by client.cpp and exec.cpp.

#include "kube/client.hpp"
#include "kube/curl.hpp"
#include "kube/transport.hpp"

#include <mutex>
#include <random>

namespace meshctl::kube {

struct Client::Impl {
  Impl(config::ResolvedContext ctx, ClientOptions opts, CredentialSource creds,
       detail::Endpoint ep);

  config::ResolvedContext context;
  ClientOptions options;
  CredentialSource credentials;
  detail::Endpoint endpoint;            ///< for messages; the libcurl transport has its own copy
  std::shared_ptr<Transport> transport; ///< options.transport, or libcurl to the endpoint

  std::mutex discovery_fetch; ///< one discovery at a time; later callers wait and reuse it
  std::mutex discovery_cache;
  std::shared_ptr<const ResourceMap> discovery;

  std::mutex rng_mutex;
  std::mt19937_64 rng;

  /// Describes a request for error messages.
  [[nodiscard]] RequestInfo info_for(std::string_view method, std::string_view path) const;
  /// A uniform draw from [0, 1) for retry jitter.
  double random01();
  /// The credentials for the next attempt, with every secret registered for redaction.
  Result<config::Credentials> current_credentials();

  /// One request's tries, shared by send() and exec(): attempts so far, and whether the
  /// exec-plugin credentials were already refreshed for it.
  struct Attempts {
    int number = 0;
    bool refreshed = false;
  };
  /// Starts the next attempt: counts it (into `info` too) and gets its credentials.
  Result<config::Credentials> begin_attempt(Attempts& attempts, RequestInfo& info);
  /// After an attempt answered `http_status`: on the first 401 of a request, with a plugin that
  /// can refresh, asks it for fresh credentials (client-go does the same) and uncounts the
  /// attempt; true when the caller should simply try again.
  bool refreshed_after(int http_status, Attempts& attempts);
};

} // namespace meshctl::kube

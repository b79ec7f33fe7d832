#pragma once
// When and how long to wait before trying a request again. Pure functions over a plain policy so
// the schedule can be tested without a network.
//
// Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
// the n-th wait is drawn uniformly from [0, min(cap, base·2^(n-1))]. Spreading retries over the
// whole window keeps many clients (or many parallel requests of one join) from retrying in
// lock-step against an API server that is already shedding load. A Retry-After from the server is
// a floor: the server knows when it expects to have capacity again.
//
// What is retried: answers that say "not now" (429, 500, 502, 503, 504) and connections that broke
// or timed out, but only for requests that are safe to repeat (GET, HEAD, DELETE, PUT, server-side
// apply). A POST create is not repeated after it may have reached the server; it is retried only on
// 429, which kube-apiserver's priority-and-fairness sends before it processes anything (client-go
// retries those too). Refused connections, DNS and TLS failures are not retried: they do not heal
// in seconds and retrying them only delays a clear error.

#include <chrono>
#include <optional>
#include <string_view>

namespace meshctl::kube {

/// Bounds on retrying one request.
struct RetryPolicy {
  int max_attempts = 5; ///< including the first; 1 disables retries
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds max_total{45000}; ///< no retry starts after this much time in total
  std::chrono::seconds max_retry_after{30};   ///< a larger Retry-After is cut to this
};

/// Why an attempt got no HTTP answer.
enum class TransportFailure {
  k_none,          ///< there was an HTTP answer
  k_resolve,       ///< host name did not resolve
  k_connect,       ///< connection refused or no route
  k_timeout,       ///< connect or request timeout
  k_reset,         ///< connection reset, closed early, or empty reply
  k_tls_verify,    ///< the server's certificate was not accepted
  k_tls_handshake, ///< the TLS handshake failed otherwise (e.g. client certificate rejected)
  k_tls_config,    ///< local TLS material unusable (CA file, client cert/key)
  k_proxy,         ///< the proxy could not be reached or refused the tunnel
  k_other,
};

/// What one attempt produced, as far as retrying is concerned.
struct AttemptOutcome {
  int http_status = 0; ///< 0 when there was no HTTP answer
  TransportFailure failure = TransportFailure::k_none;
  std::optional<std::chrono::seconds> retry_after;
};

/// Whether the outcome is worth another attempt for a request that is (or is not) idempotent.
bool is_retryable(const AttemptOutcome& outcome, bool idempotent);

/// Full-jitter backoff before retry number `retry` (1 = the first retry): uniform in
/// [0, min(max_backoff, initial_backoff·2^(retry-1))]; `random01` is a draw from [0, 1).
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry, double random01);

/// The wait before the next attempt, or nothing when the request must not be retried: the outcome
/// is final, `attempts_made` reached max_attempts, or waiting would pass max_total (measured by
/// `elapsed` since the first attempt started). A Retry-After (capped) is a lower bound on the wait.
std::optional<std::chrono::milliseconds>
next_retry_delay(const RetryPolicy& policy, const AttemptOutcome& outcome, bool idempotent,
                 int attempts_made, std::chrono::milliseconds elapsed, double random01);

/// Parses a Retry-After header given in seconds ("3"); HTTP dates and junk give nothing.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value);

} // namespace meshctl::kube

#include "kube/retry.hpp"
#include "support/testing.hpp"

using namespace meshctl::kube;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {
AttemptOutcome http(int status, std::optional<seconds> retry_after = std::nullopt) {
  return {status, TransportFailure::k_none, retry_after};
}
AttemptOutcome broken(TransportFailure f) {
  return {0, f, std::nullopt};
}
} // namespace

TEST_CASE("what is retried depends on the answer and on idempotency", "[kube]") {
  for (const int status : {429, 500, 502, 503, 504}) {
    CHECK(is_retryable(http(status), true));
  }
  for (const int status : {200, 400, 401, 403, 404, 409, 410, 422, 501}) {
    CHECK_FALSE(is_retryable(http(status), true));
  }
  CHECK(is_retryable(broken(TransportFailure::k_reset), true));
  CHECK(is_retryable(broken(TransportFailure::k_timeout), true));
  for (const auto f : {TransportFailure::k_resolve, TransportFailure::k_connect,
                       TransportFailure::k_tls_verify, TransportFailure::k_tls_handshake,
                       TransportFailure::k_tls_config, TransportFailure::k_proxy}) {
    CHECK_FALSE(is_retryable(broken(f), true));
  }
  // A create may have been processed after a 5xx or a reset; a 429 says it was not.
  CHECK(is_retryable(http(429), false));
  CHECK_FALSE(is_retryable(http(503), false));
  CHECK_FALSE(is_retryable(broken(TransportFailure::k_reset), false));
  CHECK_FALSE(is_retryable(broken(TransportFailure::k_timeout), false));
}

TEST_CASE("full-jitter backoff doubles its window up to the cap", "[kube]") {
  RetryPolicy p;
  p.initial_backoff = milliseconds(100);
  p.max_backoff = milliseconds(1000);
  // The top of the window (random01 → 1): 100, 200, 400, 800, then capped.
  CHECK(backoff_delay(p, 1, 0.999999) == milliseconds(99));
  CHECK(backoff_delay(p, 2, 0.999999) == milliseconds(199));
  CHECK(backoff_delay(p, 3, 0.999999) == milliseconds(399));
  CHECK(backoff_delay(p, 4, 0.999999) == milliseconds(799));
  CHECK(backoff_delay(p, 5, 0.999999) == milliseconds(999));
  CHECK(backoff_delay(p, 60, 0.999999) == milliseconds(999));
  CHECK(backoff_delay(p, 1000, 0.5) == milliseconds(500)); // no overflow for absurd counts
  // The bottom and the middle of the window.
  CHECK(backoff_delay(p, 3, 0.0) == milliseconds(0));
  CHECK(backoff_delay(p, 3, 0.5) == milliseconds(200));
}

TEST_CASE("the retry schedule stops at max attempts and max total time", "[kube]") {
  RetryPolicy p;
  p.max_attempts = 3;
  p.initial_backoff = milliseconds(100);
  p.max_backoff = milliseconds(1000);
  p.max_total = milliseconds(2000);
  // Attempts 1 and 2 may be followed by another; attempt 3 is the last.
  CHECK(next_retry_delay(p, http(503), true, 1, milliseconds(0), 0.5) == milliseconds(50));
  CHECK(next_retry_delay(p, http(503), true, 2, milliseconds(0), 0.5) == milliseconds(100));
  CHECK_FALSE(next_retry_delay(p, http(503), true, 3, milliseconds(0), 0.5));
  // A wait that would end past the total budget is not started.
  CHECK_FALSE(next_retry_delay(p, http(503), true, 2, milliseconds(1950), 0.9));
  CHECK(next_retry_delay(p, http(503), true, 2, milliseconds(1500), 0.5) == milliseconds(100));
  // Final answers never get a delay.
  CHECK_FALSE(next_retry_delay(p, http(404), true, 1, milliseconds(0), 0.5));
  CHECK_FALSE(next_retry_delay(p, http(503), false, 1, milliseconds(0), 0.5));
}

TEST_CASE("Retry-After is a floor on the wait, capped by the policy", "[kube]") {
  RetryPolicy p;
  p.max_attempts = 5;
  p.initial_backoff = milliseconds(100);
  p.max_backoff = milliseconds(1000);
  p.max_total = milliseconds(60000);
  p.max_retry_after = seconds(10);
  CHECK(next_retry_delay(p, http(429, seconds(3)), true, 1, milliseconds(0), 0.5) ==
        milliseconds(3000));
  CHECK(next_retry_delay(p, http(429, seconds(0)), true, 1, milliseconds(0), 0.5) ==
        milliseconds(50));
  CHECK(next_retry_delay(p, http(429, seconds(3600)), false, 1, milliseconds(0), 0.5) ==
        milliseconds(10000));
  // Honouring it would blow the total budget: give up instead of waiting in vain.
  CHECK_FALSE(next_retry_delay(p, http(429, seconds(10)), true, 1, milliseconds(55000), 0.5));
}

TEST_CASE("Retry-After parses delta-seconds only", "[kube]") {
  CHECK(parse_retry_after("1") == seconds(1));
  CHECK(parse_retry_after(" 30 \r") == seconds(30));
  CHECK_FALSE(parse_retry_after(""));
  CHECK_FALSE(parse_retry_after("-1"));
  CHECK_FALSE(parse_retry_after("1.5"));
  CHECK_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
  CHECK_FALSE(parse_retry_after("99999999999999"));
}

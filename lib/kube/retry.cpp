#include "kube/retry.hpp"

#include <algorithm>
#include <cmath>

namespace meshctl::kube {

bool is_retryable(const AttemptOutcome& outcome, bool idempotent) {
  if (outcome.http_status == 429) {
    return true;
  }
  if (!idempotent) {
    return false;
  }
  switch (outcome.http_status) {
  case 500:
  case 502:
  case 503:
  case 504:
    return true;
  case 0:
    return outcome.failure == TransportFailure::k_reset ||
           outcome.failure == TransportFailure::k_timeout;
  default:
    return false;
  }
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry, double random01) {
  using std::chrono::milliseconds;
  const double base = static_cast<double>(policy.initial_backoff.count());
  const double cap = static_cast<double>(policy.max_backoff.count());
  // 2^(retry-1) grows past any cap quickly; clamp the exponent so the double never overflows.
  const double window = std::min(cap, base * std::exp2(std::clamp(retry - 1, 0, 62)));
  const double r = std::clamp(random01, 0.0, 1.0);
  return milliseconds(static_cast<milliseconds::rep>(std::floor(window * r)));
}

std::optional<std::chrono::milliseconds>
next_retry_delay(const RetryPolicy& policy, const AttemptOutcome& outcome, bool idempotent,
                 int attempts_made, std::chrono::milliseconds elapsed, double random01) {
  if (!is_retryable(outcome, idempotent) || attempts_made >= policy.max_attempts) {
    return std::nullopt;
  }
  auto delay = backoff_delay(policy, attempts_made, random01);
  if (outcome.retry_after) {
    const auto floor = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::min(*outcome.retry_after, policy.max_retry_after));
    delay = std::max(delay, floor);
  }
  if (elapsed + delay >= policy.max_total) {
    return std::nullopt;
  }
  return delay;
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
    value.remove_prefix(1);
  }
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r')) {
    value.remove_suffix(1);
  }
  if (value.empty() || value.size() > 9) {
    return std::nullopt;
  }
  long long seconds = 0;
  for (const char c : value) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    seconds = seconds * 10 + (c - '0');
  }
  return std::chrono::seconds(seconds);
}

} // namespace meshctl::kube

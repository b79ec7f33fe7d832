#pragma once
// A bound on the requests one client has in flight, adapted to what the API server can take.
//
// Additive increase, multiplicative decrease (as TCP's congestion control): the limit starts at
// the configured maximum (--concurrency), halves when the server answers 429 — kube-apiserver's
// priority and fairness sheds load that way before it does any work — and grows back by one slot
// per `limit` successful answers, never above the maximum. A burst of 429s from requests that
// were all in flight together is one signal, not thirty: the limit is cut at most once per
// k_cut_interval. The client's own retry honours Retry-After outside the slot, so a throttled
// request does not hold capacity while it waits. The result is fast against a healthy server
// (the full limit in parallel) and gentle with a struggling one (down to one request at a time).

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace meshctl::kube {

class ConcurrencyLimiter {
public:
  /// At most `max` requests in flight (at least 1).
  explicit ConcurrencyLimiter(int max);

  /// Blocks until a slot is free, then takes it.
  void acquire();
  /// Gives back a slot taken by acquire().
  void release();
  /// The server said 429: halve the limit (at most once per k_cut_interval; never below 1).
  void on_throttled();
  /// A request succeeded: grow the limit by 1/limit (one slot per full window), up to max.
  void on_success();

  /// The current limit (whole slots), for logs and tests.
  [[nodiscard]] int limit() const;
  /// The configured maximum.
  [[nodiscard]] int max() const { return m_max; }
  /// How often the limit was cut, for reports ("slowed down 3 times after 429").
  [[nodiscard]] int cuts() const;

  static constexpr std::chrono::milliseconds k_cut_interval{500};

private:
  mutable std::mutex m_mutex;
  std::condition_variable m_freed;
  const int m_max;
  double m_limit;
  int m_in_flight = 0;
  int m_cuts = 0;
  std::chrono::steady_clock::time_point m_last_cut{};
};

/// Holds one slot of a limiter (or nothing when the limiter is null) for a scope.
class LimiterSlot {
public:
  explicit LimiterSlot(ConcurrencyLimiter* limiter) : m_limiter(limiter) {
    if (m_limiter != nullptr) {
      m_limiter->acquire();
    }
  }
  ~LimiterSlot() {
    if (m_limiter != nullptr) {
      m_limiter->release();
    }
  }
  LimiterSlot(const LimiterSlot&) = delete;
  LimiterSlot& operator=(const LimiterSlot&) = delete;

private:
  ConcurrencyLimiter* m_limiter;
};

} // namespace meshctl::kube

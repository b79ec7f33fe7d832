#include "kube/limiter.hpp"

#include <algorithm>
#include <cmath>

namespace meshctl::kube {

ConcurrencyLimiter::ConcurrencyLimiter(int max)
    : m_max(std::max(1, max)), m_limit(static_cast<double>(std::max(1, max))) {}

void ConcurrencyLimiter::acquire() {
  std::unique_lock lock(m_mutex);
  m_freed.wait(lock, [this] { return m_in_flight < static_cast<int>(m_limit); });
  ++m_in_flight;
}

void ConcurrencyLimiter::release() {
  {
    std::lock_guard lock(m_mutex);
    --m_in_flight;
  }
  m_freed.notify_one();
}

void ConcurrencyLimiter::on_throttled() {
  std::lock_guard lock(m_mutex);
  const auto now = std::chrono::steady_clock::now();
  if (m_cuts > 0 && now - m_last_cut < k_cut_interval) {
    return;
  }
  m_last_cut = now;
  ++m_cuts;
  m_limit = std::max(1.0, std::floor(std::floor(m_limit) / 2.0)); // whole slots
}

void ConcurrencyLimiter::on_success() {
  bool grew = false;
  {
    std::lock_guard lock(m_mutex);
    const double before = m_limit;
    m_limit = std::min(static_cast<double>(m_max), m_limit + 1.0 / m_limit);
    grew = static_cast<int>(m_limit) > static_cast<int>(before);
  }
  if (grew) {
    m_freed.notify_one();
  }
}

int ConcurrencyLimiter::limit() const {
  std::lock_guard lock(m_mutex);
  return static_cast<int>(m_limit);
}

int ConcurrencyLimiter::cuts() const {
  std::lock_guard lock(m_mutex);
  return m_cuts;
}

} // namespace meshctl::kube

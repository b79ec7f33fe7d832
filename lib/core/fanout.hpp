#pragma once
// The one place that runs work in parallel: a step on every cluster (subctl's RunOnAllContexts)
// and a bounded pool of workers for many requests to one cluster. Results come back in the order
// of the input, whatever finished first.
//
// The pool is a counter, not a queue: each of at most `limit` threads takes the next index until
// none is left, so a slow item never holds up the others and no more than `limit` items run at
// once. An exception escaping a task stops the pool from starting further items; the items
// already running finish, every thread is joined, and the first exception is rethrown to the
// caller (a thread never dies with it, which would end the process). Errors that are values
// (Result, ApiResult) are simply returned per item.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace meshctl {

template <class T> struct PerCluster {
  std::string cluster;
  T value;
};

/// Runs fn(i) for every i in [0, count) on at most `limit` threads (at least one; none when
/// count is 0) and returns when all have run. If a task throws, no further task starts and the
/// first exception is rethrown here once every thread has finished.
template <class Fn> void parallel_for(std::size_t count, int limit, Fn&& fn) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  const std::size_t workers =
      std::min<std::size_t>(count, static_cast<std::size_t>(std::max(1, limit)));
  std::vector<std::thread> threads;
  threads.reserve(workers);
  for (std::size_t w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      for (std::size_t i = next++; i < count && !stop; i = next++) {
        try {
          fn(i);
        } catch (...) {
          std::lock_guard lock(error_mutex);
          if (!first_error) {
            first_error = std::current_exception();
          }
          stop = true;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  if (first_error) {
    std::rethrow_exception(first_error);
  }
}

/// fn(i) for every i in [0, count), run as parallel_for runs it, with the results in index order.
template <class Fn>
auto parallel_map(std::size_t count, int limit, Fn&& fn)
    -> std::vector<std::invoke_result_t<Fn&, std::size_t>> {
  using T = std::invoke_result_t<Fn&, std::size_t>;
  std::vector<std::optional<T>> slots(count);
  parallel_for(count, limit, [&](std::size_t i) { slots[i].emplace(fn(i)); });
  std::vector<T> out;
  out.reserve(count);
  for (auto& s : slots) {
    out.push_back(std::move(*s));
  }
  return out;
}

/// Runs fn(cluster) for every cluster concurrently (one thread each: cluster counts are small and
/// the work is network-bound) and returns the results in input order.
template <class Fn>
auto for_each_cluster(const std::vector<std::string>& clusters, Fn fn)
    -> std::vector<PerCluster<std::invoke_result_t<Fn, const std::string&>>> {
  using T = std::invoke_result_t<Fn, const std::string&>;
  auto values = parallel_map(clusters.size(), static_cast<int>(clusters.size()),
                             [&](std::size_t i) { return fn(clusters[i]); });
  std::vector<PerCluster<T>> out;
  out.reserve(clusters.size());
  for (std::size_t i = 0; i < clusters.size(); ++i) {
    out.push_back({clusters[i], std::move(values[i])});
  }
  return out;
}

} // namespace meshctl

#pragma once
// The one place that runs a step on every cluster in parallel (subctl's RunOnAllContexts).
// Results come back in the order of the input, one per cluster, whatever finished first.

#include <functional>
#include <future>
#include <string>
#include <utility>
#include <vector>

namespace meshctl {

template <class T> struct PerCluster {
  std::string cluster;
  T value;
};

/// Runs fn(cluster) for every cluster concurrently (one thread each: cluster counts are small and
/// the work is network-bound) and returns the results in input order.
template <class Fn>
auto for_each_cluster(const std::vector<std::string>& clusters, Fn fn)
    -> std::vector<PerCluster<std::invoke_result_t<Fn, const std::string&>>> {
  using T = std::invoke_result_t<Fn, const std::string&>;
  std::vector<std::future<T>> futures;
  futures.reserve(clusters.size());
  for (const auto& c : clusters) {
    futures.push_back(std::async(std::launch::async, [&fn, &c] { return fn(c); }));
  }
  std::vector<PerCluster<T>> out;
  out.reserve(clusters.size());
  for (std::size_t i = 0; i < clusters.size(); ++i) {
    out.push_back({clusters[i], futures[i].get()});
  }
  return out;
}

} // namespace meshctl

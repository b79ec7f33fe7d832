#pragma once
// The per-cluster step most verbs run: something on every cluster with its client, all clusters
// at once (core/fanout.hpp), and one outcome — every result in the clusters' order, or the first
// failure with the others logged, so no verb repeats that bookkeeping.

#include "config/config.hpp"
#include "core/error.hpp"
#include "core/fanout.hpp"
#include "core/log.hpp"
#include "kube/client.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace meshctl::mesh {

/// The values of `results` in order, or the first error (with its cluster as context when
/// `name_cluster`), the other errors logged as warnings.
template <class T>
Result<std::vector<T>> all_or_first_error(std::vector<PerCluster<Result<T>>>& results,
                                          bool name_cluster = true) {
  std::vector<T> out;
  std::vector<Error> errors;
  for (auto& r : results) {
    if (!r.value) {
      errors.push_back(name_cluster ? Error(r.value.error()).with_context(r.cluster)
                                    : r.value.error());
    } else {
      out.push_back(std::move(*r.value));
    }
  }
  if (!errors.empty()) {
    for (std::size_t i = 1; i < errors.size(); ++i) {
      log::warn("{}", errors[i].what());
    }
    return tl::make_unexpected(errors.front());
  }
  return out;
}

/// Runs `fn(cluster name, its client)` on every cluster of `clusters` in parallel (`clients` in
/// their order); `fn` returns Result<T>. See all_or_first_error for the outcome.
template <class T, class Fn>
Result<std::vector<T>> on_every_cluster(const std::vector<config::ClusterConfig>& clusters,
                                        std::vector<std::unique_ptr<kube::Client>>& clients,
                                        Fn fn) {
  std::vector<std::string> names;
  std::map<std::string, kube::Client*> by_name;
  for (std::size_t i = 0; i < clusters.size(); ++i) {
    names.push_back(clusters[i].name);
    by_name[clusters[i].name] = clients[i].get();
  }
  auto results = for_each_cluster(
      names, [&](const std::string& name) -> Result<T> { return fn(name, *by_name.at(name)); });
  return all_or_first_error(results);
}

} // namespace meshctl::mesh

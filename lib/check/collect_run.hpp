#pragma once
// What the collector's parts share (internal to lib/check): one cluster's run (its client, its
// facts, reads that note what they could not read) and the task group its parallel reads use.
// collect.cpp drives the phases; collect_secrets.cpp reads remote secrets and checks their tokens.

#include "check/collect.hpp"
#include "check/facts.hpp"
#include "check/views.hpp"
#include "kube/client.hpp"
#include "mesh/session.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace meshctl::check::detail {

using nlohmann::json;

constexpr std::string_view k_istio_ns = "istio-system";

inline ReadError read_error(const kube::ApiError& e) {
  ReadError r;
  r.message = e.error.what();
  r.hint = e.error.hint();
  r.http_status = e.http_status;
  r.unreachable = e.unreachable();
  return r;
}

inline ReadError read_error(const Error& e) {
  ReadError r;
  r.message = e.what();
  r.hint = e.hint();
  r.unreachable = e.code() == ExitCode::k_unreachable;
  return r;
}

// Independent reads of one cluster, each on its own thread; wait() joins them all (the
// destructor too, so no task outlives the state it captured by reference).
class Tasks {
public:
  Tasks() = default;
  Tasks(const Tasks&) = delete;
  Tasks& operator=(const Tasks&) = delete;
  ~Tasks() {
    for (auto& f : m_futures) {
      if (f.valid()) {
        f.wait(); // never throws: an exception of a task is for wait() to report
      }
    }
  }
  template <class F> void add(F&& f) {
    m_futures.push_back(std::async(std::launch::async, std::forward<F>(f)));
  }
  void wait() {
    for (auto& f : m_futures) {
      if (f.valid()) {
        f.get();
      }
    }
    m_futures.clear();
  }

private:
  std::vector<std::future<void>> m_futures;
};

inline std::vector<json> items(json list) {
  std::vector<json> out;
  if (list.contains("items") && list["items"].is_array()) {
    for (auto& i : list["items"]) {
      out.push_back(strip_object(std::move(i)));
    }
  }
  return out;
}

inline std::string selector_string(const json& selector) {
  std::string out;
  if (selector.is_object()) {
    for (const auto& [k, v] : selector.items()) {
      if (v.is_string()) {
        out += (out.empty() ? "" : ",") + k + "=" + v.get<std::string>();
      }
    }
  }
  return out;
}

/// Every cluster of the mesh: those being checked, then meshctl.yaml's others (verify --context
/// checks a subset; remote secrets still point at the rest).
inline std::vector<const config::ClusterConfig*> mesh_clusters(const mesh::Session& session) {
  std::vector<const config::ClusterConfig*> out;
  for (const auto& c : session.clusters) {
    out.push_back(&c);
  }
  for (const auto& c : session.config.clusters) {
    if (std::none_of(session.clusters.begin(), session.clusters.end(),
                     [&](const config::ClusterConfig& s) { return s.name == c.name; })) {
      out.push_back(&c);
    }
  }
  return out;
}

/// Shared state of one cluster's collection.
struct ClusterRun {
  ClusterFacts& facts;
  kube::Client& client;
  const mesh::Session& session;
  const CollectOptions& options;
  std::mutex mu;
  std::vector<json> namespace_pods; // pods of the service's namespace (for workloads and client)
  std::map<std::pair<std::string, std::string>, std::string> tokens; // (secret, key) -> token

  void note(const std::string& fact, ReadError e) {
    std::lock_guard lock(mu);
    facts.errors.emplace(fact, std::move(e));
  }
  // GET one object; null when absent, nullopt when it could not be read (noted as `fact`).
  std::optional<json> get(const std::string& fact, const kube::ResourceRef& ref) {
    auto r = client.get(ref);
    if (r) {
      return strip_object(std::move(*r));
    }
    if (r.error().not_found()) {
      return json(nullptr);
    }
    note(fact, read_error(r.error()));
    return std::nullopt;
  }
  std::optional<std::vector<json>> list(const std::string& fact, const kube::ResourceRef& ref,
                                        const kube::ListOptions& opts = {}) {
    auto r = client.list(ref, opts);
    if (r) {
      return items(std::move(*r));
    }
    if (r.error().not_found()) { // the kind is not served (yet)
      return std::vector<json>{};
    }
    note(fact, read_error(r.error()));
    return std::nullopt;
  }
};

/// Remote secrets of istio-system (labelled, or named for a mesh cluster), public parts only; their
/// tokens are kept in run.tokens for check_token.
void read_remote_secrets(ClusterRun& run);
/// Asks the API server one remote secret's kubeconfig names with its token (collect_secrets.cpp).
void check_token(ClusterRun& run, const RemoteSecretFacts& s, RemoteKubeconfigFacts& k);

} // namespace meshctl::check::detail

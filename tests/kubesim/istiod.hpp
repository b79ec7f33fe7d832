#pragma once
// The istiod model plugged into kubesim: it answers a pod's Envoy admin GETs (exec `pilot-agent
// request GET …` in istio-proxy) and istiod's /debug/clusterz (pod proxy, port 15014) from the
// cluster's objects and, like istiod, from the remote clusters named by remote secrets.
//
// Two steps, so that no lock is held while another API server is read (two kubesims reading each
// other under their API locks would deadlock): prepare() copies what a request needs while the
// caller holds the API lock; answer() reads the remote clusters (HTTPS with each secret's
// kubeconfig, cached for a short TTL, one reader per remote at a time) and computes the answer.

#include "istiod_model.hpp"
#include "store.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace kubesim::istiod {

struct IstiodOptions {
  std::string fallback_cluster_id;          ///< when no istiod pod names its CLUSTER_ID (--name)
  std::chrono::milliseconds cache_ttl{500}; ///< how long what a remote returned is reused
  std::chrono::milliseconds timeout{2000};  ///< per request to a remote API server
};

/// What one request needs, copied from the store.
struct Snapshot {
  enum class Kind { k_envoy_admin, k_clusterz };
  Kind kind = Kind::k_envoy_admin;
  MeshView view;                          ///< remotes not yet filled in
  std::vector<RemoteSecretEntry> secrets; ///< the remote secrets istiod registers
  json pod;
  std::string path;
};

class Istiod {
public:
  explicit Istiod(IstiodOptions options);
  ~Istiod();
  Istiod(const Istiod&) = delete;
  Istiod& operator=(const Istiod&) = delete;

  /// With the API lock held: nullopt when the model does not serve GET `path` on `port` of pod
  /// ns/name (no istio-proxy on 15000, not istiod's /debug/clusterz on 15014); else a snapshot.
  [[nodiscard]] std::optional<Snapshot> prepare(const Store& store, const std::string& ns,
                                                const std::string& pod, int port,
                                                const std::string& path) const;
  /// Without the lock: reads the remotes (or reuses what was read within the TTL) and answers.
  /// nullopt: a path the proxy does not serve.
  std::optional<std::string> answer(Snapshot snapshot);

  /// The remote clusters as istiod would see them now (used by answer(); public for tests).
  std::vector<RemoteCluster> read_remotes(const std::vector<RemoteSecretEntry>& secrets);

private:
  struct Remotes;
  IstiodOptions m_options;
  std::unique_ptr<Remotes> m_remotes;
};

} // namespace kubesim::istiod

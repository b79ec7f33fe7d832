#pragma once
// Two clusters for an end-to-end test: two kubesims named cn-shanghai and wuxi, seeded like the
// seed's Istio clusters — or, when MESHCTL_TEST_KUBECONFIG is set, the real clusters of that
// kubeconfig (contexts from MESHCTL_TEST_CONTEXTS="a,b", default the first two). Tests that need
// what a real cluster lacks or must not suffer (fault injection, request logs, planting broken
// state) call require_sim() and are skipped there, saying why.

#include "support/testing.hpp"

#include <kubesim_process.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace meshctl::e2e {

class TestClusters {
public:
  /// Starts the kubesims (or points at the real clusters). `extra_seeds` are loaded into every
  /// kubesim after the standard seeds.
  explicit TestClusters(const kubesim::testing::KubesimOptions& options = {});
  ~TestClusters();
  TestClusters(const TestClusters&) = delete;
  TestClusters& operator=(const TestClusters&) = delete;

  /// True when running against real clusters.
  static bool real();
  /// The two cluster (= context) names.
  [[nodiscard]] const std::vector<std::string>& names() const { return m_names; }
  /// KUBECONFIG value naming both clusters.
  [[nodiscard]] const std::string& kubeconfig() const { return m_kubeconfig; }
  /// The meshctl.yaml written for these clusters.
  [[nodiscard]] std::filesystem::path config() const { return m_dir.path() / "meshctl.yaml"; }
  /// Scratch directory (HOME of meshctl: its PKI lives below it).
  [[nodiscard]] const meshctl::testing::TempDir& dir() const { return m_dir; }

  /// Runs meshctl with this kubeconfig, config and HOME.
  meshctl::testing::RunResult meshctl(const std::vector<std::string>& args) const;
  /// Runs kubectl --context <context> with this kubeconfig.
  meshctl::testing::RunResult kubectl(const std::string& context,
                                      const std::vector<std::string>& args) const;
  /// kubectl ... -o json, parsed (throws on failure: tests only).
  nlohmann::json kubectl_json(const std::string& context,
                              const std::vector<std::string>& args) const;

  /// The kubesim of a cluster (only in kubesim mode).
  kubesim::testing::KubesimProcess& sim(const std::string& name);
  /// Request-log position of every kubesim, for writes_since().
  [[nodiscard]] std::vector<std::size_t> mark() const;
  /// Write requests (not dry runs) made to all kubesims since `mark`.
  [[nodiscard]] std::vector<nlohmann::json>
  writes_since(const std::vector<std::size_t>& mark) const;
  /// Every request (reads and writes) since `mark`.
  [[nodiscard]] std::size_t requests_since(const std::vector<std::size_t>& mark) const;

private:
  void init(const kubesim::testing::KubesimOptions& options);

  meshctl::testing::TempDir m_dir;
  std::vector<std::string> m_names;
  std::string m_kubeconfig;
  std::vector<std::unique_ptr<kubesim::testing::KubesimProcess>> m_sims;
};

/// The entry named `name` in a result's `clusters` array (fails the test when there is none).
const nlohmann::json& cluster_entry(const nlohmann::json& doc, const std::string& name);

} // namespace meshctl::e2e

/// Skips the test unless it runs on kubesims.
#define MESHCTL_REQUIRE_SIM()                                                                      \
  if (::meshctl::e2e::TestClusters::real()) {                                                      \
    MESHCTL_SKIP("needs kubesim (fault injection, request log or planted state); running against " \
                 "real clusters");                                                                 \
  }

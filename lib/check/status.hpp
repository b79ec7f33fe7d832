#pragma once
// What `meshctl status` shows: the whole mesh at once, one row per cluster, from one read of every
// cluster (collect_facts with CollectOptions::mesh_only) and the checks that need no service
// (run_mesh_checks), so its problems carry the same ids and hints as verify's. `--wait` polls it
// until waiting_for() is empty: every cluster connected to every other both ways (remote secret
// present, token accepted, istiod's /debug/clusterz reporting it synced) and every gateway
// published with ready pods.
//
// JSON (apiVersion meshctl.dev/v1alpha1, kind MeshStatus); fields are only added:
//
//   collectedAt: RFC 3339
//   clusters: [{name, network, reachable, kubernetesVersion,
//               istiod: {version, revision, readyPods, pods} | null,
//               gateway: {address, port, readyPods, pods} | null,   # the first published address
//               root: {fingerprint, differs} | null,               # SHA-256 of cacerts' root
//               remotes: [{cluster, secret, tokenAccepted, syncStatus, synced}],
//               problems: [id]}]
//   findings: [Finding]   # warnings and errors only, cluster "" = the mesh as a whole
//   exitCode

#include "check/facts.hpp"
#include "check/finding.hpp"
#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace meshctl::check {

/// One other cluster, as seen from a cluster.
struct RemoteStatus {
  std::string cluster;
  std::string secret;          ///< the Secret holding its key; "" = none
  bool token_accepted = false; ///< its token authenticated against that cluster's API server
  std::string sync_status;     ///< clusterz syncStatus; "" = not listed (or not readable)
  [[nodiscard]] bool synced() const {
    return !secret.empty() && token_accepted && sync_status == "synced";
  }
};

/// One row of the table.
struct ClusterStatus {
  std::string name;
  std::string network;
  bool reachable = false;
  std::string kubernetes; ///< gitVersion, "" = unknown
  bool has_istiod = false;
  std::string istiod_version;
  std::string istiod_revision;
  int istiod_ready = 0;
  int istiod_pods = 0;
  bool has_gateway = false;    ///< a gateway Service of the cluster's network with a 15443 port
  std::string gateway_address; ///< "" = none published
  std::uint32_t gateway_port = 0;
  int gateway_ready = 0;
  int gateway_pods = 0;
  std::string root;          ///< first 8 hex digits of the SHA-256 of cacerts' root; "" = none
  std::string root_full;     ///< the whole fingerprint (lower-case hex, no colons)
  bool root_differs = false; ///< another cluster's root is different
  std::vector<RemoteStatus> remotes; ///< every other mesh cluster
  std::vector<std::string> problems; ///< ids of its warnings and errors
};

struct MeshStatus {
  std::string collected_at;
  std::vector<ClusterStatus> clusters;
  Findings problems; ///< warnings and errors, in the checks' order
  bool unreachable = false;
  bool errors = false;
};

/// The status of the facts (collected with mesh_only): rows and run_mesh_checks' problems.
MeshStatus build_status(const MeshFacts& facts);

/// 3 when a cluster could not be reached, else 1 when there is an error, else 0 (as verify).
ExitCode status_exit_code(const MeshStatus& status);

/// What --wait still waits for, one short line each ("wuxi: no remote secret for cn-shanghai");
/// empty when every cluster is connected both ways and every gateway is ready.
std::vector<std::string> waiting_for(const MeshStatus& status);

/// The table, then one line per problem with its hint (colour only when `color`).
std::string format_status(const MeshStatus& status, bool color);

/// The JSON document described above.
nlohmann::json status_json(const MeshStatus& status);

} // namespace meshctl::check

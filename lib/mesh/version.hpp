#pragma once
// What `meshctl version` reports, as `kubectl version` does for one cluster: meshctl's own
// version and, for every cluster, the Kubernetes version its API server reports (GET /version,
// gitVersion) and each istiod revision installed with its version (the image tag of the
// `discovery` container of the istiod Deployments in istio-system, their `istio.io/rev` label).
// One cluster failing does not keep the others from being reported: its error is part of its
// entry.

#include "core/error.hpp"
#include "core/options.hpp"
#include "kube/client.hpp"
#include "mesh/session.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace meshctl::mesh {

/// One istiod revision of a cluster.
struct IstiodVersion {
  std::string revision; ///< "default", "1-24", …
  std::string version;  ///< its image tag; "" when the image has none
  std::string image;    ///< its discovery container's image, in full
};

/// What one cluster runs.
struct ClusterVersion {
  std::string name;
  std::string kubernetes; ///< gitVersion; "" when it could not be read
  std::string platform;   ///< the API server's platform ("linux/amd64"), when it says
  /// The default revision first, then the others by name; empty when none is installed.
  std::vector<IstiodVersion> istiod;
  bool istiod_read = false;   ///< whether the istiod Deployments could be listed
  std::optional<Error> error; ///< the first read that failed, naming the cluster
};

/// Reads one cluster's versions: GET /version and the istiod Deployments, both at once.
ClusterVersion read_cluster_version(kube::Client& client, const std::string& name);

/// read_cluster_version on every target cluster (session.hpp) in parallel, one client each with
/// the verbs' client options, in the targets' order. A cluster whose context does not resolve
/// has that as its error.
std::vector<ClusterVersion> read_versions(const ReadTargets& targets, const GlobalOptions& global);

/// -o json / -o yaml: {apiVersion, kind: Version, clientVersion, clusters: [{name,
/// kubernetesVersion, platform, istio: [{revision, version, image}], errors: [{message, hint}]}]};
/// no `clusters` when nullopt (--client). Keys the cluster could not tell are left out.
nlohmann::json version_json(const std::string& client_version,
                            const std::optional<std::vector<ClusterVersion>>& clusters);

/// The text form's cluster table: CLUSTER KUBERNETES ISTIOD, one row per cluster that answered
/// at least in part; "" when there is none. ISTIOD lists each revision's version, the revision
/// named unless it is the default one ("1.24.2, 1.25.0 (revision canary)"). `wide` (-o wide)
/// adds PLATFORM (the API server's) and IMAGES (each revision's istiod image, in full).
std::string format_cluster_versions(const std::vector<ClusterVersion>& clusters, bool wide = false);

} // namespace meshctl::mesh

#pragma once
// What must hold in a cluster before join writes anything. All of them are checked on every
// cluster and reported together, so one run shows everything to fix.

#include "config/config.hpp"
#include "core/error.hpp"
#include "kube/client.hpp"
#include "kube/istio_api.hpp"
#include "mesh/istiod.hpp"

#include <optional>
#include <string>
#include <vector>

namespace meshctl::mesh {

/// How istiod in a cluster was installed (values.global.*), read from the cluster.
struct IstiodIdentity {
  std::string cluster_id; ///< istiod's CLUSTER_ID env (values.global.multiCluster.clusterName)
  std::string mesh_id;    ///< values.global.meshID (injector values), else mesh config meshId
  std::string network;    ///< values.global.network (injector values)
};

/// Reads the identity of istiod revision `istiod`: its Deployment's CLUSTER_ID, the
/// istio-sidecar-injector[-<rev>] ConfigMap's `values` JSON and the istio[-<rev>] ConfigMap's mesh
/// config. A missing Deployment is an error that says Istio must be installed first.
Result<IstiodIdentity> read_istiod_identity(kube::Client& client, const std::string& cluster,
                                            const IstiodRevision& istiod);

/// The istioctl flags that install istiod with the identity the config wants.
std::string istiod_install_flags(const config::MeshConfig& cfg,
                                 const config::ClusterConfig& cluster);

/// What the preconditions found in one cluster.
/// What the preconditions found in one cluster.
struct JoinPreconditions {
  kube::IstioApi istio;                 ///< the networking.istio.io version to use there
  std::vector<Error> errors;            ///< every failure (empty = ready)
  std::optional<IstiodRevision> istiod; ///< the istiod revision join works with, when found
};

/// Runs every precondition of join on one cluster and returns every failure: Istio's Gateway and
/// DestinationRule served at networking.istio.io/v1 or v1beta1 (the newest is chosen); one istiod
/// revision to work with (istio.revision of the config, else the only one installed) with the
/// configured cluster ID, mesh ID and network; a NodePort gateway relying on nodeSelector selects
/// at least one node with an ExternalIP; an existing cacerts has our root (unless force_ca).
/// `our_root_pem` is empty when the mesh has no root yet: join would make one, so any existing
/// cacerts is then another root's. Only reads.
JoinPreconditions check_join_preconditions(kube::Client& client, const config::MeshConfig& cfg,
                                           const config::ClusterConfig& cluster,
                                           const std::string& our_root_pem, bool force_ca);

} // namespace meshctl::mesh

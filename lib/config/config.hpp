#pragma once
// meshctl's own configuration (meshctl.yaml): the mesh, its clusters and their gateways.
// Every field has an embedded default, so no file is needed: `meshctl join cn-shanghai wuxi` works
// with a kubeconfig alone (cluster name = network name = context name).

#include "core/error.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace meshctl::config {

enum class GatewayType { k_load_balancer, k_node_port };

/// A Service, named in meshctl.yaml as `gateway.existing: {name, namespace}`.
struct ExistingGateway {
  std::string name;
  std::string namespace_;
};

/// How the east-west gateway of one cluster is exposed to the other clusters (FACTS §4).
struct GatewayConfig {
  GatewayType type = GatewayType::k_load_balancer;
  /// Addresses put into the Service's spec.externalIPs (any Service type).
  std::vector<std::string> external_ips;
  /// Node labels rendered as the JSON annotation traffic.istio.io/nodeSelector ({} = all nodes).
  /// Only meaningful for NodePort; absent = no annotation.
  std::optional<std::map<std::string, std::string>> node_selector;
  /// Fixed nodePort for 15443 (NodePort only); absent = allocated by Kubernetes.
  std::optional<int> node_port;
  /// An east-west gateway installed by someone else (Istio's generator, istioctl, the Helm chart)
  /// that join must use instead of making its own: its Service's name and namespace. Absent = join
  /// looks for one (a Service labelled with the cluster's network that exposes 15443).
  std::optional<ExistingGateway> existing;
  /// Addresses (IPs or DNS names) the other clusters reach this gateway at that istiod cannot
  /// discover from the Service — a NAT, a firewall, a load balancer Kubernetes does not manage.
  /// join writes them into every cluster's meshNetworks (ConfigMap istio-system/istio).
  std::vector<std::string> addresses;
  /// The port the other clusters use at `addresses` (meshNetworks gateways[].port).
  int port = 15443;
};

/// One cluster of the mesh.
struct ClusterConfig {
  std::string name; ///< Istio cluster ID (values.global.multiCluster.clusterName); DNS-1123 label
  std::string context; ///< kubeconfig context used to reach it
  std::string network; ///< Istio network (topology.istio.io/network)
  /// API server URL as seen from the *other* clusters (used in remote secrets); absent = take the
  /// kubeconfig's server (refused when it is loopback).
  std::optional<std::string> api_server;
  /// Optional tls-server-name written into remote secrets (when api_server is an IP or a proxy).
  std::optional<std::string> tls_server_name;
  GatewayConfig gateway;
  /// clusters[].istio.revision: the istiod revision of this cluster, overriding the mesh's.
  std::optional<std::string> istio_revision;
};

/// The whole configuration, defaults applied.
struct MeshConfig {
  std::string mesh_id = "mesh1";
  std::string trust_domain = "cluster.local";
  /// istio.revision: the istiod revision (label istio.io/rev) meshctl works with in every cluster;
  /// absent = the one revision a cluster runs (several: an error naming them).
  std::optional<std::string> istio_revision;
  std::vector<ClusterConfig> clusters;
  /// Where the root CA lives (never uploaded). Default: ~/.config/meshctl/pki/<mesh id>/.
  /// A relative pki.dir is taken from the config file's directory; "~/" is expanded.
  /// Empty when HOME is unset and the file names no absolute dir: see require_pki_dir().
  std::string pki_dir;
  /// The file this was loaded from; empty when only defaults are in effect.
  std::string source;

  /// The cluster with this name, or nullptr.
  [[nodiscard]] const ClusterConfig* find(const std::string& name) const;
  /// The istiod revision configured for `cluster`: its own istio.revision, else the mesh's; absent
  /// = detect it in the cluster.
  [[nodiscard]] std::optional<std::string> revision_for(const ClusterConfig& cluster) const;
};

/// Where the config comes from: -c FILE, else $MESHCTL_CONFIG, else ~/.config/meshctl/config.yaml
/// (the last one only if it exists). Returns an empty optional when no file applies.
std::optional<std::string> config_path(const std::optional<std::string>& flag);

/// Loads and validates the config (file:line and a hint on every error; exit code 2).
/// A missing file named by -c or $MESHCTL_CONFIG is an error; no file at all means defaults.
Result<MeshConfig> load_config(const std::optional<std::string>& flag);

/// Parses config text (for tests and fuzzing); `origin` names it in errors.
Result<MeshConfig> parse_config(const std::string& text, const std::string& origin);

/// The clusters a verb works on: the named ones (positional or --context) in that order, else every
/// cluster of the config. A name that is not in the config gets the defaults (name = context =
/// network = the name) but must then exist in `known_contexts` (else exit 2 with "did you mean").
/// A name also matches a config cluster through its `context`. Naming a cluster twice, or naming
/// none when the config lists none, is an exit-2 error.
Result<std::vector<ClusterConfig>> select_clusters(const MeshConfig& cfg,
                                                   const std::vector<std::string>& names,
                                                   const std::vector<std::string>& known_contexts);

/// The pki dir, or an exit-2 error saying HOME is unset (so a verb that never touches the CA
/// works without HOME; one that does gets a clear error when it needs the dir, not at load) or
/// that the path names a file.
Result<std::string> require_pki_dir(const MeshConfig& cfg);

/// The effective config as JSON text with the file's key names (for `meshctl config view`);
/// loading it back as meshctl.yaml gives the same config.
std::string to_json_text(const MeshConfig& cfg);

} // namespace meshctl::config

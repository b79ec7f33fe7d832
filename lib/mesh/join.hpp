#pragma once
// join: what makes clusters one mesh (FACTS §1–3). This header holds the offline half — inputs and
// rendering — shared by `join --dry-run` (no cluster contacted) and the live join.

#include "config/config.hpp"
#include "config/kubeconfig.hpp"
#include "core/error.hpp"
#include "mesh/desired.hpp"
#include "mesh/gateway_choice.hpp"
#include "render/manifests.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace meshctl::mesh {

/// --dry-run modes. offline: render only, contact nothing (bare --dry-run). client: read live state
/// and print the plan, write nothing. server: like client, and send the writes with dryRun=All.
enum class DryRun { k_none, k_offline, k_client, k_server };

/// Parses "", "none" (kubectl's explicit "no dry run"), "offline", "client", "server".
Result<DryRun> parse_dry_run(const std::string& text);
/// The modes --dry-run=MODE takes (none, offline, client, server).
std::vector<std::string> dry_run_names();
/// What text output appends to a line saying what was done, as kubectl does
/// ("deployment.apps/x created (dry run)"): " (dry run)" for offline and client, " (server dry
/// run)" for server, nothing without a dry run.
const char* dry_run_suffix(DryRun d);
/// The dryRun field of a live verb's JSON report: "client", "server" or "none" (an offline dry
/// run never reaches a cluster, so it has no such report).
const char* report_dry_run(DryRun d);

/// When join rolls istiod (which reads cacerts only at start, see mesh/istiod.hpp).
enum class RestartIstiod {
  k_when_stale, ///< when the root istiod serves is not cacerts' root (default)
  k_always,     ///< every time (--restart-istiod)
  k_never,      ///< never; say what to run instead (--no-restart-istiod)
};

struct JoinOptions {
  DryRun dry_run = DryRun::k_none;
  bool force_ca = false; ///< replace a cacerts whose root differs from ours
  RestartIstiod restart_istiod = RestartIstiod::k_when_stale;
};

/// Whether join restarts istiod in one cluster, and why, in words for the user.
struct RestartDecision {
  bool restart = false;
  bool needed = false; ///< istiod runs without what cacerts holds (restarted or not)
  std::string why;     ///< "it serves root … but cacerts holds …", "of --restart-istiod", …
};

/// Decides from `mode`, cacerts' root after join (`cacerts_root_pem`), the root istiod publishes
/// (`served_pem`, nothing when it has published none) and whether this join rewrote cacerts'
/// data, whether to roll istiod: by default when compare_served_root() says the served root is
/// stale or cacerts was rewritten (istiod signs with the intermediate it read at start). Pure.
RestartDecision decide_istiod_restart(RestartIstiod mode, const std::string& cacerts_root_pem,
                                      const std::optional<std::string>& served_pem,
                                      bool cacerts_rewritten = false);

/// The API server URL the *other* clusters' istiod use to reach a cluster.
struct RemoteServer {
  std::string url;
  std::optional<std::string> tls_server_name;
  bool from_config = false; ///< set explicitly in meshctl.yaml (used as given, even loopback)
};

/// The config's apiServer for the cluster, else the kubeconfig server of its context. A loopback
/// address taken from the kubeconfig is refused (other clusters cannot reach it) with a hint to set
/// clusters[].apiServer; one set in the config is used as given.
Result<RemoteServer> remote_server(const config::ClusterConfig& cluster,
                                   const config::Kubeconfig& kubeconfig);

/// The mesh root certificate (PEM) in the PKI dir, or "" when none was created yet. Reads only.
Result<std::string> existing_root_pem(const config::MeshConfig& cfg);

/// cacerts content for one cluster. With `persist`, the mesh root is loaded or created in the PKI
/// dir and the cluster's intermediate loaded or issued there. Without (offline dry-run), nothing is
/// written: an existing root/intermediate is used, anything missing becomes a placeholder.
Result<render::CacertsData> cacerts_for(const config::MeshConfig& cfg,
                                        const config::ClusterConfig& cluster, bool persist);

/// Phase 1 of join in one cluster: the cluster base (Namespace label, cacerts, east-west gateway
/// unless `gateway` is an installed one, reader RBAC and token Secret) and cross-network-gateway
/// at `istio`'s version beside the gateway's pods (created only when absent: `expose` owns its
/// hosts); when any of `mesh` (every cluster of meshctl.yaml) gives gateway.addresses, also the
/// meshNetworks key of the revision's ConfigMap istio[-<rev>] naming them (Ownership::k_fields).
Result<ClusterObjects> render_join_base(const config::ClusterConfig& cluster,
                                        const kube::IstioApi& istio,
                                        const render::CacertsData& cacerts,
                                        const GatewayChoice& gateway = {},
                                        const std::vector<config::ClusterConfig>& mesh = {});

/// Phase 2 of join in `target`: one remote Secret per other cluster of `clusters`.
Result<ClusterObjects>
render_join_remote_secrets(const config::ClusterConfig& target,
                           const std::vector<config::ClusterConfig>& clusters,
                           const std::map<std::string, render::RemoteSecretInput>& sources);

/// Everything join wants in every cluster, in apply order: the cluster base (Namespace label,
/// cacerts, east-west gateway, reader RBAC and token Secret), cross-network-gateway (created only
/// when absent: `expose` owns its hosts), then one remote Secret per other cluster.
/// `apis`, `cacerts`, `sources` and `gateways` are keyed by cluster name (a cluster missing in
/// `gateways` gets meshctl's own gateway).
Result<std::vector<ClusterObjects>>
render_join(const std::vector<config::ClusterConfig>& clusters, const IstioApis& apis,
            const std::map<std::string, render::CacertsData>& cacerts,
            const std::map<std::string, render::RemoteSecretInput>& sources,
            const std::map<std::string, GatewayChoice>& gateways = {},
            const std::vector<config::ClusterConfig>& mesh = {});

/// The offline plan for `join --dry-run`: placeholders for the reader token and API server CA, and
/// for the selector of a gateway named by gateway.existing; Istio objects at the default version
/// (v1). It contacts no cluster, so it cannot find an installed gateway that the config does not
/// name: it renders meshctl's own there.
Result<std::vector<ClusterObjects>>
render_join_offline(const config::MeshConfig& cfg,
                    const std::vector<config::ClusterConfig>& clusters,
                    const config::Kubeconfig& kubeconfig);

} // namespace meshctl::mesh

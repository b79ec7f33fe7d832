#pragma once
// verify's checks: pure functions of a Facts snapshot. Each returns every finding of its area for
// every cluster (checks add up; nothing stops at the first failure). A cluster that could not be
// reached yields only its reachability finding: the other checks skip it rather than report
// everything in it as missing. Something that could not be read (403, timeout) is a warning that
// says so, never a claim that it is absent.
//
// Every finding id is a FindingId, named in k_finding_ids below: the checks make findings from
// FindingIds only (checks_common.hpp), so this table is the complete list of what verify can
// report, and a test (tests/unit/check/finding_ids_test.cpp) produces each one.

#include "check/facts.hpp"
#include "check/finding.hpp"
#include "core/enum_names.hpp"

#include <cstddef>
#include <iterator>
#include <optional>
#include <string_view>

namespace meshctl::check {

/// A finding's stable id, "<area>.<what>" (k_finding_ids names each). Scripts and the JSON
/// report's readers may match on the names: never rename one.
enum class FindingId {
  // check_reachability
  k_cluster_reachable,
  k_cluster_unreachable,
  k_cluster_unauthorized,
  k_cluster_forbidden,
  k_cluster_read_failed,
  k_cluster_slow,
  // check_istio
  k_istio_crds,
  k_istio_crds_missing,
  k_istio_crds_too_old,
  k_istiod_ready,
  k_istiod_missing,
  k_istiod_not_ready,
  k_istiod_identity,
  k_istiod_identity_mismatch,
  k_istiod_mesh_id_differs,
  k_istiod_cluster_id_duplicate,
  k_istiod_revision_ambiguous,
  k_istiod_revision_missing,
  k_istiod_trust_domain,
  k_istiod_trust_domain_differs,
  k_istiod_version_skew,
  k_istiod_version_skew_unsupported,
  k_network_namespace_label,
  // check_trust
  k_cacerts_ok,
  k_cacerts_missing,
  k_cacerts_incomplete,
  k_cacerts_unreadable,
  k_cacerts_root_differs,
  k_cacerts_chain_invalid,
  k_cacerts_cert_chain_stale,
  k_cacerts_expiring,
  k_cacerts_expired,
  k_root_configmap_ok,
  k_root_configmap_missing,
  k_root_configmap_stale,
  // check_remote_secrets
  k_remote_secret_ok,
  k_remote_secret_missing,
  k_remote_secret_label,
  k_remote_secret_annotation,
  k_remote_secret_key,
  k_remote_secret_kubeconfig,
  k_remote_secret_loopback,
  k_remote_secret_token_rejected,
  k_remote_secret_server_unreachable,
  k_remote_secret_permissions,
  k_remote_secret_unchecked,
  k_remote_secret_too_powerful,
  k_remote_secret_unknown_cluster,
  k_remote_secret_self,
  k_remote_secret_duplicate,
  k_clusterz_synced,
  k_clusterz_unavailable,
  k_clusterz_not_synced,
  k_clusterz_missing,
  // check_gateways
  k_gateway_ok,
  k_gateway_missing,
  k_gateway_wrong_network,
  k_gateway_no_pods,
  k_gateway_pods_not_ready,
  k_gateway_node_selector_not_json,
  k_gateway_nodes_without_external_ip,
  k_gateway_node_selector_selects_nothing,
  k_gateway_loadbalancer_pending,
  k_gateway_no_address,
  k_gateway_hostname,
  k_gateway_hostname_unresolved,
  k_gateway_addresses_shadowed,
  k_gateway_mesh_networks,
  k_gateway_mesh_networks_missing,
  k_expose_ok,
  k_expose_missing,
  k_expose_host_not_covered,
  // check_service
  k_service_present,
  k_service_missing,
  k_service_type_differs,
  k_service_ports_differ,
  k_service_no_workloads,
  k_service_workloads,
  k_workload_no_sidecar,
  k_workload_not_ready,
  // check_sni_routes
  k_sni_ok,
  k_sni_missing,
  k_sni_unavailable,
  // check_endpoints
  k_endpoints_ok,
  k_endpoints_from_not_found,
  k_endpoints_no_client,
  k_endpoints_unavailable,
  k_endpoints_none,
  k_endpoints_missing_local,
  k_endpoints_missing_remote,
  k_endpoints_remote_pod,
  k_endpoints_unhealthy,
  k_endpoints_priority,
  k_traffic_spread,
  k_traffic_localized,
  k_destination_rule_no_outlier_detection,
  k_count, ///< not an id: how many there are
};

/// Every finding id with its name, in FindingId's order: what `verify` can report.
inline constexpr EnumName<FindingId> k_finding_ids[] = {
    {FindingId::k_cluster_reachable, "cluster.reachable"},
    {FindingId::k_cluster_unreachable, "cluster.unreachable"},
    {FindingId::k_cluster_unauthorized, "cluster.unauthorized"},
    {FindingId::k_cluster_forbidden, "cluster.forbidden"},
    {FindingId::k_cluster_read_failed, "cluster.read-failed"},
    {FindingId::k_cluster_slow, "cluster.slow"},
    {FindingId::k_istio_crds, "istio.crds"},
    {FindingId::k_istio_crds_missing, "istio.crds-missing"},
    {FindingId::k_istio_crds_too_old, "istio.crds-too-old"},
    {FindingId::k_istiod_ready, "istiod.ready"},
    {FindingId::k_istiod_missing, "istiod.missing"},
    {FindingId::k_istiod_not_ready, "istiod.not-ready"},
    {FindingId::k_istiod_identity, "istiod.identity"},
    {FindingId::k_istiod_identity_mismatch, "istiod.identity-mismatch"},
    {FindingId::k_istiod_mesh_id_differs, "istiod.mesh-id-differs"},
    {FindingId::k_istiod_cluster_id_duplicate, "istiod.cluster-id-duplicate"},
    {FindingId::k_istiod_revision_ambiguous, "istiod.revision-ambiguous"},
    {FindingId::k_istiod_revision_missing, "istiod.revision-missing"},
    {FindingId::k_istiod_trust_domain, "istiod.trust-domain"},
    {FindingId::k_istiod_trust_domain_differs, "istiod.trust-domain-differs"},
    {FindingId::k_istiod_version_skew, "istiod.version-skew"},
    {FindingId::k_istiod_version_skew_unsupported, "istiod.version-skew-unsupported"},
    {FindingId::k_network_namespace_label, "network.namespace-label"},
    {FindingId::k_cacerts_ok, "cacerts.ok"},
    {FindingId::k_cacerts_missing, "cacerts.missing"},
    {FindingId::k_cacerts_incomplete, "cacerts.incomplete"},
    {FindingId::k_cacerts_unreadable, "cacerts.unreadable"},
    {FindingId::k_cacerts_root_differs, "cacerts.root-differs"},
    {FindingId::k_cacerts_chain_invalid, "cacerts.chain-invalid"},
    {FindingId::k_cacerts_cert_chain_stale, "cacerts.cert-chain-stale"},
    {FindingId::k_cacerts_expiring, "cacerts.expiring"},
    {FindingId::k_cacerts_expired, "cacerts.expired"},
    {FindingId::k_root_configmap_ok, "root-configmap.ok"},
    {FindingId::k_root_configmap_missing, "root-configmap.missing"},
    {FindingId::k_root_configmap_stale, "root-configmap.stale"},
    {FindingId::k_remote_secret_ok, "remote-secret.ok"},
    {FindingId::k_remote_secret_missing, "remote-secret.missing"},
    {FindingId::k_remote_secret_label, "remote-secret.label"},
    {FindingId::k_remote_secret_annotation, "remote-secret.annotation"},
    {FindingId::k_remote_secret_key, "remote-secret.key"},
    {FindingId::k_remote_secret_kubeconfig, "remote-secret.kubeconfig"},
    {FindingId::k_remote_secret_loopback, "remote-secret.loopback"},
    {FindingId::k_remote_secret_token_rejected, "remote-secret.token-rejected"},
    {FindingId::k_remote_secret_server_unreachable, "remote-secret.server-unreachable"},
    {FindingId::k_remote_secret_permissions, "remote-secret.permissions"},
    {FindingId::k_remote_secret_unchecked, "remote-secret.unchecked"},
    {FindingId::k_remote_secret_too_powerful, "remote-secret.too-powerful"},
    {FindingId::k_remote_secret_unknown_cluster, "remote-secret.unknown-cluster"},
    {FindingId::k_remote_secret_self, "remote-secret.self"},
    {FindingId::k_remote_secret_duplicate, "remote-secret.duplicate"},
    {FindingId::k_clusterz_synced, "clusterz.synced"},
    {FindingId::k_clusterz_unavailable, "clusterz.unavailable"},
    {FindingId::k_clusterz_not_synced, "clusterz.not-synced"},
    {FindingId::k_clusterz_missing, "clusterz.missing"},
    {FindingId::k_gateway_ok, "gateway.ok"},
    {FindingId::k_gateway_missing, "gateway.missing"},
    {FindingId::k_gateway_wrong_network, "gateway.wrong-network"},
    {FindingId::k_gateway_no_pods, "gateway.no-pods"},
    {FindingId::k_gateway_pods_not_ready, "gateway.pods-not-ready"},
    {FindingId::k_gateway_node_selector_not_json, "gateway.node-selector-not-json"},
    {FindingId::k_gateway_nodes_without_external_ip, "gateway.nodes-without-external-ip"},
    {FindingId::k_gateway_node_selector_selects_nothing, "gateway.node-selector-selects-nothing"},
    {FindingId::k_gateway_loadbalancer_pending, "gateway.loadbalancer-pending"},
    {FindingId::k_gateway_no_address, "gateway.no-address"},
    {FindingId::k_gateway_hostname, "gateway.hostname"},
    {FindingId::k_gateway_hostname_unresolved, "gateway.hostname-unresolved"},
    {FindingId::k_gateway_addresses_shadowed, "gateway.addresses-shadowed"},
    {FindingId::k_gateway_mesh_networks, "gateway.mesh-networks"},
    {FindingId::k_gateway_mesh_networks_missing, "gateway.mesh-networks-missing"},
    {FindingId::k_expose_ok, "expose.ok"},
    {FindingId::k_expose_missing, "expose.missing"},
    {FindingId::k_expose_host_not_covered, "expose.host-not-covered"},
    {FindingId::k_service_present, "service.present"},
    {FindingId::k_service_missing, "service.missing"},
    {FindingId::k_service_type_differs, "service.type-differs"},
    {FindingId::k_service_ports_differ, "service.ports-differ"},
    {FindingId::k_service_no_workloads, "service.no-workloads"},
    {FindingId::k_service_workloads, "service.workloads"},
    {FindingId::k_workload_no_sidecar, "workload.no-sidecar"},
    {FindingId::k_workload_not_ready, "workload.not-ready"},
    {FindingId::k_sni_ok, "sni.ok"},
    {FindingId::k_sni_missing, "sni.missing"},
    {FindingId::k_sni_unavailable, "sni.unavailable"},
    {FindingId::k_endpoints_ok, "endpoints.ok"},
    {FindingId::k_endpoints_from_not_found, "endpoints.from-not-found"},
    {FindingId::k_endpoints_no_client, "endpoints.no-client"},
    {FindingId::k_endpoints_unavailable, "endpoints.unavailable"},
    {FindingId::k_endpoints_none, "endpoints.none"},
    {FindingId::k_endpoints_missing_local, "endpoints.missing-local"},
    {FindingId::k_endpoints_missing_remote, "endpoints.missing-remote"},
    {FindingId::k_endpoints_remote_pod, "endpoints.remote-pod"},
    {FindingId::k_endpoints_unhealthy, "endpoints.unhealthy"},
    {FindingId::k_endpoints_priority, "endpoints.priority"},
    {FindingId::k_traffic_spread, "traffic.spread"},
    {FindingId::k_traffic_localized, "traffic.localized"},
    {FindingId::k_destination_rule_no_outlier_detection, "destination-rule.no-outlier-detection"},
};

/// Whether k_finding_ids names every FindingId once, in order (so a new id must be named).
constexpr bool finding_ids_complete() {
  if (std::size(k_finding_ids) != static_cast<std::size_t>(FindingId::k_count)) {
    return false;
  }
  for (std::size_t i = 0; i < std::size(k_finding_ids); ++i) {
    if (k_finding_ids[i].value != static_cast<FindingId>(i)) {
      return false;
    }
  }
  return true;
}
static_assert(finding_ids_complete(), "k_finding_ids must name every FindingId, in order");

/// The id's name ("remote-secret.missing").
constexpr std::string_view finding_id_name(FindingId id) {
  return name_of(k_finding_ids, id, "?");
}
/// The id of that name, nullopt when there is none.
constexpr std::optional<FindingId> finding_id(std::string_view name) {
  return value_of(k_finding_ids, name);
}

/// Clusters reachable and authorised, with latency.
Findings check_reachability(const MeshFacts& facts);
/// Istio CRDs served, one istiod revision to check (configured or the only one), istiod ready,
/// its identity and trust domain agreeing with meshctl's config and across clusters, the
/// istio-system network label, and the istiod versions of the clusters within Istio's supported
/// skew (one minor version).
Findings check_istio(const MeshFacts& facts);
/// cacerts everywhere with one root, intermediates chaining to it, expiry, and the root istiod
/// actually serves (istio-ca-root-cert) being that root.
Findings check_trust(const MeshFacts& facts);
/// One remote secret per other cluster, well-formed, not loopback, its token accepted with reader
/// rights (and no write), and istiod's /debug/clusterz reporting it synced.
Findings check_remote_secrets(const MeshFacts& facts);
/// The east-west gateway: labelled Service with 15443, ready pods, an address other networks can
/// use, and an AUTO_PASSTHROUGH Gateway exposing the service's host.
Findings check_gateways(const MeshFacts& facts);
/// The Service everywhere with the same type and ports, its workloads and their sidecars.
Findings check_service(const MeshFacts& facts);
/// The 15443 SNI route of every service port on the gateways of clusters running the service.
Findings check_sni_routes(const MeshFacts& facts);
/// The endpoints a client sees: local pods, remote gateways, health and priorities; locality rules.
Findings check_endpoints(const MeshFacts& facts);

/// Every check above, in that order.
Findings run_checks(const MeshFacts& facts);
/// The checks that need no service (reachability, istio, trust, remote secrets, gateways), in that
/// order: what `meshctl status` reports, on facts collected with CollectOptions::mesh_only.
Findings run_mesh_checks(const MeshFacts& facts);

} // namespace meshctl::check

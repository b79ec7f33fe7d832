#pragma once
// verify's checks: pure functions of a Facts snapshot. Each returns every finding of its area for
// every cluster (checks add up; nothing stops at the first failure). A cluster that could not be
// reached yields only its reachability finding: the other checks skip it rather than report
// everything in it as missing. Something that could not be read (403, timeout) is a warning that
// says so, never a claim that it is absent.
//
// Finding ids (stable):
//   cluster.reachable cluster.unreachable cluster.unauthorized cluster.forbidden
//   cluster.read-failed cluster.slow istio.crds istio.crds-missing istio.crds-too-old
//   istiod.ready istiod.missing
//   istiod.not-ready istiod.identity istiod.identity-mismatch istiod.mesh-id-differs
//   istiod.cluster-id-duplicate istiod.revision-ambiguous istiod.revision-missing
//   istiod.trust-domain istiod.trust-domain-differs network.namespace-label cacerts.ok
//   cacerts.missing cacerts.incomplete cacerts.unreadable cacerts.root-differs
//   cacerts.chain-invalid cacerts.cert-chain-stale cacerts.expiring cacerts.expired
//   root-configmap.ok root-configmap.missing root-configmap.stale remote-secret.ok
//   remote-secret.missing remote-secret.label remote-secret.annotation remote-secret.key
//   remote-secret.kubeconfig remote-secret.loopback remote-secret.token-rejected
//   remote-secret.server-unreachable remote-secret.permissions remote-secret.unchecked
//   remote-secret.too-powerful
//   remote-secret.unknown-cluster remote-secret.self remote-secret.duplicate clusterz.synced
//   clusterz.unavailable clusterz.not-synced clusterz.missing gateway.ok gateway.missing
//   gateway.wrong-network gateway.no-pods gateway.pods-not-ready gateway.node-selector-not-json
//   gateway.nodes-without-external-ip gateway.node-selector-selects-nothing
//   gateway.loadbalancer-pending gateway.no-address gateway.hostname
//   gateway.hostname-unresolved gateway.addresses-shadowed gateway.mesh-networks
//   gateway.mesh-networks-missing expose.ok expose.missing
//   expose.host-not-covered service.present service.missing service.type-differs
//   service.ports-differ service.no-workloads (per cluster: info; mesh-wide: error)
//   service.workloads workload.no-sidecar workload.not-ready sni.ok sni.missing sni.unavailable
//   endpoints.ok endpoints.from-not-found endpoints.no-client endpoints.unavailable endpoints.none
//   endpoints.missing-local endpoints.missing-remote endpoints.remote-pod endpoints.unhealthy
//   endpoints.priority traffic.spread traffic.localized destination-rule.no-outlier-detection

#include "check/facts.hpp"
#include "check/finding.hpp"

namespace meshctl::check {

/// Clusters reachable and authorised, with latency.
Findings check_reachability(const MeshFacts& facts);
/// Istio CRDs served, one istiod revision to check (configured or the only one), istiod ready,
/// its identity and trust domain agreeing with meshctl's config and across clusters, the
/// istio-system network label.
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

} // namespace meshctl::check

#pragma once
// What meshctl applies, as objects: render(config, facts) -> manifests, pure and offline.
// Every function here renders embedded templates (templates/*.yaml), parses the result back and
// returns the objects in the order they should be applied.
//
// Ownership: objects meshctl alone creates carry app.kubernetes.io/managed-by: meshctl. Objects
// that Istio's own install (Helm chart or istioctl) normally creates too -- the istio-system
// Namespace and the reader ServiceAccount / ClusterRole / ClusterRoleBinding -- do NOT: writing
// that label over a Helm-owned object makes the next `helm upgrade` fail ("invalid ownership
// metadata"), and unjoin must never delete them. Plan/apply should create those when absent and
// otherwise leave them alone (the Namespace: only merge the network label).

#include "config/config.hpp"
#include "core/error.hpp"
#include "render/object.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshctl::render {

inline constexpr std::string_view k_istio_namespace = "istio-system";
inline constexpr std::string_view k_gateway_name = "istio-eastwestgateway";
inline constexpr std::string_view k_expose_gateway_name = "cross-network-gateway";
inline constexpr std::string_view k_reader_service_account = "istio-reader-service-account";
inline constexpr std::string_view k_reader_cluster_role = "istio-reader-clusterrole-istio-system";
inline constexpr std::string_view k_reader_token_secret =
    "istio-reader-service-account-istio-remote-secret-token";

/// The plug-in CA files of one cluster, as PEM text (FACTS §3); rendering base64-encodes them.
struct CacertsData {
  std::string ca_cert;    ///< the cluster's intermediate certificate
  std::string ca_key;     ///< its private key (registered as a secret when rendered)
  std::string root_cert;  ///< the mesh root certificate (identical in every cluster)
  std::string cert_chain; ///< ca_cert followed by root_cert
};

/// What a remote secret for source cluster `cluster_name` needs (FACTS §2). `token` and
/// `ca_data_pem` come from the source cluster's reader token Secret; offline, pass
/// token_placeholder() / ca_placeholder() instead.
struct RemoteSecretInput {
  std::string cluster_name; ///< source cluster: key, secret name suffix, kubeconfig names
  std::string server;       ///< source API server URL as reachable from the other cluster
  std::string ca_data_pem;  ///< the source API server's CA (the token Secret's ca.crt), PEM
  std::string token;        ///< the reader ServiceAccount's token
  std::optional<std::string> tls_server_name;
};

/// A Kubernetes Service, addressed as Istio does: <name>.<namespace>.svc.cluster.local.
struct ServiceRef {
  std::string name;
  std::string namespace_;
};

/// Which labels decide "local" for failover priorities (FACTS §5).
enum class FailoverBy {
  k_cluster, ///< [topology.istio.io/cluster]: stay in the caller's cluster (default)
  k_network, ///< [topology.istio.io/network]: stay in the caller's network
  k_zone,    ///< [topology.kubernetes.io/region, topology.kubernetes.io/zone]
};

/// outlierDetection of the localize DestinationRule. Without it failover priorities do nothing
/// (FACTS §5). Defaults are Envoy's own outlier-detection defaults: eject a host after 5
/// consecutive 5xx, sweep every 10s, eject for 30s (times the number of ejections).
struct OutlierDetection {
  int consecutive_5xx_errors = 5;
  std::string interval = "10s";
  std::string base_ejection_time = "30s";
};

/// Where the cross-network Gateway goes and which gateway pods it selects: meshctl's own gateway
/// (istio-system, istio: eastwestgateway) by default, else an installed gateway's namespace and its
/// Service's selector. The Gateway lives beside the gateway pods: istiod matches a Gateway's
/// selector against pods of every namespace unless PILOT_SCOPE_GATEWAY_TO_NAMESPACE=true, which
/// limits it to the Gateway's own namespace; beside the pods it selects in both cases.
struct ExposeTarget {
  std::string namespace_ = std::string(k_istio_namespace);
  std::map<std::string, std::string> selector = {{"istio", "eastwestgateway"}};
};

/// Placeholder for the pod selector of an installed gateway named in meshctl.yaml, which only the
/// live cluster can give (offline dry run).
std::string selector_placeholder(std::string_view namespace_, std::string_view name);

/// "<svc>.<ns>.svc.cluster.local".
std::string service_host(const ServiceRef& svc);

/// Placeholder for the reader token of `cluster`, which only the live cluster can give:
/// "<token of istio-reader-service-account in cn-shanghai, read at apply time>".
std::string token_placeholder(std::string_view cluster);
/// Placeholder for the API server CA of `cluster`:
/// "<CA certificate of the cn-shanghai API server, read at apply time>".
std::string ca_placeholder(std::string_view cluster);
/// Whether `value` is one of the placeholders above.
bool is_placeholder(std::string_view value);
/// Whether any scalar of the object, or any base64 value in a Secret's data (decoded), still holds
/// a placeholder. Apply must refuse such an object.
bool contains_placeholder(const Object& obj);

/// The istio-system Namespace with label topology.istio.io/network=<cluster.network>.
Result<std::vector<Object>> render_namespace(const config::ClusterConfig& cluster);

/// Secret istio-system/cacerts (type Opaque; ca-cert.pem, ca-key.pem, root-cert.pem,
/// cert-chain.pem). Registers the key with redact().
Result<std::vector<Object>> render_cacerts(const CacertsData& ca);

/// The east-west gateway: ServiceAccount, Role, RoleBinding, Deployment, Service (FACTS §1.3, §4),
/// exposed as cluster.gateway says (LoadBalancer or NodePort, externalIPs, nodeSelector
/// annotation as compact JSON, fixed nodePort for 15443). cluster.istio_revision, when set and
/// not `default`, becomes the pod template's istio.io/rev label (the injector of that revision).
Result<std::vector<Object>> render_eastwest_gateway(const config::ClusterConfig& cluster);

/// The meshNetworks text (Istio's MeshNetworks, YAML) naming, per network, the gateway addresses
/// of `clusters` given by hand (gateway.addresses / gateway.port); networks sorted, addresses in
/// config order. "" when no cluster gives any.
std::string mesh_networks_text(const std::vector<config::ClusterConfig>& clusters);

/// ConfigMap istio-system/istio (istio-<revision> for a revision other than default) with only
/// data.meshNetworks = mesh_networks_text(clusters), for
/// every istiod to know the gateways it cannot discover; empty when no cluster gives addresses.
Result<std::vector<Object>> render_mesh_networks(const std::vector<config::ClusterConfig>& clusters,
                                                 const std::string& revision = "");

/// Reader ServiceAccount, ClusterRole, ClusterRoleBinding and the token Secret (FACTS §2).
Result<std::vector<Object>> render_reader(const config::ClusterConfig& cluster);

/// Everything `join` applies to one cluster before remote secrets, in apply order: Namespace,
/// cacerts, gateway objects (unless `own_gateway` is false: an installed gateway is used), reader
/// RBAC + token Secret.
Result<std::vector<Object>> render_cluster_base(const config::ClusterConfig& cluster,
                                                const CacertsData& ca, bool own_gateway = true);

/// Gateway cross-network-gateway (15443, TLS AUTO_PASSTHROUGH) at `api_version`
/// (networking.istio.io/v1 or v1beta1, chosen per cluster: kube/istio_api.hpp) in the target's
/// namespace, selecting the target's pods. Hosts: "*.local" when `services` is empty, else one
/// <svc>.<ns>.svc.cluster.local per service, in order.
Result<std::vector<Object>> render_expose_gateway(const std::vector<ServiceRef>& services,
                                                  std::string_view api_version,
                                                  const ExposeTarget& target = {});
/// The same Gateway with `hosts` as given (none: "*.local"), for expose's edits of a live list.
Result<std::vector<Object>> render_expose_gateway_hosts(const std::vector<std::string>& hosts,
                                                        std::string_view api_version,
                                                        const ExposeTarget& target = {});

/// The hosts of every service when none is named: "*.local".
inline constexpr std::string_view k_all_hosts = "*.local";

/// The kubeconfig text inside a remote secret (before base64), re-emitted as plain YAML. A
/// placeholder CA is written as is instead of base64 so that it stays readable.
Result<std::string> remote_kubeconfig_text(const RemoteSecretInput& in);

/// Secret istio-system/istio-remote-secret-<cluster_name> for the *other* clusters (FACTS §2).
/// Registers the token and the encoded kubeconfig with redact().
Result<Object> render_remote_secret(const RemoteSecretInput& in);

/// DestinationRule <svc> at `api_version` (as for the Gateway above) in the service's namespace
/// for host <svc>.<ns>.svc.cluster.local with localityLbSetting failoverPriority by `by` plus
/// outlierDetection.
Result<Object> render_destination_rule(const ServiceRef& svc, std::string_view api_version,
                                       FailoverBy by = FailoverBy::k_cluster,
                                       const OutlierDetection& outlier = {});

} // namespace meshctl::render

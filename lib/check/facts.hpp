#pragma once
// The Facts snapshot `meshctl verify` works on: everything it read from every cluster, gathered
// once (collect.hpp) and then only looked at by pure checks (checks.hpp). The same snapshot can be
// saved as a bundle and checked again offline (bundle.hpp), so nothing a check needs may come from
// anywhere else — not the clock (collected_at), not the config (expected identity is copied in).
//
// Kubernetes objects are kept as the API server sent them (minus managedFields), because which
// field matters is the checks' business. Secrets are the exception: no Secret object is ever kept.
// cacerts keeps its data keys and the public PEMs (never ca-key.pem); a remote secret keeps its
// metadata and its decoded kubeconfig without the token, plus what the token did when verify used
// it. Envoy dumps are kept as text (they go into the bundle) and digested into the few views the
// checks read (SNI routes of 15443, endpoints of the service's clusters): see digest().

#include "core/error.hpp"
#include "envoy/config_dump.hpp"
#include "envoy/routes.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace meshctl::check {

/// Version of the facts.json layout in a bundle; bumped on incompatible changes.
inline constexpr int k_facts_schema_version = 1;

/// Why something could not be read.
struct ReadError {
  std::string message;
  std::string hint;
  int http_status = 0;      ///< 0 when there was no HTTP answer
  bool unreachable = false; ///< no answer at all (network, DNS, TLS)

  [[nodiscard]] bool forbidden() const { return http_status == 403; }
  [[nodiscard]] bool unauthorized() const { return http_status == 401; }
};

/// Secret istio-system/cacerts: its keys and the public certificates (PEM, decoded).
struct CacertsFacts {
  std::vector<std::string> keys; ///< data keys present, sorted ("ca-key.pem" only as a name)
  std::string root_cert;         ///< root-cert.pem
  std::string ca_cert;           ///< ca-cert.pem (the cluster's intermediate)
  std::string cert_chain;        ///< cert-chain.pem
};

/// One SelfSubjectAccessReview (or real read) made with a remote secret's token.
struct AccessCheck {
  std::string verb;     ///< "list", "create", ...
  std::string resource; ///< "services", "endpointslices.discovery.k8s.io", ...
  std::string namespace_;
  bool want_allowed = true; ///< reader permissions must be allowed; writes must be denied
  bool allowed = false;
  std::string detail; ///< the reviewer's reason or the request's error
  /// The question got no answer (a 5xx, 429 or timeout even after retries): `allowed` is
  /// unknown, not false, and `http_status` says why (0 = no HTTP answer).
  bool unanswered = false;
  int http_status = 0;
};

/// What a remote secret's token did against the API server it names.
struct TokenCheck {
  std::string via; ///< how the server was reached ("https://host:6443", or the fallback route)
  bool accepted = false;           ///< authenticated (not 401) and the server answered
  std::optional<ReadError> error;  ///< set when the server could not be asked at all
  std::vector<AccessCheck> access; ///< reader permissions and the denied write
};

/// One data key of a remote secret: the kubeconfig istiod would use for cluster `key`.
struct RemoteKubeconfigFacts {
  std::string key;
  std::string server;
  std::string tls_server_name;
  std::string ca_pem; ///< certificate-authority-data, decoded (public)
  std::string cluster_name;
  std::string context_name;
  std::string user_name;
  bool has_token = false;  ///< the token itself is never kept
  std::string parse_error; ///< non-empty when the value is not a usable kubeconfig
  std::optional<TokenCheck> token_check;
};

/// A Secret labelled istio/multiCluster=true (or named istio-remote-secret-*), without values.
struct RemoteSecretFacts {
  std::string name;
  std::string namespace_;
  std::string type;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::vector<std::string> keys;
  std::vector<RemoteKubeconfigFacts> kubeconfigs; ///< one per data key
};

/// One entry of istiod's /debug/clusterz.
struct ClusterzEntry {
  std::string id;
  std::string secret_name;
  std::string sync_status; ///< synced | syncing | timeout | closed
};

/// istiod in one cluster: the revision meshctl works with (mesh/istiod.hpp).
struct IstiodFacts {
  nlohmann::json deployment;        ///< Deployment istio-system/istiod[-<rev>]
  std::vector<nlohmann::json> pods; ///< its pods (labels app=istiod, istio.io/rev=<rev>)
  std::string revision;             ///< istio.io/rev ("default" without a revision)
  std::string version;              ///< image tag of the discovery container ("" = unknown)
  std::string cluster_id;           ///< CLUSTER_ID env ("Kubernetes" when unset, as istiod)
  std::string mesh_id;              ///< injector values global.meshID, else mesh config meshId
  std::string network;              ///< injector values global.network
  // Mesh config (ConfigMap istio[-<rev>], key mesh), as istiod reads it.
  bool mesh_config_read = false; ///< the ConfigMap was read (absent: istiod's defaults)
  std::string trust_domain;      ///< trustDomain ("cluster.local" when unset, as istiod)
  std::vector<std::string> trust_domain_aliases; ///< trustDomainAliases
  std::string mesh_config_mesh_id;               ///< defaultConfig.meshId ("" when unset)
  /// meshNetworks of ConfigMap istio-system/istio (YAML text; "" when absent): the gateways
  /// istiod knows without discovering them.
  std::string mesh_networks;
};

/// One Envoy dump and what it was read from.
struct DumpFacts {
  std::string namespace_;
  std::string pod;
  std::string path;                              ///< the admin path asked for
  std::shared_ptr<const envoy::DumpBytes> bytes; ///< null when it could not be read
  std::optional<ReadError> error;
};

/// A gateway pod's 15443 listener.
struct GatewayDumpFacts {
  std::string service; ///< "istio-system/istio-eastwestgateway": the gateway Service it serves
  DumpFacts listeners;
  // Digest (see digest()):
  std::vector<envoy::SniRoute> routes; ///< filter chains on 15443
  std::string parse_error;
};

/// The client whose Envoy shows what endpoints a caller gets.
struct ClientFacts {
  std::string namespace_;
  std::string pod;
  std::string picked_by;    ///< "--from" or "auto"
  DumpFacts cluster_status; ///< clusters?format=json
  DumpFacts eds;            ///< config_dump?include_eds=true
  // Digest: endpoints of every Envoy cluster of the service's host (outbound|<port>|<subset>|host),
  // from /clusters (health, outlier, priority) with the EDS metadata (istio.workload) merged in.
  std::map<std::string, std::vector<envoy::EndpointView>> endpoints;
  std::string parse_error;
};

/// Everything read from one cluster.
struct ClusterFacts {
  // What meshctl's config says (the expected identity).
  std::string name;
  std::string context;
  std::string network;
  std::string server; ///< the kubeconfig's API server URL
  /// clusters[].apiServer of meshctl.yaml ("" = not set): the address other clusters are meant to
  /// use, taken as given even when it is loopback (sandboxes where every cluster runs on one host).
  std::string api_server;
  /// gateway.addresses and gateway.port of meshctl.yaml: where the other clusters reach this
  /// cluster's gateway when istiod cannot discover it (their meshNetworks must say so).
  std::vector<std::string> gateway_addresses;
  int gateway_port = 15443;

  // Reachability.
  bool reachable = false;
  std::optional<ReadError> connect_error; ///< why the cluster could not be reached/authorised
  double latency_ms = 0;                  ///< GET /version
  std::string server_version;             ///< gitVersion

  /// Facts that could not be read, by name ("cacerts", "nodes", ...): a check that finds nothing
  /// must tell "absent" from "not readable".
  std::map<std::string, ReadError> errors;

  /// Istio kinds served: "Gateway" -> "networking.istio.io/v1" (absent = not served). Gateway and
  /// DestinationRule at the version meshctl uses there (v1, else v1beta1: kube/istio_api.hpp),
  /// or, when the cluster serves neither, its preferred version; the others at the preferred one.
  std::map<std::string, std::string> istio_kinds;
  nlohmann::json istio_system_namespace; ///< null = absent
  /// istio.revision meshctl.yaml gives this cluster ("" = detect the only one).
  std::string configured_revision;
  /// Every istiod revision installed (Deployments labelled app=istiod in istio-system), sorted.
  std::vector<std::string> istiod_revisions;
  /// Why no revision could be picked (several and none configured, or the configured one absent).
  std::optional<ReadError> revision_error;
  std::optional<IstiodFacts> istiod;   ///< absent = no istiod revision to work with
  std::optional<CacertsFacts> cacerts; ///< absent = no Secret istio-system/cacerts
  /// root-cert.pem of ConfigMap istio-ca-root-cert in the service's namespace (absent = none).
  std::optional<std::string> root_configmap;
  std::vector<RemoteSecretFacts> remote_secrets;
  std::string clusterz_pod;                           ///< the istiod pod asked
  std::optional<std::vector<ClusterzEntry>> clusterz; ///< absent = could not be read

  std::vector<nlohmann::json> gateway_services; ///< Services labelled topology.istio.io/network
  std::vector<nlohmann::json> gateway_pods;     ///< pods those Services select
  std::vector<nlohmann::json> nodes;
  std::vector<nlohmann::json> gateways; ///< Istio Gateways with a 15443 or AUTO_PASSTHROUGH server

  nlohmann::json service;                        ///< the Service under verification; null = absent
  std::vector<nlohmann::json> workloads;         ///< pods its selector matches
  std::vector<nlohmann::json> destination_rules; ///< DestinationRules whose host is the service
  std::vector<GatewayDumpFacts> gateway_dumps;
  std::optional<ClientFacts> client;
};

/// A gateway hostname resolved (getaddrinfo) on the machine verify ran on. istiod resolves such
/// names itself, through its own cluster's DNS, so this says only what this machine sees.
struct HostLookup {
  std::vector<std::string> addresses; ///< sorted IPs; empty when the name did not resolve
  std::string error;                  ///< getaddrinfo's message (or a timeout) when it did not
};

/// The snapshot of a whole mesh for one service.
struct MeshFacts {
  int schema_version = k_facts_schema_version;
  std::string mesh_id;                     ///< from meshctl's config
  std::string trust_domain;                ///< from meshctl's config
  std::string service;                     ///< "helloworld"
  std::string namespace_;                  ///< "dev"
  std::string from;                        ///< --from POD.NS, "" = auto-pick
  std::chrono::sys_seconds collected_at{}; ///< "now" for every time-dependent check
  std::vector<ClusterFacts> clusters;      ///< the clusters checked (all, or those of --context)
  /// Every cluster of the mesh (meshctl.yaml's, plus any named with --context), checked or not:
  /// a checked cluster's remote secrets are judged against all the others. Empty = `clusters`.
  std::vector<std::string> mesh_clusters;
  /// apiServer of meshctl.yaml for mesh clusters that were not checked (checked ones have theirs
  /// in ClusterFacts): a remote secret may name a loopback server on purpose.
  std::map<std::string, std::string> unchecked_api_servers;
  /// Every hostname among the gateways' addresses (LoadBalancer ingress hostnames), as resolved
  /// where verify ran.
  std::map<std::string, HostLookup> host_lookups;

  /// "helloworld.dev.svc.cluster.local".
  [[nodiscard]] std::string host() const;
  /// The cluster of that name, or nullptr (also for a mesh cluster that was not checked).
  [[nodiscard]] const ClusterFacts* find(const std::string& cluster) const;
  /// mesh_clusters, or the checked clusters' names when it is empty.
  [[nodiscard]] std::vector<std::string> mesh_names() const;
  /// Mesh clusters that were not checked (verify --context named a subset).
  [[nodiscard]] std::vector<std::string> unchecked() const;
  /// The apiServer meshctl.yaml gives a mesh cluster, checked or not; "" when it gives none.
  [[nodiscard]] std::string configured_api_server(const std::string& cluster) const;
};

/// Fills the digests (SNI routes, client endpoints) from the dump texts. Called by the collector
/// and after loading a bundle; parse failures land in parse_error, never throw.
void digest(MeshFacts& facts);

/// Drops metadata.managedFields (noise in bundles) and, for Secrets, every data value.
nlohmann::json strip_object(nlohmann::json object);

/// facts.json of a bundle. `dump_file` names the file a dump's text is stored in (relative to the
/// bundle) and is called once per dump with text; texts are not inlined.
nlohmann::json
facts_to_json(const MeshFacts& facts,
              const std::function<std::string(const ClusterFacts&, const DumpFacts&)>& dump_file);
/// The inverse; `read_dump` returns a dump's text from its file name. Errors name the JSON path.
Result<MeshFacts>
facts_from_json(const nlohmann::json& json,
                const std::function<Result<envoy::DumpBytes>(const std::string&)>& read_dump);

/// Time as RFC 3339 UTC ("2025-01-01T00:00:00Z") and back.
std::string format_time(std::chrono::sys_seconds t);
std::optional<std::chrono::sys_seconds> parse_time(const std::string& text);

} // namespace meshctl::check

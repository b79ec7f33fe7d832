#pragma once
// expose and localize: what they want in every cluster.

#include "config/config.hpp"
#include "core/error.hpp"
#include "mesh/desired.hpp"
#include "mesh/gateway_choice.hpp"
#include "mesh/join.hpp"
#include "mesh/session.hpp"
#include "render/manifests.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace meshctl::mesh {

/// cross-network-gateway in every cluster, exposing `services` on 15443 (all "*.local" when empty),
/// beside each cluster's east-west gateway of `gateways` (meshctl's own when absent there), at each
/// cluster's Istio API version.
Result<std::vector<ClusterObjects>>
render_expose(const std::vector<config::ClusterConfig>& clusters, const IstioApis& apis,
              const std::vector<ServiceName>& services,
              const std::map<std::string, GatewayChoice>& gateways = {});

/// What one cluster's east-west gateway exposes now: the hosts of cross-network-gateway's 15443
/// server (beside the gateway's pods, at the cluster's Istio API version).
struct Exposed {
  std::string cluster;
  std::string gateway; ///< "namespace/cross-network-gateway"
  bool exists = false; ///< the Gateway is there
  std::vector<std::string> hosts;
  std::map<std::string, std::string> selector; ///< the Gateway's spec.selector: the pods serving it
};

/// Reads cross-network-gateway in every cluster of `clusters` (`clients` in their order) in
/// parallel; the first read failure is the error.
Result<std::vector<Exposed>> read_exposed(const std::vector<config::ClusterConfig>& clusters,
                                          std::vector<std::unique_ptr<kube::Client>>& clients,
                                          const IstioApis& apis,
                                          const std::map<std::string, GatewayChoice>& gateways);

/// The hosts of a live Gateway's server on port 15443, in order (none when it has no such server).
std::vector<std::string> exposed_hosts(const nlohmann::json& gateway);

/// `current` plus every host of `add` not there yet (appended, in order), minus those of
/// `remove`; "*.local" is a host like any other, so `--all` adds it and `--remove --all` takes it
/// away again, leaving the services named before. A result without any host is a usage error
/// naming `cluster` (a Gateway needs one; nothing is exposed once unjoin --all removed it). Pure.
Result<std::vector<std::string>> edit_hosts(const std::vector<std::string>& current,
                                            const std::vector<std::string>& add,
                                            const std::vector<std::string>& remove,
                                            const std::string& cluster);

/// cross-network-gateway per cluster with the hosts `hosts` gives for it (cluster name -> hosts).
Result<std::vector<ClusterObjects>>
render_expose_hosts(const std::vector<config::ClusterConfig>& clusters, const IstioApis& apis,
                    const std::map<std::string, std::vector<std::string>>& hosts,
                    const std::map<std::string, GatewayChoice>& gateways);

/// The table `expose` prints without arguments: CLUSTER, GATEWAY, HOST (one row per host);
/// `wide` (-o wide) adds SELECTOR, the gateway pods' labels the Gateway selects.
std::string format_exposed(const std::vector<Exposed>& exposed, bool wide = false);
/// -o json|yaml of it: {apiVersion: meshctl.dev/v1alpha1, kind: ExposeList, clusters: [{name,
/// gateway, exists, hosts, selector}]}.
nlohmann::json exposed_json(const std::vector<Exposed>& exposed);

/// A DestinationRule that localize made (labelled app.kubernetes.io/managed-by: meshctl).
struct LocalizeRule {
  std::string cluster;
  std::string namespace_;
  std::string name;
  std::string host;
  std::string by;          ///< the failoverPriority labels, comma-separated
  std::string api_version; ///< the rule's apiVersion (networking.istio.io/v1 or v1beta1)
  nlohmann::json outlier;  ///< its spec.trafficPolicy.outlierDetection, as the cluster has it
};

/// Lists the DestinationRules meshctl made in every cluster, in parallel (sorted by cluster,
/// namespace, name); the first read failure is the error.
Result<std::vector<LocalizeRule>>
list_localize_rules(const std::vector<config::ClusterConfig>& clusters,
                    std::vector<std::unique_ptr<kube::Client>>& clients, const IstioApis& apis);

/// The table `localize` prints without arguments: CLUSTER, NAMESPACE, NAME, HOST, FAILOVER;
/// `wide` (-o wide) adds API VERSION and OUTLIER DETECTION (what makes failover happen).
std::string format_localize_rules(const std::vector<LocalizeRule>& rules, bool wide = false);
/// -o json|yaml of it: {apiVersion, kind: LocalizeList, clusters: [{name, rules: [{namespace,
/// name, host, failoverPriority, istioApiVersion, outlierDetection}]}]}, an entry for each of
/// `clusters` (rules or not).
nlohmann::json localize_rules_json(const std::vector<std::string>& clusters,
                                   const std::vector<LocalizeRule>& rules);

/// What `localize --remove` did (or would do) in one cluster.
struct LocalizeRemoval {
  std::string cluster;
  enum class Outcome { k_deleted, k_absent, k_not_ours } outcome = Outcome::k_absent;
};

/// Deletes DestinationRule `service` (its namespace, its name) in every cluster where meshctl
/// made it (label app.kubernetes.io/managed-by: meshctl; the delete carries its uid as a
/// precondition), and never one it did not make. `dry_run`: client reads only, server deletes
/// with dryRun=All.
Result<std::vector<LocalizeRemoval>>
remove_localize_rule(const std::vector<config::ClusterConfig>& clusters,
                     std::vector<std::unique_ptr<kube::Client>>& clients, const IstioApis& apis,
                     const ServiceName& service, DryRun dry_run);

/// What find_gateways() found: a choice per cluster, or that cluster's error ("wuxi: …").
struct GatewayChoices {
  std::map<std::string, GatewayChoice> gateways;
  std::vector<Error> errors;
};

/// find_gateway() on every cluster in parallel (`clients` in the session's order); every
/// cluster's failure is kept.
GatewayChoices find_gateways(const Session& session,
                             std::vector<std::unique_ptr<kube::Client>>& clients);

/// The localize DestinationRule for `service` in every cluster (failover by `by`), at each
/// cluster's Istio API version.
Result<std::vector<ClusterObjects>>
render_localize(const std::vector<config::ClusterConfig>& clusters, const IstioApis& apis,
                const ServiceName& service, render::FailoverBy by);

/// Parses "cluster", "network" or "zone".
Result<render::FailoverBy> parse_failover_by(const std::string& text);
/// The names --by takes (cluster, network, zone).
std::vector<std::string> failover_by_names();

} // namespace meshctl::mesh

#pragma once
// expose and localize: what they want in every cluster.

#include "config/config.hpp"
#include "core/error.hpp"
#include "mesh/desired.hpp"
#include "mesh/gateway_choice.hpp"
#include "mesh/session.hpp"
#include "render/manifests.hpp"

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

} // namespace meshctl::mesh

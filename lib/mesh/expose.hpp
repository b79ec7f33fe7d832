#pragma once
// expose and localize: what they want in every cluster.

#include "config/config.hpp"
#include "core/error.hpp"
#include "mesh/desired.hpp"
#include "mesh/session.hpp"
#include "render/manifests.hpp"

#include <vector>

namespace meshctl::mesh {

/// cross-network-gateway in every cluster, exposing `services` on 15443 (all "*.local" when empty),
/// at each cluster's Istio API version.
Result<std::vector<ClusterObjects>>
render_expose(const std::vector<config::ClusterConfig>& clusters, const IstioApis& apis,
              const std::vector<ServiceName>& services);

/// The localize DestinationRule for `service` in every cluster (failover by `by`), at each
/// cluster's Istio API version.
Result<std::vector<ClusterObjects>>
render_localize(const std::vector<config::ClusterConfig>& clusters, const IstioApis& apis,
                const ServiceName& service, render::FailoverBy by);

/// Parses "cluster", "network" or "zone".
Result<render::FailoverBy> parse_failover_by(const std::string& text);

} // namespace meshctl::mesh

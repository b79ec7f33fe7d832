#pragma once
// Which east-west gateway join uses in a cluster: its own, or one someone else installed.
//
// Most meshes already have an east-west gateway when meshctl arrives, made by Istio's generator
// (samples/multicluster/gen-eastwest-gateway.sh + istioctl), istioctl, or the Helm `gateway` chart,
// often under another name or namespace. istiod knows a network's gateway only as a Service
// labelled topology.istio.io/network=<network> that exposes 15443 (FACTS §4), in any namespace, so
// that is what join looks for:
//   - gateway.existing {name, namespace} in meshctl.yaml names it: it must exist, carry the
//     cluster's network label and expose 15443, or join stops with a hint;
//   - else the candidates are the Services labelled with the cluster's network that expose 15443.
//     One that meshctl made (app.kubernetes.io/managed-by: meshctl) means meshctl's own gateway is
//     there already: join keeps rendering it. Otherwise exactly one candidate is used; several are
//     an error listing them and naming gateway.existing; none means join installs its own.
// Using an installed gateway, join makes no gateway objects of its own: only cross-network-gateway,
// placed beside the gateway pods and selecting them with the Service's own selector.

#include "config/config.hpp"
#include "core/error.hpp"
#include "kube/client.hpp"
#include "render/manifests.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace meshctl::mesh {

/// The east-west gateway join works with in one cluster.
struct GatewayChoice {
  bool existing = false; ///< true: installed by someone else; join renders no gateway of its own
  std::string namespace_ = std::string(render::k_istio_namespace); ///< its Service's namespace
  std::string name = std::string(render::k_gateway_name);          ///< its Service's name
  /// Where cross-network-gateway goes and what it selects.
  render::ExposeTarget expose;

  /// "istio-gateways/istio-eastwestgateway".
  [[nodiscard]] std::string service() const { return namespace_ + "/" + name; }
};

/// Whether a live Service exposes port 15443.
bool exposes_15443(const nlohmann::json& service);

/// Decides from what was read (pure): `labelled` are the live Services labelled
/// topology.istio.io/network=<cluster.network> (any namespace); `configured` is the live Service
/// gateway.existing names (null when not configured, or when it does not exist).
Result<GatewayChoice> choose_gateway(const config::ClusterConfig& cluster,
                                     const std::vector<nlohmann::json>& labelled,
                                     const nlohmann::json& configured);

/// Reads what choose_gateway() needs from the cluster and decides.
Result<GatewayChoice> find_gateway(kube::Client& client, const config::ClusterConfig& cluster);

/// The choice an offline dry run can make without a cluster: gateway.existing (with a selector
/// placeholder), else meshctl's own.
GatewayChoice offline_gateway(const config::ClusterConfig& cluster);

} // namespace meshctl::mesh

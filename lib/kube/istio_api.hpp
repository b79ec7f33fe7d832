#pragma once
// Which version of networking.istio.io meshctl speaks to one cluster.
//
// meshctl writes and reads two Istio kinds, Gateway and DestinationRule. Istio 1.22 added
// networking.istio.io/v1 for them; Istio 1.18–1.21 serve only v1beta1 and v1alpha3. The CRDs
// convert with strategy None, so one stored object reads the same at every served version, only
// its apiVersion differs. meshctl therefore picks, once per cluster and from discovery, the newest
// version that serves both kinds — v1, else v1beta1 — and renders, plans, applies, reads and
// deletes those kinds at that version only. A cluster serving neither fails the precondition
// with a message that names the cluster and what it does serve.

#include "core/error.hpp"
#include "kube/discovery.hpp"
#include "kube/path.hpp"

#include <array>
#include <string>
#include <string_view>

namespace meshctl::kube {

class Client;

inline constexpr std::string_view k_istio_networking_group = "networking.istio.io";
/// The versions meshctl can use, newest first: v1 (Istio >= 1.22), v1beta1 (Istio 1.18–1.21).
inline constexpr std::array<std::string_view, 2> k_istio_networking_versions = {"v1", "v1beta1"};
/// The Istio kinds meshctl writes and reads; one version must serve all of them.
inline constexpr std::array<std::string_view, 2> k_istio_kinds = {"Gateway", "DestinationRule"};

/// The networking.istio.io version chosen for one cluster. Default: v1, what current Istio
/// serves (an offline --dry-run, which asks no cluster, renders that).
struct IstioApi {
  std::string version = std::string(k_istio_networking_versions.front());

  /// "networking.istio.io/v1": the apiVersion of rendered objects.
  [[nodiscard]] std::string api_version() const;
  /// A reference to `resource` ("gateways", "destinationrules") at this version.
  [[nodiscard]] ResourceRef ref(std::string resource, std::string namespace_ = {},
                                std::string name = {}) const;
  bool operator==(const IstioApi&) const = default;
};

/// The newest of k_istio_networking_versions that serves every kind of k_istio_kinds in `map`.
/// Errors name `cluster`: Istio not installed (kinds unknown), or what the cluster serves when no
/// usable version does ("serves networking.istio.io Gateway only at v1alpha3").
Result<IstioApi> choose_istio_api(const ResourceMap& map, std::string_view cluster);

/// choose_istio_api() on the client's (cached) discovery. A failed discovery is the error.
Result<IstioApi> discover_istio_api(Client& client, std::string_view cluster);

} // namespace meshctl::kube

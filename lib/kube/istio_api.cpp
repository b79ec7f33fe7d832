#include "kube/istio_api.hpp"

#include "kube/client.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace meshctl::kube {

std::string IstioApi::api_version() const {
  return join_api_version(k_istio_networking_group, version);
}

ResourceRef IstioApi::ref(std::string resource, std::string namespace_, std::string name) const {
  return {std::string(k_istio_networking_group),
          version,
          std::move(resource),
          std::move(namespace_),
          std::move(name),
          {}};
}

Result<IstioApi> choose_istio_api(const ResourceMap& map, std::string_view cluster) {
  const std::string group(k_istio_networking_group);
  // A version whose discovery failed (the API server was busy) is unknown, not absent: choosing
  // another version, or calling Istio missing, would turn that failure into a verdict.
  for (const auto& [gv, error] : map.failures()) {
    if (split_api_version(gv).first == group) {
      return fail(fmt::format("{}: could not read the API discovery of {}: {}", cluster, gv, error),
                  "the API server did not answer; run the command again");
    }
  }
  for (const auto version : k_istio_networking_versions) {
    const bool serves_all = std::all_of(k_istio_kinds.begin(), k_istio_kinds.end(),
                                        [&](auto kind) { return map.find(group, version, kind); });
    if (serves_all) {
      return IstioApi{std::string(version)};
    }
  }
  // No usable version. A kind not served at all is "Istio is not installed" (or the discovery
  // failure behind it), as require_kind says it.
  std::vector<std::string> served;
  for (const auto kind : k_istio_kinds) {
    const auto versions = map.versions_of(group, kind);
    if (versions.empty()) {
      auto r =
          require_kind(map, cluster, join_api_version(group, k_istio_networking_versions[0]), kind);
      return tl::make_unexpected(r.error());
    }
    served.push_back(fmt::format("{} at {}", kind, fmt::join(versions, ", ")));
  }
  return fail(fmt::format("Istio in {} serves {} {} only, and meshctl needs {}: Istio is too old",
                          cluster, group, fmt::join(served, "; "),
                          fmt::join(k_istio_networking_versions, " or ")),
              fmt::format("upgrade Istio in {} to 1.18 or later (networking.istio.io/v1beta1; "
                          "v1 from Istio 1.22)",
                          cluster));
}

Result<IstioApi> discover_istio_api(Client& client, std::string_view cluster) {
  auto map = client.discovery();
  if (!map) {
    return tl::make_unexpected(Error(map.error()).with_context(std::string(cluster)));
  }
  return choose_istio_api(**map, cluster);
}

} // namespace meshctl::kube

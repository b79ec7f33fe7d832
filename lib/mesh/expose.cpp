#include "mesh/expose.hpp"

#include "core/suggest.hpp"
#include "core/try.hpp"

namespace meshctl::mesh {

Result<std::vector<ClusterObjects>>
render_expose(const std::vector<config::ClusterConfig>& clusters, const IstioApis& apis,
              const std::vector<ServiceName>& services) {
  std::vector<render::ServiceRef> refs;
  refs.reserve(services.size());
  for (const auto& s : services) {
    refs.push_back({s.name, s.namespace_});
  }
  std::vector<ClusterObjects> out;
  out.reserve(clusters.size());
  for (const auto& c : clusters) {
    TRY_ASSIGN(auto objects,
               render::render_expose_gateway(refs, istio_api_of(apis, c.name).api_version()));
    out.push_back({c.name, desired(objects)});
  }
  return out;
}

Result<std::vector<ClusterObjects>>
render_localize(const std::vector<config::ClusterConfig>& clusters, const IstioApis& apis,
                const ServiceName& service, render::FailoverBy by) {
  std::vector<ClusterObjects> out;
  out.reserve(clusters.size());
  for (const auto& c : clusters) {
    TRY_ASSIGN(auto rule,
               render::render_destination_rule({service.name, service.namespace_},
                                               istio_api_of(apis, c.name).api_version(), by));
    out.push_back({c.name, desired({rule})});
  }
  return out;
}

Result<render::FailoverBy> parse_failover_by(const std::string& text) {
  if (text == "cluster") {
    return render::FailoverBy::k_cluster;
  }
  if (text == "network") {
    return render::FailoverBy::k_network;
  }
  if (text == "zone") {
    return render::FailoverBy::k_zone;
  }
  return usage_error("unknown --by \"" + text + "\"" +
                         did_you_mean_suffix(text, {"cluster", "network", "zone"}),
                     "use --by cluster (default), --by network or --by zone");
}

} // namespace meshctl::mesh

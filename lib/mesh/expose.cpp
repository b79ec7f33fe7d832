#include "mesh/expose.hpp"

#include "core/fanout.hpp"
#include "core/log.hpp"
#include "core/suggest.hpp"
#include "core/try.hpp"

namespace meshctl::mesh {

Result<std::vector<ClusterObjects>>
render_expose(const std::vector<config::ClusterConfig>& clusters, const IstioApis& apis,
              const std::vector<ServiceName>& services,
              const std::map<std::string, GatewayChoice>& gateways) {
  std::vector<render::ServiceRef> refs;
  refs.reserve(services.size());
  for (const auto& s : services) {
    refs.push_back({s.name, s.namespace_});
  }
  std::vector<ClusterObjects> out;
  out.reserve(clusters.size());
  for (const auto& c : clusters) {
    const auto gw = gateways.find(c.name);
    auto objects = render::render_expose_gateway(refs, istio_api_of(apis, c.name).api_version(),
                                                 gw == gateways.end() ? render::ExposeTarget{}
                                                                      : gw->second.expose);
    if (!objects) {
      return tl::make_unexpected(objects.error().with_context(c.name));
    }
    out.push_back({c.name, desired(*objects)});
  }
  return out;
}

GatewayChoices find_gateways(const Session& session,
                             std::vector<std::unique_ptr<kube::Client>>& clients) {
  std::vector<std::string> names;
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < session.clusters.size(); ++i) {
    names.push_back(session.clusters[i].name);
    index[session.clusters[i].name] = i;
  }
  auto found = for_each_cluster(names, [&](const std::string& name) {
    const std::size_t i = index.at(name);
    return find_gateway(*clients[i], session.clusters[i]);
  });
  GatewayChoices out;
  for (auto& f : found) {
    if (!f.value) {
      out.errors.push_back(f.value.error().with_cluster(f.cluster));
    } else {
      out.gateways.emplace(f.cluster, std::move(*f.value));
    }
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

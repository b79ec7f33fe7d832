#include "envoy/routes.hpp"

#include "envoy/text.hpp"

#include <algorithm>

namespace meshctl::envoy {

std::string sni_name(std::uint32_t port, std::string_view subset, std::string_view host) {
  return cat({"outbound_.", std::to_string(port), "_.", subset, "_.", host});
}

std::string outbound_cluster_name(std::uint32_t port, std::string_view subset,
                                  std::string_view host) {
  return cat({"outbound|", std::to_string(port), "|", subset, "|", host});
}

Result<std::vector<SniRoute>> sni_routes(const DumpBytes& listener_dump, std::uint32_t port) {
  ListenerFilter filter;
  filter.port = port;
  auto listeners = read_listeners(listener_dump, filter);
  if (!listeners) {
    return tl::make_unexpected(listeners.error());
  }
  std::vector<SniRoute> out;
  for (auto& l : *listeners) {
    if (l.state != ConfigState::k_active && l.state != ConfigState::k_static) {
      continue;
    }
    for (auto& c : l.chains) {
      out.push_back(SniRoute{std::move(c.server_names), std::move(c.tcp_cluster),
                             std::move(c.match), l.name});
    }
  }
  return out;
}

bool has_sni(const std::vector<SniRoute>& routes, std::string_view sni) {
  return std::any_of(routes.begin(), routes.end(), [&](const SniRoute& r) {
    return std::find(r.server_names.begin(), r.server_names.end(), sni) != r.server_names.end();
  });
}

std::vector<EndpointView> cluster_endpoints(const std::vector<ClusterStatusInfo>& statuses,
                                            std::string_view cluster) {
  std::vector<EndpointView> out;
  for (const auto& c : statuses) {
    if (c.name != cluster) {
      continue;
    }
    for (const auto& h : c.hosts) {
      EndpointView v;
      v.address = h.port != 0 ? h.address + ":" + std::to_string(h.port) : h.address;
      v.ip = h.port != 0 ? h.address : "";
      v.port = h.port;
      v.health = h.health;
      v.outlier_failed = h.failed_outlier_check;
      v.priority = h.priority;
      v.locality = locality_string(h.locality);
      v.weight = h.weight;
      out.push_back(std::move(v));
    }
  }
  return out;
}

std::vector<EndpointView> cluster_endpoints(const std::vector<ClusterLoadAssignmentInfo>& configs,
                                            std::string_view cluster) {
  std::vector<EndpointView> out;
  for (const auto& cla : configs) {
    if (cla.cluster_name != cluster) {
      continue;
    }
    for (const auto& g : cla.groups) {
      for (const auto& e : g.endpoints) {
        EndpointView v;
        v.address = e.addresses.empty() ? "" : e.addresses.front();
        v.ip = e.ip;
        v.port = e.port;
        v.health = e.health;
        v.priority = g.priority;
        v.locality = locality_string(g.locality);
        v.weight = e.weight;
        v.workload = e.workload;
        out.push_back(std::move(v));
      }
    }
  }
  return out;
}

} // namespace meshctl::envoy

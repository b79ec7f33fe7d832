// DestinationRules and the endpoints (EDS) a proxy receives. See istiod_model_internal.hpp for
// the model's map.
//
// EDS (xds/endpoints/endpoint_builder.go, ep_filters.go): endpoints are grouped by locality
// (sorted). When any gateway exists, the split-horizon filter runs per locality group: endpoints
// the proxy's REQUESTED_NETWORK_VIEW hides are dropped; endpoints on the proxy's network, or on a
// network without gateway, stay as they are (current istiod keeps a remote pod IP when its network
// has no gateway, although nothing can reach it — older istiod dropped them); other endpoints
// need tlsMode istio and are replaced by one endpoint per gateway of their network (gateways of
// their own cluster preferred) whose weight is the sum of the weights it replaces, metadata
// istio.workload ";;;;CLUSTER". Weights are scaled by the lcm of the gateway counts per network
// and per network+cluster.
//
// Priorities (networking/core/loadbalancer/loadbalancer.go): the DestinationRule for the host is
// looked up in the proxy's namespace, then the service's, then the root namespace (istio-system);
// exact host before wildcard, exportTo and workloadSelector ignored. Its traffic policy (port-level
// and subset settings merged in) gives localityLbSetting (else the mesh's, enabled by default)
// and outlierDetection. Failover is applied only when outlierDetection is set: with
// failoverPriority [L1..LN] an endpoint whose first k labels equal the proxy's gets priority N-k
// (labels include topology.istio.io/cluster|network and the locality labels; "label=value"
// overrides the proxy's value), then priorities are renumbered 0..M without gaps; without
// failoverPriority, region/zone/subzone proximity decides (0..3, 4 for failover mismatches).
// Without outlierDetection every endpoint stays at priority 0. `distribute` is not modelled.

#include "istiod_model_internal.hpp"

#include <algorithm>
#include <cstdlib>

namespace kubesim::istiod::detail {

namespace {

// ---- DestinationRules ----

std::string root_namespace(const MeshView& view) {
  const std::string r = str(view.mesh_config, "rootNamespace");
  return r.empty() ? "istio-system" : r;
}

/// The DR host, FQDN-resolved like ResolveShortnameToFQDN.
std::string dr_host(const json& dr) {
  std::string h = str(obj(dr, "spec"), "host");
  if (!h.empty() && h.find('.') == std::string::npos && h != "*") {
    h += "." + ns_of(dr) + ".svc." + k_domain;
  }
  return h;
}

} // namespace

/// 0: no match; larger: more specific.
std::size_t host_match(const std::string& pattern, const std::string& host) {
  if (pattern == host) {
    return 1000000;
  }
  if (pattern == "*") {
    return 1;
  }
  if (pattern.size() > 1 && pattern[0] == '*' && pattern[1] == '.') {
    const std::string suffix = pattern.substr(1);
    if (host.size() > suffix.size() &&
        host.compare(host.size() - suffix.size(), std::string::npos, suffix) == 0) {
      return suffix.size() + 1;
    }
  }
  return 0;
}

const json* find_destination_rule(const MeshView& view, const std::string& proxy_ns,
                                  const MeshService& ms) {
  for (const std::string& ns : {proxy_ns, ms.ns, root_namespace(view)}) {
    const json* best = nullptr;
    std::size_t best_score = 0;
    for (const auto& dr : view.destination_rules) {
      if (ns_of(dr) != ns) {
        continue;
      }
      const std::size_t s = host_match(dr_host(dr), ms.host);
      if (s > best_score) {
        best = &dr;
        best_score = s;
      }
    }
    if (best != nullptr) {
      return best;
    }
  }
  return nullptr;
}

namespace {

/// A traffic policy with the port-level settings for `port` merged in.
json with_port_level(json policy, std::uint32_t port) {
  if (!policy.is_object()) {
    return json::object();
  }
  for (const auto& pl : arr(policy, "portLevelSettings")) {
    if (obj(pl, "port").value("number", 0U) == port) {
      for (const auto& [k, v] : pl.items()) {
        if (k != "port") {
          policy[k] = v;
        }
      }
    }
  }
  policy.erase("portLevelSettings");
  return policy;
}

/// The effective traffic policy for port/subset (MergeTrafficPolicy, simplified).
json effective_policy(const json* dr, std::uint32_t port, const std::string& subset) {
  if (dr == nullptr) {
    return json::object();
  }
  json tp = with_port_level(obj(*dr, "spec").value("trafficPolicy", json::object()), port);
  if (!subset.empty()) {
    for (const auto& s : arr(obj(*dr, "spec"), "subsets")) {
      if (str(s, "name") == subset && s.contains("trafficPolicy")) {
        const json subset_policy = with_port_level(s["trafficPolicy"], port); // outlives items()
        for (const auto& [k, v] : subset_policy.items()) {
          tp[k] = v;
        }
      }
    }
  }
  return tp;
}

json subset_labels(const json* dr, const std::string& subset) {
  if (dr != nullptr) {
    for (const auto& s : arr(obj(*dr, "spec"), "subsets")) {
      if (str(s, "name") == subset) {
        return obj(s, "labels");
      }
    }
  }
  return json::object();
}

// ---- EDS ----

/// Priorities 0..M without gaps, keeping their order.
void renumber(std::vector<LocalityGroup>& groups) {
  std::set<std::uint32_t> seen;
  for (const auto& g : groups) {
    seen.insert(g.priority);
  }
  std::map<std::uint32_t, std::uint32_t> to;
  std::uint32_t i = 0;
  for (auto p : seen) {
    to[p] = i++;
  }
  for (auto& g : groups) {
    g.priority = to[g.priority];
  }
}

void apply_failover_priorities(std::vector<LocalityGroup>& groups, const json& proxy_labels,
                               const std::vector<std::string>& priorities) {
  if (proxy_labels.empty() || groups.empty()) {
    return;
  }
  std::vector<std::string> keys;
  std::map<std::string, std::string> overrides;
  for (const auto& p : priorities) {
    const auto eq = p.find('=');
    keys.push_back(p.substr(0, eq));
    if (eq != std::string::npos) {
      overrides[keys.back()] = p.substr(eq + 1);
    }
  }
  const auto lowest = static_cast<std::uint32_t>(keys.size());
  std::vector<LocalityGroup> out;
  for (const auto& g : groups) {
    std::map<std::uint32_t, LocalityGroup> by_priority;
    for (const auto& e : g.endpoints) {
      std::uint32_t priority = 0;
      for (std::size_t j = 0; j < keys.size(); ++j) {
        auto ov = overrides.find(keys[j]);
        const std::string proxy_value =
            ov != overrides.end() ? ov->second : str(proxy_labels, keys[j].c_str());
        if (proxy_value != str(e.ep.labels, keys[j].c_str())) {
          priority = lowest - static_cast<std::uint32_t>(j);
          break;
        }
      }
      auto& sub = by_priority[priority];
      sub.locality = g.locality;
      sub.priority = priority;
      sub.endpoints.push_back(e);
    }
    for (auto& [p, sub] : by_priority) {
      out.push_back(std::move(sub));
    }
  }
  groups = std::move(out);
  renumber(groups);
}

std::uint32_t lb_priority(const Locality& proxy, const Locality& ep) {
  if (proxy.region == ep.region) {
    if (proxy.zone == ep.zone) {
      return proxy.subzone == ep.subzone ? 0 : 1;
    }
    return 2;
  }
  return 3;
}

void apply_locality_failover(std::vector<LocalityGroup>& groups, const Locality& proxy,
                             const json& failover) {
  for (auto& g : groups) {
    std::uint32_t p = lb_priority(proxy, g.locality);
    if (p == 3) {
      for (const auto& f : failover) {
        if (str(f, "from") == proxy.region) {
          if (g.locality.region != str(f, "to")) {
            p = 4;
          }
          break;
        }
      }
    }
    g.priority = g.priority * 5 + p;
  }
  renumber(groups);
}

/// Parses "outbound|PORT|SUBSET|HOST" and "outbound_.PORT_.SUBSET_.HOST".
bool parse_cluster_name(const std::string& name, std::uint32_t& port, std::string& subset,
                        std::string& host) {
  if (name.rfind("outbound|", 0) == 0) {
    auto parts = split(name, '|');
    if (parts.size() != 4) {
      return false;
    }
    port = static_cast<std::uint32_t>(std::strtoul(parts[1].c_str(), nullptr, 10));
    subset = parts[2];
    host = parts[3];
    return port != 0;
  }
  if (name.rfind("outbound_.", 0) == 0) {
    const std::string rest = name.substr(10);
    const auto a = rest.find("_.");
    if (a == std::string::npos) {
      return false;
    }
    const auto b = rest.find("_.", a + 2);
    if (b == std::string::npos) {
      return false;
    }
    port = static_cast<std::uint32_t>(std::strtoul(rest.substr(0, a).c_str(), nullptr, 10));
    subset = rest.substr(a + 2, b - a - 2);
    host = rest.substr(b + 2);
    return port != 0;
  }
  return false;
}

} // namespace

std::vector<LocalityGroup> build_groups(const MeshView& view, const Registry& reg,
                                        const Proxy& proxy, const MeshService& ms,
                                        std::uint32_t port, const std::string& subset) {
  const json* dr = find_destination_rule(view, proxy.ns, ms);
  std::vector<Endpoint> eps = reg.endpoints(ms, port);
  if (!subset.empty()) {
    const json sel = subset_labels(dr, subset);
    std::erase_if(eps, [&](const Endpoint& e) { return !subset_of(sel, e.labels); });
  }
  // Group by locality, localities sorted.
  std::map<std::string, LocalityGroup> by_locality;
  for (auto& e : eps) {
    auto& g = by_locality[e.locality.str()];
    g.locality = e.locality;
    g.endpoints.push_back({std::move(e), false});
  }
  std::vector<LocalityGroup> groups;
  groups.reserve(by_locality.size());
  for (auto& [k, g] : by_locality) {
    groups.push_back(std::move(g));
  }

  // Split horizon (EndpointsByNetworkFilter).
  if (!reg.gateways.empty()) {
    std::vector<LocalityGroup> filtered;
    for (const auto& g : groups) {
      LocalityGroup out;
      out.locality = g.locality;
      out.priority = g.priority;
      std::map<NetworkGateway, std::uint32_t> gw_weights;
      for (const auto& lb : g.endpoints) {
        const Endpoint& e = lb.ep;
        if (!proxy.network_view.empty() && proxy.network_view.count(e.network) == 0) {
          continue;
        }
        const std::uint32_t weight = e.weight * reg.lcm;
        auto gws = reg.gateways_for(e.network, e.cluster);
        // Proxy.InNetwork: same network, or either one unset.
        const bool in_network =
            e.network.empty() || proxy.network.empty() || e.network == proxy.network;
        if (in_network || gws.empty()) {
          LbEndpoint kept = lb;
          kept.ep.weight = weight;
          out.endpoints.push_back(std::move(kept));
          continue;
        }
        if (!e.tls_istio) {
          continue;
        }
        const auto per_gateway = weight / static_cast<std::uint32_t>(gws.size());
        for (const auto& gw : gws) {
          gw_weights[gw] += per_gateway;
        }
      }
      for (const auto& [gw, w] : gw_weights) {
        LbEndpoint lb;
        lb.gateway = true;
        lb.ep.addr = gw.addr;
        lb.ep.port = gw.port;
        lb.ep.cluster = gw.cluster;
        lb.ep.network = gw.network;
        lb.ep.labels = augment_labels(json::object(), gw.cluster, {}, gw.network);
        lb.ep.tls_istio = true;
        lb.ep.workload = ";;;;" + gw.cluster;
        lb.ep.weight = w == 0 ? 1 : w;
        out.endpoints.push_back(std::move(lb));
      }
      filtered.push_back(std::move(out));
    }
    groups = std::move(filtered);
  }
  std::erase_if(groups, [](const LocalityGroup& g) { return g.endpoints.empty(); });

  // Locality load balancing (ApplyLocalityLoadBalancer).
  const json policy = effective_policy(dr, port, subset);
  const bool outlier = policy.contains("outlierDetection");
  json setting = obj(policy, "loadBalancer").value("localityLbSetting", json());
  if (setting.is_null()) {
    setting = view.mesh_config.is_object() && view.mesh_config.contains("localityLbSetting")
                  ? view.mesh_config["localityLbSetting"]
                  : json{{"enabled", true}};
  }
  const bool enabled = !(setting.contains("enabled") && setting["enabled"] == false);
  if (enabled && setting.is_object() && !setting.contains("distribute") && outlier) {
    std::vector<std::string> priorities;
    for (const auto& p : arr(setting, "failoverPriority")) {
      if (p.is_string()) {
        priorities.push_back(p.get<std::string>());
      }
    }
    if (!priorities.empty()) {
      apply_failover_priorities(groups, proxy.labels, priorities);
      if (!arr(setting, "failover").empty()) {
        apply_locality_failover(groups, proxy.locality, arr(setting, "failover"));
      }
    } else {
      apply_locality_failover(groups, proxy.locality, arr(setting, "failover"));
    }
  }
  return groups;
}

json socket_address(const std::string& addr, std::uint32_t port) {
  return {{"socket_address", {{"address", addr}, {"port_value", port}}}};
}

json cla_json(const std::string& cluster_name, const std::vector<LocalityGroup>& groups) {
  json endpoints = json::array();
  for (const auto& g : groups) {
    json lbs = json::array();
    for (const auto& lb : g.endpoints) {
      json md = {{"istio", {{"workload", lb.ep.workload}}}};
      if (lb.ep.tls_istio) {
        md["envoy.transport_socket_match"] = {{"tlsMode", "istio"}};
      }
      lbs.push_back({{"endpoint",
                      {{"address", socket_address(lb.ep.addr, lb.ep.port)},
                       {"health_check_config", json::object()}}},
                     {"health_status", "HEALTHY"},
                     {"metadata", {{"filter_metadata", md}}},
                     {"load_balancing_weight", lb.ep.weight}});
    }
    json group = {{"locality", g.locality.to_json()},
                  {"lb_endpoints", lbs},
                  {"load_balancing_weight", g.weight()}};
    if (g.priority != 0) {
      group["priority"] = g.priority;
    }
    endpoints.push_back(group);
  }
  json cla = {{"@type", "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"},
              {"cluster_name", cluster_name}};
  if (!endpoints.empty()) {
    cla["endpoints"] = endpoints;
  }
  cla["policy"] = {{"overprovisioning_factor", 140}};
  return cla;
}

} // namespace kubesim::istiod::detail

namespace kubesim::istiod {

using namespace detail;

json cluster_load_assignment(const MeshView& view, const json& pod,
                             const std::string& cluster_name) {
  std::uint32_t port = 0;
  std::string subset;
  std::string host;
  if (!parse_cluster_name(cluster_name, port, subset, host)) {
    return nullptr;
  }
  const Registry reg(view);
  auto it = reg.services.find(host);
  if (it == reg.services.end() ||
      std::none_of(it->second.ports.begin(), it->second.ports.end(),
                   [&](const ServicePort& p) { return p.port == port; })) {
    return nullptr;
  }
  const Proxy proxy = make_proxy(view, reg, pod);
  return cla_json(cluster_name, build_groups(view, reg, proxy, it->second, port, subset));
}

} // namespace kubesim::istiod

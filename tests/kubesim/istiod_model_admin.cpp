// What a proxy's Envoy admin port answers (config_dump with its bootstrap, clusters, endpoints
// and listeners sections; clusters in JSON and text) and istiod's /debug/clusterz. See
// istiod_model_internal.hpp for the model's map.

#include "api.hpp"
#include "istiod_model_internal.hpp"
#include "store.hpp"

#include <algorithm>
#include <sstream>
#include <tuple>

namespace kubesim::istiod::detail {

namespace {

// ---- config_dump pieces ----

std::string node_id(const Proxy& p) {
  return std::string(p.router ? "router" : "sidecar") + "~" + p.ip + "~" + p.name + "." + p.ns +
         "~" + p.ns + ".svc." + k_domain;
}

json bootstrap_dump(const Proxy& p, const std::string& now) {
  json labels = obj(obj(*p.pod, "metadata"), "labels");
  json metadata = {{"CLUSTER_ID", p.cluster},
                   {"NETWORK", p.network},
                   {"MESH_ID", p.mesh_id},
                   {"NAME", p.name},
                   {"NAMESPACE", p.ns},
                   {"ISTIO_VERSION", p.version},
                   {"INSTANCE_IPS", p.ip},
                   {"LABELS", labels},
                   {"WORKLOAD_NAME", workload_name(*p.pod)},
                   {"SERVICE_ACCOUNT", str(obj(*p.pod, "spec"), "serviceAccountName")}};
  if (!p.network_view.empty()) {
    std::vector<std::string> v;
    for (const auto& n : p.network_view) {
      if (!n.empty()) {
        v.push_back(n);
      }
    }
    metadata["REQUESTED_NETWORK_VIEW"] = join(v, ",");
  }
  const std::string cluster =
      p.router ? workload_name(*p.pod) : canonical_name(*p.pod) + "." + p.ns;
  return {{"@type", "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump"},
          {"bootstrap",
           {{"node",
             {{"id", node_id(p)},
              {"cluster", cluster},
              {"metadata", metadata},
              {"locality", p.locality.to_json()},
              {"user_agent_name", "envoy"}}}}},
          {"last_updated", now}};
}

json static_cluster(const std::string& name, const json& address) {
  return {{"cluster",
           {{"@type", "type.googleapis.com/envoy.config.cluster.v3.Cluster"},
            {"name", name},
            {"type", "STATIC"},
            {"connect_timeout", "0.250s"},
            {"load_assignment",
             {{"cluster_name", name},
              {"endpoints",
               json::array({{{"lb_endpoints",
                              json::array({{{"endpoint", {{"address", address}}}}})}}})}}}}},
          {"last_updated", "2025-01-01T00:00:00Z"}};
}

struct StaticHost {
  std::string cluster;
  json address;
};

std::vector<StaticHost> static_hosts() {
  return {{"prometheus_stats", socket_address("127.0.0.1", 15000)},
          {"agent", socket_address("127.0.0.1", 15020)},
          {"sds-grpc", {{"pipe", {{"path", "./var/run/secrets/workload-spiffe-uds/socket"}}}}},
          {"xds-grpc", {{"pipe", {{"path", "./etc/istio/proxy/XDS"}}}}}};
}

json eds_cluster(const std::string& name, const MeshService& ms, const json* dr,
                 const std::string& now) {
  json c = {{"@type", "type.googleapis.com/envoy.config.cluster.v3.Cluster"},
            {"name", name},
            {"type", ms.headless ? "ORIGINAL_DST" : "EDS"},
            {"connect_timeout", "10s"},
            {"circuit_breakers",
             {{"thresholds", json::array({{{"max_connections", 4294967295U},
                                           {"max_pending_requests", 4294967295U},
                                           {"max_requests", 4294967295U},
                                           {"max_retries", 4294967295U},
                                           {"track_remaining", true}}})}}}};
  if (!ms.headless) {
    c["eds_cluster_config"] = {{"eds_config",
                                {{"ads", json::object()},
                                 {"initial_fetch_timeout", "0s"},
                                 {"resource_api_version", "V3"}}},
                               {"service_name", name}};
  } else {
    c["lb_policy"] = "CLUSTER_PROVIDED";
  }
  json istio_md = {
      {"services", json::array({{{"host", ms.host}, {"name", ms.name}, {"namespace", ms.ns}}})}};
  if (dr != nullptr) {
    istio_md["config"] = "/apis/networking.istio.io/v1/namespaces/" + ns_of(*dr) +
                         "/destination-rule/" + name_of(*dr);
    const json& tp = obj(obj(*dr, "spec"), "trafficPolicy");
    if (tp.contains("outlierDetection")) {
      c["outlier_detection"] = json::object();
    }
  }
  c["metadata"] = {{"filter_metadata", {{"istio", istio_md}}}};
  return {{"version_info", now}, {"cluster", c}, {"last_updated", now}};
}

/// Each outbound cluster a proxy gets: name, service, port, subset.
struct OutboundCluster {
  std::string name;
  const MeshService* svc = nullptr;
  ServicePort port;
  std::string subset;
};

std::vector<OutboundCluster> outbound_clusters(const MeshView& view, const Registry& reg,
                                               const Proxy& proxy) {
  std::vector<OutboundCluster> out;
  for (const auto& [host, ms] : reg.services) {
    const json* dr = find_destination_rule(view, proxy.ns, ms);
    for (const auto& p : ms.ports) {
      const std::string base = "outbound|" + std::to_string(p.port) + "|";
      std::string plain = base;
      plain.append("|").append(host);
      out.push_back({plain, &ms, p, ""});
      if (dr != nullptr) {
        for (const auto& s : arr(obj(*dr, "spec"), "subsets")) {
          const std::string subset = str(s, "name");
          std::string name = base;
          name.append(subset).append("|").append(host);
          out.push_back({name, &ms, p, subset});
        }
      }
    }
  }
  return out;
}

/// Every EDS cluster of the proxy with its load assignment.
struct EdsCluster {
  std::string name;
  const MeshService* svc = nullptr;
  std::vector<LocalityGroup> groups;
};

std::vector<EdsCluster> eds_clusters(const MeshView& view, const Registry& reg,
                                     const Proxy& proxy) {
  std::vector<EdsCluster> out;
  for (const auto& oc : outbound_clusters(view, reg, proxy)) {
    EdsCluster c;
    c.name = oc.name;
    c.svc = oc.svc;
    if (!oc.svc->headless) {
      c.groups = build_groups(view, reg, proxy, *oc.svc, oc.port.port, oc.subset);
    }
    out.push_back(std::move(c));
  }
  for (const auto& r : sni_routes(view, reg, proxy)) {
    EdsCluster c;
    c.name = r.sni;
    c.svc = r.svc;
    c.groups = build_groups(view, reg, proxy, *r.svc, r.port.port, r.subset);
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(),
            [](const EdsCluster& a, const EdsCluster& b) { return a.name < b.name; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const EdsCluster& a, const EdsCluster& b) { return a.name == b.name; }),
            out.end());
  return out;
}

json clusters_dump(const MeshView& view, const Proxy& proxy, const std::vector<EdsCluster>& eds,
                   const std::string& now) {
  json statics = json::array();
  for (const auto& h : static_hosts()) {
    statics.push_back(static_cluster(h.cluster, h.address));
  }
  json dynamic = json::array();
  dynamic.push_back({{"version_info", now},
                     {"cluster",
                      {{"@type", "type.googleapis.com/envoy.config.cluster.v3.Cluster"},
                       {"name", "BlackHoleCluster"},
                       {"type", "STATIC"},
                       {"connect_timeout", "10s"}}},
                     {"last_updated", now}});
  dynamic.push_back({{"version_info", now},
                     {"cluster",
                      {{"@type", "type.googleapis.com/envoy.config.cluster.v3.Cluster"},
                       {"name", "PassthroughCluster"},
                       {"type", "ORIGINAL_DST"},
                       {"connect_timeout", "10s"},
                       {"lb_policy", "CLUSTER_PROVIDED"}}},
                     {"last_updated", now}});
  for (const auto& c : eds) {
    dynamic.push_back(
        eds_cluster(c.name, *c.svc, find_destination_rule(view, proxy.ns, *c.svc), now));
  }
  return {{"@type", "type.googleapis.com/envoy.admin.v3.ClustersConfigDump"},
          {"version_info", now},
          {"static_clusters", statics},
          {"dynamic_active_clusters", dynamic}};
}

json endpoints_dump(const std::vector<EdsCluster>& eds, const std::string& now) {
  json statics = json::array();
  for (const auto& h : static_hosts()) {
    statics.push_back(
        {{"endpoint_config",
          {{"@type", "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"},
           {"cluster_name", h.cluster},
           {"endpoints", json::array({{{"locality", json::object()},
                                       {"lb_endpoints",
                                        json::array({{{"endpoint",
                                                       {{"address", h.address},
                                                        {"health_check_config", json::object()}}},
                                                      {"health_status", "HEALTHY"},
                                                      {"load_balancing_weight", 1}}})}}})},
           {"policy", {{"overprovisioning_factor", 140}}}}}});
  }
  json dynamic = json::array();
  for (const auto& c : eds) {
    if (c.svc->headless) {
      continue;
    }
    dynamic.push_back({{"endpoint_config", cla_json(c.name, c.groups)},
                       {"version_info", now},
                       {"last_updated", now}});
  }
  return {{"@type", "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump"},
          {"static_endpoint_configs", statics},
          {"dynamic_endpoint_configs", dynamic}};
}

json host_stats() {
  json stats = json::array();
  for (const char* c :
       {"cx_connect_fail", "cx_total", "rq_error", "rq_success", "rq_timeout", "rq_total"}) {
    stats.push_back({{"name", c}});
  }
  for (const char* g : {"cx_active", "rq_active"}) {
    stats.push_back({{"type", "GAUGE"}, {"name", g}});
  }
  return stats;
}

json clusters_json(const std::vector<EdsCluster>& eds) {
  json statuses = json::array();
  for (const auto& h : static_hosts()) {
    statuses.push_back(
        {{"name", h.cluster},
         {"host_statuses", json::array({{{"address", h.address},
                                         {"stats", host_stats()},
                                         {"health_status", {{"eds_health_status", "HEALTHY"}}},
                                         {"weight", 1},
                                         {"locality", json::object()}}})},
         {"observability_name", h.cluster}});
  }
  for (const auto& c : eds) {
    json hosts = json::array();
    for (const auto& g : c.groups) {
      for (const auto& lb : g.endpoints) {
        json h = {{"address", socket_address(lb.ep.addr, lb.ep.port)},
                  {"stats", host_stats()},
                  {"health_status", {{"eds_health_status", "HEALTHY"}}},
                  {"weight", lb.ep.weight},
                  {"locality", g.locality.to_json()}};
        if (g.priority != 0) {
          h["priority"] = g.priority;
        }
        hosts.push_back(h);
      }
    }
    json s = {{"name", c.name}, {"added_via_api", true}};
    if (!hosts.empty()) {
      s["host_statuses"] = hosts;
    }
    s["observability_name"] = c.name;
    statuses.push_back(s);
  }
  return {{"cluster_statuses", statuses}};
}

std::string clusters_text(const std::vector<EdsCluster>& eds) {
  std::ostringstream out;
  for (const auto& c : eds) {
    out << c.name << "::observability_name::" << c.name << "\n";
    out << c.name << "::added_via_api::true\n";
    for (const auto& g : c.groups) {
      for (const auto& lb : g.endpoints) {
        const std::string p = c.name + "::" + lb.ep.addr + ":" + std::to_string(lb.ep.port);
        out << p << "::health_flags::healthy\n";
        out << p << "::weight::" << lb.ep.weight << "\n";
        out << p << "::region::" << g.locality.region << "\n";
        out << p << "::zone::" << g.locality.zone << "\n";
        out << p << "::sub_zone::" << g.locality.subzone << "\n";
        out << p << "::canary::false\n";
        out << p << "::priority::" << g.priority << "\n";
      }
    }
  }
  return out.str();
}

/// Envoy's ?mask=: a FieldMask applied to each top-level dump (paths into nested objects only).
json apply_mask(const json& config, const std::vector<std::string>& paths) {
  json out = {{"@type", config.value("@type", "")}};
  for (const auto& path : paths) {
    const auto parts = split(path, '.');
    const json* src = &config;
    bool ok = true;
    for (const auto& p : parts) {
      if (!src->is_object() || !src->contains(p)) {
        ok = false;
        break;
      }
      src = &(*src)[p];
    }
    if (!ok) {
      continue;
    }
    json* dst = &out;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      dst = &(*dst)[parts[i]];
    }
    (*dst)[parts.back()] = *src;
  }
  return out;
}

std::map<std::string, std::string> parse_query(const std::string& q) {
  std::map<std::string, std::string> out;
  for (const auto& kv : split(q, '&')) {
    if (kv.empty()) {
      continue;
    }
    const auto eq = kv.find('=');
    out[url_decode(kv.substr(0, eq), false)] =
        eq == std::string::npos ? "" : url_decode(kv.substr(eq + 1), false);
  }
  return out;
}

} // namespace
} // namespace kubesim::istiod::detail

namespace kubesim::istiod {

using namespace detail;

std::optional<std::string> envoy_admin(const MeshView& view, const json& pod,
                                       const std::string& path) {
  std::string p = path;
  if (!p.empty() && p[0] == '/') {
    p.erase(0, 1);
  }
  const auto q = p.find('?');
  const std::string route = p.substr(0, q);
  const auto query = parse_query(q == std::string::npos ? "" : p.substr(q + 1));
  if (route != "config_dump" && route != "clusters") {
    return std::nullopt;
  }
  const Registry reg(view);
  const Proxy proxy = make_proxy(view, reg, pod);
  const std::string now = now_rfc3339();
  const auto eds = eds_clusters(view, reg, proxy);
  if (route == "clusters") {
    if (query.count("format") != 0 && query.at("format") == "json") {
      return clusters_json(eds).dump(1) + "\n";
    }
    return clusters_text(eds);
  }
  json configs = json::array();
  configs.push_back(bootstrap_dump(proxy, now));
  configs.push_back(clusters_dump(view, proxy, eds, now));
  const bool include_eds = query.count("include_eds") != 0 && query.at("include_eds") != "false";
  if (include_eds) {
    configs.push_back(endpoints_dump(eds, now));
  }
  configs.push_back(listeners_dump(view, reg, proxy, now));
  if (auto m = query.find("mask"); m != query.end() && !m->second.empty()) {
    const auto paths = split(m->second, ',');
    for (auto& c : configs) {
      c = apply_mask(c, paths);
    }
  }
  return json{{"configs", configs}}.dump(1) + "\n";
}

std::string debug_clusterz(const MeshView& view) {
  json out = json::array();
  out.push_back({{"id", view.local.id}, {"secretName", ""}, {"syncStatus", "synced"}});
  std::vector<const RemoteCluster*> remotes;
  for (const auto& r : view.remotes) {
    remotes.push_back(&r);
  }
  std::sort(remotes.begin(), remotes.end(), [](const RemoteCluster* a, const RemoteCluster* b) {
    return std::tie(a->secret_name, a->id) < std::tie(b->secret_name, b->id);
  });
  for (const auto* r : remotes) {
    out.push_back({{"id", r->id},
                   {"secretName", r->secret_name},
                   {"syncStatus", r->synced ? "synced" : "timeout"}});
  }
  return out.dump() + "\n";
}

} // namespace kubesim::istiod

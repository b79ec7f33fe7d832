#pragma once
// Small synthetic Envoy dumps and Kubernetes objects for verify's tests, in the shapes of the real
// ones (Envoy's snake_case as `pilot-agent request GET` returns it; compare with
// ../shared/istio/istioctl-testdata): a gateway's 15443 listener with SNI chains, a sidecar's
// /clusters?format=json and its config_dump?include_eds=true.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace meshctl::testing::check {

using nlohmann::json;

/// A gateway listener dump (config_dump?mask=dynamic_listeners,static_listeners) with one
/// 0.0.0.0_15443 listener holding an SNI chain per name, as Istio builds for AUTO_PASSTHROUGH.
inline std::string gateway_listener_dump(const std::vector<std::string>& sni_names) {
  json chains = json::array();
  for (const auto& sni : sni_names) {
    chains.push_back(
        {{"filter_chain_match",
          {{"server_names", {sni}},
           {"application_protocols",
            {"istio", "istio-peer-exchange", "istio-http/1.0", "istio-http/1.1", "istio-h2"}}}},
         {"filters",
          {{{"name", "istio.stats"},
            {"typed_config", {{"@type", "type.googleapis.com/stats.PluginConfig"}}}},
           {{"name", "envoy.filters.network.tcp_proxy"},
            {"typed_config",
             {{"@type",
               "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"},
              {"stat_prefix", sni},
              {"cluster", sni}}}}}}});
  }
  json listener = {
      {"@type", "type.googleapis.com/envoy.config.listener.v3.Listener"},
      {"name", "0.0.0.0_15443"},
      {"address", {{"socket_address", {{"address", "0.0.0.0"}, {"port_value", 15443}}}}},
      {"filter_chains", chains},
      {"listener_filters",
       {{{"name", "envoy.filters.listener.tls_inspector"},
         {"typed_config",
          {{"@type", "type.googleapis.com/envoy.extensions.filters.listener."
                     "tls_inspector.v3.TlsInspector"}}}}}},
      {"traffic_direction", "OUTBOUND"}};
  json dump = {
      {"configs",
       {{{"@type", "type.googleapis.com/envoy.admin.v3.ListenersConfigDump"},
         {"version_info", "2025-01-01T00:00:00Z/12"},
         {"static_listeners",
          {{{"listener",
             {{"@type", "type.googleapis.com/envoy.config.listener.v3.Listener"},
              {"address", {{"socket_address", {{"address", "0.0.0.0"}, {"port_value", 15021}}}}},
              {"filter_chains", json::array()}}},
            {"last_updated", "2025-01-01T00:00:00Z"}}}},
         {"dynamic_listeners",
          {{{"name", "0.0.0.0_15443"},
            {"active_state",
             {{"version_info", "2025-01-01T00:00:00Z/12"},
              {"listener", listener},
              {"last_updated", "2025-01-01T00:00:00Z"}}}}}}}}}};
  return dump.dump(1);
}

/// One endpoint as the client's Envoy holds it.
struct Endpoint {
  std::string ip;
  std::uint32_t port = 0;
  std::uint32_t priority = 0;
  std::string workload; ///< istio.workload metadata; ";;;;<cluster>" for a remote gateway
  std::string health = "HEALTHY";
  std::uint32_t weight = 1;
};

/// /clusters?format=json with one cluster. Envoy omits priority when it is 0.
inline std::string clusters_json(const std::string& cluster, const std::vector<Endpoint>& eps) {
  json hosts = json::array();
  for (const auto& e : eps) {
    json h = {{"address", {{"socket_address", {{"address", e.ip}, {"port_value", e.port}}}}},
              {"stats", {{{"name", "cx_connect_fail"}}, {{"name", "cx_total"}, {"value", "3"}}}},
              {"health_status", {{"eds_health_status", e.health}}},
              {"weight", e.weight},
              {"locality", json::object()}};
    if (e.priority != 0) {
      h["priority"] = e.priority;
    }
    hosts.push_back(std::move(h));
  }
  json blackhole = {{"name", "BlackHoleCluster"}, {"observability_name", "BlackHoleCluster"}};
  json c = {{"name", cluster},
            {"observability_name", cluster},
            {"added_via_api", true},
            {"host_statuses", hosts},
            {"circuit_breakers", {{"thresholds", {{{"max_connections", 4294967295U}}}}}},
            {"eds_service_name", cluster}};
  return json{{"cluster_statuses", {blackhole, c}}}.dump(1);
}

/// config_dump?include_eds=true with one ClusterLoadAssignment; endpoints grouped by priority.
inline std::string eds_dump(const std::string& cluster, const std::vector<Endpoint>& eps) {
  std::map<std::uint32_t, json> groups;
  for (const auto& e : eps) {
    auto& g = groups[e.priority];
    if (g.is_null()) {
      g = {{"locality", json::object()}, {"lb_endpoints", json::array()}};
      if (e.priority != 0) {
        g["priority"] = e.priority;
      }
    }
    json ep = {{"endpoint",
                {{"address", {{"socket_address", {{"address", e.ip}, {"port_value", e.port}}}}},
                 {"health_check_config", json::object()}}},
               {"health_status", e.health},
               {"metadata",
                {{"filter_metadata",
                  {{"istio", {{"workload", e.workload}}},
                   {"envoy.transport_socket_match", {{"tlsMode", "istio"}}}}}}},
               {"load_balancing_weight", e.weight}};
    g["lb_endpoints"].push_back(std::move(ep));
  }
  json endpoints = json::array();
  for (auto& [p, g] : groups) {
    g["load_balancing_weight"] = g["lb_endpoints"].size();
    endpoints.push_back(g);
  }
  json cla = {{"@type", "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"},
              {"cluster_name", cluster},
              {"endpoints", endpoints},
              {"policy", {{"overprovisioning_factor", 140}}}};
  json dump = {
      {"configs",
       {{{"@type", "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump"},
         {"bootstrap", {{"node", {{"id", "sidecar~10.0.0.1~sleep.dev~dev.svc.cluster.local"}}}}}},
        {{"@type", "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump"},
         {"dynamic_endpoint_configs",
          {{{"endpoint_config", cla}, {"version_info", "2025-01-01T00:00:00Z/12"}}}}}}}};
  return dump.dump(1);
}

} // namespace meshctl::testing::check

// The listeners a proxy holds, and the SNI routes of gateways' AUTO_PASSTHROUGH servers. See
// istiod_model_internal.hpp for the model's map.
//
// Gateways' SNI routes (networking/core/gateway.go): a gateway pod selected by a Gateway whose
// server has tls.mode AUTO_PASSTHROUGH gets listener 0.0.0.0_PORT with one filter chain per
// service port (and per DestinationRule subset) whose host the server's hosts cover
// ("*", "*.suffix" or exact, optionally "ns/"): server_names ["outbound_.PORT_.SUBSET_.HOST"],
// application_protocols the five Istio ALPNs, tcp_proxy to the cluster of the same name.

#include "istiod_model_internal.hpp"

namespace kubesim::istiod::detail {

namespace {

const std::vector<std::string> k_istio_alpns = {"istio", "istio-peer-exchange", "istio-http/1.0",
                                                "istio-http/1.1", "istio-h2"};

bool server_host_covers(const std::string& server_host, const std::string& gw_ns,
                        const MeshService& ms) {
  std::string ns = "*";
  std::string host = server_host;
  if (const auto slash = server_host.find('/'); slash != std::string::npos) {
    ns = server_host.substr(0, slash);
    host = server_host.substr(slash + 1);
  }
  if (ns == ".") {
    ns = gw_ns;
  }
  if (ns != "*" && ns != ms.ns) {
    return false;
  }
  return host_match(host, ms.host) > 0;
}

} // namespace

std::vector<SniRoute> sni_routes(const MeshView& view, const Registry& reg, const Proxy& proxy) {
  std::vector<SniRoute> out;
  std::set<std::pair<std::uint32_t, std::string>> seen;
  if (!proxy.router) {
    return out;
  }
  const json& pod_labels = obj(obj(*proxy.pod, "metadata"), "labels");
  for (const auto& gw : view.gateways) {
    const json& spec = obj(gw, "spec");
    if (!subset_of(obj(spec, "selector"), pod_labels)) {
      continue;
    }
    for (const auto& server : arr(spec, "servers")) {
      if (str(obj(server, "tls"), "mode") != "AUTO_PASSTHROUGH") {
        continue;
      }
      const auto lport = obj(server, "port").value("number", 0U);
      for (const auto& [host, ms] : reg.services) {
        bool covered = false;
        for (const auto& h : arr(server, "hosts")) {
          covered = covered || (h.is_string() && server_host_covers(h, ns_of(gw), ms));
        }
        if (!covered) {
          continue;
        }
        const json* dr = find_destination_rule(view, proxy.ns, ms);
        std::vector<std::string> subsets{""};
        if (dr != nullptr) {
          for (const auto& s : arr(obj(*dr, "spec"), "subsets")) {
            subsets.push_back(str(s, "name"));
          }
        }
        for (const auto& p : ms.ports) {
          if (p.protocol == "UDP") {
            continue;
          }
          for (const auto& s : subsets) {
            std::string sni = "outbound_." + std::to_string(p.port);
            sni.append("_.").append(s).append("_.").append(host);
            if (seen.insert({lport, sni}).second) {
              out.push_back({lport, sni, &ms, p, s});
            }
          }
        }
      }
    }
  }
  return out;
}

namespace {

json tcp_proxy_filter(const std::string& cluster) {
  return {{"name", "envoy.filters.network.tcp_proxy"},
          {"typed_config",
           {{"@type", "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"},
            {"stat_prefix", cluster},
            {"cluster", cluster}}}};
}

json listener(const std::string& name, const std::string& addr, std::uint32_t port, json chains,
              const std::string& now, json extra = json::object()) {
  json l = {{"@type", "type.googleapis.com/envoy.config.listener.v3.Listener"},
            {"name", name},
            {"address", socket_address(addr, port)},
            {"filter_chains", std::move(chains)}};
  for (auto& [k, v] : extra.items()) {
    l[k] = v;
  }
  return {{"name", name},
          {"active_state", {{"version_info", now}, {"listener", l}, {"last_updated", now}}}};
}

bool http_port(const ServicePort& p) {
  const std::string n = p.name;
  for (const char* prefix : {"http", "http2", "grpc", "grpc-web"}) {
    const std::string pre(prefix);
    if (n == pre || n.rfind(pre + "-", 0) == 0) {
      return true;
    }
  }
  return false;
}

json static_listeners(const std::string& now) {
  json out = json::array();
  for (const auto& [name, port] : std::vector<std::pair<std::string, std::uint32_t>>{
           {"0.0.0.0_15090", 15090}, {"0.0.0.0_15021", 15021}}) {
    json chain = {
        {"filters",
         json::array(
             {{{"name", "envoy.filters.network.http_connection_manager"},
               {"typed_config",
                {{"@type", "type.googleapis.com/envoy.extensions.filters.network."
                           "http_connection_manager.v3.HttpConnectionManager"},
                 {"stat_prefix", port == 15090 ? "stats" : "agent"},
                 {"route_config",
                  {{"virtual_hosts",
                    json::array(
                        {{{"name", "backend"},
                          {"domains", json::array({"*"})},
                          {"routes",
                           json::array({{{"match",
                                          {{"prefix", port == 15090 ? "/stats/prometheus"
                                                                    : "/healthz/ready"}}},
                                         {"route",
                                          {{"cluster", port == 15090 ? "prometheus_stats"
                                                                     : "agent"}}}}})}}})}}}}}}})}};
    json l = listener(name, "0.0.0.0", port, json::array({chain}), now);
    out.push_back({{"listener", l["active_state"]["listener"]}, {"last_updated", now}});
  }
  return out;
}

} // namespace

json listeners_dump(const MeshView& view, const Registry& reg, const Proxy& proxy,
                    const std::string& now) {
  json dynamic = json::array();
  if (proxy.router) {
    std::map<std::uint32_t, json> by_port;
    for (const auto& r : sni_routes(view, reg, proxy)) {
      json chain = {
          {"filter_chain_match",
           {{"server_names", json::array({r.sni})}, {"application_protocols", k_istio_alpns}}},
          {"filters", json::array({tcp_proxy_filter(r.sni)})}};
      by_port[r.listener_port].push_back(chain);
    }
    for (auto& [port, chains] : by_port) {
      json extra = {
          {"listener_filters",
           json::array({{{"name", "envoy.filters.listener.tls_inspector"},
                         {"typed_config",
                          {{"@type", "type.googleapis.com/envoy.extensions.filters.listener."
                                     "tls_inspector.v3.TlsInspector"}}}}})},
          {"traffic_direction", "OUTBOUND"}};
      dynamic.push_back(
          listener("0.0.0.0_" + std::to_string(port), "0.0.0.0", port, chains, now, extra));
    }
  } else {
    // virtualOutbound, virtualInbound and one listener per outbound service port: enough for
    // `proxy-config listener` to look like a sidecar's.
    dynamic.push_back(
        listener("virtualOutbound", "0.0.0.0", 15001,
                 json::array({{{"filters", json::array({tcp_proxy_filter("PassthroughCluster")})},
                               {"name", "virtualOutbound-catchall-tcp"}}}),
                 now, {{"use_original_dst", true}, {"traffic_direction", "OUTBOUND"}}));
    dynamic.push_back(listener(
        "virtualInbound", "0.0.0.0", 15006,
        json::array({{{"filters", json::array({tcp_proxy_filter("InboundPassthroughCluster")})},
                      {"name", "virtualInbound-catchall-http"}}}),
        now, {{"traffic_direction", "INBOUND"}}));
    std::set<std::uint32_t> http_done;
    for (const auto& [host, ms] : reg.services) {
      for (const auto& p : ms.ports) {
        if (http_port(p)) {
          if (!http_done.insert(p.port).second) {
            continue;
          }
          json hcm = {{"name", "envoy.filters.network.http_connection_manager"},
                      {"typed_config",
                       {{"@type", "type.googleapis.com/envoy.extensions.filters.network."
                                  "http_connection_manager.v3.HttpConnectionManager"},
                        {"stat_prefix", "outbound_0.0.0.0_" + std::to_string(p.port)},
                        {"rds",
                         {{"config_source",
                           {{"ads", json::object()},
                            {"initial_fetch_timeout", "0s"},
                            {"resource_api_version", "V3"}}},
                          {"route_config_name", std::to_string(p.port)}}}}}};
          json chain = {{"filter_chain_match",
                         {{"transport_protocol", "raw_buffer"},
                          {"application_protocols", json::array({"http/1.1", "h2c"})}}},
                        {"filters", json::array({hcm})}};
          dynamic.push_back(listener("0.0.0.0_" + std::to_string(p.port), "0.0.0.0", p.port,
                                     json::array({chain}), now,
                                     {{"traffic_direction", "OUTBOUND"}, {"bind_to_port", false}}));
        } else if (!ms.headless && !ms.cluster_ip.empty()) {
          const std::string cluster = "outbound|" + std::to_string(p.port) + "||" + host;
          dynamic.push_back(
              listener(ms.cluster_ip + "_" + std::to_string(p.port), ms.cluster_ip, p.port,
                       json::array({{{"filters", json::array({tcp_proxy_filter(cluster)})}}}), now,
                       {{"traffic_direction", "OUTBOUND"}, {"bind_to_port", false}}));
        }
      }
    }
  }
  return {{"@type", "type.googleapis.com/envoy.admin.v3.ListenersConfigDump"},
          {"version_info", now},
          {"static_listeners", static_listeners(now)},
          {"dynamic_listeners", dynamic}};
}

} // namespace kubesim::istiod::detail

namespace kubesim::istiod {

using namespace detail;

std::vector<std::pair<std::uint32_t, std::vector<std::string>>>
auto_passthrough_routes(const MeshView& view, const json& pod) {
  const Registry reg(view);
  const Proxy proxy = make_proxy(view, reg, pod);
  std::map<std::uint32_t, std::vector<std::string>> by_port;
  for (const auto& r : sni_routes(view, reg, proxy)) {
    by_port[r.listener_port].push_back(r.sni);
  }
  return {by_port.begin(), by_port.end()};
}

} // namespace kubesim::istiod

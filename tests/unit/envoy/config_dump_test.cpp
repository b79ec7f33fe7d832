// The readers and tables on small hand-written dumps: both JSON spellings, v2-era shapes,
// warming/draining listeners, istioctl's MATCH/DESTINATION rules, priorities and -o wide, the
// verify helpers, and error messages.

#include "envoy/config_dump.hpp"
#include "envoy/proto_json.hpp"
#include "envoy/routes.hpp"
#include "envoy/summary.hpp"
#include "support/testing.hpp"

#include <regex>

using namespace meshctl::envoy;

namespace {

DumpBytes bytes(std::string text) {
  return DumpBytes::from_string(std::move(text), "test.json");
}

// A gateway listener dump: the 15443 AUTO_PASSTHROUGH listener with two SNI chains (one to the
// black hole), plus a sidecar-style listener on 8080.
const std::string k_gateway = R"({"configs": [
 {"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
  "static_listeners": [{"listener": {"@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
    "address": {"socket_address": {"address": "0.0.0.0", "port_value": 15021}},
    "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager",
      "typed_config": {"stat_prefix": "agent", "route_config": {"virtual_hosts": [
        {"name": "backend", "domains": ["*"], "routes": [{"match": {"prefix": "/healthz/ready"}, "route": {"cluster": "agent"}}]}]}}}]}]}}],
  "dynamic_listeners": [
   {"name": "0.0.0.0_15443", "active_state": {"version_info": "1", "listener": {
     "@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
     "name": "0.0.0.0_15443",
     "address": {"socket_address": {"address": "0.0.0.0", "port_value": 15443}},
     "filter_chains": [
      {"filter_chain_match": {"server_names": ["outbound_.5000_._.helloworld.sample.svc.cluster.local"],
        "application_protocols": ["istio", "istio-peer-exchange", "istio-http/1.0", "istio-http/1.1", "istio-h2"]},
       "filters": [{"name": "istio.stats", "typed_config": {"@type": "type.googleapis.com/stats.PluginConfig", "x": {"y": [1, 2]}}},
        {"name": "envoy.filters.network.tcp_proxy", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
          "stat_prefix": "outbound_.5000_._.helloworld.sample.svc.cluster.local",
          "cluster": "outbound_.5000_._.helloworld.sample.svc.cluster.local",
          "access_log": [{"name": "envoy.access_loggers.file", "typed_config": {"path": "/dev/stdout", "log_format": {"text_format_source": {"inline_string": "[%START_TIME%] \"%REQ(:METHOD)%\"\n"}}}}]}}]},
      {"filter_chain_match": {"server_names": ["outbound_.5000_.v2_.helloworld.sample.svc.cluster.local", "b.example"],
        "transport_protocol": "tls", "application_protocols": ["istio-peer-exchange", "istio"]},
       "filters": [{"name": "envoy.filters.network.tcp_proxy", "typed_config": {"cluster": "BlackHoleCluster", "stat_prefix": "BlackHoleCluster"}},
        {"name": "envoy.filters.network.tcp_proxy", "typed_config": {"cluster": "outbound_.5000_.v2_.helloworld.sample.svc.cluster.local"}}]}]},
     "last_updated": "2024-01-01T00:00:00Z"}},
   {"name": "0.0.0.0_8080", "active_state": {"listener": {"name": "0.0.0.0_8080",
     "address": {"socket_address": {"address": "0.0.0.0", "port_value": 8080}},
     "additional_addresses": [{"address": {"socket_address": {"address": "::", "port_value": 8080}}}],
     "filter_chains": [
      {"filter_chain_match": {"destination_port": 8080, "prefix_ranges": [{"address_prefix": "10.0.0.0", "prefix_len": 8}, {"address_prefix": "fd00::"}]},
       "filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": {"rds": {"route_config_name": "8080"}}}]},
      {"filter_chain_match": {"destination_port": 9090, "application_protocols": ["http/1.0", "http/1.1", "h2c"]},
       "filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": {"route_config": {"virtual_hosts": [
         {"domains": ["a.example", "a.example:80"], "routes": [{"match": {"path": "/x"}}, {"match": {"safe_regex": {"regex": "/y.*"}}}]},
         {"domains": ["*"], "routes": [{"match": {"prefix": "/"}, "redirect": {}}]}]}}}]},
      {"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": {"route_config": {"virtual_hosts": [
         {"domains": ["*"], "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "outbound|80||web.default.svc.cluster.local"}}]}]}}}]},
      {"filters": [{"name": "envoy.filters.network.tcp_proxy", "typed_config": {"cluster": "PassthroughCluster"}}]}],
     "default_filter_chain": {"filters": [{"name": "envoy.filters.listener.unknown"}]}}}},
   {"name": "0.0.0.0_9443", "warming_state": {"listener": {"name": "0.0.0.0_9443",
     "address": {"socket_address": {"address": "0.0.0.0", "port_value": 9443}}, "filter_chains": []}}}
  ]}]})";

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < s.size()) {
    const auto nl = s.find('\n', start);
    out.push_back(s.substr(start, nl - start));
    start = nl == std::string::npos ? s.size() : nl + 1;
  }
  return out;
}

// A table whose every line has every column: each column as wide as its widest cell plus
// `padding`, the last column unpadded (what Go's tabwriter does for such a table).
std::string aligned(const std::vector<std::vector<std::string>>& rows, std::size_t padding) {
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& r : rows) {
    for (std::size_t i = 0; i + 1 < r.size(); ++i) {
      widths[i] = std::max(widths[i], r[i].size() + padding);
    }
  }
  std::string out;
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) {
      out += r[i];
      if (i + 1 < r.size()) {
        out += std::string(widths[i] - r[i].size(), ' ');
      }
    }
    out += '\n';
  }
  return out;
}

} // namespace

TEST_CASE("listener summary follows istioctl's MATCH and DESTINATION rules", "[envoy][listeners]") {
  const auto d = bytes(k_gateway);
  auto listeners = read_listeners(d, {});
  REQUIRE(listeners);
  REQUIRE(listeners->size() == 4); // three dynamic (one warming) and one static

  const std::string v2 = "outbound_.5000_.v2_.helloworld.sample.svc.cluster.local";
  const std::string plain = "outbound_.5000_._.helloworld.sample.svc.cluster.local";
  CHECK(
      listener_summary(*listeners) ==
      aligned(
          {
              {"ADDRESSES", "PORT", "MATCH", "DESTINATION"},
              // port 8080 first (additional addresses joined); its chains by DESTINATION,
              // descending
              {"0.0.0.0,::", "8080", "Addr: 10.0.0.0/8,fd00::/0:8080", "Route: 8080"},
              {"0.0.0.0,::", "8080", "ALL", "PassthroughCluster"},
              {"0.0.0.0,::", "8080", "ALL", "Non-HTTP/Non-TCP"}, // the default filter chain
              {"0.0.0.0,::", "8080", "App: HTTP; Addr: *:9090",
               "Inline Route: a.example/a.example:80 /x, regex /y.*; /*"},
              {"0.0.0.0,::", "8080", "ALL", "Cluster: outbound|80||web.default.svc.cluster.local"},
              {"0.0.0.0", "15021", "ALL", "Inline Route: /healthz/ready*"}, // the static listener
              // the tcp_proxy to the black hole is passed over for the next filter
              {"0.0.0.0", "15443", "SNI: " + v2 + ",b.example; Trans: tls; App: TCP TLS",
               "Cluster: " + v2},
              {"0.0.0.0", "15443",
               "SNI: " + plain +
                   "; App: istio,istio-peer-exchange,istio-http/1.0,istio-http/1.1,istio-h2",
               "Cluster: " + plain},
          },
          1));

  // The same listeners with --verbose=false: one row each, with istioctl's type.
  SummaryOptions types;
  types.verbose = false;
  CHECK(listener_summary(*listeners, types) == "ADDRESSES  PORT  TYPE\n"
                                               "0.0.0.0,:: 8080  HTTP+TCP\n"
                                               "0.0.0.0    15021 HTTP\n"
                                               "0.0.0.0    15443 TCP\n");
}

TEST_CASE("listener filters match istioctl's (address incl. additional, port, type)",
          "[envoy][listeners]") {
  const auto d = bytes(k_gateway);
  const auto names = [&](const ListenerFilter& f) {
    auto l = read_listeners(d, f);
    REQUIRE(l);
    std::vector<std::string> out;
    for (const auto& x : *l) {
      out.push_back(x.name.empty() ? "<static>" : x.name);
    }
    return out;
  };
  ListenerFilter port;
  port.port = 15443;
  CHECK(names(port) == std::vector<std::string>{"0.0.0.0_15443"});
  ListenerFilter v6;
  v6.address = "::";
  CHECK(names(v6) == std::vector<std::string>{"0.0.0.0_8080"});
  ListenerFilter http;
  http.type = "http";
  CHECK(names(http) == std::vector<std::string>{"<static>"});
  ListenerFilter none;
  none.port = 1;
  CHECK(names(none).empty());
  ListenerFilter warming;
  warming.port = 9443;
  auto w = read_listeners(d, warming);
  REQUIRE(w);
  REQUIRE(w->size() == 1);
  CHECK(w->front().state == ConfigState::k_warming);
  CHECK(listener_summary(*w) == "ADDRESSES PORT MATCH DESTINATION\n"); // istioctl shows active only
}

TEST_CASE("snake_case, camelCase and v2-era dumps read the same", "[envoy][listeners]") {
  // camelCase as istioctl -o json and 2019-2020 dumps write it, with v2's dynamic_active_listeners
  // and legacy filter names.
  const std::string camel = R"({"configs": [{"dynamicActiveListeners": [{"listener": {
    "name": "0.0.0.0_15443", "address": {"socketAddress": {"address": "0.0.0.0", "portValue": 15443}},
    "filterChains": [{"filterChainMatch": {"serverNames": ["outbound_.5000_._.helloworld.sample.svc.cluster.local"],
        "applicationProtocols": ["istio", "istio-peer-exchange", "istio-http/1.0", "istio-http/1.1", "istio-h2"]},
      "filters": [{"name": "envoy.tcp_proxy", "config": {"statPrefix": "x", "cluster": "outbound_.5000_._.helloworld.sample.svc.cluster.local"}}]}]}}]}]})";
  const auto a = bytes(k_gateway);
  const auto b = bytes(camel);
  ListenerFilter port;
  port.port = 15443;
  auto snake_l = read_listeners(a, port);
  auto camel_l = read_listeners(b, port);
  REQUIRE(snake_l);
  REQUIRE(camel_l);
  const auto last_row = [](const std::string& table) { return lines(table).back(); };
  CHECK(last_row(listener_summary(*snake_l)) == last_row(listener_summary(*camel_l)));
  CHECK(camel_l->front().type == "TCP");
}

TEST_CASE("SNI routes and names for verify", "[envoy][verify]") {
  CHECK(sni_name(5000, "", "helloworld.sample.svc.cluster.local") ==
        "outbound_.5000_._.helloworld.sample.svc.cluster.local");
  CHECK(sni_name(9080, "v1", "reviews.default.svc.cluster.local") ==
        "outbound_.9080_.v1_.reviews.default.svc.cluster.local");
  CHECK(outbound_cluster_name(5000, "", "h.s.svc.cluster.local") ==
        "outbound|5000||h.s.svc.cluster.local");

  const auto d = bytes(k_gateway);
  auto routes = sni_routes(d);
  REQUIRE(routes);
  REQUIRE(routes->size() == 2);
  CHECK(routes->at(0).server_names ==
        std::vector<std::string>{"outbound_.5000_._.helloworld.sample.svc.cluster.local"});
  CHECK(routes->at(0).cluster == "outbound_.5000_._.helloworld.sample.svc.cluster.local");
  CHECK(routes->at(0).listener == "0.0.0.0_15443");
  CHECK(routes->at(1).cluster == "outbound_.5000_.v2_.helloworld.sample.svc.cluster.local");
  CHECK(has_sni(*routes, sni_name(5000, "", "helloworld.sample.svc.cluster.local")));
  CHECK(has_sni(*routes, "b.example"));
  CHECK_FALSE(has_sni(*routes, sni_name(5000, "", "other.sample.svc.cluster.local")));
  auto none = sni_routes(d, 1234);
  REQUIRE(none);
  CHECK(none->empty());
}

namespace {

// A client sidecar's EDS for helloworld after `localize`: the local pod at priority 0 and the
// remote network's gateway (weight = replaced endpoints, workload ";;;;cn-shanghai") at 1.
const std::string k_eds =
    R"({"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump",
 "dynamic_endpoint_configs": [{"endpoint_config": {"@type": "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
  "cluster_name": "outbound|5000||helloworld.sample.svc.cluster.local",
  "endpoints": [
   {"locality": {"region": "cn-shanghai", "zone": "cn-shanghai-b"},
    "lb_endpoints": [{"endpoint": {"address": {"socket_address": {"address": "10.1.0.7", "port_value": 5000}}},
      "health_status": "HEALTHY", "metadata": {"filter_metadata": {"istio": {"workload": "helloworld-v2;sample;helloworld;v2;wuxi"}}},
      "load_balancing_weight": 1}],
    "load_balancing_weight": 1},
   {"locality": {"region": "cn-shanghai"}, "priority": 1,
    "lb_endpoints": [{"endpoint": {"address": {"socket_address": {"address": "47.100.1.2", "port_value": 15443}}},
      "health_status": 1, "metadata": {"filter_metadata": {"istio": {"workload": ";;;;cn-shanghai"}}},
      "load_balancing_weight": 3}],
    "load_balancing_weight": 3}]}}],
 "static_endpoint_configs": [{"endpoint_config": {"cluster_name": "sds-grpc", "endpoints": [{"lb_endpoints": [
   {"endpoint": {"address": {"pipe": {"path": "./var/run/secrets/workload-spiffe-uds/socket"}}}, "health_status": "HEALTHY"}]}]}}]}]})";

const std::string k_clusters = R"({"cluster_statuses": [
 {"name": "outbound|5000||helloworld.sample.svc.cluster.local", "added_via_api": true,
  "host_statuses": [
   {"address": {"socket_address": {"address": "10.1.0.7", "port_value": 5000}},
    "health_status": {"eds_health_status": "HEALTHY"}, "weight": 1,
    "locality": {"region": "cn-shanghai", "zone": "cn-shanghai-b"}},
   {"address": {"socketAddress": {"address": "47.100.1.2", "portValue": 15443}},
    "healthStatus": {"edsHealthStatus": "HEALTHY", "failedOutlierCheck": true}, "weight": 3,
    "priority": 1, "locality": {"region": "cn-shanghai"}}]},
 {"name": "inbound_9092", "host_statuses": [{"address": {"pipe": {"path": "/sock/mixer.socket"}},
   "health_status": {"eds_health_status": "UNHEALTHY"}}]}]})";

} // namespace

TEST_CASE("endpoint priorities, localities and -o wide", "[envoy][endpoints]") {
  const auto eds = bytes(k_eds);
  auto configs = read_endpoint_configs(eds);
  REQUIRE(configs);
  const std::string hw = "outbound|5000||helloworld.sample.svc.cluster.local";
  CHECK(eds_summary(select_endpoint_configs(*configs, {})) ==
        aligned({{"NAME", "STATUS", "LOCALITY", "CLUSTER"},
                 {"10.1.0.7:5000", "HEALTHY", "cn-shanghai/cn-shanghai-b", hw},
                 {"47.100.1.2:15443", "HEALTHY", "cn-shanghai", hw},
                 {"./var/run/secrets/workload-spiffe-uds/socket", "HEALTHY", "", "sds-grpc"}},
                5));
  SummaryOptions wide;
  wide.wide = true;
  const auto eds_wide = lines(eds_summary(select_endpoint_configs(*configs, {}), wide));
  CHECK(eds_wide[0].find("LOCALITY") < eds_wide[0].find("PRIORITY"));
  CHECK(eds_wide[0].find("PRIORITY") < eds_wide[0].find("CLUSTER"));
  CHECK(std::regex_search(eds_wide[1], std::regex("cn-shanghai-b +0 +outbound")));
  CHECK(std::regex_search(eds_wide[2], std::regex("cn-shanghai +1 +outbound")));

  const auto status = bytes(k_clusters);
  auto statuses = read_cluster_statuses(status);
  REQUIRE(statuses);
  CHECK(endpoints_summary(*statuses, {}) ==
        aligned({{"ENDPOINT", "STATUS", "OUTLIER CHECK", "CLUSTER"},
                 {"10.1.0.7:5000", "HEALTHY", "OK", hw},
                 {"47.100.1.2:15443", "HEALTHY", "FAILED", hw},
                 {"unix:///sock/mixer.socket", "UNHEALTHY", "OK", "inbound_9092"}},
                5));
  CHECK(endpoints_summary(*statuses, {}, wide) ==
        aligned({{"ENDPOINT", "STATUS", "OUTLIER CHECK", "LOCALITY", "PRIORITY", "CLUSTER"},
                 {"10.1.0.7:5000", "HEALTHY", "OK", "cn-shanghai/cn-shanghai-b", "0", hw},
                 {"47.100.1.2:15443", "HEALTHY", "FAILED", "cn-shanghai", "1", hw},
                 {"unix:///sock/mixer.socket", "UNHEALTHY", "OK", "", "0", "inbound_9092"}},
                5));

  // eds --address compares "ip:port" (istioctl's rule); endpoints --address the bare IP.
  EndpointFilter by_ip;
  by_ip.address = "47.100.1.2";
  CHECK(select_endpoint_configs(*configs, by_ip).empty());
  by_ip.address = "47.100.1.2:15443";
  CHECK(select_endpoint_configs(*configs, by_ip).size() == 1);
  EndpointFilter bare;
  bare.address = "47.100.1.2";
  CHECK(lines(endpoints_summary(*statuses, bare)).size() == 2);
}

TEST_CASE("endpoint helpers for verify", "[envoy][verify]") {
  const auto eds = bytes(k_eds);
  auto configs = read_endpoint_configs(eds);
  REQUIRE(configs);
  const auto from_eds = cluster_endpoints(
      *configs, outbound_cluster_name(5000, "", "helloworld.sample.svc.cluster.local"));
  REQUIRE(from_eds.size() == 2);
  CHECK(from_eds[0].address == "10.1.0.7:5000");
  CHECK(from_eds[0].priority == 0);
  CHECK(from_eds[0].workload == "helloworld-v2;sample;helloworld;v2;wuxi");
  CHECK(from_eds[1].ip == "47.100.1.2");
  CHECK(from_eds[1].port == 15443);
  CHECK(from_eds[1].priority == 1);
  CHECK(from_eds[1].weight == 3);
  CHECK(from_eds[1].health == "HEALTHY"); // numeric 1 in the dump
  CHECK(from_eds[1].locality == "cn-shanghai");
  CHECK(from_eds[1].workload == ";;;;cn-shanghai");

  const auto status = bytes(k_clusters);
  auto statuses = read_cluster_statuses(status);
  REQUIRE(statuses);
  const auto from_status =
      cluster_endpoints(*statuses, "outbound|5000||helloworld.sample.svc.cluster.local");
  REQUIRE(from_status.size() == 2);
  CHECK(from_status[0].priority == 0); // omitted by Envoy when 0
  CHECK(from_status[1].priority == 1);
  CHECK(from_status[1].outlier_failed);
  CHECK(from_status[1].weight == 3);
  CHECK(cluster_endpoints(*statuses, "nope").empty());
}

TEST_CASE("cluster summary: subset keys, destination rules, states", "[envoy][clusters]") {
  const auto d =
      bytes(R"({"configs": [{"static_clusters": [{"cluster": {"name": "agent", "type": "STATIC"}}],
   "dynamic_active_clusters": [
    {"cluster": {"name": "outbound|5000|v2|helloworld.sample.svc.cluster.local", "type": 3,
      "metadata": {"filter_metadata": {"istio": {"config": "/apis/networking.istio.io/v1alpha3/namespaces/sample/destination-rule/helloworld"}}}}},
    {"cluster": {"name": "outbound|5000||helloworld.sample.svc.cluster.local", "type": "EDS",
      "metadata": {"filterMetadata": {"istio": {"config": "/apis/other/x"}}}}},
    {"cluster": {"name": "BlackHoleCluster", "cluster_type": {"name": "x"}}}],
   "dynamic_warming_clusters": [{"cluster": {"name": "warming", "type": "EDS"}}]}]})");
  auto clusters = read_clusters(d);
  REQUIRE(clusters);
  CHECK(cluster_summary(select_clusters(*clusters, {})) ==
        "SERVICE FQDN                            PORT     SUBSET     DIRECTION     TYPE       "
        "DESTINATION RULE\n"
        "BlackHoleCluster                        -        -          -             STATIC     \n"
        "agent                                   -        -          -             STATIC     \n"
        "helloworld.sample.svc.cluster.local     5000     -          outbound      EDS        "
        "<unknown>\n"
        "helloworld.sample.svc.cluster.local     5000     v2         outbound      EDS        "
        "helloworld.sample\n");
  ClusterFilter subset;
  subset.subset = "v2";
  CHECK(select_clusters(*clusters, subset).size() == 1);
  ClusterFilter port;
  port.port = 5000;
  CHECK(select_clusters(*clusters, port).size() == 2);

  const auto key = safely_parse_subset_key("outbound_.5000_.v1_.h.s.svc.cluster.local|x|y|z");
  CHECK(key.direction == "outbound");
  CHECK(key.port == 5000);
  CHECK(key.subset == "v1");
}

TEST_CASE("errors name the file, line, column and JSON path", "[envoy][errors]") {
  const auto truncated =
      bytes("{\"configs\": [\n  {\"dynamic_listeners\": [\n    {\"active_state\": "
            "{\"listener\": {\"address\": {\"socket_address\": {\"port_value\": x");
  auto r = read_listeners(truncated, {});
  REQUIRE_FALSE(r);
  const std::string msg = r.error().message();
  CHECK(msg.find("test.json: line 3, column") != std::string::npos);
  CHECK(msg.find("configs[0].dynamic_listeners[0].active_state.listener.address") !=
        std::string::npos);
  CHECK_FALSE(r.error().hint().empty());

  auto not_listeners = read_listeners(bytes(R"({"configs": [{"static_clusters": []}]})"), {});
  REQUIRE_FALSE(not_listeners);
  CHECK(not_listeners.error().message().find("no listeners") != std::string::npos);

  auto html = read_listeners(bytes("<html>upstream connect error</html>"), {});
  REQUIRE_FALSE(html);
  CHECK(html.error().message().find("line 1, column 1") != std::string::npos);

  auto no_eds = read_endpoint_configs(bytes(R"({"configs": []})"));
  REQUIRE_FALSE(no_eds);
  CHECK(no_eds.error().hint().find("include_eds") != std::string::npos);

  auto wrong = read_cluster_statuses(bytes(R"({"configs": []})"));
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().hint().find("proxy-config eds") != std::string::npos);
}

TEST_CASE("invalid UTF-8 in a dump's strings is printed as Go prints it, U+FFFD per byte",
          "[envoy][json]") {
  // The fuzzer found `-o yaml` failing with an internal error on such a dump.
  CHECK(go_json_quote("ok \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") ==
        "\"ok \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  CHECK(go_json_quote("a\xFF"
                      "b\xC3") == "\"a\\ufffdb\\ufffd\"");
  CHECK(go_json_quote("\xC0\xAF\xED\xA0\x80") == "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"");
  const std::string message = "{\"name\": \"is\xFFtio\"}";
  const std::string json = protojson_array({message});
  CHECK(json.find("is\\ufffdtio") != std::string::npos);
  CHECK(json_to_yaml(json).find("name: is\xEF\xBF\xBDtio") != std::string::npos);
}

TEST_CASE("protojson output keeps map and Struct keys, sorts them, escapes as Go",
          "[envoy][json]") {
  const std::string message = R"({"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
    "name": "a<b>&c", "connect_timeout": "10s",
    "metadata": {"filter_metadata": {"istio": {"services": [{"name": "x", "host": "h"}], "config": "c"}, "envoy.lb": {"z_key": 1.5}}},
    "typed_extension_protocol_options": {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {"@type": "t", "explicit_http_config": {"http2_protocol_options": {}}}},
    "transport_socket_matches": [{"name": "tlsMode-istio", "match": {"tlsMode": "istio", "a_b": true}}],
    "empty": [], "nothing": {}})";
  CHECK(protojson_array({message}) == R"([
    {
        "name": "a\u003cb\u003e\u0026c",
        "connectTimeout": "10s",
        "metadata": {
            "filterMetadata": {
                "envoy.lb": {
                    "z_key": 1.5
                },
                "istio": {
                    "config": "c",
                    "services": [
                        {
                            "host": "h",
                            "name": "x"
                        }
                    ]
                }
            }
        },
        "typedExtensionProtocolOptions": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "t",
                "explicitHttpConfig": {
                    "http2ProtocolOptions": {}
                }
            }
        },
        "transportSocketMatches": [
            {
                "name": "tlsMode-istio",
                "match": {
                    "a_b": true,
                    "tlsMode": "istio"
                }
            }
        ],
        "empty": [],
        "nothing": {}
    }
]
)");
  CHECK(protojson_array({}) == "[]\n");
  CHECK(
      json_to_yaml(
          R"([{"b": "*", "a": "true", "@type": "x", "n": 10, "s": "line1\nline2\n", "e": ""}])") ==
      "- '@type': x\n  a: \"true\"\n  b: '*'\n  e: \"\"\n  \"n\": 10\n  s: |\n    line1\n    "
      "line2\n\n");
}

TEST_CASE("YAML quotes strings that go-yaml would read back as another type", "[envoy][json]") {
  const std::string yaml = json_to_yaml(
      R"(["1_000", "0x1F", "1.5e3", ".5", "2024-01-01T00:00:00Z", "1:30", "10.244.0.1", "v1.2",
          "on", "Off", "~", "null", "a: b", "a #b", "- x", "-x", " lead", "x:y", "100%"])");
  CHECK(yaml == "- \"1_000\"\n- \"0x1F\"\n- \"1.5e3\"\n- \".5\"\n- \"2024-01-01T00:00:00Z\"\n"
                "- \"1:30\"\n- 10.244.0.1\n- v1.2\n- \"on\"\n- \"Off\"\n- \"~\"\n- \"null\"\n"
                "- 'a: b'\n- 'a #b'\n- '- x'\n- -x\n- ' lead'\n- x:y\n- 100%\n\n");
}

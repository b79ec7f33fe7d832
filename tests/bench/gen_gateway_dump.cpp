// Writes a synthetic config_dump of an east-west gateway in a big mesh, shaped like what Envoy's
// admin API returns (1-space indentation, snake_case, @type first): bootstrap, one SNI-DNAT
// cluster per service port and subset, the AUTO_PASSTHROUGH 0.0.0.0_15443 listener with one filter
// chain per such cluster (server_names, Istio's five ALPNs, istio.stats and a tcp_proxy with
// Istio's default access log, as on a gateway with meshConfig.accessLogFile set), the usual
// static listeners, and secrets.
//
// usage: meshctl_bench_gen_gateway OUTPUT [--services N] [--ports P] [--subsets S]
// Defaults: 10,000 services x 3 ports x 3 subsets ("", v1, v2) = 90,000 chains, about 300 MB.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

// Streams indented JSON the way Envoy pretty-prints it (one space per level).
class Out {
public:
  explicit Out(std::FILE* f) : m_f(f) {}
  void open(const char* key, char bracket) { // "key": { or [ ; key may be null in arrays
    item();
    if (key != nullptr) {
      quote(key);
      put(": ");
    }
    putc(bracket);
    m_first.push_back(true);
  }
  void close(char bracket) {
    const bool empty = m_first.back();
    m_first.pop_back();
    if (!empty) {
      newline();
    }
    putc(bracket); // Envoy writes empty objects and arrays as {} and []
  }
  void str(const char* key, const std::string& value) {
    item();
    quote(key);
    put(": ");
    quote(value);
  }
  void num(const char* key, long long value) {
    item();
    quote(key);
    std::fprintf(m_f, ": %lld", value);
  }
  void boolean(const char* key, bool value) {
    item();
    quote(key);
    put(value ? ": true" : ": false");
  }
  void elem(const std::string& value) {
    item();
    quote(value);
  }

private:
  void item() {
    if (!m_first.empty()) {
      if (!m_first.back()) {
        putc(',');
      }
      m_first.back() = false;
      newline();
    }
  }
  void newline() {
    putc('\n');
    for (std::size_t i = 0; i < m_first.size(); ++i) {
      putc(' ');
    }
  }
  void quote(const std::string& s) {
    putc('"');
    for (const char c : s) {
      if (c == '"' || c == '\\') {
        putc('\\');
        putc(c);
      } else if (c == '\n') {
        put("\\n");
      } else {
        putc(c);
      }
    }
    putc('"');
  }
  void put(const char* s) { std::fputs(s, m_f); }
  void putc(char c) { std::fputc(c, m_f); }

  std::FILE* m_f;
  std::vector<bool> m_first;
};

// Istio's default access log format (meshConfig.accessLogFile set, no custom format).
const char* const k_access_log_format =
    "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" "
    "%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "
    "\"%UPSTREAM_TRANSPORT_FAILURE_REASON%\" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
    "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" "
    "\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER% "
    "%UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% "
    "%REQUESTED_SERVER_NAME% %ROUTE_NAME%\n";

struct Target {
  std::string host;
  int port;
  std::string subset;
  [[nodiscard]] std::string sni() const {
    std::string out = "outbound_.";
    out += std::to_string(port);
    out += "_.";
    out += subset;
    out += "_.";
    out += host;
    return out;
  }
};

void static_listener(Out& o, int port, const char* cluster) {
  o.open(nullptr, '{');
  o.open("listener", '{');
  o.str("@type", "type.googleapis.com/envoy.config.listener.v3.Listener");
  o.open("address", '{');
  o.open("socket_address", '{');
  o.str("address", "0.0.0.0");
  o.num("port_value", port);
  o.close('}');
  o.close('}');
  o.open("filter_chains", '[');
  o.open(nullptr, '{');
  o.open("filters", '[');
  o.open(nullptr, '{');
  o.str("name", "envoy.filters.network.http_connection_manager");
  o.open("typed_config", '{');
  o.str("@type", "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager."
                 "v3.HttpConnectionManager");
  o.str("stat_prefix", cluster);
  o.open("route_config", '{');
  o.open("virtual_hosts", '[');
  o.open(nullptr, '{');
  o.str("name", "backend");
  o.open("domains", '[');
  o.elem("*");
  o.close(']');
  o.open("routes", '[');
  o.open(nullptr, '{');
  o.open("match", '{');
  o.str("prefix", port == 15090 ? "/stats/prometheus" : "/healthz/ready");
  o.close('}');
  o.open("route", '{');
  o.str("cluster", cluster);
  o.close('}');
  o.close('}');
  o.close(']');
  o.close('}');
  o.close(']');
  o.close('}');
  o.open("http_filters", '[');
  o.open(nullptr, '{');
  o.str("name", "envoy.filters.http.router");
  o.open("typed_config", '{');
  o.str("@type", "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router");
  o.close('}');
  o.close('}');
  o.close(']');
  o.close('}');
  o.close('}');
  o.close(']');
  o.close('}');
  o.close(']');
  o.close('}');
  o.str("last_updated", "2026-08-22T09:00:00.000Z");
  o.close('}');
}

void sni_chain(Out& o, const Target& t) {
  const std::string sni = t.sni();
  o.open(nullptr, '{');
  o.open("filter_chain_match", '{');
  o.open("server_names", '[');
  o.elem(sni);
  o.close(']');
  o.open("application_protocols", '[');
  for (const char* p :
       {"istio", "istio-peer-exchange", "istio-http/1.0", "istio-http/1.1", "istio-h2"}) {
    o.elem(p);
  }
  o.close(']');
  o.close('}');
  o.open("filters", '[');
  o.open(nullptr, '{');
  o.str("name", "istio.stats");
  o.open("typed_config", '{');
  o.str("@type", "type.googleapis.com/stats.PluginConfig");
  o.close('}');
  o.close('}');
  o.open(nullptr, '{');
  o.str("name", "envoy.filters.network.tcp_proxy");
  o.open("typed_config", '{');
  o.str("@type", "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy");
  o.str("stat_prefix", sni);
  o.str("cluster", sni);
  o.open("access_log", '[');
  o.open(nullptr, '{');
  o.str("name", "envoy.access_loggers.file");
  o.open("typed_config", '{');
  o.str("@type", "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog");
  o.str("path", "/dev/stdout");
  o.open("log_format", '{');
  o.open("text_format_source", '{');
  o.str("inline_string", k_access_log_format);
  o.close('}');
  o.close('}');
  o.close('}');
  o.close('}');
  o.close(']');
  o.close('}');
  o.close('}');
  o.close(']');
  o.close('}');
}

void sni_cluster(Out& o, const Target& t) {
  o.open(nullptr, '{');
  o.str("version_info", "2026-08-22T09:00:00Z/42");
  o.open("cluster", '{');
  o.str("@type", "type.googleapis.com/envoy.config.cluster.v3.Cluster");
  o.str("name", t.sni());
  o.str("type", "EDS");
  o.open("eds_cluster_config", '{');
  o.open("eds_config", '{');
  o.open("ads", '{');
  o.close('}');
  o.str("initial_fetch_timeout", "0s");
  o.str("resource_api_version", "V3");
  o.close('}');
  std::string service = "outbound|";
  service += std::to_string(t.port);
  service += "|";
  service += t.subset;
  service += "|";
  service += t.host;
  o.str("service_name", service);
  o.close('}');
  o.str("connect_timeout", "10s");
  o.open("circuit_breakers", '{');
  o.open("thresholds", '[');
  o.open(nullptr, '{');
  o.num("max_connections", 4294967295LL);
  o.num("max_pending_requests", 4294967295LL);
  o.num("max_requests", 4294967295LL);
  o.num("max_retries", 4294967295LL);
  o.boolean("track_remaining", true);
  o.close('}');
  o.close(']');
  o.close('}');
  o.open("metadata", '{');
  o.open("filter_metadata", '{');
  o.open("istio", '{');
  o.open("services", '[');
  o.open(nullptr, '{');
  o.str("host", t.host);
  o.str("name", t.host.substr(0, t.host.find('.')));
  o.str("namespace", t.host.substr(t.host.find('.') + 1,
                                   t.host.find('.', t.host.find('.') + 1) - t.host.find('.') - 1));
  o.close('}');
  o.close(']');
  o.close('}');
  o.close('}');
  o.close('}');
  o.close('}');
  o.str("last_updated", "2026-08-22T09:00:01.000Z");
  o.close('}');
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUTPUT [--services N] [--ports P] [--subsets S]\n", argv[0]);
    return 2;
  }
  int services = 10000;
  int ports = 3;
  int subsets = 3;
  for (int i = 2; i + 1 < argc; i += 2) {
    const int v = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--services") == 0) {
      services = v;
    } else if (std::strcmp(argv[i], "--ports") == 0) {
      ports = v;
    } else if (std::strcmp(argv[i], "--subsets") == 0) {
      subsets = v;
    }
  }
  std::vector<Target> targets;
  static const int k_ports[] = {80, 443, 5000, 8080, 9080, 9090, 15010, 15014};
  for (int s = 0; s < services; ++s) {
    std::string host = "svc-";
    host += std::to_string(s);
    host += ".team-";
    host += std::to_string(s % 97);
    host += ".svc.cluster.local";
    for (int p = 0; p < ports; ++p) {
      for (int v = 0; v < subsets; ++v) {
        std::string subset = v == 0 ? "" : "v";
        if (v != 0) {
          subset += std::to_string(v);
        }
        targets.push_back({host, k_ports[p % 8], subset});
      }
    }
  }

  std::FILE* f = std::fopen(argv[1], "w");
  if (f == nullptr) {
    std::perror(argv[1]);
    return 1;
  }
  static char buffer[1 << 20];
  std::setvbuf(f, buffer, _IOFBF, sizeof buffer);
  Out o(f);
  o.open(nullptr, '{');
  o.open("configs", '[');

  o.open(nullptr, '{');
  o.str("@type", "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump");
  o.open("bootstrap", '{');
  o.open("node", '{');
  o.str("id", "router~10.1.2.3~istio-eastwestgateway-7d9c5b8f6-x2k4q.istio-system~istio-system.svc."
              "cluster.local");
  o.str("cluster", "istio-eastwestgateway.istio-system");
  o.close('}');
  o.close('}');
  o.str("last_updated", "2026-08-22T09:00:00.000Z");
  o.close('}');

  o.open(nullptr, '{');
  o.str("@type", "type.googleapis.com/envoy.admin.v3.ClustersConfigDump");
  o.str("version_info", "2026-08-22T09:00:00Z/42");
  o.open("dynamic_active_clusters", '[');
  for (const auto& t : targets) {
    sni_cluster(o, t);
  }
  o.close(']');
  o.close('}');

  o.open(nullptr, '{');
  o.str("@type", "type.googleapis.com/envoy.admin.v3.ListenersConfigDump");
  o.str("version_info", "2026-08-22T09:00:00Z/42");
  o.open("static_listeners", '[');
  static_listener(o, 15090, "prometheus_stats");
  static_listener(o, 15021, "agent");
  o.close(']');
  o.open("dynamic_listeners", '[');
  o.open(nullptr, '{');
  o.str("name", "0.0.0.0_15443");
  o.open("active_state", '{');
  o.str("version_info", "2026-08-22T09:00:00Z/42");
  o.open("listener", '{');
  o.str("@type", "type.googleapis.com/envoy.config.listener.v3.Listener");
  o.str("name", "0.0.0.0_15443");
  o.open("address", '{');
  o.open("socket_address", '{');
  o.str("address", "0.0.0.0");
  o.num("port_value", 15443);
  o.close('}');
  o.close('}');
  o.open("filter_chains", '[');
  for (const auto& t : targets) {
    sni_chain(o, t);
  }
  o.close(']');
  o.open("listener_filters", '[');
  o.open(nullptr, '{');
  o.str("name", "envoy.filters.listener.tls_inspector");
  o.open("typed_config", '{');
  o.str("@type",
        "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector");
  o.close('}');
  o.close('}');
  o.close(']');
  o.str("traffic_direction", "OUTBOUND");
  o.close('}');
  o.str("last_updated", "2026-08-22T09:00:01.000Z");
  o.close('}');
  o.close('}');
  o.close(']');
  o.close('}');

  o.open(nullptr, '{');
  o.str("@type", "type.googleapis.com/envoy.admin.v3.SecretsConfigDump");
  o.close('}');

  o.close(']');
  o.close('}');
  std::fputc('\n', f);
  if (std::fclose(f) != 0) {
    std::perror(argv[1]);
    return 1;
  }
  std::fprintf(stderr, "%zu filter chains for %d services\n", targets.size(), services);
  return 0;
}

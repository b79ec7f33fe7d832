// Readers for config_dump and /clusters?format=json. Each one walks the document once with
// JsonReader, reads the handful of fields istioctl's summaries use (see istioctl's
// writer/envoy/configdump/{listener,cluster,endpoint}.go and writer/envoy/clusters/clusters.go)
// and skips everything else. Listener descriptions (MATCH, DESTINATION, TYPE) are computed while
// reading, so a filter chain costs a few short strings, not its JSON.

#include "envoy/config_dump.hpp"

#include "envoy/parse.hpp"
#include "envoy/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace meshctl::envoy {

namespace {

using Kind = JsonReader::Kind;

constexpr std::string_view k_hcm = "envoy.filters.network.http_connection_manager";
constexpr std::string_view k_hcm_legacy = "envoy.http_connection_manager"; // v2-era dumps
constexpr std::string_view k_tcp_proxy = "envoy.filters.network.tcp_proxy";
constexpr std::string_view k_tcp_proxy_legacy = "envoy.tcp_proxy";
constexpr std::string_view k_blackhole = "BlackHoleCluster";

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      out += sep;
    }
    out += parts[i];
  }
  return out;
}

// ---- addresses ------------------------------------------------------------------------------

struct AddressInfo {
  enum class Kind { k_none, k_socket, k_pipe, k_internal } kind = Kind::k_none;
  std::string address; // socket address
  std::uint32_t port = 0;
  std::string path; // pipe
  std::string server_listener_name;
  std::string endpoint_id;
};

AddressInfo read_address(JsonReader& r) {
  AddressInfo a;
  r.begin_object();
  std::string_view k;
  while (r.next_member(k)) {
    if (field_is(k, "socket_address")) {
      a.kind = AddressInfo::Kind::k_socket;
      r.begin_object();
      while (r.next_member(k)) {
        if (field_is(k, "address")) {
          a.address = r.take_string();
        } else if (field_is(k, "port_value")) {
          a.port = static_cast<std::uint32_t>(r.read_uint());
        } else {
          r.skip_value();
        }
      }
    } else if (field_is(k, "pipe")) {
      a.kind = AddressInfo::Kind::k_pipe;
      r.begin_object();
      while (r.next_member(k)) {
        if (field_is(k, "path")) {
          a.path = r.take_string();
        } else {
          r.skip_value();
        }
      }
    } else if (field_is(k, "envoy_internal_address")) {
      a.kind = AddressInfo::Kind::k_internal;
      r.begin_object();
      while (r.next_member(k)) {
        if (field_is(k, "server_listener_name")) {
          a.server_listener_name = r.take_string();
        } else if (field_is(k, "endpoint_id")) {
          a.endpoint_id = r.take_string();
        } else {
          r.skip_value();
        }
      }
    } else {
      r.skip_value();
    }
  }
  return a;
}

// ---- listeners: inline routes --------------------------------------------------------------

struct RouteSummary {
  std::string prefix;
  std::string path;
  std::string path_separated_prefix;
  std::string regex;
  bool has_regex = false;
  bool is_route_action = false; // action is "route" (not redirect, direct_response, ...)
  bool has_cluster = false;     // ... with the "cluster" specifier
  std::string cluster;
};

struct VirtualHostSummary {
  std::vector<std::string> domains;
  std::vector<RouteSummary> routes;
};

RouteSummary read_route(JsonReader& r) {
  RouteSummary s;
  r.begin_object();
  std::string_view k;
  while (r.next_member(k)) {
    if (field_is(k, "match")) {
      r.begin_object();
      while (r.next_member(k)) {
        if (field_is(k, "prefix")) {
          s.prefix = r.take_string();
        } else if (field_is(k, "path")) {
          s.path = r.take_string();
        } else if (field_is(k, "path_separated_prefix")) {
          s.path_separated_prefix = r.take_string();
        } else if (field_is(k, "safe_regex")) {
          s.has_regex = true;
          r.begin_object();
          while (r.next_member(k)) {
            if (field_is(k, "regex")) {
              s.regex = r.take_string();
            } else {
              r.skip_value();
            }
          }
        } else {
          r.skip_value();
        }
      }
    } else if (field_is(k, "route")) {
      s.is_route_action = true;
      r.begin_object();
      while (r.next_member(k)) {
        if (field_is(k, "cluster")) {
          s.has_cluster = true;
          s.cluster = r.take_string();
        } else {
          r.skip_value();
        }
      }
    } else {
      r.skip_value();
    }
  }
  return s;
}

std::vector<VirtualHostSummary> read_route_config(JsonReader& r) {
  std::vector<VirtualHostSummary> vhosts;
  r.begin_object();
  std::string_view k;
  while (r.next_member(k)) {
    if (!field_is(k, "virtual_hosts")) {
      r.skip_value();
      continue;
    }
    for_each_element(r, [&](std::size_t) {
      VirtualHostSummary vh;
      r.begin_object();
      std::string_view vk;
      while (r.next_member(vk)) {
        if (field_is(vk, "domains")) {
          vh.domains = read_string_array(r);
        } else if (field_is(vk, "routes")) {
          for_each_element(r, [&](std::size_t) { vh.routes.push_back(read_route(r)); });
        } else {
          r.skip_value();
        }
      }
      vhosts.push_back(std::move(vh));
    });
  }
  return vhosts;
}

std::string describe_match(const RouteSummary& m) {
  std::vector<std::string> conds;
  if (!m.prefix.empty()) {
    conds.push_back(m.prefix + "*");
  }
  if (!m.path_separated_prefix.empty()) {
    conds.push_back("PathPrefix:" + m.path_separated_prefix);
  }
  if (!m.path.empty()) {
    conds.push_back(m.path);
  }
  if (m.has_regex) {
    conds.push_back("regex " + m.regex);
  }
  return join(conds, " ");
}

std::string describe_route_config(const std::vector<VirtualHostSummary>& vhosts) {
  // A route that matches everything and forwards to one cluster is shown as that cluster.
  if (vhosts.size() == 1 && vhosts[0].domains == std::vector<std::string>{"*"} &&
      vhosts[0].routes.size() == 1 && vhosts[0].routes[0].prefix == "/" &&
      vhosts[0].routes[0].is_route_action && vhosts[0].routes[0].has_cluster) {
    const std::string& cluster = vhosts[0].routes[0].cluster;
    if (cluster.find("Cluster") != std::string::npos) {
      return cluster;
    }
    return "Cluster: " + cluster;
  }
  std::vector<std::string> parts;
  for (const auto& vh : vhosts) {
    std::vector<std::string> routes;
    routes.reserve(vh.routes.size());
    for (const auto& route : vh.routes) {
      routes.push_back(describe_match(route));
    }
    const std::string described = join(routes, ", ");
    const bool any_domain = vh.domains.size() == 1 && vh.domains[0] == "*";
    if (any_domain) {
      parts.push_back(described);
    } else {
      parts.push_back(join(vh.domains, "/") + " " + described);
    }
  }
  return "Inline Route: " + join(parts, "; ");
}

// ---- listeners: filters and chains ---------------------------------------------------------

struct TypedConfigSummary {
  bool has_route_config = false;
  std::string route_description;
  std::string rds_name;
  std::string cluster;
  bool blackhole = false; // istioctl: the serialized tcp_proxy config mentions BlackHoleCluster
};

void note_blackhole(TypedConfigSummary& s, std::string_view value) {
  if (value.find(k_blackhole) != std::string_view::npos) {
    s.blackhole = true;
  }
}

TypedConfigSummary read_typed_config(JsonReader& r) {
  TypedConfigSummary s;
  r.begin_object();
  std::string_view k;
  while (r.next_member(k)) {
    if (field_is(k, "route_config")) {
      s.has_route_config = true;
      s.route_description =
          in_member("route_config", [&] { return describe_route_config(read_route_config(r)); });
    } else if (field_is(k, "rds")) {
      r.begin_object();
      while (r.next_member(k)) {
        if (field_is(k, "route_config_name")) {
          s.rds_name = r.take_string();
        } else {
          r.skip_value();
        }
      }
    } else if (field_is(k, "cluster") && r.peek() == Kind::k_string) {
      s.cluster.assign(r.read_string());
      note_blackhole(s, s.cluster);
    } else if (field_is(k, "stat_prefix") && r.peek() == Kind::k_string) {
      note_blackhole(s, r.read_string());
    } else if (field_is(k, "weighted_clusters")) {
      r.begin_object();
      while (r.next_member(k)) {
        if (!field_is(k, "clusters")) {
          r.skip_value();
          continue;
        }
        for_each_element(r, [&](std::size_t) {
          r.begin_object();
          std::string_view ck;
          while (r.next_member(ck)) {
            if (field_is(ck, "name")) {
              note_blackhole(s, r.read_scalar_text());
            } else {
              r.skip_value();
            }
          }
        });
      }
    } else {
      r.skip_value();
    }
  }
  return s;
}

struct FilterSummary {
  enum class Kind { k_other, k_http, k_tcp } kind = Kind::k_other;
  bool counts_as_tcp = false;
  std::string destination;
  std::string cluster;
};

// `name` is scratch space reused across filters (a filter name rarely fits a short string).
FilterSummary read_filter(JsonReader& r, std::string& name) {
  name.clear();
  TypedConfigSummary config;
  r.begin_object();
  std::string_view k;
  while (r.next_member(k)) {
    if (k == "name") {
      name.assign(r.read_string());
    } else if (field_is(k, "typed_config") || k == "config") {
      const bool known = !name.empty();
      const bool wanted = name == k_hcm || name == k_hcm_legacy || name == k_tcp_proxy ||
                          name == k_tcp_proxy_legacy;
      if (known && !wanted) {
        r.skip_value(); // istio.stats, metadata exchange, ...: nothing to show
      } else {
        config = in_member("typed_config", [&] { return read_typed_config(r); });
      }
    } else {
      r.skip_value();
    }
  }
  FilterSummary f;
  if (name == k_hcm || name == k_hcm_legacy) {
    f.kind = FilterSummary::Kind::k_http;
    if (config.has_route_config) {
      f.destination = config.route_description;
    } else if (!config.rds_name.empty()) {
      f.destination = "Route: " + config.rds_name;
    } else {
      f.destination = "HTTP";
    }
  } else if (name == k_tcp_proxy || name == k_tcp_proxy_legacy) {
    f.kind = FilterSummary::Kind::k_tcp;
    f.counts_as_tcp = !config.blackhole;
    f.cluster = config.cluster;
    if (config.cluster.find("Cluster") != std::string::npos) {
      f.destination = config.cluster;
    } else {
      f.destination.reserve(9 + config.cluster.size());
      f.destination.append("Cluster: ").append(config.cluster);
    }
  }
  return f;
}

// Reused from chain to chain: on a gateway with 100,000 chains the ALPN lists alone would cost half
// a million allocations.
struct ChainMatch {
  std::vector<std::string> server_names;
  std::string transport_protocol;
  std::vector<std::string> alpn_storage;
  std::size_t alpn_count = 0;
  bool has_destination_port = false;
  std::uint64_t destination_port = 0;
  std::vector<std::string> prefix_ranges; // "10.0.0.0/8"

  void reset() {
    server_names.clear();
    transport_protocol.clear();
    alpn_count = 0;
    has_destination_port = false;
    destination_port = 0;
    prefix_ranges.clear();
  }
  [[nodiscard]] bool alpn_equals(const std::vector<std::string>& protocols) const {
    return alpn_count == protocols.size() &&
           std::equal(protocols.begin(), protocols.end(), alpn_storage.begin());
  }
};

void read_chain_match(JsonReader& r, ChainMatch& m) {
  r.begin_object();
  std::string_view k;
  while (r.next_member(k)) {
    if (field_is(k, "server_names")) {
      m.server_names = read_string_array(r);
    } else if (field_is(k, "transport_protocol")) {
      m.transport_protocol = r.take_string();
    } else if (field_is(k, "application_protocols")) {
      r.begin_array();
      while (r.next_element()) {
        const std::string_view p = r.read_string();
        if (m.alpn_count < m.alpn_storage.size()) {
          m.alpn_storage[m.alpn_count].assign(p);
        } else {
          m.alpn_storage.emplace_back(p);
        }
        ++m.alpn_count;
      }
    } else if (field_is(k, "destination_port")) {
      m.has_destination_port = true;
      m.destination_port = r.read_uint();
    } else if (field_is(k, "prefix_ranges")) {
      for_each_element(r, [&](std::size_t) {
        std::string prefix;
        std::uint64_t len = 0;
        r.begin_object();
        std::string_view pk;
        while (r.next_member(pk)) {
          if (field_is(pk, "address_prefix")) {
            prefix = r.take_string();
          } else if (field_is(pk, "prefix_len")) {
            len = r.read_uint();
          } else {
            r.skip_value();
          }
        }
        m.prefix_ranges.push_back(prefix + "/" + std::to_string(len));
      });
    } else {
      r.skip_value();
    }
  }
}

std::string describe_chain_match(const ChainMatch& m) {
  // istioctl compares the ALPN list with these (in a Go map, but at most one can be equal).
  static const std::array<std::pair<std::string_view, std::vector<std::string>>, 4> k_known = {{
      {"App: HTTP TLS",
       {"http/1.0", "http/1.1", "h2c", "istio-http/1.0", "istio-http/1.1", "istio-h2"}},
      {"App: Istio HTTP Plain", {"istio", "istio-http/1.0", "istio-http/1.1", "istio-h2"}},
      {"App: TCP TLS", {"istio-peer-exchange", "istio"}},
      {"App: HTTP", {"http/1.0", "http/1.1", "h2c"}},
  }};
  std::string out;
  out.reserve(160);
  const auto add = [&out](std::string_view part) {
    if (!out.empty()) {
      out += "; ";
    }
    out += part;
  };
  if (!m.server_names.empty()) {
    add("SNI: " + join(m.server_names, ","));
  }
  if (!m.transport_protocol.empty()) {
    add("Trans: " + m.transport_protocol);
  }
  if (m.alpn_count > 0) {
    bool found = false;
    for (const auto& [label, protocols] : k_known) {
      if (m.alpn_equals(protocols)) {
        add(label);
        found = true;
        break;
      }
    }
    if (!found) {
      std::string app = "App: ";
      for (std::size_t i = 0; i < m.alpn_count; ++i) {
        app += (i > 0 ? "," : "") + m.alpn_storage[i];
      }
      add(app);
    }
  }
  const std::string port =
      m.has_destination_port ? cat({":", std::to_string(m.destination_port)}) : std::string();
  if (!m.prefix_ranges.empty()) {
    add("Addr: " + join(m.prefix_ranges, ",") + port);
  } else if (!port.empty()) {
    add("Addr: *" + port);
  }
  if (out.empty()) {
    out = "ALL";
  }
  return out;
}

struct TypeCounts {
  int http = 0;
  int tcp = 0;
};

// `match` and `name` are scratch space reused across chains.
FilterChainInfo read_chain(JsonReader& r, bool is_default, TypeCounts& counts, ChainMatch& match,
                           std::string& name) {
  FilterChainInfo c;
  c.is_default = is_default;
  match.reset();
  bool have_destination = false;
  r.begin_object();
  std::string_view k;
  while (r.next_member(k)) {
    if (field_is(k, "filter_chain_match")) {
      in_member("filter_chain_match", [&] { read_chain_match(r, match); });
    } else if (field_is(k, "filters")) {
      in_member("filters", [&] {
        for_each_element(r, [&](std::size_t) {
          FilterSummary f = read_filter(r, name);
          if (f.kind == FilterSummary::Kind::k_http) {
            ++counts.http;
          } else if (f.counts_as_tcp) {
            ++counts.tcp;
          }
          // The first HTTP filter, or TCP proxy not to the black hole, names the destination.
          if (!have_destination && (f.kind == FilterSummary::Kind::k_http || f.counts_as_tcp)) {
            c.destination = std::move(f.destination);
            c.tcp_cluster = std::move(f.cluster);
            have_destination = true;
          }
        });
      });
    } else {
      r.skip_value();
    }
  }
  if (!have_destination) {
    c.destination = "Non-HTTP/Non-TCP";
  }
  c.match = describe_chain_match(match);
  c.server_names = std::move(match.server_names);
  return c;
}

std::string listener_type(const TypeCounts& c) {
  if (c.http > 0) {
    return c.tcp == 0 ? "HTTP" : "HTTP+TCP";
  }
  return c.tcp > 0 ? "TCP" : "UNKNOWN";
}

bool listener_matches(const ListenerInfo& l, const ListenerFilter& f) {
  if (!f.address.empty()) {
    bool found = iequals(l.address, f.address);
    for (const auto& a : l.additional_addresses) {
      found = found || iequals(a, f.address);
    }
    if (!found) {
      return false;
    }
  }
  if (f.port != 0 && l.port != f.port) {
    return false;
  }
  return f.type.empty() || iequals(l.type, f.type);
}

class ListenerParser {
public:
  ListenerParser(JsonReader& r, const ListenerFilter& filter, const ReadOptions& options)
      : m_r(r), m_filter(filter), m_options(options) {}

  // dynamic_listeners: [{name, active_state: {listener}, warming_state, draining_state}]
  void dynamic_listeners() {
    for_each_element(m_r, [&](std::size_t) {
      m_r.begin_object();
      std::string_view k;
      while (m_r.next_member(k)) {
        const auto state = field_is(k, "active_state")     ? ConfigState::k_active
                           : field_is(k, "warming_state")  ? ConfigState::k_warming
                           : field_is(k, "draining_state") ? ConfigState::k_draining
                                                           : ConfigState::k_static;
        if (state == ConfigState::k_static) {
          m_r.skip_value();
          continue;
        }
        in_member(k == "active_state" || k == "activeState" ? "active_state" : "state",
                  [&] { wrapped_listener(state, m_dynamic); });
      }
    });
  }

  // static_listeners: [{listener}]; v2 dynamic_{active,warming,draining}_listeners alike.
  void wrapped_listeners(ConfigState state) {
    for_each_element(m_r, [&](std::size_t) {
      wrapped_listener(state, state == ConfigState::k_static ? m_static : m_dynamic);
    });
  }

  std::vector<ListenerInfo> take() {
    std::vector<ListenerInfo> out = std::move(m_dynamic);
    for (auto& l : m_static) {
      out.push_back(std::move(l));
    }
    return out;
  }

  [[nodiscard]] std::size_t total() const { return m_total; }

private:
  void wrapped_listener(ConfigState state, std::vector<ListenerInfo>& into) {
    m_r.begin_object();
    std::string_view k;
    while (m_r.next_member(k)) {
      if (k == "listener") {
        in_member("listener", [&] { listener(state, into); });
      } else {
        m_r.skip_value();
      }
    }
  }

  void listener(ConfigState state, std::vector<ListenerInfo>& into) {
    ListenerInfo l;
    l.state = state;
    TypeCounts counts;
    bool address_known = false;
    const std::size_t start = m_r.value_start();
    if (m_options.keep_raw) {
      m_r.pin(start);
    }
    const auto other_port = [&] {
      return m_filter.port != 0 && address_known && l.port != m_filter.port;
    };
    m_r.begin_object();
    std::string_view k;
    while (m_r.next_member(k)) {
      if (k == "name") {
        l.name = m_r.take_string();
      } else if (k == "address") {
        const AddressInfo a = in_member("address", [&] { return read_address(m_r); });
        l.address = a.kind == AddressInfo::Kind::k_pipe ? a.path : a.address;
        l.port = a.kind == AddressInfo::Kind::k_socket ? a.port : 0;
        address_known = true;
      } else if (field_is(k, "additional_addresses")) {
        for_each_element(m_r, [&](std::size_t) {
          m_r.begin_object();
          std::string_view ak;
          while (m_r.next_member(ak)) {
            if (ak == "address") {
              l.additional_addresses.push_back(read_address(m_r).address);
            } else {
              m_r.skip_value();
            }
          }
        });
      } else if (field_is(k, "filter_chains")) {
        if (other_port()) {
          m_r.skip_value(); // the fast path: a 200 MB gateway's other listeners cost a skip
          continue;
        }
        in_member("filter_chains", [&] {
          for_each_element(m_r, [&](std::size_t) {
            l.chains.push_back(read_chain(m_r, false, counts, m_match, m_name));
          });
        });
      } else if (field_is(k, "default_filter_chain")) {
        if (other_port()) {
          m_r.skip_value();
          continue;
        }
        in_member("default_filter_chain",
                  [&] { m_default = read_chain(m_r, true, counts, m_match, m_name); });
        m_has_default = true;
      } else {
        m_r.skip_value();
      }
    }
    if (m_has_default) {
      l.chains.push_back(std::move(m_default));
      m_has_default = false;
    }
    ++m_total;
    l.type = listener_type(counts);
    if (m_options.keep_raw) {
      m_r.unpin();
    }
    if (!listener_matches(l, m_filter)) {
      return;
    }
    if (m_options.keep_raw) {
      l.raw = std::string(m_r.slice(start, m_r.position()));
    }
    into.push_back(std::move(l));
  }

  JsonReader& m_r;
  const ListenerFilter& m_filter;
  const ReadOptions& m_options;
  std::vector<ListenerInfo> m_dynamic;
  std::vector<ListenerInfo> m_static;
  FilterChainInfo m_default;
  bool m_has_default = false;
  ChainMatch m_match;
  std::string m_name;
  std::size_t m_total = 0;
};

// ---- metadata ------------------------------------------------------------------------------

// Reads metadata {filter_metadata: {istio: {<field>: "..."}}} and returns that field.
std::string read_istio_metadata_field(JsonReader& r, std::string_view field) {
  std::string value;
  r.begin_object();
  std::string_view k;
  while (r.next_member(k)) {
    if (!field_is(k, "filter_metadata")) {
      r.skip_value();
      continue;
    }
    r.begin_object();
    while (r.next_member(k)) {
      if (k != "istio") {
        r.skip_value();
        continue;
      }
      r.begin_object();
      while (r.next_member(k)) {
        if (k == field && r.peek() == Kind::k_string) {
          value = r.take_string();
        } else {
          r.skip_value();
        }
      }
    }
  }
  return value;
}

// istioctl's renderConfig: "/apis/networking.istio.io/v1alpha3/namespaces/NS/destination-rule/N".
std::string render_config_path(std::string_view path) {
  constexpr std::string_view k_prefix = "/apis/networking.istio.io/v1alpha3/namespaces/";
  if (path.empty()) {
    return "";
  }
  if (path.substr(0, k_prefix.size()) != k_prefix) {
    return "<unknown>";
  }
  std::vector<std::string_view> pieces;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = path.find('/', start);
    pieces.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) {
      break;
    }
    start = slash + 1;
  }
  if (pieces.size() != 8) {
    return "";
  }
  return std::string(pieces[7]) + "." + std::string(pieces[5]);
}

std::string cluster_type_name(JsonReader& r) {
  static constexpr std::array<std::string_view, 5> k_names = {"STATIC", "STRICT_DNS", "LOGICAL_DNS",
                                                              "EDS", "ORIGINAL_DST"};
  if (r.peek() == Kind::k_string) {
    return r.take_string();
  }
  const std::uint64_t v = r.read_uint();
  return v < k_names.size() ? std::string(k_names[v]) : std::to_string(v);
}

Locality read_locality(JsonReader& r) {
  Locality l;
  r.begin_object();
  std::string_view k;
  while (r.next_member(k)) {
    if (k == "region") {
      l.region = r.take_string();
    } else if (k == "zone") {
      l.zone = r.take_string();
    } else if (field_is(k, "sub_zone")) {
      l.sub_zone = r.take_string();
    } else {
      r.skip_value();
    }
  }
  return l;
}

std::string read_health(JsonReader& r) {
  if (r.peek() == Kind::k_string) {
    return r.take_string();
  }
  return health_status_name(r.read_uint());
}

// ---- EDS -----------------------------------------------------------------------------------

LbEndpointInfo read_lb_endpoint(JsonReader& r) {
  LbEndpointInfo e;
  AddressInfo primary;
  std::vector<AddressInfo> additional;
  r.begin_object();
  std::string_view k;
  while (r.next_member(k)) {
    if (k == "endpoint") {
      r.begin_object();
      std::string_view ek;
      while (r.next_member(ek)) {
        if (ek == "address") {
          primary = read_address(r);
        } else if (field_is(ek, "additional_addresses")) {
          for_each_element(r, [&](std::size_t) {
            r.begin_object();
            std::string_view ak;
            while (r.next_member(ak)) {
              if (ak == "address") {
                additional.push_back(read_address(r));
              } else {
                r.skip_value();
              }
            }
          });
        } else {
          r.skip_value();
        }
      }
    } else if (field_is(k, "health_status")) {
      e.health = read_health(r);
    } else if (k == "metadata") {
      e.workload = read_istio_metadata_field(r, "workload");
    } else if (field_is(k, "load_balancing_weight")) {
      e.weight = static_cast<std::uint32_t>(r.read_uint());
    } else {
      r.skip_value();
    }
  }
  // istioctl lists the address, then the additional addresses.
  for (std::size_t i = 0; i <= additional.size(); ++i) {
    const AddressInfo& a = i == 0 ? primary : additional[i - 1];
    switch (a.kind) {
    case AddressInfo::Kind::k_socket:
      e.addresses.push_back(a.address + ":" + std::to_string(a.port));
      break;
    case AddressInfo::Kind::k_pipe:
      e.addresses.push_back(a.path);
      break;
    case AddressInfo::Kind::k_internal:
      e.addresses.push_back(a.server_listener_name.empty()
                                ? "unknown"
                                : "envoy://" + a.server_listener_name + "/" + a.endpoint_id);
      break;
    case AddressInfo::Kind::k_none:
      e.addresses.emplace_back("unknown");
      break;
    }
    if (i == 0 && a.kind == AddressInfo::Kind::k_socket) {
      e.ip = a.address;
      e.port = a.port;
    }
  }
  return e;
}

ClusterLoadAssignmentInfo read_cla(JsonReader& r, bool keep_raw) {
  ClusterLoadAssignmentInfo cla;
  const std::size_t start = r.value_start();
  r.begin_object();
  std::string_view k;
  while (r.next_member(k)) {
    if (field_is(k, "cluster_name")) {
      cla.cluster_name = r.take_string();
    } else if (k == "endpoints") {
      in_member("endpoints", [&] {
        for_each_element(r, [&](std::size_t) {
          LocalityGroup g;
          r.begin_object();
          std::string_view gk;
          while (r.next_member(gk)) {
            if (gk == "locality") {
              g.locality = read_locality(r);
            } else if (field_is(gk, "lb_endpoints")) {
              in_member("lb_endpoints", [&] {
                for_each_element(r, [&](std::size_t i) {
                  g.endpoints.push_back(read_lb_endpoint(r));
                  g.endpoints.back().raw_index = i;
                });
              });
            } else if (gk == "priority") {
              g.priority = static_cast<std::uint32_t>(r.read_uint());
            } else if (field_is(gk, "load_balancing_weight")) {
              g.weight = static_cast<std::uint32_t>(r.read_uint());
            } else {
              r.skip_value();
            }
          }
          cla.groups.push_back(std::move(g));
        });
      });
    } else {
      r.skip_value();
    }
  }
  if (keep_raw) {
    cla.raw = std::string(r.slice(start, r.position()));
  }
  return cla;
}

HostStatusInfo read_host_status(JsonReader& r) {
  HostStatusInfo h;
  r.begin_object();
  std::string_view k;
  while (r.next_member(k)) {
    if (k == "address") {
      const AddressInfo a = read_address(r);
      if (a.kind == AddressInfo::Kind::k_socket) {
        h.address = a.address;
        h.port = a.port;
      } else {
        h.address = "unix://" + a.path;
      }
    } else if (field_is(k, "health_status")) {
      r.begin_object();
      std::string_view hk;
      while (r.next_member(hk)) {
        if (field_is(hk, "eds_health_status")) {
          h.health = read_health(r);
        } else if (field_is(hk, "failed_outlier_check")) {
          h.failed_outlier_check = r.read_bool();
        } else {
          r.skip_value();
        }
      }
    } else if (k == "priority") {
      h.priority = static_cast<std::uint32_t>(r.read_uint());
    } else if (k == "weight") {
      h.weight = static_cast<std::uint32_t>(r.read_uint());
    } else if (k == "locality") {
      h.locality = read_locality(r);
    } else if (k == "hostname") {
      h.hostname = r.take_string();
    } else {
      r.skip_value();
    }
  }
  return h;
}

} // namespace

std::string health_status_name(std::uint64_t v) {
  static constexpr std::array<std::string_view, 6> k_names = {"UNKNOWN",  "HEALTHY", "UNHEALTHY",
                                                              "DRAINING", "TIMEOUT", "DEGRADED"};
  return v < k_names.size() ? std::string(k_names[v]) : std::to_string(v);
}

std::string locality_string(const Locality& l) {
  std::string out = l.region;
  if (l.zone.empty()) {
    return out;
  }
  out += "/" + l.zone;
  if (l.sub_zone.empty()) {
    return out;
  }
  return out + "/" + l.sub_zone;
}

SubsetKey safely_parse_subset_key(std::string_view name) {
  SubsetKey key;
  if (std::count(name.begin(), name.end(), '|') < 3) {
    key.host = std::string(name);
    return key;
  }
  // model.ParseSubsetKey: "dir|port|subset|host", or the SRV form "outbound_.port_.subset_.host".
  const std::string_view sep =
      name.substr(0, 9) == "outbound_" || name.substr(0, 8) == "inbound_" ? "_." : "|";
  std::string_view rest = name;
  const auto cut = [&rest, sep](std::string_view& part) {
    const std::size_t at = rest.find(sep);
    if (at == std::string_view::npos) {
      return false;
    }
    part = rest.substr(0, at);
    rest = rest.substr(at + sep.size());
    return true;
  };
  std::string_view part;
  if (!cut(part)) {
    return key;
  }
  key.direction = std::string(part);
  if (!cut(part)) {
    return key;
  }
  int port = 0;
  const auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), port);
  key.port = ec == std::errc() && ptr == part.data() + part.size() ? port : 0;
  if (!cut(part)) {
    return key;
  }
  key.subset = std::string(part);
  if (rest.find(sep) == std::string_view::npos) { // no separator may remain in the host
    key.host = std::string(rest);
  }
  return key;
}

Result<std::vector<ListenerInfo>>
read_listeners(const DumpBytes& dump, const ListenerFilter& filter, const ReadOptions& options) {
  std::size_t total = 0;
  auto listeners = parse_dump<std::vector<ListenerInfo>>(dump, [&](JsonReader& r) {
    ListenerParser p(r, filter, options);
    walk_config_dump(r, [&](std::string_view key) {
      if (field_is(key, "dynamic_listeners")) {
        in_member("dynamic_listeners", [&] { p.dynamic_listeners(); });
      } else if (field_is(key, "static_listeners")) {
        in_member("static_listeners", [&] { p.wrapped_listeners(ConfigState::k_static); });
      } else if (field_is(key, "dynamic_active_listeners")) {
        in_member("dynamic_active_listeners", [&] { p.wrapped_listeners(ConfigState::k_active); });
      } else if (field_is(key, "dynamic_warming_listeners")) {
        in_member("dynamic_warming_listeners",
                  [&] { p.wrapped_listeners(ConfigState::k_warming); });
      } else if (field_is(key, "dynamic_draining_listeners")) {
        in_member("dynamic_draining_listeners",
                  [&] { p.wrapped_listeners(ConfigState::k_draining); });
      } else {
        return false;
      }
      return true;
    });
    total = p.total();
    return p.take();
  });
  if (listeners && total == 0) {
    return fail("no listeners found in " + dump.name(),
                "give a listener dump: `pilot-agent request GET "
                "'config_dump?mask=dynamic_listeners,static_listeners'` or a full config_dump");
  }
  return listeners;
}

Result<std::vector<ClusterInfo>> read_clusters(const DumpBytes& dump, const ReadOptions& options) {
  auto clusters = parse_dump<std::vector<ClusterInfo>>(dump, [&](JsonReader& r) {
    std::vector<ClusterInfo> dynamic;
    std::vector<ClusterInfo> warming;
    std::vector<ClusterInfo> statics;
    const auto wrapped = [&](ConfigState state, std::vector<ClusterInfo>& into) {
      for_each_element(r, [&](std::size_t) {
        r.begin_object();
        std::string_view k;
        while (r.next_member(k)) {
          if (k != "cluster") {
            r.skip_value();
            continue;
          }
          ClusterInfo c;
          c.state = state;
          c.type = "STATIC"; // the proto default, which Envoy may leave out
          const std::size_t start = r.value_start();
          r.begin_object();
          std::string_view ck;
          while (r.next_member(ck)) {
            if (ck == "name") {
              c.name = r.take_string();
            } else if (ck == "type") {
              c.type = cluster_type_name(r);
            } else if (ck == "metadata") {
              c.destination_rule = render_config_path(read_istio_metadata_field(r, "config"));
            } else {
              r.skip_value();
            }
          }
          if (options.keep_raw) {
            c.raw = std::string(r.slice(start, r.position()));
          }
          into.push_back(std::move(c));
        }
      });
    };
    walk_config_dump(r, [&](std::string_view key) {
      if (field_is(key, "dynamic_active_clusters")) {
        in_member("dynamic_active_clusters", [&] { wrapped(ConfigState::k_active, dynamic); });
      } else if (field_is(key, "dynamic_warming_clusters")) {
        in_member("dynamic_warming_clusters", [&] { wrapped(ConfigState::k_warming, warming); });
      } else if (field_is(key, "static_clusters")) {
        in_member("static_clusters", [&] { wrapped(ConfigState::k_static, statics); });
      } else {
        return false;
      }
      return true;
    });
    for (auto* part : {&statics, &warming}) {
      for (auto& c : *part) {
        dynamic.push_back(std::move(c));
      }
    }
    return dynamic;
  });
  if (clusters && clusters->empty()) {
    return fail(
        "no clusters found in " + dump.name(),
        "give a cluster dump: `pilot-agent request GET "
        "'config_dump?mask=dynamic_active_clusters,static_clusters'` or a full config_dump");
  }
  return clusters;
}

Result<std::vector<ClusterLoadAssignmentInfo>> read_endpoint_configs(const DumpBytes& dump,
                                                                     const ReadOptions& options) {
  bool found = false;
  auto configs = parse_dump<std::vector<ClusterLoadAssignmentInfo>>(dump, [&](JsonReader& r) {
    std::vector<ClusterLoadAssignmentInfo> dynamic;
    std::vector<ClusterLoadAssignmentInfo> statics;
    const auto wrapped = [&](bool is_dynamic, std::vector<ClusterLoadAssignmentInfo>& into) {
      found = true;
      for_each_element(r, [&](std::size_t) {
        r.begin_object();
        std::string_view k;
        while (r.next_member(k)) {
          if (!field_is(k, "endpoint_config")) {
            r.skip_value();
            continue;
          }
          in_member("endpoint_config", [&] {
            into.push_back(read_cla(r, options.keep_raw));
            into.back().dynamic = is_dynamic;
          });
        }
      });
    };
    walk_config_dump(r, [&](std::string_view key) {
      if (field_is(key, "dynamic_endpoint_configs")) {
        in_member("dynamic_endpoint_configs", [&] { wrapped(true, dynamic); });
      } else if (field_is(key, "static_endpoint_configs")) {
        in_member("static_endpoint_configs", [&] { wrapped(false, statics); });
      } else {
        return false;
      }
      return true;
    });
    for (auto& c : statics) {
      dynamic.push_back(std::move(c));
    }
    return dynamic;
  });
  if (configs && !found) {
    return fail("no endpoint configs found in " + dump.name(),
                "the dump must include EDS: `pilot-agent request GET "
                "'config_dump?include_eds=true'`");
  }
  return configs;
}

Result<std::vector<ClusterStatusInfo>> read_cluster_statuses(const DumpBytes& dump,
                                                             const ReadOptions& options) {
  bool found = false;
  auto statuses = parse_dump<std::vector<ClusterStatusInfo>>(dump, [&](JsonReader& r) {
    std::vector<ClusterStatusInfo> out;
    if (r.peek() != Kind::k_object) {
      JsonReader::fail_at("expected /clusters?format=json output ({\"cluster_statuses\": [...]})",
                          r.value_start());
    }
    r.begin_object();
    std::string_view k;
    while (r.next_member(k)) {
      if (!field_is(k, "cluster_statuses")) {
        r.skip_value();
        continue;
      }
      found = true;
      in_member("cluster_statuses", [&] {
        for_each_element(r, [&](std::size_t) {
          ClusterStatusInfo c;
          const std::size_t start = r.value_start();
          r.begin_object();
          std::string_view ck;
          while (r.next_member(ck)) {
            if (ck == "name") {
              c.name = r.take_string();
            } else if (field_is(ck, "host_statuses")) {
              in_member("host_statuses", [&] {
                for_each_element(r, [&](std::size_t) { c.hosts.push_back(read_host_status(r)); });
              });
            } else {
              r.skip_value();
            }
          }
          if (options.keep_raw) {
            c.raw = std::string(r.slice(start, r.position()));
          }
          out.push_back(std::move(c));
        });
      });
    }
    return out;
  });
  if (statuses && !found) {
    return fail(dump.name() + " has no cluster_statuses",
                "`proxy-config endpoints` reads `pilot-agent request GET 'clusters?format=json'`; "
                "for a config_dump?include_eds=true use `proxy-config eds`");
  }
  return statuses;
}

} // namespace meshctl::envoy

// Filter chains of a listener; see listener_chains.hpp.

#include "envoy/listener_chains.hpp"

#include "core/strings.hpp"
#include "envoy/parse.hpp"
#include "envoy/text.hpp"

#include <array>
#include <string_view>
#include <utility>

namespace meshctl::envoy {

namespace {

using Kind = JsonReader::Kind;

constexpr std::string_view k_hcm = "envoy.filters.network.http_connection_manager";
constexpr std::string_view k_hcm_legacy = "envoy.http_connection_manager"; // v2-era dumps
constexpr std::string_view k_tcp_proxy = "envoy.filters.network.tcp_proxy";
constexpr std::string_view k_tcp_proxy_legacy = "envoy.tcp_proxy";
constexpr std::string_view k_blackhole = "BlackHoleCluster";

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
  for_each_member(r, [&](std::string_view k) {
    if (field_is(k, "match")) {
      for_each_member(r, [&](std::string_view mk) {
        if (field_is(mk, "prefix")) {
          s.prefix = r.take_string();
        } else if (field_is(mk, "path")) {
          s.path = r.take_string();
        } else if (field_is(mk, "path_separated_prefix")) {
          s.path_separated_prefix = r.take_string();
        } else if (field_is(mk, "safe_regex")) {
          s.has_regex = true;
          read_member(r, "regex", [&] { s.regex = r.take_string(); });
        } else {
          return false;
        }
        return true;
      });
    } else if (field_is(k, "route")) {
      s.is_route_action = true;
      read_member(r, "cluster", [&] {
        s.has_cluster = true;
        s.cluster = r.take_string();
      });
    } else {
      return false;
    }
    return true;
  });
  return s;
}

std::vector<VirtualHostSummary> read_route_config(JsonReader& r) {
  std::vector<VirtualHostSummary> vhosts;
  read_member(r, "virtual_hosts", [&] {
    for_each_element(r, [&](std::size_t) {
      VirtualHostSummary vh;
      for_each_member(r, [&](std::string_view k) {
        if (field_is(k, "domains")) {
          vh.domains = read_string_array(r);
        } else if (field_is(k, "routes")) {
          for_each_element(r, [&](std::size_t) { vh.routes.push_back(read_route(r)); });
        } else {
          return false;
        }
        return true;
      });
      vhosts.push_back(std::move(vh));
    });
  });
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
  for_each_member(r, [&](std::string_view k) {
    if (field_is(k, "route_config")) {
      s.has_route_config = true;
      s.route_description =
          in_member("route_config", [&] { return describe_route_config(read_route_config(r)); });
    } else if (field_is(k, "rds")) {
      read_member(r, "route_config_name", [&] { s.rds_name = r.take_string(); });
    } else if (field_is(k, "cluster") && r.peek() == Kind::k_string) {
      s.cluster.assign(r.read_string());
      note_blackhole(s, s.cluster);
    } else if (field_is(k, "stat_prefix") && r.peek() == Kind::k_string) {
      note_blackhole(s, r.read_string());
    } else if (field_is(k, "weighted_clusters")) {
      read_member(r, "clusters", [&] {
        for_each_element(r, [&](std::size_t) {
          read_member(r, "name", [&] { note_blackhole(s, r.read_scalar_text()); });
        });
      });
    } else {
      return false;
    }
    return true;
  });
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
  for_each_member(r, [&](std::string_view k) {
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
      return false;
    }
    return true;
  });
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

void read_chain_match(JsonReader& r, ChainMatch& m) {
  for_each_member(r, [&](std::string_view k) {
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
        for_each_member(r, [&](std::string_view pk) {
          if (field_is(pk, "address_prefix")) {
            prefix = r.take_string();
          } else if (field_is(pk, "prefix_len")) {
            len = r.read_uint();
          } else {
            return false;
          }
          return true;
        });
        m.prefix_ranges.push_back(prefix + "/" + std::to_string(len));
      });
    } else {
      return false;
    }
    return true;
  });
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

} // namespace

FilterChainInfo read_chain(JsonReader& r, bool is_default, TypeCounts& counts, ChainMatch& match,
                           std::string& name) {
  FilterChainInfo c;
  c.is_default = is_default;
  match.reset();
  bool have_destination = false;
  for_each_member(r, [&](std::string_view k) {
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
      return false;
    }
    return true;
  });
  if (!have_destination) {
    c.destination = "Non-HTTP/Non-TCP";
  }
  c.match = describe_chain_match(match);
  c.server_names = std::move(match.server_names);
  return c;
}

} // namespace meshctl::envoy

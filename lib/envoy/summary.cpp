#include "envoy/summary.hpp"

#include "envoy/go_sort.hpp"
#include "envoy/tabwriter.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace meshctl::envoy {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool shown(ConfigState s) {
  return s == ConfigState::k_active || s == ConfigState::k_static;
}

// A tabwriter fed the way istioctl feeds Go's: Fprintln(w, header) and Fprintf(w, "%v\t%v\n").
class Table {
public:
  explicit Table(int padding) : m_w(0, 8, padding, ' ') {}
  void header(std::string_view line) {
    m_w.write(line);
    m_w.write("\n");
  }
  void row(std::initializer_list<std::string_view> cells) {
    const auto* c = cells.begin();
    for (std::size_t i = 0; i + 1 < cells.size(); ++i) {
      m_w.cell(c[i]);
    }
    m_w.end_line(c[cells.size() - 1]);
  }
  // A row whose last two cells outlive the table (the model's strings): they are not copied.
  void row_ref_tail(std::initializer_list<std::string_view> copied, std::string_view ref1,
                    std::string_view ref2) {
    for (const auto c : copied) {
      m_w.cell(c);
    }
    m_w.cell_ref(ref1);
    m_w.end_line_ref(ref2);
  }
  void reserve(std::size_t bytes, std::size_t cells) { m_w.reserve(bytes, cells); }
  void flush(const TableSink& sink) { m_w.flush(sink); }

private:
  TabWriter m_w;
};

template <class F> std::string to_string(F&& render) {
  std::string out;
  render(TableSink([&out](std::string_view chunk) { out.append(chunk); }));
  return out;
}

struct SortKey {
  std::string host;
  std::string subset;
  int port = 0;
  std::string direction;
  bool operator<(const SortKey& o) const {
    if (host != o.host) {
      return host < o.host;
    }
    if (subset != o.subset) {
      return subset < o.subset;
    }
    if (port != o.port) {
      return port < o.port;
    }
    return direction < o.direction;
  }
};

SortKey sort_key(std::string_view name) {
  SubsetKey k = safely_parse_subset_key(name);
  return SortKey{std::move(k.host), std::move(k.subset), k.port, std::move(k.direction)};
}

// Sorts `items` like istioctl's sort.Slice over parsed cluster names.
template <class T, class Name> void sort_by_cluster_name(std::vector<T>& items, Name name) {
  std::vector<std::pair<SortKey, T>> keyed;
  keyed.reserve(items.size());
  for (auto& item : items) {
    keyed.emplace_back(sort_key(name(item)), std::move(item));
  }
  go_sort_slice(keyed, [](const auto& a, const auto& b) { return a.first < b.first; });
  items.clear();
  for (auto& [key, item] : keyed) {
    items.push_back(std::move(item));
  }
}

// istioctl's sort.Slice(matches, destination descending), made cheap for 100,000 chains: the
// destinations share a long prefix ("Cluster: outbound_."), so each element carries the 24 bytes
// that follow the common prefix as three integers and nearly every comparison is integer compares.
// The order is exactly that of comparing the whole strings, so Go's pdqsort makes the same moves.
void sort_by_destination_descending(const std::vector<FilterChainInfo>& chains,
                                    std::vector<const FilterChainInfo*>& out) {
  constexpr std::size_t k_words = 3;
  struct Keyed {
    const FilterChainInfo* chain;
    std::array<std::uint64_t, k_words> key;
  };
  std::size_t common = chains.empty() ? 0 : chains.front().destination.size();
  for (const auto& c : chains) {
    const std::string& a = chains.front().destination;
    std::size_t n = 0;
    const std::size_t limit = std::min(common, c.destination.size());
    while (n < limit && a[n] == c.destination[n]) {
      ++n;
    }
    common = n;
  }
  std::vector<Keyed> keyed;
  keyed.reserve(chains.size());
  for (const auto& c : chains) {
    Keyed k{&c, {}};
    std::size_t at = common;
    for (auto& word : k.key) {
      for (std::size_t i = 0; i < 8; ++i, ++at) {
        const auto byte =
            at < c.destination.size() ? static_cast<unsigned char>(c.destination[at]) : 0U;
        word = (word << 8) | byte;
      }
    }
    keyed.push_back(k);
  }
  go_sort_slice(keyed, [](const Keyed& a, const Keyed& b) {
    for (std::size_t i = 0; i < k_words; ++i) {
      if (a.key[i] != b.key[i]) {
        return a.key[i] > b.key[i];
      }
    }
    return a.chain->destination > b.chain->destination; // rare: the first 24 bytes tie
  });
  out.clear();
  for (const auto& k : keyed) {
    out.push_back(k.chain);
  }
}

// What istioctl's endpoint filter tests once the address is tested (an EDS endpoint has several
// addresses, a host status one): port, cluster and status, each only when given.
bool filter_matches(const EndpointFilter& f, bool address_matches, std::uint32_t port,
                    const std::string& cluster, const std::string& health) {
  if (!f.address.empty() && !address_matches) {
    return false;
  }
  if (f.port != 0 && port != f.port) {
    return false;
  }
  if (!f.cluster.empty() && !iequals(cluster, f.cluster)) {
    return false;
  }
  return f.status.empty() || iequals(health, f.status);
}

bool eds_endpoint_matches(const LbEndpointInfo& e, const std::string& cluster,
                          const EndpointFilter& f) {
  const bool address_matches =
      f.address.empty() || std::any_of(e.addresses.begin(), e.addresses.end(),
                                       [&](const std::string& a) { return iequals(a, f.address); });
  return filter_matches(f, address_matches, e.port, cluster, e.health);
}

bool host_matches(const HostStatusInfo& h, const std::string& cluster, const EndpointFilter& f) {
  return filter_matches(f, f.address.empty() || iequals(h.address, f.address), h.port, cluster,
                        h.health);
}

} // namespace

void listener_summary(const std::vector<ListenerInfo>& listeners, const SummaryOptions& options,
                      const TableSink& sink) {
  std::vector<const ListenerInfo*> rows;
  for (const auto& l : listeners) {
    if (shown(l.state)) {
      rows.push_back(&l);
    }
  }
  go_sort_slice(rows, [](const ListenerInfo* a, const ListenerInfo* b) {
    if (a->port != b->port) {
      return a->port < b->port;
    }
    if (a->address != b->address) {
      return a->address < b->address;
    }
    return a->type < b->type;
  });

  Table table(1);
  std::size_t bytes = 0;
  std::size_t cells = 0;
  for (const ListenerInfo* l : rows) {
    bytes += l->chains.size() * (l->address.size() + 8); // copied cells: address and port
    cells += l->chains.size() * 5;
  }
  table.reserve(bytes, cells);
  std::string header = options.with_names ? "NAME\t" : "";
  header += options.verbose ? "ADDRESSES\tPORT\tMATCH\tDESTINATION" : "ADDRESSES\tPORT\tTYPE";
  table.header(header);
  std::vector<const FilterChainInfo*> chains;
  for (const ListenerInfo* l : rows) {
    std::string addresses = l->address;
    for (const auto& a : l->additional_addresses) {
      addresses += "," + a;
    }
    const std::string port = std::to_string(l->port);
    const std::string name = options.with_names ? "listener/" + l->name : std::string();
    if (!options.verbose) {
      if (options.with_names) {
        table.row({name, addresses, port, l->type});
      } else {
        table.row({addresses, port, l->type});
      }
      continue;
    }
    sort_by_destination_descending(l->chains, chains);
    for (const FilterChainInfo* c : chains) {
      if (options.with_names) {
        table.row_ref_tail({name, addresses, port}, c->match, c->destination);
      } else {
        table.row_ref_tail({addresses, port}, c->match, c->destination);
      }
    }
  }
  table.flush(sink);
}

std::string listener_summary(const std::vector<ListenerInfo>& listeners,
                             const SummaryOptions& options) {
  return to_string([&](const TableSink& sink) { listener_summary(listeners, options, sink); });
}

bool cluster_matches(const ClusterInfo& c, const ClusterFilter& f) {
  const std::string& name = c.name;
  if (!f.fqdn.empty() && name.find(f.fqdn) == std::string::npos) {
    return false;
  }
  if (!f.direction.empty() && name.find(f.direction) == std::string::npos) {
    return false;
  }
  if (!f.subset.empty() && name.find(f.subset) == std::string::npos) {
    return false;
  }
  if (f.port == 0) {
    return true;
  }
  std::string needle = "|";
  needle += std::to_string(f.port);
  needle += '|';
  return name.find(needle) != std::string::npos;
}

std::vector<ClusterInfo> select_clusters(std::vector<ClusterInfo> clusters,
                                         const ClusterFilter& f) {
  std::vector<ClusterInfo> all;
  for (auto& c : clusters) {
    if (shown(c.state)) {
      all.push_back(std::move(c));
    }
  }
  // istioctl sorts every cluster, then filters while printing; sorting first keeps its order
  // for clusters that compare equal.
  sort_by_cluster_name(all, [](const ClusterInfo& c) -> const std::string& { return c.name; });
  std::vector<ClusterInfo> out;
  for (auto& c : all) {
    if (cluster_matches(c, f)) {
      out.push_back(std::move(c));
    }
  }
  return out;
}

void cluster_summary(const std::vector<ClusterInfo>& selected, const SummaryOptions& options,
                     const TableSink& sink) {
  Table table(5);
  table.header(std::string(options.with_names ? "NAME\t" : "") +
               "SERVICE FQDN\tPORT\tSUBSET\tDIRECTION\tTYPE\tDESTINATION RULE");
  for (const auto& c : selected) {
    const std::string shown_name = options.with_names ? "cluster/" + c.name : c.name;
    std::string fqdn = shown_name;
    std::string port = "-";
    std::string subset = "-";
    std::string direction = "-";
    if (std::count(c.name.begin(), c.name.end(), '|') >= 3) {
      SubsetKey k = safely_parse_subset_key(c.name);
      fqdn = k.host;
      port = std::to_string(k.port);
      subset = k.subset.empty() ? "-" : k.subset;
      direction = k.direction;
    }
    if (options.with_names) {
      table.row({shown_name, fqdn, port, subset, direction, c.type, c.destination_rule});
    } else {
      table.row({fqdn, port, subset, direction, c.type, c.destination_rule});
    }
  }
  table.flush(sink);
}

std::string cluster_summary(const std::vector<ClusterInfo>& selected,
                            const SummaryOptions& options) {
  return to_string([&](const TableSink& sink) { cluster_summary(selected, options, sink); });
}

std::vector<ClusterLoadAssignmentInfo>
select_endpoint_configs(std::vector<ClusterLoadAssignmentInfo> configs, const EndpointFilter& f) {
  std::vector<ClusterLoadAssignmentInfo> out;
  for (auto& cla : configs) {
    std::size_t kept = 0;
    for (auto& g : cla.groups) {
      std::erase_if(g.endpoints, [&](const LbEndpointInfo& e) {
        return !eds_endpoint_matches(e, cla.cluster_name, f);
      });
      kept += g.endpoints.size();
    }
    if (kept > 0) {
      out.push_back(std::move(cla));
    }
  }
  sort_by_cluster_name(
      out, [](const ClusterLoadAssignmentInfo& c) -> const std::string& { return c.cluster_name; });
  return out;
}

void eds_summary(const std::vector<ClusterLoadAssignmentInfo>& selected,
                 const SummaryOptions& options, const TableSink& sink) {
  Table table(5);
  table.header(options.wide ? "NAME\tSTATUS\tLOCALITY\tPRIORITY\tCLUSTER"
                            : "NAME\tSTATUS\tLOCALITY\tCLUSTER");
  for (const auto& cla : selected) {
    for (const auto& g : cla.groups) {
      const std::string locality = locality_string(g.locality);
      for (const auto& e : g.endpoints) {
        std::string address;
        for (std::size_t i = 0; i < e.addresses.size(); ++i) {
          address += (i > 0 ? "," : "") + e.addresses[i];
        }
        if (options.with_names) {
          address = "endpoint/" + address;
        }
        if (options.wide) {
          table.row({address, e.health, locality, std::to_string(g.priority), cla.cluster_name});
        } else {
          table.row({address, e.health, locality, cla.cluster_name});
        }
      }
    }
  }
  table.flush(sink);
}

std::string eds_summary(const std::vector<ClusterLoadAssignmentInfo>& selected,
                        const SummaryOptions& options) {
  return to_string([&](const TableSink& sink) { eds_summary(selected, options, sink); });
}

std::vector<ClusterStatusInfo> select_cluster_statuses(const std::vector<ClusterStatusInfo>& all,
                                                       const EndpointFilter& f) {
  std::vector<ClusterStatusInfo> out;
  for (const auto& c : all) {
    if (std::any_of(c.hosts.begin(), c.hosts.end(),
                    [&](const HostStatusInfo& h) { return host_matches(h, c.name, f); })) {
      out.push_back(c);
    }
  }
  return out;
}

void endpoints_summary(const std::vector<ClusterStatusInfo>& clusters, const EndpointFilter& f,
                       const SummaryOptions& options, const TableSink& sink) {
  struct Row {
    const HostStatusInfo* host;
    const std::string* cluster;
  };
  std::vector<Row> rows;
  for (const auto& c : clusters) {
    for (const auto& h : c.hosts) {
      if (host_matches(h, c.name, f)) {
        rows.push_back({&h, &c.name});
      }
    }
  }
  go_sort_slice(rows, [](const Row& a, const Row& b) {
    if (a.host->address == b.host->address) {
      if (a.host->port == b.host->port) {
        return *a.cluster < *b.cluster;
      }
      return a.host->port < b.host->port;
    }
    return a.host->address < b.host->address;
  });
  Table table(5);
  table.header(options.wide ? "ENDPOINT\tSTATUS\tOUTLIER CHECK\tLOCALITY\tPRIORITY\tCLUSTER"
                            : "ENDPOINT\tSTATUS\tOUTLIER CHECK\tCLUSTER");
  for (const Row& r : rows) {
    const HostStatusInfo& h = *r.host;
    const std::string endpoint = h.port != 0 ? h.address + ":" + std::to_string(h.port) : h.address;
    const std::string_view outlier = h.failed_outlier_check ? "FAILED" : "OK";
    if (options.wide) {
      table.row({endpoint, h.health, outlier, locality_string(h.locality),
                 std::to_string(h.priority), *r.cluster});
    } else {
      table.row({endpoint, h.health, outlier, *r.cluster});
    }
  }
  table.flush(sink);
}

std::string endpoints_summary(const std::vector<ClusterStatusInfo>& clusters,
                              const EndpointFilter& f, const SummaryOptions& options) {
  return to_string([&](const TableSink& sink) { endpoints_summary(clusters, f, options, sink); });
}

} // namespace meshctl::envoy

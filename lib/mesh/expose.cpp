#include "mesh/expose.hpp"

#include "core/enum_names.hpp"
#include "core/envelope.hpp"
#include "core/fanout.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "core/suggest.hpp"
#include "core/try.hpp"
#include "envoy/tabwriter.hpp"
#include "mesh/on_clusters.hpp"

#include <algorithm>
#include <tuple>

namespace meshctl::mesh {

using nlohmann::json;

namespace {

bool made_by_meshctl(const json& object) {
  return str(member(member(object, "metadata"), "labels"), render::k_managed_by_label) ==
         render::k_managed_by_value;
}

} // namespace

std::vector<std::string> exposed_hosts(const json& gateway) {
  for (const auto& server : array_of(member(gateway, "spec"), "servers")) {
    const auto& number = member(member(server, "port"), "number");
    if (number.is_number_integer() && number.get<int>() == 15443) {
      std::vector<std::string> hosts;
      for (const auto& h : array_of(server, "hosts")) {
        if (h.is_string()) {
          hosts.push_back(h.get<std::string>());
        }
      }
      return hosts;
    }
  }
  return {};
}

Result<std::vector<std::string>> edit_hosts(const std::vector<std::string>& current,
                                            const std::vector<std::string>& add,
                                            const std::vector<std::string>& remove,
                                            const std::string& cluster) {
  std::vector<std::string> out;
  const auto keep = [&](const std::string& h) {
    return std::find(remove.begin(), remove.end(), h) == remove.end() &&
           std::find(out.begin(), out.end(), h) == out.end();
  };
  for (const auto& h : current) {
    if (keep(h)) {
      out.push_back(h);
    }
  }
  for (const auto& h : add) {
    if (keep(h)) {
      out.push_back(h);
    }
  }
  if (out.empty()) {
    return usage_error(
        "that would leave cross-network-gateway in " + cluster +
            " with no host, and a Gateway needs one",
        "expose another service first (meshctl expose SERVICE.NAMESPACE), then remove these; "
        "meshctl unjoin --all removes the Gateway itself");
  }
  return out;
}

Result<std::vector<Exposed>> read_exposed(const std::vector<config::ClusterConfig>& clusters,
                                          std::vector<std::unique_ptr<kube::Client>>& clients,
                                          const IstioApis& apis,
                                          const std::map<std::string, GatewayChoice>& gateways) {
  return on_every_cluster<Exposed>(
      clusters, clients, [&](const std::string& name, kube::Client& client) -> Result<Exposed> {
        const auto gw = gateways.find(name);
        const std::string ns =
            gw == gateways.end() ? render::ExposeTarget{}.namespace_ : gw->second.expose.namespace_;
        Exposed out{name, ns + "/" + std::string(render::k_expose_gateway_name), false, {}, {}};
        auto g = client.get(istio_api_of(apis, name)
                                .ref("gateways", ns, std::string(render::k_expose_gateway_name)));
        if (!g) {
          if (g.error().not_found()) {
            return out;
          }
          return tl::make_unexpected(Error(g.error()));
        }
        out.exists = true;
        out.hosts = exposed_hosts(*g);
        for (const auto& [k, v] : object_of(member(*g, "spec"), "selector").items()) {
          if (v.is_string()) {
            out.selector[k] = v.get<std::string>();
          }
        }
        return out;
      });
}

Result<std::vector<ClusterObjects>>
render_expose_hosts(const std::vector<config::ClusterConfig>& clusters, const IstioApis& apis,
                    const std::map<std::string, std::vector<std::string>>& hosts,
                    const std::map<std::string, GatewayChoice>& gateways) {
  std::vector<ClusterObjects> out;
  out.reserve(clusters.size());
  for (const auto& c : clusters) {
    const auto gw = gateways.find(c.name);
    const auto h = hosts.find(c.name);
    auto objects = render::render_expose_gateway_hosts(
        h == hosts.end() ? std::vector<std::string>{} : h->second,
        istio_api_of(apis, c.name).api_version(),
        gw == gateways.end() ? render::ExposeTarget{} : gw->second.expose);
    if (!objects) {
      return tl::make_unexpected(objects.error().with_context(c.name));
    }
    out.push_back({c.name, desired(*objects)});
  }
  return out;
}

std::string format_exposed(const std::vector<Exposed>& exposed, bool wide) {
  envoy::TabWriter tw(0, 8, 2, ' ');
  tw.write(wide ? "CLUSTER\tGATEWAY\tHOST\tSELECTOR\n" : "CLUSTER\tGATEWAY\tHOST\n");
  for (const auto& e : exposed) {
    std::string selector;
    for (const auto& [k, v] : e.selector) {
      selector += (selector.empty() ? "" : ",") + k + "=" + v;
    }
    const std::string last = wide ? "\t" + (selector.empty() ? "<none>" : selector) + "\n" : "\n";
    if (!e.exists) {
      tw.write(e.cluster + "\t" + e.gateway + "\t(no Gateway: nothing exposed)" + last);
      continue;
    }
    for (const auto& h : e.hosts) {
      tw.write(e.cluster + "\t" + e.gateway + "\t" + h +
               (h == render::k_all_hosts ? " (every service)" : "") + last);
    }
  }
  return tw.flush();
}

json exposed_json(const std::vector<Exposed>& exposed) {
  json clusters = json::array();
  for (const auto& e : exposed) {
    clusters.push_back({{"name", e.cluster},
                        {"gateway", e.gateway},
                        {"exists", e.exists},
                        {"hosts", e.hosts},
                        {"selector", e.selector}});
  }
  json out = envelope("ExposeList");
  out["clusters"] = std::move(clusters);
  return out;
}

Result<std::vector<LocalizeRule>>
list_localize_rules(const std::vector<config::ClusterConfig>& clusters,
                    std::vector<std::unique_ptr<kube::Client>>& clients, const IstioApis& apis) {
  auto per_cluster = on_every_cluster<std::vector<LocalizeRule>>(
      clusters, clients,
      [&](const std::string& name, kube::Client& client) -> Result<std::vector<LocalizeRule>> {
        kube::ListOptions opts;
        opts.label_selector =
            std::string(render::k_managed_by_label) + "=" + std::string(render::k_managed_by_value);
        auto list = client.list(istio_api_of(apis, name).ref("destinationrules"), opts);
        if (!list) {
          return tl::make_unexpected(Error(list.error()));
        }
        std::vector<LocalizeRule> out;
        for (const auto& r : array_of(*list, "items")) {
          const auto& md = member(r, "metadata");
          std::vector<std::string> by;
          for (const auto& l :
               array_of(member(member(member(member(r, "spec"), "trafficPolicy"), "loadBalancer"),
                               "localityLbSetting"),
                        "failoverPriority")) {
            if (l.is_string()) {
              by.push_back(l.get<std::string>());
            }
          }
          out.push_back(
              {name, str(md, "namespace"), str(md, "name"), str(member(r, "spec"), "host"),
               join(by, ","), str(r, "apiVersion"),
               object_of(member(member(r, "spec"), "trafficPolicy"), "outlierDetection")});
        }
        return out;
      });
  if (!per_cluster) {
    return tl::make_unexpected(per_cluster.error());
  }
  std::vector<LocalizeRule> out;
  for (auto& rules : *per_cluster) {
    out.insert(out.end(), rules.begin(), rules.end());
  }
  std::sort(out.begin(), out.end(), [](const LocalizeRule& a, const LocalizeRule& b) {
    return std::tie(a.cluster, a.namespace_, a.name) < std::tie(b.cluster, b.namespace_, b.name);
  });
  return out;
}

std::string format_localize_rules(const std::vector<LocalizeRule>& rules, bool wide) {
  if (rules.empty()) {
    return "no DestinationRule made by meshctl localize\n";
  }
  envoy::TabWriter tw(0, 8, 2, ' ');
  tw.write(wide ? "CLUSTER\tNAMESPACE\tNAME\tHOST\tFAILOVER\tAPI VERSION\tOUTLIER DETECTION\n"
                : "CLUSTER\tNAMESPACE\tNAME\tHOST\tFAILOVER\n");
  for (const auto& r : rules) {
    std::string row = r.cluster + "\t" + r.namespace_ + "\t" + r.name + "\t" + r.host + "\t" + r.by;
    if (wide) {
      std::string outlier;
      for (const auto& [k, v] : r.outlier.items()) {
        outlier += (outlier.empty() ? "" : ",") + k + "=" +
                   (v.is_string() ? v.get<std::string>() : v.dump());
      }
      row += "\t" + r.api_version + "\t" + (outlier.empty() ? "<none>" : outlier);
    }
    tw.write(row + "\n");
  }
  return tw.flush();
}

json localize_rules_json(const std::vector<std::string>& clusters,
                         const std::vector<LocalizeRule>& rules) {
  json entries = json::array();
  for (const auto& c : clusters) {
    json items = json::array();
    for (const auto& r : rules) {
      if (r.cluster != c) {
        continue;
      }
      items.push_back(
          {{"namespace", r.namespace_},
           {"name", r.name},
           {"host", r.host},
           {"failoverPriority", r.by.empty() ? std::vector<std::string>{} : split(r.by, ',')},
           {"istioApiVersion", r.api_version},
           {"outlierDetection", r.outlier}});
    }
    entries.push_back({{"name", c}, {"rules", std::move(items)}});
  }
  json out = envelope("LocalizeList");
  out["clusters"] = std::move(entries);
  return out;
}

Result<std::vector<LocalizeRemoval>>
remove_localize_rule(const std::vector<config::ClusterConfig>& clusters,
                     std::vector<std::unique_ptr<kube::Client>>& clients, const IstioApis& apis,
                     const ServiceName& service, DryRun dry_run) {
  return on_every_cluster<LocalizeRemoval>(
      clusters, clients,
      [&](const std::string& name, kube::Client& client) -> Result<LocalizeRemoval> {
        LocalizeRemoval out{name};
        const auto ref =
            istio_api_of(apis, name).ref("destinationrules", service.namespace_, service.name);
        auto rule = client.get(ref);
        if (!rule) {
          if (rule.error().not_found()) {
            return out;
          }
          return tl::make_unexpected(Error(rule.error()));
        }
        if (!made_by_meshctl(*rule)) {
          out.outcome = LocalizeRemoval::Outcome::k_not_ours;
          return out;
        }
        out.outcome = LocalizeRemoval::Outcome::k_deleted;
        if (dry_run == DryRun::k_client) {
          return out;
        }
        kube::DeleteOptions opts;
        opts.uid = str(member(*rule, "metadata"), "uid");
        opts.dry_run = dry_run == DryRun::k_server;
        if (auto d = client.remove(ref, opts); !d && !d.error().not_found()) {
          return tl::make_unexpected(Error(d.error()));
        }
        return out;
      });
}

Result<std::vector<ClusterObjects>>
render_expose(const std::vector<config::ClusterConfig>& clusters, const IstioApis& apis,
              const std::vector<ServiceName>& services,
              const std::map<std::string, GatewayChoice>& gateways) {
  std::vector<render::ServiceRef> refs;
  refs.reserve(services.size());
  for (const auto& s : services) {
    refs.push_back({s.name, s.namespace_});
  }
  std::vector<ClusterObjects> out;
  out.reserve(clusters.size());
  for (const auto& c : clusters) {
    const auto gw = gateways.find(c.name);
    auto objects = render::render_expose_gateway(refs, istio_api_of(apis, c.name).api_version(),
                                                 gw == gateways.end() ? render::ExposeTarget{}
                                                                      : gw->second.expose);
    if (!objects) {
      return tl::make_unexpected(objects.error().with_context(c.name));
    }
    out.push_back({c.name, desired(*objects)});
  }
  return out;
}

GatewayChoices find_gateways(const Session& session,
                             std::vector<std::unique_ptr<kube::Client>>& clients) {
  std::vector<std::string> names;
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < session.clusters.size(); ++i) {
    names.push_back(session.clusters[i].name);
    index[session.clusters[i].name] = i;
  }
  auto found = for_each_cluster(names, [&](const std::string& name) {
    const std::size_t i = index.at(name);
    return find_gateway(*clients[i], session.clusters[i]);
  });
  GatewayChoices out;
  for (auto& f : found) {
    if (!f.value) {
      out.errors.push_back(f.value.error().with_cluster(f.cluster));
    } else {
      out.gateways.emplace(f.cluster, std::move(*f.value));
    }
  }
  return out;
}

Result<std::vector<ClusterObjects>>
render_localize(const std::vector<config::ClusterConfig>& clusters, const IstioApis& apis,
                const ServiceName& service, render::FailoverBy by) {
  std::vector<ClusterObjects> out;
  out.reserve(clusters.size());
  for (const auto& c : clusters) {
    TRY_ASSIGN(auto rule,
               render::render_destination_rule({service.name, service.namespace_},
                                               istio_api_of(apis, c.name).api_version(), by));
    out.push_back({c.name, desired({rule})});
  }
  return out;
}

namespace {

constexpr EnumName<render::FailoverBy> k_failover_by_names[] = {
    {render::FailoverBy::k_cluster, "cluster"},
    {render::FailoverBy::k_network, "network"},
    {render::FailoverBy::k_zone, "zone"}};

} // namespace

std::vector<std::string> failover_by_names() {
  return names_of(k_failover_by_names);
}

Result<render::FailoverBy> parse_failover_by(const std::string& text) {
  if (const auto by = value_of(k_failover_by_names, text)) {
    return *by;
  }
  return usage_error("unknown --by \"" + text + "\"" +
                         did_you_mean_suffix(text, failover_by_names()),
                     "use --by cluster (default), --by network or --by zone");
}

} // namespace meshctl::mesh

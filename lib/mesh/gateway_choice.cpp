#include "mesh/gateway_choice.hpp"

#include "render/object.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace meshctl::mesh {
namespace {

constexpr std::string_view k_network_label = "topology.istio.io/network";
constexpr int k_gateway_port = 15443;

const nlohmann::json& field(const nlohmann::json& j, const char* key) {
  static const nlohmann::json k_null;
  if (!j.is_object()) {
    return k_null;
  }
  const auto it = j.find(key);
  return it == j.end() ? k_null : *it;
}

std::string label(const nlohmann::json& obj, std::string_view key) {
  const auto& labels = field(field(obj, "metadata"), "labels");
  const auto it = labels.is_object() ? labels.find(std::string(key)) : labels.end();
  return labels.is_object() && it != labels.end() && it->is_string() ? it->get<std::string>()
                                                                     : std::string();
}

std::string service_name(const nlohmann::json& svc) {
  const auto& md = field(svc, "metadata");
  const auto& ns = field(md, "namespace");
  const auto& name = field(md, "name");
  return (ns.is_string() ? ns.get<std::string>() : std::string()) + "/" +
         (name.is_string() ? name.get<std::string>() : std::string());
}

bool managed_by_meshctl(const nlohmann::json& svc) {
  return label(svc, render::k_managed_by_label) == render::k_managed_by_value;
}

std::string kubectl(const config::ClusterConfig& c) {
  return "kubectl --context " + c.context;
}

// The choice for an installed gateway's Service: its selector becomes cross-network-gateway's.
Result<GatewayChoice> use(const config::ClusterConfig& cluster, const nlohmann::json& svc) {
  GatewayChoice g;
  g.existing = true;
  const auto& md = field(svc, "metadata");
  g.namespace_ = field(md, "namespace").is_string() ? md["namespace"].get<std::string>() : "";
  g.name = field(md, "name").is_string() ? md["name"].get<std::string>() : "";
  g.expose.namespace_ = g.namespace_;
  g.expose.selector.clear();
  const auto& selector = field(field(svc, "spec"), "selector");
  if (selector.is_object()) {
    for (const auto& [k, v] : selector.items()) {
      if (v.is_string()) {
        g.expose.selector[k] = v.get<std::string>();
      }
    }
  }
  if (g.expose.selector.empty()) {
    return fail("the east-west gateway Service " + g.service() + " in " + cluster.name +
                    " has no selector, so meshctl cannot tell which pods a Gateway must select",
                "give the Service the selector of its gateway pods (Istio's installers do), or "
                "name another Service under clusters[].gateway.existing for " +
                    cluster.name + " in meshctl.yaml");
  }
  return g;
}

} // namespace

bool exposes_15443(const nlohmann::json& service) {
  const auto& ports = field(field(service, "spec"), "ports");
  if (!ports.is_array()) {
    return false;
  }
  return std::any_of(ports.begin(), ports.end(), [](const nlohmann::json& p) {
    const auto& port = field(p, "port");
    return port.is_number_integer() && port.get<int>() == k_gateway_port;
  });
}

Result<GatewayChoice> choose_gateway(const config::ClusterConfig& cluster,
                                     const std::vector<nlohmann::json>& labelled,
                                     const nlohmann::json& configured) {
  if (const auto& want = cluster.gateway.existing) {
    const std::string svc = want->namespace_ + "/" + want->name;
    const std::string key = "clusters[].gateway.existing of " + cluster.name + " in meshctl.yaml";
    if (!configured.is_object()) {
      return fail("the east-west gateway Service " + svc + " named by " + key +
                      " does not exist in " + cluster.name,
                  "list the gateway Services with " + kubectl(cluster) + " get svc -A -l " +
                      std::string(k_network_label) + "=" + cluster.network +
                      " and name one there, or remove gateway.existing to let join install one");
    }
    if (!exposes_15443(configured)) {
      return fail("the Service " + svc + " named by " + key +
                      " does not expose port 15443, the port other networks reach an east-west "
                      "gateway on",
                  "name the east-west gateway's Service (ports status-port 15021, tls 15443, "
                  "tls-istiod 15012, tls-webhook 15017, as Istio's gen-eastwest-gateway.sh "
                  "makes it), or remove gateway.existing to let join install one");
    }
    const std::string net = label(configured, k_network_label);
    if (net != cluster.network) {
      return fail("the Service " + svc + " named by " + key + " is " +
                      (net.empty() ? std::string("not labelled ") + std::string(k_network_label)
                                   : "labelled " + std::string(k_network_label) + "=" + net) +
                      ": istiod does not take it as the gateway of network " + cluster.network,
                  kubectl(cluster) + " -n " + want->namespace_ + " label service " + want->name +
                      " " + std::string(k_network_label) + "=" + cluster.network +
                      " --overwrite (and the same label on its pods)");
    }
    return use(cluster, configured);
  }

  std::vector<const nlohmann::json*> installed;
  bool own = false;
  for (const auto& svc : labelled) {
    if (label(svc, k_network_label) != cluster.network || !exposes_15443(svc)) {
      continue;
    }
    if (managed_by_meshctl(svc)) {
      own = true;
    } else {
      installed.push_back(&svc);
    }
  }
  if (own || installed.empty()) {
    return GatewayChoice{}; // meshctl's own: already there (re-run), or about to be installed
  }
  if (installed.size() > 1) {
    std::vector<std::string> names;
    names.reserve(installed.size());
    for (const auto* svc : installed) {
      names.push_back(service_name(*svc));
    }
    std::sort(names.begin(), names.end());
    return fail(fmt::format("{} has {} east-west gateways for network {} (Services labelled {}={} "
                            "that expose 15443): {}; meshctl cannot tell which one to use",
                            cluster.name, names.size(), cluster.network, k_network_label,
                            cluster.network, fmt::join(names, ", ")),
                "name one under clusters[].gateway.existing for " + cluster.name +
                    " in meshctl.yaml, e.g. gateway: {existing: {name: " +
                    names.front().substr(names.front().find('/') + 1) +
                    ", namespace: " + names.front().substr(0, names.front().find('/')) + "}}");
  }
  return use(cluster, *installed.front());
}

Result<GatewayChoice> find_gateway(kube::Client& client, const config::ClusterConfig& cluster) {
  const std::string ctx = "looking for an east-west gateway in " + cluster.name;
  nlohmann::json configured;
  std::vector<nlohmann::json> labelled;
  if (const auto& want = cluster.gateway.existing) {
    auto s = client.get({"", "v1", "services", want->namespace_, want->name, ""});
    if (s) {
      configured = std::move(*s);
    } else if (!s.error().not_found()) {
      return tl::make_unexpected(Error(s.error()).with_context(ctx));
    }
  } else {
    kube::ListOptions opts;
    opts.label_selector = std::string(k_network_label) + "=" + cluster.network;
    auto list = client.list({"", "v1", "services", "", "", ""}, opts);
    if (!list) {
      return tl::make_unexpected(Error(list.error()).with_context(ctx));
    }
    for (auto& item : (*list)["items"]) {
      labelled.push_back(std::move(item));
    }
  }
  return choose_gateway(cluster, labelled, configured);
}

GatewayChoice offline_gateway(const config::ClusterConfig& cluster) {
  GatewayChoice g;
  if (const auto& want = cluster.gateway.existing) {
    g.existing = true;
    g.namespace_ = want->namespace_;
    g.name = want->name;
    g.expose.namespace_ = want->namespace_;
    g.expose.selector = {{"labels", render::selector_placeholder(want->namespace_, want->name)}};
  }
  return g;
}

} // namespace meshctl::mesh

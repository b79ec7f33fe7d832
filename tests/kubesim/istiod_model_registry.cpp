// The registry istiod builds from its own cluster and the remote ones, the network gateways,
// and the proxy asking. See istiod_model_internal.hpp for the model's map.
//
// Registry. istiod of cluster C reads its own API server and, for each remote secret, the remote
// one (istiod.cpp does the reading). A Service is known by hostname NAME.NS.svc.cluster.local;
// the same hostname in several clusters is one service whose endpoints are the union. Endpoints
// are the ready Pods the Service selects (kubesim's Endpoints controller uses the same rule), at
// the Pod IP and the resolved targetPort. Each endpoint carries its cluster, its network (Pod
// label topology.istio.io/network, else the cluster's network: label on istio-system, else the
// injector's global.network — standing in for the label the injector puts on pods), its locality
// (the Node's topology.kubernetes.io/region|zone and topology.istio.io/subzone) and its TLS mode
// (label security.istio.io/tlsMode; kubesim has no injector, so a pod with an istio-proxy
// container, or in a namespace with injection enabled, counts as injected).
//
// Network gateways (serviceregistry/kube/controller/network.go, conversion.go, controller.go):
// a Service labelled topology.istio.io/network=N is N's gateway on port 15443 (or the port in
// label networking.istio.io/gatewayPort; the Service need not expose it). Its addresses are the
// LoadBalancer ingress IPs/hostnames plus spec.externalIPs (any type). Only when there are none
// and the Service is NodePort with annotation traffic.istio.io/nodeSelector does istiod use
// Nodes: those whose labels contain the selector, each with its first ExternalIP (Nodes without
// one are skipped silently). The annotation value is parsed as JSON into a map; when that fails
// istiod logs at debug level and the selector is empty, i.e. it selects EVERY node (FACTS §4 says
// "ignored"; with the seed's nodes, which have no ExternalIP, both give no address). For a NodePort
// Service with the annotation, the gateway port is mapped to its nodePort — for externalIPs too,
// which is why the seed's runbook shows 10.0.139.33:32652.
//
// meshNetworks (pkg/model/network.go NetworkManager.reload): istiod also takes the gateways of its
// own cluster's ConfigMap istio, key meshNetworks — networks.<net>.gateways[] with an `address`
// (registryServiceName entries name a Service and add no address) — with cluster "", so they are
// used for a network's endpoints in a cluster only when that cluster has no gateway of its own for
// the network (selectNetworkGateways: network+cluster first, then the network).
//
// Hostnames (resolveHostnameGateways, RESOLVE_HOSTNAME_GATEWAYS on by default): a gateway address
// that is not an IP — a LoadBalancer ingress hostname, a meshNetworks address — is resolved by
// istiod itself (A and AAAA through its pod's DNS) into one gateway per address; a name that does
// not resolve gives none. kubesim's DNS knows only its cloud's names: *.elb.kubesim.local resolve
// to a fixed address (load_balancer.hpp); every other name does not resolve.

#include "istiod_model_internal.hpp"
#include "load_balancer.hpp"

#include <algorithm>
#include <cstdlib>
#include <numeric>
#include <tuple>

namespace kubesim::istiod::detail {

namespace {
constexpr std::uint32_t k_default_gateway_port = 15443;
} // namespace

ClusterIndex::ClusterIndex(const ClusterObjects& objects) : c(&objects) {
  network = cluster_network(objects);
  for (const auto& n : objects.nodes) {
    nodes[name_of(n)] = &n;
  }
  for (const auto& n : objects.namespaces) {
    namespaces[name_of(n)] = &n;
  }
}

Locality ClusterIndex::locality(const json& pod) const {
  // controller.go getPodLocality: label istio-locality ("region.zone.subzone"), else the node.
  const std::string l = label(pod, "istio-locality");
  if (!l.empty()) {
    auto parts = split(l, '.');
    parts.resize(3);
    return {parts[0], parts[1], parts[2]};
  }
  auto it = nodes.find(str(obj(pod, "spec"), "nodeName"));
  if (it == nodes.end()) {
    return {};
  }
  const json& node = *it->second;
  auto get = [&](const char* ga, const char* beta) {
    std::string v = label(node, ga);
    return v.empty() && beta != nullptr ? label(node, beta) : v;
  };
  return {get(k_label_region, "failure-domain.beta.kubernetes.io/region"),
          get(k_label_zone, "failure-domain.beta.kubernetes.io/zone"),
          get(k_label_subzone, nullptr)};
}

std::string ClusterIndex::pod_network(const json& pod) const {
  const std::string l = label(pod, k_label_network);
  return l.empty() ? network : l;
}

bool ClusterIndex::injected(const json& pod) const {
  if (proxy_container(pod) != nullptr) {
    return true;
  }
  if (label(pod, "sidecar.istio.io/inject") == "false" ||
      annotation(pod, "sidecar.istio.io/inject") == "false") {
    return false;
  }
  auto it = namespaces.find(ns_of(pod));
  if (it == namespaces.end()) {
    return false;
  }
  return label(*it->second, "istio-injection") == "enabled" ||
         !label(*it->second, "istio.io/rev").empty();
}

json augment_labels(json labels, const std::string& cluster, const Locality& loc,
                    const std::string& network) {
  if (!labels.is_object()) {
    labels = json::object();
  }
  if (!loc.region.empty()) {
    labels[k_label_region] = loc.region;
  }
  if (!loc.zone.empty()) {
    labels[k_label_zone] = loc.zone;
  }
  if (!loc.subzone.empty()) {
    labels[k_label_subzone] = loc.subzone;
  }
  if (!cluster.empty()) {
    labels[k_label_cluster] = cluster;
  }
  if (!network.empty() && str(labels, k_label_network).empty()) {
    labels[k_label_network] = network;
  }
  return labels;
}

Registry::Registry(const MeshView& view) {
  clusters.reserve(view.remotes.size() + 1);
  clusters.emplace_back(view.local);
  for (const auto& r : view.remotes) {
    if (r.synced) {
      clusters.emplace_back(r.objects);
    }
  }
  for (const auto& ci : clusters) {
    for (const auto& svc : ci.c->services) {
      const json& spec = obj(svc, "spec");
      if (str(spec, "type") == "ExternalName") {
        continue;
      }
      const std::string host = name_of(svc) + "." + ns_of(svc) + ".svc." + k_domain;
      auto& ms = services[host];
      ms.host = host;
      ms.name = name_of(svc);
      ms.ns = ns_of(svc);
      ms.members.emplace_back(&ci, &svc);
      if (ms.members.size() == 1) {
        ms.headless = str(spec, "clusterIP") == "None";
        ms.cluster_ip = str(spec, "clusterIP");
      }
      for (const auto& p : arr(spec, "ports")) {
        const auto number = p.value("port", 0U);
        if (std::none_of(ms.ports.begin(), ms.ports.end(),
                         [&](const ServicePort& sp) { return sp.port == number; })) {
          ms.ports.push_back({number, str(p, "name"), p.value("protocol", std::string("TCP"))});
        }
      }
    }
    for (auto& gw : network_gateways(*ci.c)) {
      gateways.push_back(std::move(gw));
    }
  }
  for (auto& gw : mesh_network_gateways(view.mesh_networks)) {
    gateways.push_back(std::move(gw));
  }
  std::sort(gateways.begin(), gateways.end());
  gateways.erase(std::unique(gateways.begin(), gateways.end()), gateways.end());
  // NetworkGateways.update: lcm of the gateway counts per network and per network+cluster.
  std::map<std::string, std::uint32_t> per_network;
  std::map<std::string, std::uint32_t> per_network_cluster;
  for (const auto& g : gateways) {
    ++per_network[g.network];
    ++per_network_cluster[g.network + "\n" + g.cluster];
  }
  for (const auto* m : {&per_network, &per_network_cluster}) {
    for (const auto& [k, n] : *m) {
      lcm = std::lcm(lcm, n);
    }
  }
}

std::vector<NetworkGateway> Registry::gateways_for(const std::string& network,
                                                   const std::string& cluster) const {
  std::vector<NetworkGateway> out;
  for (const auto& g : gateways) {
    if (g.network == network && g.cluster == cluster) {
      out.push_back(g);
    }
  }
  if (out.empty()) {
    for (const auto& g : gateways) {
      if (g.network == network) {
        out.push_back(g);
      }
    }
  }
  return out;
}

std::vector<Endpoint> Registry::endpoints(const MeshService& ms, std::uint32_t port) const {
  std::vector<Endpoint> out;
  auto members = ms.members;
  std::sort(members.begin(), members.end(),
            [](const auto& a, const auto& b) { return a.first->c->id < b.first->c->id; });
  for (const auto& [ci, svc] : members) {
    const json& spec = obj(*svc, "spec");
    const json& selector = obj(spec, "selector");
    if (selector.empty()) {
      continue;
    }
    const json* sp = nullptr;
    for (const auto& p : arr(spec, "ports")) {
      if (p.value("port", 0U) == port) {
        sp = &p;
      }
    }
    if (sp == nullptr) {
      continue;
    }
    for (const auto& pod : ci->c->pods) {
      if (ns_of(pod) != ms.ns || !pod_ready(pod) ||
          !subset_of(selector, obj(obj(pod, "metadata"), "labels"))) {
        continue;
      }
      std::uint32_t target = port;
      if (sp->contains("targetPort")) {
        const json& t = (*sp)["targetPort"];
        if (t.is_number()) {
          target = t.get<std::uint32_t>();
        } else if (t.is_string()) {
          target = 0;
          for (const auto& c : arr(obj(pod, "spec"), "containers")) {
            for (const auto& cp : arr(c, "ports")) {
              if (str(cp, "name") == t.get<std::string>()) {
                target = cp.value("containerPort", 0U);
              }
            }
          }
          if (target == 0) {
            continue; // FindPort fails: no endpoint
          }
        }
      }
      Endpoint ep;
      ep.addr = str(obj(pod, "status"), "podIP");
      ep.port = target;
      ep.cluster = ci->c->id;
      ep.network = ci->pod_network(pod);
      ep.locality = ci->locality(pod);
      ep.labels =
          augment_labels(obj(obj(pod, "metadata"), "labels"), ep.cluster, ep.locality, ep.network);
      const std::string tls = label(pod, "security.istio.io/tlsMode");
      ep.tls_istio = tls.empty() ? ci->injected(pod) : tls == "istio";
      ep.workload = workload_name(pod) + ";" + ms.ns + ";" + canonical_name(pod) + ";" +
                    canonical_revision(pod) + ";" + ep.cluster;
      out.push_back(std::move(ep));
    }
  }
  return out;
}

Proxy make_proxy(const MeshView& view, const Registry& reg, const json& pod) {
  Proxy p;
  p.pod = &pod;
  p.ns = ns_of(pod);
  p.name = name_of(pod);
  p.ip = str(obj(pod, "status"), "podIP");
  const ClusterIndex& local = reg.clusters.front();
  p.cluster = container_env(pod, "istio-proxy", "ISTIO_META_CLUSTER_ID");
  if (p.cluster.empty()) {
    p.cluster = view.local.id;
  }
  p.network = container_env(pod, "istio-proxy", "ISTIO_META_NETWORK");
  if (p.network.empty()) {
    p.network = local.pod_network(pod);
  }
  p.locality = local.locality(pod);
  p.labels = augment_labels(obj(obj(pod, "metadata"), "labels"), p.cluster, p.locality, p.network);
  const json* c = proxy_container(pod);
  const json& args = c != nullptr ? arr(*c, "args") : json::array();
  const auto& containers = arr(obj(pod, "spec"), "containers");
  p.router = (args.size() >= 2 && args[1] == "router") ||
             annotation(pod, "inject.istio.io/templates") == "gateway" ||
             (containers.size() == 1 && c != nullptr);
  const std::string view_env =
      container_env(pod, "istio-proxy", "ISTIO_META_REQUESTED_NETWORK_VIEW");
  if (!view_env.empty()) {
    for (const auto& n : split(view_env, ',')) {
      p.network_view.insert(n);
    }
    p.network_view.insert(""); // identifier.Undefined is always visible
  }
  p.mesh_id = container_env(pod, "istio-proxy", "ISTIO_META_MESH_ID");
  if (p.mesh_id.empty()) {
    p.mesh_id = str(obj(view.mesh_config, "defaultConfig"), "meshId");
  }
  if (p.mesh_id.empty()) {
    p.mesh_id = str(obj(view.local.injector_values, "global"), "meshID");
  }
  const std::string image = c != nullptr ? str(*c, "image") : "";
  const auto colon = image.rfind(':');
  p.version = colon == std::string::npos ? "1.24.2" : image.substr(colon + 1);
  return p;
}

} // namespace kubesim::istiod::detail

namespace kubesim::istiod {

using namespace detail;

bool NetworkGateway::operator<(const NetworkGateway& o) const {
  return std::tie(addr, port, network, cluster) < std::tie(o.addr, o.port, o.network, o.cluster);
}
bool NetworkGateway::operator==(const NetworkGateway& o) const {
  return addr == o.addr && port == o.port && network == o.network && cluster == o.cluster;
}

std::string cluster_network(const ClusterObjects& c) {
  for (const auto& ns : c.namespaces) {
    if (name_of(ns) == "istio-system") {
      std::string n = label(ns, k_label_network);
      if (!n.empty()) {
        return n;
      }
    }
  }
  return str(obj(c.injector_values, "global"), "network");
}

std::optional<std::string> resolve_gateway_address(const std::string& address) {
  if (is_ip(address)) {
    return address;
  }
  return elb_resolve(address);
}

std::vector<NetworkGateway> mesh_network_gateways(const json& mesh_networks) {
  std::vector<NetworkGateway> out;
  for (const auto& [net, n] : obj(mesh_networks, "networks").items()) {
    for (const auto& gw : arr(n, "gateways")) {
      const std::string address = str(gw, "address");
      const json& p = gw.is_object() && gw.contains("port") ? gw["port"] : json();
      const std::int64_t port = p.is_number_integer() ? p.get<std::int64_t>() : 0;
      if (address.empty() || port <= 0 || port > 65535) {
        continue;
      }
      if (const auto ip = resolve_gateway_address(address)) {
        out.push_back({net, "", *ip, static_cast<std::uint32_t>(port)});
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<NetworkGateway> network_gateways(const ClusterObjects& c) {
  std::vector<NetworkGateway> out;
  for (const auto& svc : c.services) {
    const std::string network = label(svc, k_label_network);
    if (network.empty()) {
      continue;
    }
    std::uint32_t port = k_default_gateway_port;
    if (const std::string p = label(svc, "networking.istio.io/gatewayPort"); !p.empty()) {
      char* end = nullptr;
      const auto v = std::strtoul(p.c_str(), &end, 10);
      if (end != nullptr && *end == '\0' && v > 0) {
        port = static_cast<std::uint32_t>(v);
      }
    }
    const json& spec = obj(svc, "spec");
    const std::string type = str(spec, "type");
    std::vector<std::string> addrs;
    if (type == "LoadBalancer") {
      for (const auto& ing : arr(obj(obj(svc, "status"), "loadBalancer"), "ingress")) {
        const std::string ip = str(ing, "ip");
        const std::string host = str(ing, "hostname");
        if (!ip.empty()) {
          addrs.push_back(ip);
        } else if (!host.empty()) {
          addrs.push_back(host);
        }
      }
    }
    for (const auto& ip : arr(spec, "externalIPs")) {
      if (ip.is_string()) {
        addrs.push_back(ip.get<std::string>());
      }
    }
    const json& annotations = obj(obj(svc, "metadata"), "annotations");
    const bool nodeport_gateway =
        type == "NodePort" && annotations.contains("traffic.istio.io/nodeSelector");
    if (addrs.empty() && nodeport_gateway) {
      // getNodeSelectorsForService: json.Unmarshal into map[string]string; on error, nil.
      json selector = json::object();
      try {
        json parsed = json::parse(str(annotations, "traffic.istio.io/nodeSelector"));
        if (parsed.is_object()) {
          for (const auto& [k, v] : parsed.items()) {
            if (v.is_string()) {
              selector[k] = v;
            }
          }
        }
      } catch (const json::exception&) {
        selector = json::object(); // nil selector: SubsetOf is true for every node
      }
      for (const auto& node : c.nodes) {
        std::string ext;
        for (const auto& a : arr(obj(node, "status"), "addresses")) {
          if (str(a, "type") == "ExternalIP" && !str(a, "address").empty()) {
            ext = str(a, "address");
            break;
          }
        }
        if (!ext.empty() && subset_of(selector, obj(obj(node, "metadata"), "labels"))) {
          addrs.push_back(ext);
        }
      }
    }
    if (nodeport_gateway) {
      for (const auto& p : arr(spec, "ports")) {
        if (p.value("port", 0U) == port && p.value("nodePort", 0U) != 0) {
          port = p.value("nodePort", 0U);
          break;
        }
      }
    }
    for (const auto& a : addrs) {
      if (const auto ip = resolve_gateway_address(a)) {
        out.push_back({network, c.id, *ip, port});
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

} // namespace kubesim::istiod

// The istiod model: from the objects istiod sees to the Envoy config a proxy holds.
//
// Every rule below is taken from Istio's code (1.2x; file names relative to istio/istio) and is
// the part of it that decides what meshctl verify looks at. Where FACTS.md and the code disagree,
// the code wins and the difference is said here.
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
// which is why the seed's runbook shows 10.0.139.33:32652. Hostname addresses are dropped
// (istiod resolves them only with RESOLVE_HOSTNAME_GATEWAYS and DNS; kubesim has neither).
//
// EDS (xds/endpoints/endpoint_builder.go, ep_filters.go): endpoints are grouped by locality
// (sorted). When any gateway exists, the split-horizon filter runs per locality group: endpoints
// the proxy's REQUESTED_NETWORK_VIEW hides are dropped; endpoints on the proxy's network, or on a
// network without gateway, stay as they are (current istiod keeps a remote pod IP when its network
// has no gateway, although nothing can reach it — older istiod dropped them); other endpoints
// need tlsMode istio and are replaced by one endpoint per gateway of their network (gateways of
// their own cluster preferred) whose weight is the sum of the weights it replaces, metadata
// istio.workload ";;;;CLUSTER". Weights are scaled by the lcm of the gateway counts per network
// and per network+cluster.
//
// Priorities (networking/core/loadbalancer/loadbalancer.go): the DestinationRule for the host is
// looked up in the proxy's namespace, then the service's, then the root namespace (istio-system);
// exact host before wildcard, exportTo and workloadSelector ignored. Its traffic policy (port-level
// and subset settings merged in) gives localityLbSetting (else the mesh's, enabled by default)
// and outlierDetection. Failover is applied only when outlierDetection is set: with
// failoverPriority [L1..LN] an endpoint whose first k labels equal the proxy's gets priority N-k
// (labels include topology.istio.io/cluster|network and the locality labels; "label=value"
// overrides the proxy's value), then priorities are renumbered 0..M without gaps; without
// failoverPriority, region/zone/subzone proximity decides (0..3, 4 for failover mismatches).
// Without outlierDetection every endpoint stays at priority 0. `distribute` is not modelled.
//
// Gateways' SNI routes (networking/core/gateway.go): a gateway pod selected by a Gateway whose
// server has tls.mode AUTO_PASSTHROUGH gets listener 0.0.0.0_PORT with one filter chain per
// service port (and per DestinationRule subset) whose host the server's hosts cover
// ("*", "*.suffix" or exact, optionally "ns/"): server_names ["outbound_.PORT_.SUBSET_.HOST"],
// application_protocols the five Istio ALPNs, tcp_proxy to the cluster of the same name.
//
// Output follows Envoy's admin JSON (snake_case), compared with the dumps in ../shared/istio.

#include "istiod_model.hpp"

#include "api.hpp"
#include "pki.hpp"
#include "store.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <numeric>
#include <sstream>
#include <tuple>

namespace kubesim::istiod {
namespace {

constexpr const char* k_domain = "cluster.local";
constexpr const char* k_label_network = "topology.istio.io/network";
constexpr const char* k_label_cluster = "topology.istio.io/cluster";
constexpr const char* k_label_region = "topology.kubernetes.io/region";
constexpr const char* k_label_zone = "topology.kubernetes.io/zone";
constexpr const char* k_label_subzone = "topology.istio.io/subzone";
constexpr std::uint32_t k_default_gateway_port = 15443;
const std::vector<std::string> k_istio_alpns = {"istio", "istio-peer-exchange", "istio-http/1.0",
                                                "istio-http/1.1", "istio-h2"};

std::string str(const json& j, const char* key) {
  if (j.is_object()) {
    auto it = j.find(key);
    if (it != j.end() && it->is_string()) {
      return it->get<std::string>();
    }
  }
  return "";
}

const json& obj(const json& j, const char* key) {
  static const json k_empty = json::object();
  if (j.is_object()) {
    auto it = j.find(key);
    if (it != j.end() && (it->is_object() || it->is_array())) {
      return *it;
    }
  }
  return k_empty;
}

const json& arr(const json& j, const char* key) {
  static const json k_empty = json::array();
  if (j.is_object()) {
    auto it = j.find(key);
    if (it != j.end() && it->is_array()) {
      return *it;
    }
  }
  return k_empty;
}

std::string label(const json& o, const std::string& key) {
  return str(obj(obj(o, "metadata"), "labels"), key.c_str());
}
std::string annotation(const json& o, const std::string& key) {
  return str(obj(obj(o, "metadata"), "annotations"), key.c_str());
}
std::string name_of(const json& o) {
  return str(obj(o, "metadata"), "name");
}
std::string ns_of(const json& o) {
  return str(obj(o, "metadata"), "namespace");
}

/// Istio's labels.Instance.SubsetOf: every key=value of `sel` is in `labels`; empty sel: true.
bool subset_of(const json& sel, const json& labels) {
  if (!sel.is_object()) {
    return true;
  }
  for (const auto& [k, v] : sel.items()) {
    if (!labels.is_object() || !labels.contains(k) || labels[k] != v) {
      return false;
    }
  }
  return true;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    out += (i == 0 ? "" : sep) + v[i];
  }
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

bool is_ipv4(const std::string& s) {
  unsigned a = 0;
  unsigned b = 0;
  unsigned c = 0;
  unsigned d = 0;
  char tail = 0;
  return std::sscanf(s.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a < 256 &&
         b < 256 && c < 256 && d < 256;
}
bool is_ip(const std::string& s) {
  return is_ipv4(s) || (s.find(':') != std::string::npos &&
                        s.find_first_not_of("0123456789abcdefABCDEF:.") == std::string::npos);
}

/// The env value (not valueFrom) of `var` in container `container` of `pod`.
std::string container_env(const json& pod, const std::string& container, const std::string& var) {
  for (const auto& c : arr(obj(pod, "spec"), "containers")) {
    if (str(c, "name") != container) {
      continue;
    }
    for (const auto& e : arr(c, "env")) {
      if (str(e, "name") == var) {
        return str(e, "value");
      }
    }
  }
  return "";
}

const json* proxy_container(const json& pod) {
  for (const auto& c : arr(obj(pod, "spec"), "containers")) {
    if (str(c, "name") == "istio-proxy") {
      return &c;
    }
  }
  return nullptr;
}

bool pod_ready(const json& pod) {
  const json& st = obj(pod, "status");
  if (str(st, "phase") != "Running" || str(st, "podIP").empty() ||
      obj(pod, "metadata").contains("deletionTimestamp")) {
    return false;
  }
  for (const auto& c : arr(st, "conditions")) {
    if (str(c, "type") == "Ready") {
      return str(c, "status") == "True";
    }
  }
  return true;
}

struct Locality {
  std::string region;
  std::string zone;
  std::string subzone;
  [[nodiscard]] std::string str() const {
    // util.LocalityToString: region/zone/subzone, empty tails dropped.
    if (subzone.empty()) {
      return zone.empty() ? region : region + "/" + zone;
    }
    return region + "/" + zone + "/" + subzone;
  }
  [[nodiscard]] json to_json() const {
    json j = json::object();
    if (!region.empty()) {
      j["region"] = region;
    }
    if (!zone.empty()) {
      j["zone"] = zone;
    }
    if (!subzone.empty()) {
      j["sub_zone"] = subzone;
    }
    return j;
  }
};

/// istiod's view of one cluster, indexed.
struct ClusterIndex {
  const ClusterObjects* c = nullptr;
  std::string network;
  std::map<std::string, const json*> nodes;
  std::map<std::string, const json*> namespaces;

  explicit ClusterIndex(const ClusterObjects& objects) : c(&objects) {
    network = cluster_network(objects);
    for (const auto& n : objects.nodes) {
      nodes[name_of(n)] = &n;
    }
    for (const auto& n : objects.namespaces) {
      namespaces[name_of(n)] = &n;
    }
  }

  [[nodiscard]] Locality locality(const json& pod) const {
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

  [[nodiscard]] std::string pod_network(const json& pod) const {
    const std::string l = label(pod, k_label_network);
    return l.empty() ? network : l;
  }

  [[nodiscard]] bool injected(const json& pod) const {
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
};

/// A workload's name as istiod reports it: the Deployment behind a ReplicaSet owner, else the
/// owner, else the Pod.
std::string workload_name(const json& pod) {
  for (const auto& o : arr(obj(pod, "metadata"), "ownerReferences")) {
    std::string n = str(o, "name");
    if (str(o, "kind") == "ReplicaSet") {
      const std::string hash = label(pod, "pod-template-hash");
      if (!hash.empty() && n.size() > hash.size() + 1 &&
          n.compare(n.size() - hash.size() - 1, std::string::npos, "-" + hash) == 0) {
        return n.substr(0, n.size() - hash.size() - 1);
      }
    }
    return n;
  }
  const std::string hash = label(pod, "pod-template-hash");
  const std::string n = name_of(pod);
  const auto pos = hash.empty() ? std::string::npos : n.find("-" + hash + "-");
  return pos == std::string::npos ? n : n.substr(0, pos);
}

std::string canonical_name(const json& pod) {
  for (const char* k : {"service.istio.io/canonical-name", "app.kubernetes.io/name", "app"}) {
    if (auto v = label(pod, k); !v.empty()) {
      return v;
    }
  }
  return workload_name(pod);
}

std::string canonical_revision(const json& pod) {
  for (const char* k :
       {"service.istio.io/canonical-revision", "app.kubernetes.io/version", "version"}) {
    if (auto v = label(pod, k); !v.empty()) {
      return v;
    }
  }
  return "latest";
}

/// labelutil.AugmentLabels.
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

/// model.IstioEndpoint, with what the EDS output needs.
struct Endpoint {
  std::string addr;
  std::uint32_t port = 0;
  std::string cluster;
  std::string network;
  Locality locality;
  json labels; ///< augmented
  bool tls_istio = false;
  std::string workload; ///< metadata istio.workload
  std::uint32_t weight = 1;
};

/// A Service port as the merged service knows it.
struct ServicePort {
  std::uint32_t port = 0;
  std::string name;
  std::string protocol = "TCP";
};

/// A service across clusters: its hostname and each cluster's Service object.
struct MeshService {
  std::string host;
  std::string name;
  std::string ns;
  std::vector<std::pair<const ClusterIndex*, const json*>> members;
  std::vector<ServicePort> ports; ///< union by number, first definition wins
  bool headless = false;
  std::string cluster_ip;
};

/// The registry istiod builds from all clusters.
struct Registry {
  std::vector<ClusterIndex> clusters; ///< local first, then synced remotes
  std::map<std::string, MeshService> services;
  std::vector<NetworkGateway> gateways;
  std::uint32_t lcm = 1;

  explicit Registry(const MeshView& view) {
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

  [[nodiscard]] std::vector<NetworkGateway> gateways_for(const std::string& network,
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

  /// The endpoints of `ms` on service port `port`, shard (cluster) by shard.
  [[nodiscard]] std::vector<Endpoint> endpoints(const MeshService& ms, std::uint32_t port) const {
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
        ep.labels = augment_labels(obj(obj(pod, "metadata"), "labels"), ep.cluster, ep.locality,
                                   ep.network);
        const std::string tls = label(pod, "security.istio.io/tlsMode");
        ep.tls_istio = tls.empty() ? ci->injected(pod) : tls == "istio";
        ep.workload = workload_name(pod) + ";" + ms.ns + ";" + canonical_name(pod) + ";" +
                      canonical_revision(pod) + ";" + ep.cluster;
        out.push_back(std::move(ep));
      }
    }
    return out;
  }
};

/// The proxy asking (model.Proxy).
struct Proxy {
  const json* pod = nullptr;
  std::string ns;
  std::string name;
  std::string ip;
  std::string cluster;
  std::string network;
  Locality locality;
  json labels;
  bool router = false;
  std::set<std::string> network_view; ///< empty: sees every network
  std::string mesh_id;
  std::string version;
};

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

// ---- DestinationRules ----

std::string root_namespace(const MeshView& view) {
  const std::string r = str(view.mesh_config, "rootNamespace");
  return r.empty() ? "istio-system" : r;
}

/// The DR host, FQDN-resolved like ResolveShortnameToFQDN.
std::string dr_host(const json& dr) {
  std::string h = str(obj(dr, "spec"), "host");
  if (!h.empty() && h.find('.') == std::string::npos && h != "*") {
    h += "." + ns_of(dr) + ".svc." + k_domain;
  }
  return h;
}

/// 0: no match; larger: more specific.
std::size_t host_match(const std::string& pattern, const std::string& host) {
  if (pattern == host) {
    return 1000000;
  }
  if (pattern == "*") {
    return 1;
  }
  if (pattern.size() > 1 && pattern[0] == '*' && pattern[1] == '.') {
    const std::string suffix = pattern.substr(1);
    if (host.size() > suffix.size() &&
        host.compare(host.size() - suffix.size(), std::string::npos, suffix) == 0) {
      return suffix.size() + 1;
    }
  }
  return 0;
}

const json* find_destination_rule(const MeshView& view, const std::string& proxy_ns,
                                  const MeshService& ms) {
  for (const std::string& ns : {proxy_ns, ms.ns, root_namespace(view)}) {
    const json* best = nullptr;
    std::size_t best_score = 0;
    for (const auto& dr : view.destination_rules) {
      if (ns_of(dr) != ns) {
        continue;
      }
      const std::size_t s = host_match(dr_host(dr), ms.host);
      if (s > best_score) {
        best = &dr;
        best_score = s;
      }
    }
    if (best != nullptr) {
      return best;
    }
  }
  return nullptr;
}

/// A traffic policy with the port-level settings for `port` merged in.
json with_port_level(json policy, std::uint32_t port) {
  if (!policy.is_object()) {
    return json::object();
  }
  for (const auto& pl : arr(policy, "portLevelSettings")) {
    if (obj(pl, "port").value("number", 0U) == port) {
      for (const auto& [k, v] : pl.items()) {
        if (k != "port") {
          policy[k] = v;
        }
      }
    }
  }
  policy.erase("portLevelSettings");
  return policy;
}

/// The effective traffic policy for port/subset (MergeTrafficPolicy, simplified).
json effective_policy(const json* dr, std::uint32_t port, const std::string& subset) {
  if (dr == nullptr) {
    return json::object();
  }
  json tp = with_port_level(obj(*dr, "spec").value("trafficPolicy", json::object()), port);
  if (!subset.empty()) {
    for (const auto& s : arr(obj(*dr, "spec"), "subsets")) {
      if (str(s, "name") == subset && s.contains("trafficPolicy")) {
        const json subset_policy = with_port_level(s["trafficPolicy"], port); // outlives items()
        for (const auto& [k, v] : subset_policy.items()) {
          tp[k] = v;
        }
      }
    }
  }
  return tp;
}

json subset_labels(const json* dr, const std::string& subset) {
  if (dr != nullptr) {
    for (const auto& s : arr(obj(*dr, "spec"), "subsets")) {
      if (str(s, "name") == subset) {
        return obj(s, "labels");
      }
    }
  }
  return json::object();
}

// ---- EDS ----

struct LbEndpoint {
  Endpoint ep;
  bool gateway = false;
};

struct LocalityGroup {
  Locality locality;
  std::uint32_t priority = 0;
  std::vector<LbEndpoint> endpoints;
  [[nodiscard]] std::uint32_t weight() const {
    std::uint32_t w = 0;
    for (const auto& e : endpoints) {
      w += e.ep.weight;
    }
    return w;
  }
};

/// Priorities 0..M without gaps, keeping their order.
void renumber(std::vector<LocalityGroup>& groups) {
  std::set<std::uint32_t> seen;
  for (const auto& g : groups) {
    seen.insert(g.priority);
  }
  std::map<std::uint32_t, std::uint32_t> to;
  std::uint32_t i = 0;
  for (auto p : seen) {
    to[p] = i++;
  }
  for (auto& g : groups) {
    g.priority = to[g.priority];
  }
}

void apply_failover_priorities(std::vector<LocalityGroup>& groups, const json& proxy_labels,
                               const std::vector<std::string>& priorities) {
  if (proxy_labels.empty() || groups.empty()) {
    return;
  }
  std::vector<std::string> keys;
  std::map<std::string, std::string> overrides;
  for (const auto& p : priorities) {
    const auto eq = p.find('=');
    keys.push_back(p.substr(0, eq));
    if (eq != std::string::npos) {
      overrides[keys.back()] = p.substr(eq + 1);
    }
  }
  const auto lowest = static_cast<std::uint32_t>(keys.size());
  std::vector<LocalityGroup> out;
  for (const auto& g : groups) {
    std::map<std::uint32_t, LocalityGroup> by_priority;
    for (const auto& e : g.endpoints) {
      std::uint32_t priority = 0;
      for (std::size_t j = 0; j < keys.size(); ++j) {
        auto ov = overrides.find(keys[j]);
        const std::string proxy_value =
            ov != overrides.end() ? ov->second : str(proxy_labels, keys[j].c_str());
        if (proxy_value != str(e.ep.labels, keys[j].c_str())) {
          priority = lowest - static_cast<std::uint32_t>(j);
          break;
        }
      }
      auto& sub = by_priority[priority];
      sub.locality = g.locality;
      sub.priority = priority;
      sub.endpoints.push_back(e);
    }
    for (auto& [p, sub] : by_priority) {
      out.push_back(std::move(sub));
    }
  }
  groups = std::move(out);
  renumber(groups);
}

std::uint32_t lb_priority(const Locality& proxy, const Locality& ep) {
  if (proxy.region == ep.region) {
    if (proxy.zone == ep.zone) {
      return proxy.subzone == ep.subzone ? 0 : 1;
    }
    return 2;
  }
  return 3;
}

void apply_locality_failover(std::vector<LocalityGroup>& groups, const Locality& proxy,
                             const json& failover) {
  for (auto& g : groups) {
    std::uint32_t p = lb_priority(proxy, g.locality);
    if (p == 3) {
      for (const auto& f : failover) {
        if (str(f, "from") == proxy.region) {
          if (g.locality.region != str(f, "to")) {
            p = 4;
          }
          break;
        }
      }
    }
    g.priority = g.priority * 5 + p;
  }
  renumber(groups);
}

/// Parses "outbound|PORT|SUBSET|HOST" and "outbound_.PORT_.SUBSET_.HOST".
bool parse_cluster_name(const std::string& name, std::uint32_t& port, std::string& subset,
                        std::string& host) {
  if (name.rfind("outbound|", 0) == 0) {
    auto parts = split(name, '|');
    if (parts.size() != 4) {
      return false;
    }
    port = static_cast<std::uint32_t>(std::strtoul(parts[1].c_str(), nullptr, 10));
    subset = parts[2];
    host = parts[3];
    return port != 0;
  }
  if (name.rfind("outbound_.", 0) == 0) {
    const std::string rest = name.substr(10);
    const auto a = rest.find("_.");
    if (a == std::string::npos) {
      return false;
    }
    const auto b = rest.find("_.", a + 2);
    if (b == std::string::npos) {
      return false;
    }
    port = static_cast<std::uint32_t>(std::strtoul(rest.substr(0, a).c_str(), nullptr, 10));
    subset = rest.substr(a + 2, b - a - 2);
    host = rest.substr(b + 2);
    return port != 0;
  }
  return false;
}

std::vector<LocalityGroup> build_groups(const MeshView& view, const Registry& reg,
                                        const Proxy& proxy, const MeshService& ms,
                                        std::uint32_t port, const std::string& subset) {
  const json* dr = find_destination_rule(view, proxy.ns, ms);
  std::vector<Endpoint> eps = reg.endpoints(ms, port);
  if (!subset.empty()) {
    const json sel = subset_labels(dr, subset);
    std::erase_if(eps, [&](const Endpoint& e) { return !subset_of(sel, e.labels); });
  }
  // Group by locality, localities sorted.
  std::map<std::string, LocalityGroup> by_locality;
  for (auto& e : eps) {
    auto& g = by_locality[e.locality.str()];
    g.locality = e.locality;
    g.endpoints.push_back({std::move(e), false});
  }
  std::vector<LocalityGroup> groups;
  groups.reserve(by_locality.size());
  for (auto& [k, g] : by_locality) {
    groups.push_back(std::move(g));
  }

  // Split horizon (EndpointsByNetworkFilter).
  if (!reg.gateways.empty()) {
    std::vector<LocalityGroup> filtered;
    for (const auto& g : groups) {
      LocalityGroup out;
      out.locality = g.locality;
      out.priority = g.priority;
      std::map<NetworkGateway, std::uint32_t> gw_weights;
      for (const auto& lb : g.endpoints) {
        const Endpoint& e = lb.ep;
        if (!proxy.network_view.empty() && proxy.network_view.count(e.network) == 0) {
          continue;
        }
        const std::uint32_t weight = e.weight * reg.lcm;
        auto gws = reg.gateways_for(e.network, e.cluster);
        // Proxy.InNetwork: same network, or either one unset.
        const bool in_network =
            e.network.empty() || proxy.network.empty() || e.network == proxy.network;
        if (in_network || gws.empty()) {
          LbEndpoint kept = lb;
          kept.ep.weight = weight;
          out.endpoints.push_back(std::move(kept));
          continue;
        }
        if (!e.tls_istio) {
          continue;
        }
        const auto per_gateway = weight / static_cast<std::uint32_t>(gws.size());
        for (const auto& gw : gws) {
          gw_weights[gw] += per_gateway;
        }
      }
      for (const auto& [gw, w] : gw_weights) {
        LbEndpoint lb;
        lb.gateway = true;
        lb.ep.addr = gw.addr;
        lb.ep.port = gw.port;
        lb.ep.cluster = gw.cluster;
        lb.ep.network = gw.network;
        lb.ep.labels = augment_labels(json::object(), gw.cluster, {}, gw.network);
        lb.ep.tls_istio = true;
        lb.ep.workload = ";;;;" + gw.cluster;
        lb.ep.weight = w == 0 ? 1 : w;
        out.endpoints.push_back(std::move(lb));
      }
      filtered.push_back(std::move(out));
    }
    groups = std::move(filtered);
  }
  std::erase_if(groups, [](const LocalityGroup& g) { return g.endpoints.empty(); });

  // Locality load balancing (ApplyLocalityLoadBalancer).
  const json policy = effective_policy(dr, port, subset);
  const bool outlier = policy.contains("outlierDetection");
  json setting = obj(policy, "loadBalancer").value("localityLbSetting", json());
  if (setting.is_null()) {
    setting = view.mesh_config.is_object() && view.mesh_config.contains("localityLbSetting")
                  ? view.mesh_config["localityLbSetting"]
                  : json{{"enabled", true}};
  }
  const bool enabled = !(setting.contains("enabled") && setting["enabled"] == false);
  if (enabled && setting.is_object() && !setting.contains("distribute") && outlier) {
    std::vector<std::string> priorities;
    for (const auto& p : arr(setting, "failoverPriority")) {
      if (p.is_string()) {
        priorities.push_back(p.get<std::string>());
      }
    }
    if (!priorities.empty()) {
      apply_failover_priorities(groups, proxy.labels, priorities);
      if (!arr(setting, "failover").empty()) {
        apply_locality_failover(groups, proxy.locality, arr(setting, "failover"));
      }
    } else {
      apply_locality_failover(groups, proxy.locality, arr(setting, "failover"));
    }
  }
  return groups;
}

json socket_address(const std::string& addr, std::uint32_t port) {
  return {{"socket_address", {{"address", addr}, {"port_value", port}}}};
}

json cla_json(const std::string& cluster_name, const std::vector<LocalityGroup>& groups) {
  json endpoints = json::array();
  for (const auto& g : groups) {
    json lbs = json::array();
    for (const auto& lb : g.endpoints) {
      json md = {{"istio", {{"workload", lb.ep.workload}}}};
      if (lb.ep.tls_istio) {
        md["envoy.transport_socket_match"] = {{"tlsMode", "istio"}};
      }
      lbs.push_back({{"endpoint",
                      {{"address", socket_address(lb.ep.addr, lb.ep.port)},
                       {"health_check_config", json::object()}}},
                     {"health_status", "HEALTHY"},
                     {"metadata", {{"filter_metadata", md}}},
                     {"load_balancing_weight", lb.ep.weight}});
    }
    json group = {{"locality", g.locality.to_json()},
                  {"lb_endpoints", lbs},
                  {"load_balancing_weight", g.weight()}};
    if (g.priority != 0) {
      group["priority"] = g.priority;
    }
    endpoints.push_back(group);
  }
  json cla = {{"@type", "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"},
              {"cluster_name", cluster_name}};
  if (!endpoints.empty()) {
    cla["endpoints"] = endpoints;
  }
  cla["policy"] = {{"overprovisioning_factor", 140}};
  return cla;
}

// ---- Gateways ----

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

/// Each outbound cluster a proxy gets: name, service, port, subset.
struct OutboundCluster {
  std::string name;
  const MeshService* svc = nullptr;
  ServicePort port;
  std::string subset;
};

std::vector<OutboundCluster> outbound_clusters(const MeshView& view, const Registry& reg,
                                               const Proxy& proxy) {
  std::vector<OutboundCluster> out;
  for (const auto& [host, ms] : reg.services) {
    const json* dr = find_destination_rule(view, proxy.ns, ms);
    for (const auto& p : ms.ports) {
      const std::string base = "outbound|" + std::to_string(p.port) + "|";
      std::string plain = base;
      plain.append("|").append(host);
      out.push_back({plain, &ms, p, ""});
      if (dr != nullptr) {
        for (const auto& s : arr(obj(*dr, "spec"), "subsets")) {
          const std::string subset = str(s, "name");
          std::string name = base;
          name.append(subset).append("|").append(host);
          out.push_back({name, &ms, p, subset});
        }
      }
    }
  }
  return out;
}

struct SniRoute {
  std::uint32_t listener_port = 0;
  std::string sni;
  const MeshService* svc = nullptr;
  ServicePort port;
  std::string subset;
};

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

// ---- config_dump pieces ----

std::string node_id(const Proxy& p) {
  return std::string(p.router ? "router" : "sidecar") + "~" + p.ip + "~" + p.name + "." + p.ns +
         "~" + p.ns + ".svc." + k_domain;
}

json bootstrap_dump(const Proxy& p, const std::string& now) {
  json labels = obj(obj(*p.pod, "metadata"), "labels");
  json metadata = {{"CLUSTER_ID", p.cluster},
                   {"NETWORK", p.network},
                   {"MESH_ID", p.mesh_id},
                   {"NAME", p.name},
                   {"NAMESPACE", p.ns},
                   {"ISTIO_VERSION", p.version},
                   {"INSTANCE_IPS", p.ip},
                   {"LABELS", labels},
                   {"WORKLOAD_NAME", workload_name(*p.pod)},
                   {"SERVICE_ACCOUNT", str(obj(*p.pod, "spec"), "serviceAccountName")}};
  if (!p.network_view.empty()) {
    std::vector<std::string> v;
    for (const auto& n : p.network_view) {
      if (!n.empty()) {
        v.push_back(n);
      }
    }
    metadata["REQUESTED_NETWORK_VIEW"] = join(v, ",");
  }
  const std::string cluster =
      p.router ? workload_name(*p.pod) : canonical_name(*p.pod) + "." + p.ns;
  return {{"@type", "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump"},
          {"bootstrap",
           {{"node",
             {{"id", node_id(p)},
              {"cluster", cluster},
              {"metadata", metadata},
              {"locality", p.locality.to_json()},
              {"user_agent_name", "envoy"}}}}},
          {"last_updated", now}};
}

json static_cluster(const std::string& name, const json& address) {
  return {{"cluster",
           {{"@type", "type.googleapis.com/envoy.config.cluster.v3.Cluster"},
            {"name", name},
            {"type", "STATIC"},
            {"connect_timeout", "0.250s"},
            {"load_assignment",
             {{"cluster_name", name},
              {"endpoints",
               json::array({{{"lb_endpoints",
                              json::array({{{"endpoint", {{"address", address}}}}})}}})}}}}},
          {"last_updated", "2025-01-01T00:00:00Z"}};
}

struct StaticHost {
  std::string cluster;
  json address;
};

std::vector<StaticHost> static_hosts() {
  return {{"prometheus_stats", socket_address("127.0.0.1", 15000)},
          {"agent", socket_address("127.0.0.1", 15020)},
          {"sds-grpc", {{"pipe", {{"path", "./var/run/secrets/workload-spiffe-uds/socket"}}}}},
          {"xds-grpc", {{"pipe", {{"path", "./etc/istio/proxy/XDS"}}}}}};
}

json eds_cluster(const std::string& name, const MeshService& ms, const json* dr,
                 const std::string& now) {
  json c = {{"@type", "type.googleapis.com/envoy.config.cluster.v3.Cluster"},
            {"name", name},
            {"type", ms.headless ? "ORIGINAL_DST" : "EDS"},
            {"connect_timeout", "10s"},
            {"circuit_breakers",
             {{"thresholds", json::array({{{"max_connections", 4294967295U},
                                           {"max_pending_requests", 4294967295U},
                                           {"max_requests", 4294967295U},
                                           {"max_retries", 4294967295U},
                                           {"track_remaining", true}}})}}}};
  if (!ms.headless) {
    c["eds_cluster_config"] = {{"eds_config",
                                {{"ads", json::object()},
                                 {"initial_fetch_timeout", "0s"},
                                 {"resource_api_version", "V3"}}},
                               {"service_name", name}};
  } else {
    c["lb_policy"] = "CLUSTER_PROVIDED";
  }
  json istio_md = {
      {"services", json::array({{{"host", ms.host}, {"name", ms.name}, {"namespace", ms.ns}}})}};
  if (dr != nullptr) {
    istio_md["config"] = "/apis/networking.istio.io/v1/namespaces/" + ns_of(*dr) +
                         "/destination-rule/" + name_of(*dr);
    const json& tp = obj(obj(*dr, "spec"), "trafficPolicy");
    if (tp.contains("outlierDetection")) {
      c["outlier_detection"] = json::object();
    }
  }
  c["metadata"] = {{"filter_metadata", {{"istio", istio_md}}}};
  return {{"version_info", now}, {"cluster", c}, {"last_updated", now}};
}

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

/// Every EDS cluster of the proxy with its load assignment.
struct EdsCluster {
  std::string name;
  const MeshService* svc = nullptr;
  std::vector<LocalityGroup> groups;
};

std::vector<EdsCluster> eds_clusters(const MeshView& view, const Registry& reg,
                                     const Proxy& proxy) {
  std::vector<EdsCluster> out;
  for (const auto& oc : outbound_clusters(view, reg, proxy)) {
    EdsCluster c;
    c.name = oc.name;
    c.svc = oc.svc;
    if (!oc.svc->headless) {
      c.groups = build_groups(view, reg, proxy, *oc.svc, oc.port.port, oc.subset);
    }
    out.push_back(std::move(c));
  }
  for (const auto& r : sni_routes(view, reg, proxy)) {
    EdsCluster c;
    c.name = r.sni;
    c.svc = r.svc;
    c.groups = build_groups(view, reg, proxy, *r.svc, r.port.port, r.subset);
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(),
            [](const EdsCluster& a, const EdsCluster& b) { return a.name < b.name; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const EdsCluster& a, const EdsCluster& b) { return a.name == b.name; }),
            out.end());
  return out;
}

json clusters_dump(const MeshView& view, const Proxy& proxy, const std::vector<EdsCluster>& eds,
                   const std::string& now) {
  json statics = json::array();
  for (const auto& h : static_hosts()) {
    statics.push_back(static_cluster(h.cluster, h.address));
  }
  json dynamic = json::array();
  dynamic.push_back({{"version_info", now},
                     {"cluster",
                      {{"@type", "type.googleapis.com/envoy.config.cluster.v3.Cluster"},
                       {"name", "BlackHoleCluster"},
                       {"type", "STATIC"},
                       {"connect_timeout", "10s"}}},
                     {"last_updated", now}});
  dynamic.push_back({{"version_info", now},
                     {"cluster",
                      {{"@type", "type.googleapis.com/envoy.config.cluster.v3.Cluster"},
                       {"name", "PassthroughCluster"},
                       {"type", "ORIGINAL_DST"},
                       {"connect_timeout", "10s"},
                       {"lb_policy", "CLUSTER_PROVIDED"}}},
                     {"last_updated", now}});
  for (const auto& c : eds) {
    dynamic.push_back(
        eds_cluster(c.name, *c.svc, find_destination_rule(view, proxy.ns, *c.svc), now));
  }
  return {{"@type", "type.googleapis.com/envoy.admin.v3.ClustersConfigDump"},
          {"version_info", now},
          {"static_clusters", statics},
          {"dynamic_active_clusters", dynamic}};
}

json endpoints_dump(const std::vector<EdsCluster>& eds, const std::string& now) {
  json statics = json::array();
  for (const auto& h : static_hosts()) {
    statics.push_back(
        {{"endpoint_config",
          {{"@type", "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"},
           {"cluster_name", h.cluster},
           {"endpoints", json::array({{{"locality", json::object()},
                                       {"lb_endpoints",
                                        json::array({{{"endpoint",
                                                       {{"address", h.address},
                                                        {"health_check_config", json::object()}}},
                                                      {"health_status", "HEALTHY"},
                                                      {"load_balancing_weight", 1}}})}}})},
           {"policy", {{"overprovisioning_factor", 140}}}}}});
  }
  json dynamic = json::array();
  for (const auto& c : eds) {
    if (c.svc->headless) {
      continue;
    }
    dynamic.push_back({{"endpoint_config", cla_json(c.name, c.groups)},
                       {"version_info", now},
                       {"last_updated", now}});
  }
  return {{"@type", "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump"},
          {"static_endpoint_configs", statics},
          {"dynamic_endpoint_configs", dynamic}};
}

json host_stats() {
  json stats = json::array();
  for (const char* c :
       {"cx_connect_fail", "cx_total", "rq_error", "rq_success", "rq_timeout", "rq_total"}) {
    stats.push_back({{"name", c}});
  }
  for (const char* g : {"cx_active", "rq_active"}) {
    stats.push_back({{"type", "GAUGE"}, {"name", g}});
  }
  return stats;
}

json clusters_json(const std::vector<EdsCluster>& eds) {
  json statuses = json::array();
  for (const auto& h : static_hosts()) {
    statuses.push_back(
        {{"name", h.cluster},
         {"host_statuses", json::array({{{"address", h.address},
                                         {"stats", host_stats()},
                                         {"health_status", {{"eds_health_status", "HEALTHY"}}},
                                         {"weight", 1},
                                         {"locality", json::object()}}})},
         {"observability_name", h.cluster}});
  }
  for (const auto& c : eds) {
    json hosts = json::array();
    for (const auto& g : c.groups) {
      for (const auto& lb : g.endpoints) {
        json h = {{"address", socket_address(lb.ep.addr, lb.ep.port)},
                  {"stats", host_stats()},
                  {"health_status", {{"eds_health_status", "HEALTHY"}}},
                  {"weight", lb.ep.weight},
                  {"locality", g.locality.to_json()}};
        if (g.priority != 0) {
          h["priority"] = g.priority;
        }
        hosts.push_back(h);
      }
    }
    json s = {{"name", c.name}, {"added_via_api", true}};
    if (!hosts.empty()) {
      s["host_statuses"] = hosts;
    }
    s["observability_name"] = c.name;
    statuses.push_back(s);
  }
  return {{"cluster_statuses", statuses}};
}

std::string clusters_text(const std::vector<EdsCluster>& eds) {
  std::ostringstream out;
  for (const auto& c : eds) {
    out << c.name << "::observability_name::" << c.name << "\n";
    out << c.name << "::added_via_api::true\n";
    for (const auto& g : c.groups) {
      for (const auto& lb : g.endpoints) {
        const std::string p = c.name + "::" + lb.ep.addr + ":" + std::to_string(lb.ep.port);
        out << p << "::health_flags::healthy\n";
        out << p << "::weight::" << lb.ep.weight << "\n";
        out << p << "::region::" << g.locality.region << "\n";
        out << p << "::zone::" << g.locality.zone << "\n";
        out << p << "::sub_zone::" << g.locality.subzone << "\n";
        out << p << "::canary::false\n";
        out << p << "::priority::" << g.priority << "\n";
      }
    }
  }
  return out.str();
}

/// Envoy's ?mask=: a FieldMask applied to each top-level dump (paths into nested objects only).
json apply_mask(const json& config, const std::vector<std::string>& paths) {
  json out = {{"@type", config.value("@type", "")}};
  for (const auto& path : paths) {
    const auto parts = split(path, '.');
    const json* src = &config;
    bool ok = true;
    for (const auto& p : parts) {
      if (!src->is_object() || !src->contains(p)) {
        ok = false;
        break;
      }
      src = &(*src)[p];
    }
    if (!ok) {
      continue;
    }
    json* dst = &out;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      dst = &(*dst)[parts[i]];
    }
    (*dst)[parts.back()] = *src;
  }
  return out;
}

std::map<std::string, std::string> parse_query(const std::string& q) {
  std::map<std::string, std::string> out;
  for (const auto& kv : split(q, '&')) {
    if (kv.empty()) {
      continue;
    }
    const auto eq = kv.find('=');
    out[url_decode(kv.substr(0, eq), false)] =
        eq == std::string::npos ? "" : url_decode(kv.substr(eq + 1), false);
  }
  return out;
}

} // namespace

// ---------------------------------------------------------------------------------------------

bool NetworkGateway::operator<(const NetworkGateway& o) const {
  return std::tie(addr, port, network, cluster) < std::tie(o.addr, o.port, o.network, o.cluster);
}
bool NetworkGateway::operator==(const NetworkGateway& o) const {
  return addr == o.addr && port == o.port && network == o.network && cluster == o.cluster;
}

std::vector<RemoteSecretEntry> remote_secret_entries(const std::vector<json>& secrets,
                                                     const std::string& own_id) {
  std::vector<const json*> sorted;
  for (const auto& s : secrets) {
    if (ns_of(s) == "istio-system" && label(s, "istio/multiCluster") == "true") {
      sorted.push_back(&s);
    }
  }
  std::sort(sorted.begin(), sorted.end(), [](const json* a, const json* b) {
    const auto ta = parse_rfc3339(str(obj(*a, "metadata"), "creationTimestamp"));
    const auto tb = parse_rfc3339(str(obj(*b, "metadata"), "creationTimestamp"));
    return ta != tb ? ta < tb : name_of(*a) < name_of(*b);
  });
  std::vector<RemoteSecretEntry> out;
  std::set<std::string> ids;
  for (const json* s : sorted) {
    for (const auto& [key, value] : obj(*s, "data").items()) {
      if (key == own_id || ids.count(key) != 0 || !value.is_string()) {
        continue;
      }
      auto decoded = base64_decode(value.get<std::string>());
      if (!decoded) {
        continue;
      }
      ids.insert(key);
      out.push_back({key, ns_of(*s) + "/" + name_of(*s), *decoded});
    }
  }
  return out;
}

bool has_proxy(const json& pod) {
  return proxy_container(pod) != nullptr;
}

bool is_istiod(const json& pod) {
  return ns_of(pod) == "istio-system" && label(pod, "app") == "istiod";
}

std::string cluster_id_of(const std::vector<json>& istio_system_pods, const std::string& fallback) {
  for (const auto& p : istio_system_pods) {
    if (is_istiod(p)) {
      std::string id = container_env(p, "discovery", "CLUSTER_ID");
      if (!id.empty()) {
        return id;
      }
    }
  }
  return fallback;
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
      if (is_ip(a)) {
        out.push_back({network, c.id, a, port});
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

json cluster_load_assignment(const MeshView& view, const json& pod,
                             const std::string& cluster_name) {
  std::uint32_t port = 0;
  std::string subset;
  std::string host;
  if (!parse_cluster_name(cluster_name, port, subset, host)) {
    return nullptr;
  }
  const Registry reg(view);
  auto it = reg.services.find(host);
  if (it == reg.services.end() ||
      std::none_of(it->second.ports.begin(), it->second.ports.end(),
                   [&](const ServicePort& p) { return p.port == port; })) {
    return nullptr;
  }
  const Proxy proxy = make_proxy(view, reg, pod);
  return cla_json(cluster_name, build_groups(view, reg, proxy, it->second, port, subset));
}

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

std::optional<std::string> envoy_admin(const MeshView& view, const json& pod,
                                       const std::string& path) {
  std::string p = path;
  if (!p.empty() && p[0] == '/') {
    p.erase(0, 1);
  }
  const auto q = p.find('?');
  const std::string route = p.substr(0, q);
  const auto query = parse_query(q == std::string::npos ? "" : p.substr(q + 1));
  if (route != "config_dump" && route != "clusters") {
    return std::nullopt;
  }
  const Registry reg(view);
  const Proxy proxy = make_proxy(view, reg, pod);
  const std::string now = now_rfc3339();
  const auto eds = eds_clusters(view, reg, proxy);
  if (route == "clusters") {
    if (query.count("format") != 0 && query.at("format") == "json") {
      return clusters_json(eds).dump(1) + "\n";
    }
    return clusters_text(eds);
  }
  json configs = json::array();
  configs.push_back(bootstrap_dump(proxy, now));
  configs.push_back(clusters_dump(view, proxy, eds, now));
  const bool include_eds = query.count("include_eds") != 0 && query.at("include_eds") != "false";
  if (include_eds) {
    configs.push_back(endpoints_dump(eds, now));
  }
  configs.push_back(listeners_dump(view, reg, proxy, now));
  if (auto m = query.find("mask"); m != query.end() && !m->second.empty()) {
    const auto paths = split(m->second, ',');
    for (auto& c : configs) {
      c = apply_mask(c, paths);
    }
  }
  return json{{"configs", configs}}.dump(1) + "\n";
}

std::string debug_clusterz(const MeshView& view) {
  json out = json::array();
  out.push_back({{"id", view.local.id}, {"secretName", ""}, {"syncStatus", "synced"}});
  std::vector<const RemoteCluster*> remotes;
  for (const auto& r : view.remotes) {
    remotes.push_back(&r);
  }
  std::sort(remotes.begin(), remotes.end(), [](const RemoteCluster* a, const RemoteCluster* b) {
    return std::tie(a->secret_name, a->id) < std::tie(b->secret_name, b->id);
  });
  for (const auto* r : remotes) {
    out.push_back({{"id", r->id},
                   {"secretName", r->secret_name},
                   {"syncStatus", r->synced ? "synced" : "timeout"}});
  }
  return out.dump() + "\n";
}

} // namespace kubesim::istiod

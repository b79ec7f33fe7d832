#include "check/views.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <set>

namespace meshctl::check {

using nlohmann::json;

namespace {

std::uint32_t port_number(const json& j, std::string_view key) {
  const json& v = member(j, key);
  if (v.is_number_unsigned() || v.is_number_integer()) {
    const auto n = v.get<std::int64_t>();
    return n > 0 && n < 65536 ? static_cast<std::uint32_t>(n) : 0;
  }
  return 0;
}

} // namespace

std::string label_of(const json& object, std::string_view key) {
  return str(member_at(object, {"metadata", "labels"}), key);
}

std::string annotation_of(const json& object, std::string_view key) {
  return str(member_at(object, {"metadata", "annotations"}), key);
}

std::string object_name(const json& object) {
  const json& m = member(object, "metadata");
  const std::string ns = str(m, "namespace");
  return ns.empty() ? str(m, "name") : ns + "/" + str(m, "name");
}

bool selector_matches(const json& selector, const json& labels) {
  if (!selector.is_object() || selector.empty()) {
    return false;
  }
  for (const auto& [k, v] : selector.items()) {
    if (!v.is_string() || str(labels, k) != v.get<std::string>() || !labels.contains(k)) {
      return false;
    }
  }
  return true;
}

bool pod_ready(const json& pod) {
  for (const auto& c : array_of(member(pod, "status"), "conditions")) {
    if (str(c, "type") == "Ready") {
      return str(c, "status") == "True";
    }
  }
  return false;
}

bool has_proxy(const json& pod) {
  for (const auto& c : array_of(member(pod, "spec"), "containers")) {
    if (str(c, "name") == "istio-proxy") {
      return true;
    }
  }
  return false;
}

std::string pod_ip(const json& pod) {
  return str(member(pod, "status"), "podIP");
}

// ---------------------------------------------------------------------------------------------
// Gateways (FACTS §4)

namespace {

std::string node_external_ip(const json& node) {
  for (const auto& a : array_of(member(node, "status"), "addresses")) {
    if (str(a, "type") == "ExternalIP" && !str(a, "address").empty()) {
      return str(a, "address");
    }
  }
  return {};
}

// istiod parses the annotation with json.Unmarshal into map[string]string; anything else is
// logged and ignored.
std::optional<std::map<std::string, std::string>> parse_node_selector(const std::string& text) {
  try {
    const json j = json::parse(text);
    if (!j.is_object()) {
      return std::nullopt;
    }
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : j.items()) {
      if (!v.is_string()) {
        return std::nullopt;
      }
      out[k] = v.get<std::string>();
    }
    return out;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

} // namespace

std::vector<GatewayView> gateway_views(const ClusterFacts& cluster) {
  std::vector<GatewayView> out;
  for (const auto& svc : cluster.gateway_services) {
    GatewayView g;
    const json& meta = member(svc, "metadata");
    const json& spec = member(svc, "spec");
    g.namespace_ = str(meta, "namespace");
    g.name = str(meta, "name");
    g.network = label_of(svc, k_network_label);
    g.type = str(spec, "type");
    if (g.type.empty()) {
      g.type = "ClusterIP";
    }
    std::uint32_t wanted = envoy::k_cross_network_port;
    if (const std::string p = label_of(svc, k_gateway_port_label); !p.empty()) {
      try {
        wanted = static_cast<std::uint32_t>(std::stoul(p));
      } catch (const std::exception&) {
        wanted = 0;
      }
    }
    for (const auto& p : array_of(spec, "ports")) {
      if (port_number(p, "port") == wanted) {
        g.port = wanted;
        if (const auto np = port_number(p, "nodePort"); np != 0) {
          g.node_port = np;
        }
      }
    }
    const json& annotations = member(meta, "annotations");
    if (annotations.is_object() && annotations.contains(std::string(k_node_selector_annotation))) {
      g.has_node_selector = true;
      g.node_selector = str(annotations, k_node_selector_annotation);
    }
    // Pods.
    const json& selector = member(spec, "selector");
    if (selector.is_object()) {
      for (const auto& [k, v] : selector.items()) {
        if (v.is_string()) {
          g.pod_selector += (g.pod_selector.empty() ? "" : ",") + k + "=" + v.get<std::string>();
        }
      }
    }
    for (const auto& pod : cluster.gateway_pods) {
      if (str(member(pod, "metadata"), "namespace") == g.namespace_ &&
          selector_matches(selector, member_at(pod, {"metadata", "labels"}))) {
        ++g.pods;
        g.ready_pods += pod_ready(pod) ? 1 : 0;
      }
    }
    if (!g.port) {
      out.push_back(std::move(g));
      continue;
    }
    // Addresses, as istiod builds them.
    const bool node_port_mode = g.type == "NodePort" && g.has_node_selector;
    const std::uint32_t port = node_port_mode && g.node_port ? *g.node_port : *g.port;
    if (g.type == "LoadBalancer") {
      for (const auto& ing : array_of(member_at(svc, {"status", "loadBalancer"}), "ingress")) {
        // conversion.go: an entry's ip, else its hostname (which istiod resolves later).
        if (const std::string ip = str(ing, "ip"); !ip.empty()) {
          g.addresses.push_back({ip, *g.port, "LoadBalancer ingress"});
        } else if (const std::string host = str(ing, "hostname"); !host.empty()) {
          g.addresses.push_back({host, *g.port, "LoadBalancer ingress hostname"});
        }
      }
    }
    for (const auto& ip : array_of(spec, "externalIPs")) {
      if (ip.is_string()) {
        g.addresses.push_back({ip.get<std::string>(), port, "externalIPs"});
      }
    }
    if (g.has_node_selector) {
      const auto sel = parse_node_selector(g.node_selector);
      g.node_selector_valid = sel.has_value();
      if (sel && g.type == "NodePort") {
        for (const auto& node : cluster.nodes) {
          const json& labels = member_at(node, {"metadata", "labels"});
          bool match = true;
          for (const auto& [k, v] : *sel) {
            if (str(labels, k) != v || !labels.contains(k)) {
              match = false;
              break;
            }
          }
          if (!match) {
            continue;
          }
          const std::string node_name = str(member(node, "metadata"), "name");
          g.selected_nodes.push_back(node_name);
          const std::string ip = node_external_ip(node);
          if (ip.empty()) {
            g.selected_without_external_ip.push_back(node_name);
          } else if (g.node_port) {
            g.addresses.push_back({ip, *g.node_port, "ExternalIP of node " + node_name});
          }
        }
      }
    }
    // gateway.addresses, written into meshNetworks (cluster ""): istiod uses them for this
    // cluster's workloads only when the Service gives no address of this network in this cluster
    // (xds/endpoints ep_filters.go selectNetworkGateways: network+cluster first).
    if (!cluster.gateway_addresses.empty() && g.network == cluster.network) {
      std::vector<GatewayAddress> configured;
      for (const auto& a : cluster.gateway_addresses) {
        configured.push_back({a, static_cast<std::uint32_t>(cluster.gateway_port), "meshNetworks"});
      }
      if (g.addresses.empty()) {
        g.addresses = std::move(configured);
        g.from_mesh_networks = true;
      } else {
        g.shadowed = std::move(configured);
      }
    }
    out.push_back(std::move(g));
  }
  return out;
}

std::map<std::string, std::vector<std::string>> mesh_network_gateways(const std::string& text) {
  std::map<std::string, std::vector<std::string>> out;
  if (text.empty()) {
    return out;
  }
  try {
    const YAML::Node root = YAML::Load(text);
    // A key that is not there gives an invalid node, whose IsMap() etc. throw: ask
    // IsDefined() first (it does not).
    auto is = [](const YAML::Node& n, YAML::NodeType::value t) {
      return n.IsDefined() && n.Type() == t;
    };
    const YAML::Node networks = is(root, YAML::NodeType::Map) ? root["networks"] : YAML::Node();
    if (!is(networks, YAML::NodeType::Map)) {
      return out;
    }
    for (const auto& n : networks) {
      auto& list = out[n.first.as<std::string>()];
      const YAML::Node gws =
          is(n.second, YAML::NodeType::Map) ? n.second["gateways"] : YAML::Node();
      if (!is(gws, YAML::NodeType::Sequence)) {
        continue;
      }
      for (const auto& gw : gws) {
        if (!is(gw, YAML::NodeType::Map) || !is(gw["address"], YAML::NodeType::Scalar)) {
          continue;
        }
        const std::string port = is(gw["port"], YAML::NodeType::Scalar)
                                     ? gw["port"].as<std::string>()
                                     : std::string("0");
        list.push_back(gw["address"].as<std::string>() + ":" + port);
      }
    }
  } catch (const YAML::Exception&) {
    out.clear();
  }
  return out;
}

std::vector<GatewayView> network_gateways(const ClusterFacts& cluster) {
  std::vector<GatewayView> out;
  for (auto& g : gateway_views(cluster)) {
    if (g.port && g.network == cluster.network) {
      out.push_back(std::move(g));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// DestinationRules (FACTS §5)

std::vector<RuleView> rule_views(const ClusterFacts& cluster) {
  std::vector<RuleView> out;
  for (const auto& dr : cluster.destination_rules) {
    RuleView r;
    r.namespace_ = str(member(dr, "metadata"), "namespace");
    r.name = str(member(dr, "metadata"), "name");
    const json& policy = member_at(dr, {"spec", "trafficPolicy"});
    const json& lb = member_at(policy, {"loadBalancer", "localityLbSetting"});
    if (lb.is_object()) {
      const json& enabled = member(lb, "enabled");
      r.locality_lb = !(enabled.is_boolean() && !enabled.get<bool>());
    }
    r.outlier_detection = member(policy, "outlierDetection").is_object();
    out.push_back(std::move(r));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Service ports, SNI rows, endpoint rows

std::vector<std::pair<std::uint32_t, std::string>> service_ports(const MeshFacts& facts,
                                                                 const ClusterFacts& cluster) {
  const json* svc = cluster.service.is_object() ? &cluster.service : nullptr;
  for (std::size_t i = 0; svc == nullptr && i < facts.clusters.size(); ++i) {
    if (facts.clusters[i].service.is_object()) {
      svc = &facts.clusters[i].service;
    }
  }
  std::vector<std::pair<std::uint32_t, std::string>> out;
  if (svc == nullptr) {
    return out;
  }
  for (const auto& p : array_of(member(*svc, "spec"), "ports")) {
    if (const auto n = port_number(p, "port"); n != 0) {
      out.emplace_back(n, str(p, "name"));
    }
  }
  return out;
}

std::vector<SniRow> sni_rows(const MeshFacts& facts, const ClusterFacts& cluster) {
  std::vector<SniRow> out;
  const auto ports = service_ports(facts, cluster);
  const std::string host = facts.host();
  for (const auto& g : cluster.gateway_dumps) {
    if (!g.listeners.bytes || !g.parse_error.empty()) {
      continue;
    }
    for (const auto& [port, name] : ports) {
      SniRow row;
      row.gateway = g.listeners.namespace_ + "/" + g.listeners.pod;
      row.service_port = port;
      row.listener_port = envoy::k_cross_network_port;
      row.sni = envoy::sni_name(port, "", host);
      row.match = "SNI: " + row.sni;
      row.address = "0.0.0.0";
      for (const auto& r : g.routes) {
        if (std::find(r.server_names.begin(), r.server_names.end(), row.sni) !=
            r.server_names.end()) {
          row.present = true;
          row.match = r.match;
          row.destination = r.cluster.empty() ? "" : "Cluster: " + r.cluster;
          const auto us = r.listener.rfind('_');
          row.address = us == std::string::npos ? r.listener : r.listener.substr(0, us);
          break;
        }
      }
      out.push_back(std::move(row));
    }
  }
  return out;
}

std::vector<EndpointRow> endpoint_rows(const MeshFacts& facts, const ClusterFacts& cluster) {
  std::vector<EndpointRow> out;
  if (!cluster.client) {
    return out;
  }
  // Who owns which address.
  std::map<std::string, std::string> local_pods; // ip -> pod name
  for (const auto& w : cluster.workloads) {
    if (const std::string ip = pod_ip(w); !ip.empty()) {
      local_pods[ip] = str(member(w, "metadata"), "name");
    }
  }
  std::map<std::string, std::string> gateways;                            // ip:port -> cluster
  std::map<std::string, std::pair<std::string, std::string>> remote_pods; // ip -> cluster, pod
  for (const auto& other : facts.clusters) {
    if (other.name == cluster.name) {
      continue;
    }
    for (const auto& g : network_gateways(other)) {
      for (const auto& a : g.addresses) {
        gateways[a.address + ":" + std::to_string(a.port)] = other.name;
      }
    }
    for (const auto& w : other.workloads) {
      if (const std::string ip = pod_ip(w); !ip.empty()) {
        remote_pods[ip] = {other.name, str(member(w, "metadata"), "name")};
      }
    }
  }
  const std::string host = facts.host();
  for (const auto& [port, name] : service_ports(facts, cluster)) {
    const std::string cname = envoy::outbound_cluster_name(port, "", host);
    const auto it = cluster.client->endpoints.find(cname);
    if (it == cluster.client->endpoints.end()) {
      continue;
    }
    for (const auto& e : it->second) {
      EndpointRow row;
      row.envoy_cluster = cname;
      row.endpoint = e;
      const std::string marker = ";;;;";
      if (const auto lp = local_pods.find(e.ip); lp != local_pods.end()) {
        row.kind = EndpointKind::k_local_pod;
        row.peer_cluster = cluster.name;
        row.what = "pod " + lp->second;
      } else if (const auto gw = gateways.find(e.address); gw != gateways.end()) {
        row.kind = EndpointKind::k_remote_gateway;
        row.peer_cluster = gw->second;
        row.what = "gateway of " + gw->second;
      } else if (e.workload.starts_with(marker) && e.workload.size() > marker.size()) {
        row.kind = EndpointKind::k_remote_gateway;
        row.peer_cluster = e.workload.substr(marker.size());
        row.what = "gateway of " + row.peer_cluster;
      } else if (const auto rp = remote_pods.find(e.ip); rp != remote_pods.end()) {
        row.kind = EndpointKind::k_remote_pod;
        row.peer_cluster = rp->second.first;
        row.what = "pod " + rp->second.second + " in " + rp->second.first;
      } else {
        row.what = "?";
      }
      out.push_back(std::move(row));
    }
  }
  return out;
}

} // namespace meshctl::check

// Service cluster IP and node port allocation (the API server's Service registry), with an index
// of who holds what kept by a store listener.

#include "api_impl.hpp"
#include "validate.hpp"

#include <fmt/format.h>

namespace kubesim {

namespace {

constexpr int k_node_port_min = 30000;
constexpr int k_node_port_max = 32767;

} // namespace

void Api::Impl::index_service(const Event& ev) {
  if (ev.group_resource != "services") {
    return;
  }
  const json& md = ev.object["metadata"];
  const std::string key = object_key(md.value("namespace", ""), md.value("name", ""));
  auto held = service_holdings.find(key);
  if (held != service_holdings.end()) {
    ip_owner.erase(held->second.first);
    for (int p : held->second.second) {
      port_owner.erase(p);
    }
    service_holdings.erase(held);
  }
  if (ev.type == "DELETED") {
    return;
  }
  auto spec = ev.object.find("spec");
  if (spec == ev.object.end() || !spec->is_object()) {
    return;
  }
  std::pair<std::uint32_t, std::vector<int>> holding{0, {}};
  auto ip = spec->find("clusterIP");
  if (ip != spec->end() && ip->is_string()) {
    holding.first = ip_to_u32(ip->get<std::string>()); // 0 for "None" and ""
    if (holding.first != 0) {
      ip_owner[holding.first] = key;
    }
  }
  auto ports = spec->find("ports");
  if (ports != spec->end() && ports->is_array()) {
    for (const auto& p : *ports) {
      auto np = p.find("nodePort");
      if (np != p.end() && np->is_number_integer() && np->get<int>() != 0) {
        holding.second.push_back(np->get<int>());
        port_owner[np->get<int>()] = key;
      }
    }
  }
  service_holdings[key] = holding;
}

bool Api::Impl::ip_taken(std::uint32_t ip, const std::string& self) const {
  auto it = ip_owner.find(ip);
  return it != ip_owner.end() && it->second != self;
}

bool Api::Impl::port_taken(int port, const std::string& self) const {
  auto it = port_owner.find(port);
  return it != port_owner.end() && it->second != self;
}

// Allocates clusterIP and nodePorts; keeps what `old` had when the request left them out.
std::vector<Cause> Api::Impl::allocate_service(json& svc, const json& old) {
  std::vector<Cause> causes;
  json& spec = svc["spec"];
  const std::string type = spec.value("type", "ClusterIP");
  const std::string self =
      object_key(svc["metadata"].value("namespace", ""), svc["metadata"].value("name", ""));
  const json old_spec = old.is_null() ? json::object() : old.value("spec", json::object());
  if (type == "ExternalName") {
    spec.erase("clusterIP");
    spec.erase("clusterIPs");
  } else {
    std::string ip = spec.value("clusterIP", "");
    if (ip.empty() && spec.contains("clusterIPs") && !spec["clusterIPs"].empty()) {
      ip = spec["clusterIPs"][0];
    }
    if (ip.empty()) {
      ip = old_spec.value("clusterIP", "");
    }
    if (ip.empty()) {
      for (std::uint32_t i = 10; i + 1 < svc_size; ++i) {
        if (!ip_taken(svc_base + i, self)) {
          ip = u32_to_ip(svc_base + i);
          break;
        }
      }
    } else if (ip != "None" && ip != old_spec.value("clusterIP", "")) {
      const std::uint32_t v = ip_to_u32(ip);
      if (v == 0 || v < svc_base || v >= svc_base + svc_size) {
        causes.push_back({"FieldValueInvalid", "spec.clusterIPs",
                          "Invalid value: [\"" + ip + "\"]: failed to allocate IP " + ip +
                              ": the provided IP (" + ip +
                              ") is not in the valid range. The "
                              "range of valid IPs is " +
                              api.m_options.service_cidr});
      } else if (ip_taken(v, self)) {
        causes.push_back({"FieldValueInvalid", "spec.clusterIPs",
                          "Invalid value: [\"" + ip + "\"]: failed to allocate IP " + ip +
                              ": provided IP is already allocated"});
      }
    }
    spec["clusterIP"] = ip;
    spec["clusterIPs"] = json::array({ip});
  }
  if (type == "NodePort" || type == "LoadBalancer") {
    std::set<int> used; // ports of this request
    json& ports = spec["ports"];
    for (std::size_t i = 0; i < ports.size(); ++i) {
      json& p = ports[i];
      int np = p.value("nodePort", 0);
      if (np == 0) {
        for (const auto& op : old_spec.value("ports", json::array())) {
          if (op.value("port", 0) == p.value("port", -1) && op.contains("nodePort")) {
            np = op["nodePort"];
          }
        }
      }
      if (np != 0) {
        if (port_taken(np, self) || used.contains(np)) {
          causes.push_back(
              {"FieldValueInvalid", fmt::format("spec.ports[{}].nodePort", i),
               fmt::format("Invalid value: {}: provided port is already allocated", np)});
        }
      } else {
        for (int c = k_node_port_min; c <= k_node_port_max; ++c) {
          if (!port_taken(c, self) && !used.contains(c)) {
            np = c;
            break;
          }
        }
      }
      p["nodePort"] = np;
      used.insert(np);
    }
  } else if (spec.contains("ports")) {
    for (auto& p : spec["ports"]) {
      // Moving to ClusterIP releases the node ports (they may be left in the request).
      if (type == "ClusterIP" && !old.is_null() && p.contains("nodePort")) {
        p.erase("nodePort");
      }
    }
  }
  return causes;
}

} // namespace kubesim

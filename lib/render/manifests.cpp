#include "render/manifests.hpp"

#include "core/base64.hpp"
#include "core/redact.hpp"
#include "core/try.hpp"
#include "render/template.hpp"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>

namespace meshctl::render {

namespace {

constexpr std::string_view k_placeholder_suffix = ", read at apply time>";

Values string_list(const std::vector<std::string>& items) {
  Values list{Values::type::list};
  for (const auto& item : items) {
    list.push_back(Values(item));
  }
  return list;
}

Result<Object> single(Result<std::vector<Object>> objects, std::string_view what) {
  if (!objects) {
    return tl::make_unexpected(objects.error());
  }
  if (objects->size() != 1) {
    return fail("internal error: template " + std::string(what) + " rendered " +
                    std::to_string(objects->size()) + " objects instead of 1",
                "this is a bug in meshctl; please report it with the command you ran");
  }
  return std::move(objects->front());
}

void append(std::vector<Object>& to, std::vector<Object>&& from) {
  for (auto& obj : from) {
    to.push_back(std::move(obj));
  }
}

bool scalar_has_placeholder(const YAML::Node& node) {
  switch (node.Type()) {
  case YAML::NodeType::Map:
    for (const auto& kv : node) {
      if (scalar_has_placeholder(kv.second)) {
        return true;
      }
    }
    return false;
  case YAML::NodeType::Sequence:
    for (const auto& item : node) {
      if (scalar_has_placeholder(item)) {
        return true;
      }
    }
    return false;
  case YAML::NodeType::Scalar:
    return node.Scalar().find(k_placeholder_suffix) != std::string::npos;
  case YAML::NodeType::Null:
  case YAML::NodeType::Undefined:
    break;
  }
  return false;
}

} // namespace

std::string service_host(const ServiceRef& svc) {
  return svc.name + "." + svc.namespace_ + ".svc.cluster.local";
}

std::string token_placeholder(std::string_view cluster) {
  return "<token of " + std::string(k_reader_service_account) + " in " + std::string(cluster) +
         std::string(k_placeholder_suffix);
}

std::string selector_placeholder(std::string_view namespace_, std::string_view name) {
  return "<pod labels of Service " + std::string(namespace_) + "/" + std::string(name) +
         "'s selector" + std::string(k_placeholder_suffix);
}

std::string ca_placeholder(std::string_view cluster) {
  return "<CA certificate of the " + std::string(cluster) + " API server" +
         std::string(k_placeholder_suffix);
}

bool is_placeholder(std::string_view value) {
  return value.size() > k_placeholder_suffix.size() && value.front() == '<' &&
         value.substr(value.size() - k_placeholder_suffix.size()) == k_placeholder_suffix;
}

bool contains_placeholder(const Object& obj) {
  if (scalar_has_placeholder(obj.node)) {
    return true;
  }
  const YAML::Node data = obj.node["data"];
  if (obj.kind() == "Secret" && data.IsDefined() && data.IsMap()) {
    for (const auto& kv : data) {
      if (!kv.second.IsScalar()) {
        continue;
      }
      const auto decoded = base64_decode(kv.second.Scalar());
      if (decoded && decoded->find(k_placeholder_suffix) != std::string::npos) {
        return true;
      }
    }
  }
  return false;
}

Result<std::vector<Object>> render_namespace(const config::ClusterConfig& cluster) {
  Values v;
  v.set("network", cluster.network);
  return render_template("namespace.yaml", v);
}

Result<std::vector<Object>> render_cacerts(const CacertsData& ca) {
  const std::string key_b64 = base64_encode(ca.ca_key);
  register_secret(ca.ca_key);
  register_secret(key_b64);
  Values v;
  v.set("ca_cert", base64_encode(ca.ca_cert));
  v.set("ca_key", key_b64);
  v.set("root_cert", base64_encode(ca.root_cert));
  v.set("cert_chain", base64_encode(ca.cert_chain));
  return render_template("cacerts.yaml", v);
}

Result<std::vector<Object>> render_eastwest_gateway(const config::ClusterConfig& cluster) {
  const config::GatewayConfig& gw = cluster.gateway;
  const bool node_port = gw.type == config::GatewayType::k_node_port;
  Values v;
  v.set("network", cluster.network);
  v.set("service_type", node_port ? "NodePort" : "LoadBalancer");
  v.set("has_node_selector", gw.node_selector.has_value());
  // Compact JSON, keys sorted: what pilot's network.go json.Unmarshal()s (FACTS §4).
  v.set("node_selector_json",
        gw.node_selector ? nlohmann::json(*gw.node_selector).dump() : std::string());
  v.set("has_node_port", gw.node_port.has_value());
  v.set("node_port", gw.node_port ? std::to_string(*gw.node_port) : std::string("0"));
  v.set("has_external_ips", !gw.external_ips.empty());
  v.set("external_ips", string_list(gw.external_ips));
  const std::string revision = cluster.istio_revision.value_or("");
  v.set("has_revision", !revision.empty() && revision != "default");
  v.set("revision", revision);
  return context(render_template("eastwest-gateway.yaml", v),
                 "rendering the east-west gateway of " + cluster.name);
}

std::string mesh_networks_text(const std::vector<config::ClusterConfig>& clusters) {
  std::map<std::string, std::vector<std::pair<std::string, int>>> networks;
  for (const auto& c : clusters) {
    for (const auto& a : c.gateway.addresses) {
      auto& gws = networks[c.network];
      const std::pair<std::string, int> gw{a, c.gateway.port};
      if (std::find(gws.begin(), gws.end(), gw) == gws.end()) {
        gws.push_back(gw);
      }
    }
  }
  if (networks.empty()) {
    return {};
  }
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "networks" << YAML::Value << YAML::BeginMap;
  for (const auto& [net, gws] : networks) {
    out << YAML::Key << net << YAML::Value << YAML::BeginMap << YAML::Key << "gateways"
        << YAML::Value << YAML::BeginSeq;
    for (const auto& [address, port] : gws) {
      out << YAML::BeginMap << YAML::Key << "address" << YAML::Value << address << YAML::Key
          << "port" << YAML::Value << port << YAML::EndMap;
    }
    out << YAML::EndSeq << YAML::EndMap;
  }
  out << YAML::EndMap << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

Result<std::vector<Object>> render_mesh_networks(const std::vector<config::ClusterConfig>& clusters,
                                                 const std::string& revision) {
  const std::string text = mesh_networks_text(clusters);
  if (text.empty()) {
    return std::vector<Object>{};
  }
  Values v;
  v.set("mesh_networks", text);
  v.set("configmap",
        revision.empty() || revision == "default" ? std::string("istio") : "istio-" + revision);
  return context(render_template("mesh-networks.yaml", v), "rendering meshNetworks");
}

Result<std::vector<Object>> render_reader(const config::ClusterConfig& cluster) {
  return context(render_template("reader.yaml", Values{}),
                 "rendering the reader RBAC of " + cluster.name);
}

Result<std::vector<Object>> render_cluster_base(const config::ClusterConfig& cluster,
                                                const CacertsData& ca, bool own_gateway) {
  std::vector<Result<std::vector<Object>>> parts;
  parts.push_back(render_namespace(cluster));
  parts.push_back(render_cacerts(ca));
  if (own_gateway) {
    parts.push_back(render_eastwest_gateway(cluster));
  }
  parts.push_back(render_reader(cluster));
  std::vector<Object> out;
  for (auto& part : parts) {
    if (!part) {
      return tl::make_unexpected(part.error());
    }
    append(out, std::move(*part));
  }
  return out;
}

Result<std::vector<Object>> render_expose_gateway(const std::vector<ServiceRef>& services,
                                                  std::string_view api_version,
                                                  const ExposeTarget& target) {
  std::vector<std::string> hosts;
  hosts.reserve(services.size());
  for (const auto& svc : services) {
    hosts.push_back(service_host(svc));
  }
  return render_expose_gateway_hosts(hosts, api_version, target);
}

Result<std::vector<Object>> render_expose_gateway_hosts(const std::vector<std::string>& given,
                                                        std::string_view api_version,
                                                        const ExposeTarget& target) {
  std::vector<std::string> hosts = given;
  if (hosts.empty()) {
    hosts.emplace_back(k_all_hosts);
  }
  if (target.selector.empty()) {
    return fail("internal error: an empty Gateway selector would select every proxy",
                "this is a bug in meshctl; please report it with the command you ran");
  }
  Values selector{Values::type::list};
  for (const auto& [k, val] : target.selector) {
    Values entry;
    entry.set("key", k);
    entry.set("value", val);
    selector.push_back(std::move(entry));
  }
  Values v;
  v.set("api_version", std::string(api_version));
  v.set("namespace", target.namespace_);
  v.set("selector", std::move(selector));
  v.set("hosts", string_list(hosts));
  return render_template("expose-gateway.yaml", v);
}

Result<std::string> remote_kubeconfig_text(const RemoteSecretInput& in) {
  Values v;
  v.set("name", in.cluster_name);
  v.set("server", in.server);
  v.set("ca_data", is_placeholder(in.ca_data_pem) ? in.ca_data_pem : base64_encode(in.ca_data_pem));
  v.set("has_tls_server_name", in.tls_server_name.has_value());
  v.set("tls_server_name", in.tls_server_name.value_or(""));
  v.set("token", in.token);
  constexpr std::string_view k_name = "remote-kubeconfig.yaml";
  TRY_ASSIGN(auto text, expand(k_name, *embedded_template(k_name), v));
  try {
    return to_yaml_text(YAML::Load(text));
  } catch (const YAML::Exception& ex) {
    return fail("internal error in template " + std::string(k_name) +
                    ": rendered text does not parse back: " + ex.what(),
                "this is a bug in meshctl; please report it with the command you ran");
  }
}

Result<Object> render_remote_secret(const RemoteSecretInput& in) {
  if (!is_placeholder(in.token)) {
    register_secret(in.token);
  }
  auto kubeconfig = remote_kubeconfig_text(in);
  if (!kubeconfig) {
    return tl::make_unexpected(
        kubeconfig.error().with_context("rendering the remote secret of " + in.cluster_name));
  }
  const std::string encoded = base64_encode(*kubeconfig);
  register_secret(encoded);
  Values v;
  v.set("secret_name", "istio-remote-secret-" + in.cluster_name);
  v.set("cluster_name", in.cluster_name);
  v.set("kubeconfig", encoded);
  return context(single(render_template("remote-secret.yaml", v), "remote-secret.yaml"),
                 "rendering the remote secret of " + in.cluster_name);
}

Result<Object> render_destination_rule(const ServiceRef& svc, std::string_view api_version,
                                       FailoverBy by, const OutlierDetection& outlier) {
  std::vector<std::string> priority;
  switch (by) {
  case FailoverBy::k_cluster:
    priority = {"topology.istio.io/cluster"};
    break;
  case FailoverBy::k_network:
    priority = {"topology.istio.io/network"};
    break;
  case FailoverBy::k_zone:
    priority = {"topology.kubernetes.io/region", "topology.kubernetes.io/zone"};
    break;
  }
  Values v;
  v.set("api_version", std::string(api_version));
  v.set("name", svc.name);
  v.set("namespace", svc.namespace_);
  v.set("host", service_host(svc));
  v.set("failover_priority", string_list(priority));
  v.set("consecutive_5xx_errors", std::to_string(outlier.consecutive_5xx_errors));
  v.set("interval", outlier.interval);
  v.set("base_ejection_time", outlier.base_ejection_time);
  return context(single(render_template("destination-rule.yaml", v), "destination-rule.yaml"),
                 "rendering the DestinationRule of " + service_host(svc));
}

} // namespace meshctl::render

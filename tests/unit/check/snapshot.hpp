#pragma once
// A hand-built Facts snapshot of the seed's story after `meshctl join` and `meshctl localize`:
// helloworld-v1 in cn-shanghai, helloworld-v2 in wuxi, sleep in both, NodePort gateways with a node
// IP in externalIPs and nodeSelector {}, one root, remote secrets both ways, a localize rule, and
// Envoy dumps showing the local pod at priority 0 and the other cluster's gateway at priority 1.
// Every check passes on it; the tests break one thing at a time.

#include "check/facts.hpp"
#include "check/finding.hpp"
#include "envoy/routes.hpp"
#include "support/testing.hpp"
#include "unit/check/fixtures.hpp"

#include <nlohmann/json.hpp>

namespace meshctl::testing::check {

using meshctl::check::ClusterFacts;
using meshctl::check::MeshFacts;

inline std::string cert(const std::string& name) {
  return read_file(source_dir() / "tests" / "data" / "check" / name);
}

inline json ready_condition(bool ready) {
  return json::array({{{"type", "Ready"}, {"status", ready ? "True" : "False"}}});
}

inline json pod(const std::string& ns, const std::string& name, const json& labels,
                const std::string& ip, bool ready = true, bool proxy = true) {
  json containers = json::array({{{"name", "app"}, {"image", "app"}}});
  if (proxy) {
    containers.push_back({{"name", "istio-proxy"}, {"image", "docker.io/istio/proxyv2:1.24.2"}});
  }
  return {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
      {"spec", {{"containers", containers}}},
      {"status", {{"phase", "Running"}, {"podIP", ip}, {"conditions", ready_condition(ready)}}}};
}

inline json service(const std::string& ns, const std::string& name, const json& selector,
                    const json& ports) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"app", name}}}}},
          {"spec",
           {{"type", "ClusterIP"},
            {"clusterIP", "10.96.0.20"},
            {"selector", selector},
            {"ports", ports}}}};
}

inline json gateway_service(const std::string& network,
                            const std::vector<std::string>& external_ips,
                            const std::optional<std::string>& node_selector,
                            const std::string& type = "NodePort") {
  json svc = {{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata",
               {{"name", "istio-eastwestgateway"},
                {"namespace", "istio-system"},
                {"labels",
                 {{"app", "istio-eastwestgateway"},
                  {"istio", "eastwestgateway"},
                  {"topology.istio.io/network", network}}}}},
              {"spec",
               {{"type", type},
                {"selector", {{"app", "istio-eastwestgateway"}, {"istio", "eastwestgateway"}}},
                {"ports",
                 {{{"name", "status-port"}, {"port", 15021}, {"nodePort", 31021}},
                  {{"name", "tls"}, {"port", 15443}, {"nodePort", 30443}},
                  {{"name", "tls-istiod"}, {"port", 15012}, {"nodePort", 31012}}}}}}};
  if (!external_ips.empty()) {
    svc["spec"]["externalIPs"] = external_ips;
  }
  if (node_selector) {
    svc["metadata"]["annotations"] = {{"traffic.istio.io/nodeSelector", *node_selector}};
  }
  return svc;
}

inline json node(const std::string& name, const std::string& internal_ip,
                 const std::string& external_ip = "") {
  json addresses = json::array({{{"type", "InternalIP"}, {"address", internal_ip}}});
  if (!external_ip.empty()) {
    addresses.push_back({{"type", "ExternalIP"}, {"address", external_ip}});
  }
  return {{"metadata", {{"name", name}, {"labels", {{"kubernetes.io/hostname", name}}}}},
          {"status", {{"addresses", addresses}}}};
}

inline json expose_gateway(const std::vector<std::string>& hosts) {
  return {{"apiVersion", "networking.istio.io/v1"},
          {"kind", "Gateway"},
          {"metadata", {{"name", "cross-network-gateway"}, {"namespace", "istio-system"}}},
          {"spec",
           {{"selector", {{"istio", "eastwestgateway"}}},
            {"servers",
             {{{"port", {{"number", 15443}, {"name", "tls"}, {"protocol", "TLS"}}},
               {"tls", {{"mode", "AUTO_PASSTHROUGH"}}},
               {"hosts", hosts}}}}}}};
}

inline json destination_rule(bool locality, bool outlier) {
  json policy = json::object();
  if (locality) {
    policy["loadBalancer"] = {
        {"localityLbSetting",
         {{"enabled", true}, {"failoverPriority", {"topology.istio.io/cluster"}}}}};
  }
  if (outlier) {
    policy["outlierDetection"] = {
        {"consecutive5xxErrors", 5}, {"interval", "10s"}, {"baseEjectionTime", "30s"}};
  }
  return {{"apiVersion", "networking.istio.io/v1"},
          {"kind", "DestinationRule"},
          {"metadata", {{"name", "helloworld"}, {"namespace", "dev"}}},
          {"spec", {{"host", "helloworld.dev.svc.cluster.local"}, {"trafficPolicy", policy}}}};
}

inline std::shared_ptr<const envoy::DumpBytes> bytes(std::string text, const std::string& name) {
  return std::make_shared<const envoy::DumpBytes>(
      envoy::DumpBytes::from_string(std::move(text), name));
}

inline const std::string k_host = "helloworld.dev.svc.cluster.local";
inline const std::string k_cluster_5000 = "outbound|5000||helloworld.dev.svc.cluster.local";

/// The client's view: its local pod at `local_priority`, the other cluster's gateway at
/// `remote_priority`.
inline void set_client(ClusterFacts& c, const std::vector<Endpoint>& eps) {
  meshctl::check::ClientFacts client;
  client.namespace_ = "dev";
  client.pod = "sleep-" + c.name.substr(0, 3) + "-1";
  client.picked_by = "auto";
  client.cluster_status = {"dev", client.pod, "clusters?format=json",
                           bytes(clusters_json(k_cluster_5000, eps), "clusters"), std::nullopt};
  client.eds = {"dev", client.pod, "config_dump?include_eds=true",
                bytes(eds_dump(k_cluster_5000, eps), "eds"), std::nullopt};
  c.client = std::move(client);
}

inline meshctl::check::RemoteSecretFacts remote_secret(const std::string& other,
                                                       const std::string& server) {
  meshctl::check::RemoteSecretFacts s;
  s.name = "istio-remote-secret-" + other;
  s.namespace_ = "istio-system";
  s.labels = {{"istio/multiCluster", "true"}};
  s.annotations = {{"networking.istio.io/cluster", other}};
  s.keys = {other};
  meshctl::check::RemoteKubeconfigFacts k;
  k.key = other;
  k.server = server;
  k.cluster_name = other;
  k.context_name = other;
  k.user_name = other;
  k.ca_pem = "-----BEGIN CERTIFICATE-----\n(api server CA)\n-----END CERTIFICATE-----\n";
  k.has_token = true;
  meshctl::check::TokenCheck t;
  t.via = server;
  t.accepted = true;
  for (const char* r :
       {"services", "pods", "nodes", "namespaces", "endpointslices.discovery.k8s.io"}) {
    t.access.push_back({"list", r, "", true, true, ""});
  }
  t.access.push_back({"create", "secrets", "istio-system", false, false, ""});
  k.token_check = t;
  s.kubeconfigs.push_back(std::move(k));
  return s;
}

inline ClusterFacts cluster(const std::string& name, const std::string& other,
                            const std::string& gateway_ip, const std::string& other_gateway_ip,
                            const std::string& pod_prefix, const std::string& version) {
  ClusterFacts c;
  c.name = name;
  c.context = name;
  c.network = name;
  c.server = "https://" + name + ".example:6443";
  c.reachable = true;
  c.latency_ms = 12;
  c.server_version = "v1.32.0";
  c.istio_kinds = {{"Gateway", "networking.istio.io/v1"},
                   {"DestinationRule", "networking.istio.io/v1"},
                   {"VirtualService", "networking.istio.io/v1"},
                   {"ServiceEntry", "networking.istio.io/v1"}};
  c.istio_system_namespace = {
      {"metadata", {{"name", "istio-system"}, {"labels", {{"topology.istio.io/network", name}}}}}};
  meshctl::check::IstiodFacts istiod;
  istiod.deployment = {{"metadata", {{"name", "istiod"}, {"namespace", "istio-system"}}}};
  istiod.pods.push_back(pod("istio-system", "istiod-7d4f8b9c6d-" + pod_prefix + "1",
                            {{"app", "istiod"}}, pod_prefix + ".0.11", true, false));
  istiod.revision = "default";
  istiod.version = "1.24.2";
  istiod.cluster_id = name;
  istiod.mesh_id = "mesh1";
  istiod.network = name;
  istiod.mesh_config_read = true;
  istiod.trust_domain = "cluster.local";
  istiod.mesh_config_mesh_id = "mesh1";
  c.istiod_revisions = {"default"};
  c.istiod = istiod;
  c.cacerts =
      meshctl::check::CacertsFacts{{"ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem"},
                                   cert("root-a.pem"),
                                   cert("ca-a-" + name + ".pem"),
                                   cert("ca-a-" + name + ".pem") + cert("root-a.pem")};
  c.root_configmap = cert("root-a.pem");
  c.remote_secrets.push_back(remote_secret(other, "https://" + other + ".example:6443"));
  c.clusterz_pod = istiod.pods.front()["metadata"]["name"];
  c.clusterz = std::vector<meshctl::check::ClusterzEntry>{
      {other, "istio-system/istio-remote-secret-" + other, "synced"}};
  c.gateway_services.push_back(gateway_service(name, {gateway_ip}, "{}"));
  c.gateway_pods.push_back(pod("istio-system", "istio-eastwestgateway-" + pod_prefix + "-1",
                               {{"app", "istio-eastwestgateway"}, {"istio", "eastwestgateway"}},
                               pod_prefix + ".0.30"));
  c.nodes.push_back(node(name + "-node-1", gateway_ip));
  c.nodes.push_back(node(name + "-node-2", pod_prefix + ".1.12"));
  c.gateways.push_back(expose_gateway({"*.local"}));
  c.service = service("dev", "helloworld", {{"app", "helloworld"}},
                      json::array({{{"name", "http"}, {"port", 5000}, {"protocol", "TCP"}}}));
  const std::string pod_ip = pod_prefix + ".0.12";
  c.workloads.push_back(pod("dev", "helloworld-" + version + "-" + pod_prefix,
                            {{"app", "helloworld"}, {"version", version}}, pod_ip));
  c.destination_rules.push_back(destination_rule(true, true));
  meshctl::check::GatewayDumpFacts g;
  g.service = "istio-system/istio-eastwestgateway";
  g.listeners = {"istio-system", "istio-eastwestgateway-" + pod_prefix + "-1",
                 "config_dump?mask=dynamic_listeners,static_listeners",
                 bytes(gateway_listener_dump({envoy::sni_name(5000, "", k_host)}), "listeners"),
                 std::nullopt};
  c.gateway_dumps.push_back(std::move(g));
  set_client(
      c, {{pod_ip, 5000, 0, "helloworld-" + version + ";dev;helloworld;" + version + ";" + name},
          {other_gateway_ip, 30443, 1, ";;;;" + other}});
  return c;
}

/// The healthy snapshot; call meshctl::check::digest() after changing dumps.
inline MeshFacts healthy_facts() {
  MeshFacts f;
  f.mesh_id = "mesh1";
  f.trust_domain = "cluster.local";
  f.service = "helloworld";
  f.namespace_ = "dev";
  f.collected_at = *meshctl::check::parse_time("2025-06-01T00:00:00Z");
  f.clusters.push_back(cluster("cn-shanghai", "wuxi", "192.168.0.11", "10.20.0.21", "10.10", "v1"));
  f.clusters.push_back(cluster("wuxi", "cn-shanghai", "10.20.0.21", "192.168.0.11", "10.30", "v2"));
  meshctl::check::digest(f);
  return f;
}

inline ClusterFacts& shanghai(MeshFacts& f) {
  return f.clusters[0];
}
inline ClusterFacts& wuxi(MeshFacts& f) {
  return f.clusters[1];
}

/// The healthy snapshot with both clusters' gateways turned into LoadBalancers whose ingress is
/// `shanghai_ingress` / `wuxi_ingress` (status.loadBalancer.ingress).
inline MeshFacts lb_facts(const json& shanghai_ingress, const json& wuxi_ingress) {
  auto facts = healthy_facts();
  for (auto& c : facts.clusters) {
    auto svc = gateway_service(c.name, {}, std::nullopt, "LoadBalancer");
    svc["status"]["loadBalancer"]["ingress"] = c.name == "wuxi" ? wuxi_ingress : shanghai_ingress;
    c.gateway_services = {svc};
  }
  return facts;
}

/// The first finding with that id about that cluster ("" = the mesh), or nullptr.
inline const meshctl::check::Finding* find(const meshctl::check::Findings& fs,
                                           const std::string& id, const std::string& cluster) {
  for (const auto& f : fs) {
    if (f.id == id && f.cluster == cluster) {
      return &f;
    }
  }
  return nullptr;
}

/// One line per finding ("error remote-secret.missing [wuxi] …"), for a failing test's output.
inline std::string dump_findings(const meshctl::check::Findings& fs) {
  std::string out;
  for (const auto& f : fs) {
    out += std::string(meshctl::check::severity_name(f.severity)) + " " + f.id + " [" + f.cluster +
           "] " + f.message + "\n";
  }
  return out;
}

} // namespace meshctl::testing::check

// The istiod model's rules, one by one, on objects built here (no network): remote secrets,
// gateway addresses and their traps, split-horizon EDS, priorities, SNI routes, /debug/clusterz,
// and the Envoy JSON shapes the answers use.

#include "istiod_model.hpp"
#include "load_balancer.hpp"
#include "pki.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

namespace {

using kubesim::istiod::ClusterObjects;
using kubesim::istiod::MeshView;
using kubesim::istiod::RemoteCluster;
using json = nlohmann::json;

const std::string k_host = "helloworld.dev.svc.cluster.local";
const std::string k_cluster = "outbound|5000||" + k_host;

json namespace_obj(const std::string& name, const json& labels = json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "Namespace"},
          {"metadata", {{"name", name}, {"labels", labels}}}};
}

json node(const std::string& name, const std::string& region, const std::string& zone,
          const std::string& external_ip = "", const json& extra_labels = json::object()) {
  json labels = {{"topology.kubernetes.io/region", region}, {"topology.kubernetes.io/zone", zone}};
  labels.update(extra_labels);
  json addresses = json::array({{{"type", "InternalIP"}, {"address", "10.0.0.1"}}});
  if (!external_ip.empty()) {
    addresses.push_back({{"type", "ExternalIP"}, {"address", external_ip}});
  }
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata", {{"name", name}, {"labels", labels}}},
          {"status", {{"addresses", addresses}}}};
}

json pod(const std::string& ns, const std::string& name, const json& labels,
         const std::string& node_name, const std::string& ip, bool sidecar = true,
         const json& proxy_env = json::array()) {
  json containers =
      json::array({{{"name", "app"},
                    {"image", "app:1"},
                    {"ports", json::array({{{"containerPort", 5000}, {"name", "http"}}})}}});
  if (sidecar) {
    containers.push_back({{"name", "istio-proxy"},
                          {"image", "docker.io/istio/proxyv2:1.24.2"},
                          {"args", json::array({"proxy", "sidecar"})},
                          {"env", proxy_env}});
  }
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
          {"spec", {{"nodeName", node_name}, {"containers", containers}}},
          {"status",
           {{"phase", "Running"},
            {"podIP", ip},
            {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}}}};
}

json service(const std::string& ns, const std::string& name, const json& selector,
             std::uint32_t port = 5000, const std::string& port_name = "http") {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"selector", selector},
            {"clusterIP", "10.96.0.50"},
            {"ports", json::array({{{"name", port_name}, {"port", port}, {"protocol", "TCP"}}})}}}};
}

/// An east-west gateway Service: NodePort by default, port 15443 on nodePort 31443.
json gateway_service(const std::string& network, const std::string& type = "NodePort",
                     const json& external_ips = json::array(),
                     const json& annotations = json::object()) {
  json spec = {
      {"type", type},
      {"selector", {{"istio", "eastwestgateway"}}},
      {"ports", json::array({{{"name", "status-port"}, {"port", 15021}, {"nodePort", 31021}},
                             {{"name", "tls"}, {"port", 15443}, {"nodePort", 31443}}})}};
  if (!external_ips.empty()) {
    spec["externalIPs"] = external_ips;
  }
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata",
           {{"name", "istio-eastwestgateway"},
            {"namespace", "istio-system"},
            {"labels", {{"topology.istio.io/network", network}, {"istio", "eastwestgateway"}}},
            {"annotations", annotations}}},
          {"spec", spec}};
}

json destination_rule(const std::string& ns, const std::string& host, bool failover_priority,
                      bool outlier) {
  json tp = json::object();
  if (failover_priority) {
    tp["loadBalancer"] = {
        {"localityLbSetting",
         {{"enabled", true}, {"failoverPriority", json::array({"topology.istio.io/cluster"})}}}};
  }
  if (outlier) {
    tp["outlierDetection"] = {{"consecutive5xxErrors", 5}, {"interval", "10s"}};
  }
  return {{"apiVersion", "networking.istio.io/v1"},
          {"kind", "DestinationRule"},
          {"metadata", {{"name", "helloworld"}, {"namespace", ns}}},
          {"spec", {{"host", host}, {"trafficPolicy", tp}}}};
}

json auto_passthrough_gateway(const json& hosts,
                              const json& selector = {{"istio", "eastwestgateway"}}) {
  return {{"apiVersion", "networking.istio.io/v1"},
          {"kind", "Gateway"},
          {"metadata", {{"name", "cross-network-gateway"}, {"namespace", "istio-system"}}},
          {"spec",
           {{"selector", selector},
            {"servers",
             json::array({{{"port", {{"number", 15443}, {"name", "tls"}, {"protocol", "TLS"}}},
                           {"tls", {{"mode", "AUTO_PASSTHROUGH"}}},
                           {"hosts", hosts}}})}}}};
}

/// The seed's two clusters after join: wuxi (local, the client's) with sleep, cn-shanghai
/// (remote, synced) with helloworld-v1 and a NodePort gateway on externalIP 192.168.0.11.
struct Seed {
  MeshView view;
  json sleep;

  Seed() {
    ClusterObjects& w = view.local;
    w.id = "wuxi";
    w.namespaces = {namespace_obj("istio-system", {{"topology.istio.io/network", "wuxi"}}),
                    namespace_obj("dev", {{"istio-injection", "enabled"}})};
    w.nodes = {node("wuxi-1", "wuxi", "wuxi-dc1")};
    sleep = pod("dev", "sleep-1", {{"app", "sleep"}}, "wuxi-1", "10.30.0.5");
    w.pods = {sleep};
    w.services = {service("dev", "helloworld", {{"app", "helloworld"}}),
                  service("dev", "sleep", {{"app", "sleep"}}, 80),
                  gateway_service("wuxi", "NodePort", json::array({"10.20.0.21"}),
                                  {{"traffic.istio.io/nodeSelector", "{}"}})};
    RemoteCluster sh;
    sh.id = "cn-shanghai";
    sh.secret_name = "istio-system/istio-remote-secret-cn-shanghai";
    sh.synced = true;
    ClusterObjects& s = sh.objects;
    s.id = "cn-shanghai";
    s.namespaces = {namespace_obj("istio-system", {{"topology.istio.io/network", "cn-shanghai"}}),
                    namespace_obj("dev", {{"istio-injection", "enabled"}})};
    s.nodes = {node("sh-1", "cn-shanghai", "cn-shanghai-b")};
    s.pods = {pod("dev", "helloworld-v1-1", {{"app", "helloworld"}, {"version", "v1"}}, "sh-1",
                  "10.10.0.12")};
    s.services = {service("dev", "helloworld", {{"app", "helloworld"}}),
                  gateway_service("cn-shanghai", "NodePort", json::array({"192.168.0.11"}),
                                  {{"traffic.istio.io/nodeSelector", "{}"}})};
    view.remotes = {sh};
  }

  ClusterObjects& shanghai() { return view.remotes[0].objects; }

  json cla(const std::string& cluster = k_cluster) {
    return kubesim::istiod::cluster_load_assignment(view, sleep, cluster);
  }
};

struct Host {
  std::string addr;
  std::uint32_t port = 0;
  std::uint32_t priority = 0;
  std::uint32_t weight = 0;
  std::string workload;
};

std::vector<Host> hosts(const json& cla) {
  std::vector<Host> out;
  for (const auto& g : cla.value("endpoints", json::array())) {
    for (const auto& lb : g["lb_endpoints"]) {
      const auto& sa = lb["endpoint"]["address"]["socket_address"];
      out.push_back({sa["address"], sa["port_value"], g.value("priority", 0U),
                     lb["load_balancing_weight"],
                     lb["metadata"]["filter_metadata"]["istio"]["workload"]});
    }
  }
  std::sort(out.begin(), out.end(), [](const Host& a, const Host& b) { return a.addr < b.addr; });
  return out;
}

json secret(const std::string& name, const json& data, bool labelled = true,
            const std::string& created = "2025-01-01T00:00:00Z") {
  json d = json::object();
  for (const auto& [k, v] : data.items()) {
    d[k] = kubesim::base64_encode(v.get<std::string>());
  }
  json labels = labelled ? json{{"istio/multiCluster", "true"}} : json::object();
  return {{"metadata",
           {{"name", name},
            {"namespace", "istio-system"},
            {"labels", labels},
            {"creationTimestamp", created}}},
          {"data", d}};
}

} // namespace

TEST_CASE("model: remote secrets register each other cluster once, as istiod does",
          "[kubesim][model]") {
  const std::vector<json> secrets = {
      secret("istio-remote-secret-b", {{"cn-shanghai", "kc-b"}, {"wuxi", "kc-self"}}, true,
             "2025-01-01T00:00:01Z"),
      secret("istio-remote-secret-a", {{"cn-shanghai", "kc-a"}}, true, "2025-01-01T00:00:00Z"),
      secret("unlabelled", {{"beijing", "kc-c"}}, false),
  };
  const auto entries = kubesim::istiod::remote_secret_entries(secrets, "wuxi");
  // Own cluster ID ignored; the older secret wins cn-shanghai; the unlabelled one is not read.
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].cluster_id == "cn-shanghai");
  CHECK(entries[0].secret_name == "istio-system/istio-remote-secret-a");
  CHECK(entries[0].kubeconfig == "kc-a");
}

TEST_CASE("model: gateway addresses from LoadBalancer ingress and externalIPs",
          "[kubesim][model]") {
  ClusterObjects c;
  c.id = "cn-shanghai";
  json lb = gateway_service("net1", "LoadBalancer", json::array({"203.0.113.9"}));
  lb["status"] = {
      {"loadBalancer",
       {{"ingress", json::array({{{"ip", "203.0.113.5"}}, {{"hostname", "gw.example.com"}}})}}}};
  c.services = {lb};
  auto gws = kubesim::istiod::network_gateways(c);
  // Both addresses on the service port (no nodePort mapping for LoadBalancer); a hostname that
  // does not resolve gives no gateway (istiod resolves it, and kubesim's DNS knows only its
  // cloud's names).
  REQUIRE(gws.size() == 2);
  CHECK(gws[0].addr == "203.0.113.5");
  CHECK(gws[1].addr == "203.0.113.9");
  CHECK(gws[0].port == 15443);
  CHECK(gws[0].network == "net1");
  CHECK(gws[0].cluster == "cn-shanghai");

  SECTION("a hostname of kubesim's cloud is resolved, as istiod resolves it") {
    const std::string host = kubesim::elb_hostname("cn-shanghai", "istio-system", "gw");
    lb["status"]["loadBalancer"]["ingress"] = json::array({{{"hostname", host}}});
    lb["spec"].erase("externalIPs");
    c.services = {lb};
    gws = kubesim::istiod::network_gateways(c);
    REQUIRE(gws.size() == 1);
    CHECK(gws[0].addr == *kubesim::elb_resolve(host));
    CHECK(gws[0].port == 15443);
  }
  SECTION("externalIPs count for a ClusterIP Service too") {
    c.services = {gateway_service("net1", "ClusterIP", json::array({"198.51.100.1"}))};
    gws = kubesim::istiod::network_gateways(c);
    REQUIRE(gws.size() == 1);
    CHECK(gws[0].addr == "198.51.100.1");
    CHECK(gws[0].port == 15443);
  }
  SECTION("label networking.istio.io/gatewayPort moves the port") {
    json s = gateway_service("net1", "ClusterIP", json::array({"198.51.100.1"}));
    s["metadata"]["labels"]["networking.istio.io/gatewayPort"] = "15444";
    c.services = {s};
    gws = kubesim::istiod::network_gateways(c);
    REQUIRE(gws.size() == 1);
    CHECK(gws[0].port == 15444);
  }
  SECTION("a Service without the network label is no gateway") {
    json s = gateway_service("net1", "ClusterIP", json::array({"198.51.100.1"}));
    s["metadata"]["labels"].erase("topology.istio.io/network");
    c.services = {s};
    CHECK(kubesim::istiod::network_gateways(c).empty());
  }
}

TEST_CASE("model: NodePort gateways and the nodeSelector annotation", "[kubesim][model]") {
  ClusterObjects c;
  c.id = "wuxi";
  c.nodes = {node("n1", "wuxi", "dc1", "203.0.113.1", {{"gw", "yes"}}),
             node("n2", "wuxi", "dc1", "203.0.113.2"),
             node("n3", "wuxi", "dc1" /* no ExternalIP */, "", {{"gw", "yes"}})};
  auto addrs = [&] {
    std::vector<std::string> out;
    for (const auto& g : kubesim::istiod::network_gateways(c)) {
      out.push_back(g.addr + ":" + std::to_string(g.port));
    }
    return out;
  };

  SECTION("a JSON selector picks matching nodes with an ExternalIP, on the nodePort") {
    c.services = {gateway_service("wuxi", "NodePort", json::array(),
                                  {{"traffic.istio.io/nodeSelector", R"({"gw":"yes"})"}})};
    CHECK(addrs() == std::vector<std::string>{"203.0.113.1:31443"});
  }
  SECTION("{} selects every node that has an ExternalIP") {
    c.services = {gateway_service("wuxi", "NodePort", json::array(),
                                  {{"traffic.istio.io/nodeSelector", "{}"}})};
    CHECK(addrs() == std::vector<std::string>{"203.0.113.1:31443", "203.0.113.2:31443"});
  }
  SECTION("trap: selected nodes without an ExternalIP give no address") {
    c.nodes = {node("n3", "wuxi", "dc1", "", {{"gw", "yes"}})};
    c.services = {gateway_service("wuxi", "NodePort", json::array(),
                                  {{"traffic.istio.io/nodeSelector", R"({"gw":"yes"})"}})};
    CHECK(addrs().empty());
  }
  SECTION("trap: a selector that is not JSON does not select what it says") {
    c.services = {gateway_service("wuxi", "NodePort", json::array(),
                                  {{"traffic.istio.io/nodeSelector", "gw=yes"}})};
    // istiod's json.Unmarshal fails, leaving a nil selector, which matches every node: n2 (not
    // gw=yes) is picked too. On the seed's nodes (no ExternalIP) that means no address at all.
    CHECK(addrs() == std::vector<std::string>{"203.0.113.1:31443", "203.0.113.2:31443"});
    c.nodes = {node("n3", "wuxi", "dc1", "", {{"gw", "yes"}})};
    CHECK(addrs().empty());
  }
  SECTION("without the annotation a NodePort Service has no address") {
    c.services = {gateway_service("wuxi")};
    CHECK(addrs().empty());
  }
  SECTION("externalIPs win over nodes, and the port is still the nodePort (the seed's "
          "10.0.139.33:32652)") {
    c.services = {gateway_service("wuxi", "NodePort", json::array({"10.0.139.33"}),
                                  {{"traffic.istio.io/nodeSelector", "{}"}})};
    CHECK(addrs() == std::vector<std::string>{"10.0.139.33:31443"});
  }
}

TEST_CASE("model: network of a cluster from istio-system's label, else the injector values",
          "[kubesim][model]") {
  ClusterObjects c;
  c.injector_values = {{"global", {{"network", "from-values"}}}};
  c.namespaces = {namespace_obj("istio-system")};
  CHECK(kubesim::istiod::cluster_network(c) == "from-values");
  c.namespaces = {namespace_obj("istio-system", {{"topology.istio.io/network", "from-label"}})};
  CHECK(kubesim::istiod::cluster_network(c) == "from-label");
}

TEST_CASE("model: EDS of a client with local pods only", "[kubesim][model]") {
  Seed s;
  s.view.remotes.clear();
  s.view.local.pods.push_back(pod(
      "dev", "helloworld-v2-1", {{"app", "helloworld"}, {"version", "v2"}}, "wuxi-1", "10.30.0.7"));
  json not_ready = pod("dev", "helloworld-v2-2", {{"app", "helloworld"}}, "wuxi-1", "10.30.0.8");
  not_ready["status"]["conditions"][0]["status"] = "False";
  s.view.local.pods.push_back(not_ready);
  const json cla = s.cla();
  CHECK(cla["@type"] == "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment");
  CHECK(cla["cluster_name"] == k_cluster);
  const auto h = hosts(cla);
  REQUIRE(h.size() == 1);
  CHECK(h[0].addr == "10.30.0.7");
  CHECK(h[0].port == 5000);
  CHECK(h[0].workload == "helloworld-v2-1;dev;helloworld;v2;wuxi");
  const json& group = cla["endpoints"][0];
  CHECK(group["locality"] == json{{"region", "wuxi"}, {"zone", "wuxi-dc1"}});
  CHECK(group["lb_endpoints"][0]["metadata"]["filter_metadata"]["envoy.transport_socket_match"] ==
        json{{"tlsMode", "istio"}});
  CHECK_FALSE(group.contains("priority"));
}

TEST_CASE("model: remote-network endpoints become one gateway endpoint", "[kubesim][model]") {
  Seed s;
  // A second v1 pod: the gateway endpoint's weight is the sum of what it replaces.
  s.shanghai().pods.push_back(
      pod("dev", "helloworld-v1-2", {{"app", "helloworld"}}, "sh-1", "10.10.0.13"));
  auto h = hosts(s.cla());
  REQUIRE(h.size() == 1);
  CHECK(h[0].addr == "192.168.0.11");
  CHECK(h[0].port == 31443);
  CHECK(h[0].weight == 2);
  CHECK(h[0].workload == ";;;;cn-shanghai");
  CHECK(h[0].priority == 0);

  SECTION("same-network remote pods stay pod IPs") {
    s.shanghai().namespaces[0]["metadata"]["labels"]["topology.istio.io/network"] = "wuxi";
    h = hosts(s.cla());
    REQUIRE(h.size() == 2);
    CHECK(h[0].addr == "10.10.0.12");
    CHECK(h[1].addr == "10.10.0.13");
  }
  SECTION("a pod of no known network counts as in the proxy's network") {
    s.shanghai().namespaces[0]["metadata"]["labels"] = json::object();
    h = hosts(s.cla());
    REQUIRE(h.size() == 2);
    CHECK(h[0].addr == "10.10.0.12");
  }
  SECTION("a remote pod without sidecar cannot go through the gateway and is dropped") {
    s.shanghai().pods = {
        pod("dev", "helloworld-v1-1", {{"app", "helloworld"}}, "sh-1", "10.10.0.12", false)};
    s.shanghai().namespaces[1]["metadata"]["labels"] = json::object();
    CHECK(hosts(s.cla()).empty());
  }
  SECTION("no gateway address for the remote network: istiod keeps the pod IPs (unreachable)") {
    s.shanghai().services[1] = gateway_service("cn-shanghai"); // NodePort, no annotation
    h = hosts(s.cla());
    REQUIRE(h.size() == 2);
    CHECK(h[0].addr == "10.10.0.12");
  }
  SECTION("trap: no remote secret, no remote endpoints") {
    s.view.remotes.clear();
    CHECK(hosts(s.cla()).empty());
  }
  SECTION("a remote that never synced contributes nothing") {
    s.view.remotes[0].synced = false;
    CHECK(hosts(s.cla()).empty());
  }
  SECTION("the gateway's own network view hides other networks") {
    json gw =
        pod("istio-system", "gw-1", {{"istio", "eastwestgateway"}}, "wuxi-1", "10.30.0.9", true,
            json::array({{{"name", "ISTIO_META_REQUESTED_NETWORK_VIEW"}, {"value", "wuxi"}}}));
    gw["spec"]["containers"].erase(0);
    s.view.local.pods.push_back(
        pod("dev", "helloworld-v2-1", {{"app", "helloworld"}}, "wuxi-1", "10.30.0.7"));
    h = hosts(kubesim::istiod::cluster_load_assignment(s.view, gw, k_cluster));
    REQUIRE(h.size() == 1);
    CHECK(h[0].addr == "10.30.0.7");
  }
}

TEST_CASE("model: priorities need failoverPriority and outlierDetection", "[kubesim][model]") {
  Seed s;
  s.view.local.pods.push_back(pod(
      "dev", "helloworld-v2-1", {{"app", "helloworld"}, {"version", "v2"}}, "wuxi-1", "10.30.0.7"));
  auto priority_of = [&](const std::string& addr) {
    for (const auto& h : hosts(s.cla())) {
      if (h.addr == addr) {
        return static_cast<int>(h.priority);
      }
    }
    return -1;
  };
  SECTION("no DestinationRule: both clusters at priority 0 (traffic spread)") {
    CHECK(priority_of("10.30.0.7") == 0);
    CHECK(priority_of("192.168.0.11") == 0);
  }
  SECTION("failoverPriority [cluster] + outlierDetection: local 0, gateway 1") {
    s.view.destination_rules = {destination_rule("dev", k_host, true, true)};
    CHECK(priority_of("10.30.0.7") == 0);
    CHECK(priority_of("192.168.0.11") == 1);
    // Priorities live on locality groups: the gateway endpoint sits in its own group.
    const json cla = s.cla();
    REQUIRE(cla["endpoints"].size() == 2);
  }
  SECTION("trap: failoverPriority without outlierDetection does nothing") {
    s.view.destination_rules = {destination_rule("dev", k_host, true, false)};
    CHECK(priority_of("10.30.0.7") == 0);
    CHECK(priority_of("192.168.0.11") == 0);
  }
  SECTION("outlierDetection alone: the mesh's default locality failover (region differs)") {
    s.view.destination_rules = {destination_rule("dev", k_host, false, true)};
    CHECK(priority_of("10.30.0.7") == 0);
    CHECK(priority_of("192.168.0.11") == 1);
  }
  SECTION("localityLbSetting.enabled=false turns it off") {
    json dr = destination_rule("dev", k_host, true, true);
    dr["spec"]["trafficPolicy"]["loadBalancer"]["localityLbSetting"]["enabled"] = false;
    s.view.destination_rules = {dr};
    CHECK(priority_of("192.168.0.11") == 0);
  }
  SECTION("a rule for another host does not apply") {
    s.view.destination_rules = {destination_rule("dev", "sleep.dev.svc.cluster.local", true, true)};
    CHECK(priority_of("192.168.0.11") == 0);
  }
  SECTION("short host names resolve in the rule's namespace; root namespace rules apply") {
    s.view.destination_rules = {destination_rule("dev", "helloworld", true, true)};
    CHECK(priority_of("192.168.0.11") == 1);
    s.view.destination_rules = {destination_rule("istio-system", k_host, true, true)};
    CHECK(priority_of("192.168.0.11") == 1);
  }
  SECTION("the client's namespace wins over the service's") {
    json dr_client = destination_rule("dev", k_host, true, false);
    json dr_root = destination_rule("istio-system", k_host, true, true);
    s.view.destination_rules = {dr_root, dr_client};
    CHECK(priority_of("192.168.0.11") == 0);
  }
  SECTION("failoverPriority [network, cluster]: N-k per matching prefix, renumbered") {
    json dr = destination_rule("dev", k_host, true, true);
    dr["spec"]["trafficPolicy"]["loadBalancer"]["localityLbSetting"]["failoverPriority"] =
        json::array({"topology.istio.io/network", "topology.istio.io/cluster"});
    s.view.destination_rules = {dr};
    // local: both match (0); gateway: network differs (2), renumbered to 1.
    CHECK(priority_of("10.30.0.7") == 0);
    CHECK(priority_of("192.168.0.11") == 1);
  }
}

TEST_CASE("model: the east-west gateway's SNI routes follow AUTO_PASSTHROUGH hosts",
          "[kubesim][model]") {
  Seed s;
  json gw =
      pod("istio-system", "istio-eastwestgateway-1",
          {{"istio", "eastwestgateway"}, {"app", "istio-eastwestgateway"}}, "wuxi-1", "10.30.0.9");
  gw["spec"]["containers"].erase(0);
  auto routes = [&] {
    std::vector<std::string> out;
    for (const auto& [port, names] : kubesim::istiod::auto_passthrough_routes(s.view, gw)) {
      for (const auto& n : names) {
        out.push_back(std::to_string(port) + " " + n);
      }
    }
    return out;
  };
  const std::string hw = "15443 outbound_.5000_._." + k_host;

  SECTION("*.local covers every service, of every cluster") {
    s.view.gateways = {auto_passthrough_gateway(json::array({"*.local"}))};
    const auto r = routes();
    CHECK(std::count(r.begin(), r.end(), hw) == 1);
    CHECK(std::count(r.begin(), r.end(), "15443 outbound_.80_._.sleep.dev.svc.cluster.local") == 1);
  }
  SECTION("an exact host covers that service only") {
    s.view.gateways = {auto_passthrough_gateway(json::array({k_host}))};
    CHECK(routes() == std::vector<std::string>{hw});
  }
  SECTION("a namespace wildcard covers that namespace") {
    s.view.gateways = {auto_passthrough_gateway(json::array({"*.dev.svc.cluster.local"}))};
    CHECK(routes().size() == 2);
    s.view.gateways = {auto_passthrough_gateway(json::array({"*.prod.svc.cluster.local"}))};
    CHECK(routes().empty());
  }
  SECTION("trap: host not exposed, no chain") {
    s.view.gateways = {auto_passthrough_gateway(json::array({"ratings.prod.svc.cluster.local"}))};
    CHECK(routes().empty());
  }
  SECTION("a Gateway that selects other pods, or is not AUTO_PASSTHROUGH, gives nothing") {
    s.view.gateways = {
        auto_passthrough_gateway(json::array({"*.local"}), {{"istio", "ingressgateway"}})};
    CHECK(routes().empty());
    json g = auto_passthrough_gateway(json::array({"*.local"}));
    g["spec"]["servers"][0]["tls"]["mode"] = "PASSTHROUGH";
    s.view.gateways = {g};
    CHECK(routes().empty());
  }
  SECTION("DestinationRule subsets get their own chains") {
    s.view.gateways = {auto_passthrough_gateway(json::array({k_host}))};
    json dr = destination_rule("dev", k_host, false, false);
    dr["spec"]["subsets"] = json::array({{{"name", "v1"}, {"labels", {{"version", "v1"}}}}});
    s.view.destination_rules = {dr};
    CHECK(routes() == std::vector<std::string>{hw, "15443 outbound_.5000_.v1_." + k_host});
  }
  SECTION("the listener in config_dump has Envoy's shape") {
    s.view.gateways = {auto_passthrough_gateway(json::array({k_host}))};
    const json dump = json::parse(*kubesim::istiod::envoy_admin(s.view, gw, "/config_dump"));
    const json* listeners = nullptr;
    for (const auto& c : dump["configs"]) {
      if (c["@type"] == "type.googleapis.com/envoy.admin.v3.ListenersConfigDump") {
        listeners = &c;
      }
    }
    REQUIRE(listeners != nullptr);
    REQUIRE((*listeners)["dynamic_listeners"].size() == 1);
    const json& l = (*listeners)["dynamic_listeners"][0]["active_state"]["listener"];
    CHECK(l["name"] == "0.0.0.0_15443");
    const json& chain = l["filter_chains"][0];
    CHECK(chain["filter_chain_match"]["server_names"] ==
          json::array({"outbound_.5000_._." + k_host}));
    CHECK(chain["filter_chain_match"]["application_protocols"] ==
          json::array(
              {"istio", "istio-peer-exchange", "istio-http/1.0", "istio-http/1.1", "istio-h2"}));
    CHECK(chain["filters"][0]["typed_config"]["cluster"] == "outbound_.5000_._." + k_host);
  }
}

TEST_CASE("model: /debug/clusterz lists the local cluster, then each remote", "[kubesim][model]") {
  Seed s;
  RemoteCluster broken;
  broken.id = "beijing";
  broken.secret_name = "istio-system/istio-remote-secret-beijing";
  s.view.remotes.push_back(broken);
  const json z = json::parse(kubesim::istiod::debug_clusterz(s.view));
  CHECK(z == json::parse(R"([
    {"id":"wuxi","secretName":"","syncStatus":"synced"},
    {"id":"beijing","secretName":"istio-system/istio-remote-secret-beijing","syncStatus":"timeout"},
    {"id":"cn-shanghai","secretName":"istio-system/istio-remote-secret-cn-shanghai","syncStatus":"synced"}
  ])"));
}

TEST_CASE("model: Envoy admin paths and shapes", "[kubesim][model]") {
  Seed s;
  s.view.destination_rules = {destination_rule("dev", k_host, true, true)};
  s.view.local.pods.push_back(
      pod("dev", "helloworld-v2-1", {{"app", "helloworld"}}, "wuxi-1", "10.30.0.7"));

  SECTION("config_dump without and with include_eds, in Envoy's order") {
    auto types = [&](const std::string& path) {
      std::vector<std::string> out;
      const json dump = json::parse(*kubesim::istiod::envoy_admin(s.view, s.sleep, path));
      for (const auto& c : dump.at("configs")) {
        out.push_back(c["@type"]);
      }
      return out;
    };
    const std::string p = "type.googleapis.com/envoy.admin.v3.";
    CHECK(types("config_dump") == std::vector<std::string>{p + "BootstrapConfigDump",
                                                           p + "ClustersConfigDump",
                                                           p + "ListenersConfigDump"});
    CHECK(types("/config_dump?include_eds=true") ==
          std::vector<std::string>{p + "BootstrapConfigDump", p + "ClustersConfigDump",
                                   p + "EndpointsConfigDump", p + "ListenersConfigDump"});
  }
  SECTION("mask keeps the named fields of each dump") {
    const json d = json::parse(*kubesim::istiod::envoy_admin(
        s.view, s.sleep, "config_dump?mask=dynamic_listeners,static_listeners"));
    REQUIRE(d["configs"].size() == 3); // every dump stays, each cut down to the mask
    bool listeners_kept = false;
    for (const auto& c : d["configs"]) {
      for (const auto& [k, v] : c.items()) {
        CHECK((k == "@type" || k == "dynamic_listeners" || k == "static_listeners"));
      }
      if (c["@type"] == "type.googleapis.com/envoy.admin.v3.ListenersConfigDump") {
        listeners_kept = c.contains("dynamic_listeners") && !c["dynamic_listeners"].empty();
      }
    }
    CHECK(listeners_kept);
  }
  SECTION("clusters?format=json: priority omitted when 0, weight and locality per host") {
    const json c =
        json::parse(*kubesim::istiod::envoy_admin(s.view, s.sleep, "clusters?format=json"));
    const json* hw = nullptr;
    for (const auto& st : c["cluster_statuses"]) {
      if (st["name"] == k_cluster) {
        hw = &st;
      }
    }
    REQUIRE(hw != nullptr);
    REQUIRE((*hw)["host_statuses"].size() == 2);
    for (const auto& h : (*hw)["host_statuses"]) {
      const std::string addr = h["address"]["socket_address"]["address"];
      CHECK(h["health_status"]["eds_health_status"] == "HEALTHY");
      if (addr == "10.30.0.7") {
        CHECK_FALSE(h.contains("priority"));
        CHECK(h["locality"]["zone"] == "wuxi-dc1");
      } else {
        CHECK(addr == "192.168.0.11");
        CHECK(h["priority"] == 1);
      }
    }
  }
  SECTION("the cluster carries the DestinationRule in its istio metadata, as istioctl reads it") {
    const json d = json::parse(*kubesim::istiod::envoy_admin(s.view, s.sleep, "config_dump"));
    bool found = false;
    for (const auto& dc : d["configs"][1]["dynamic_active_clusters"]) {
      if (dc["cluster"]["name"] == k_cluster) {
        found = true;
        CHECK(dc["cluster"]["type"] == "EDS");
        CHECK(dc["cluster"]["metadata"]["filter_metadata"]["istio"]["config"] ==
              "/apis/networking.istio.io/v1/namespaces/dev/destination-rule/helloworld");
      }
    }
    CHECK(found);
  }
  SECTION("other paths are not served") {
    CHECK_FALSE(kubesim::istiod::envoy_admin(s.view, s.sleep, "/stats").has_value());
  }
}

TEST_CASE("model: meshNetworks gateways, cluster \"\", hostnames resolved", "[kubesim][model]") {
  const std::string host = kubesim::elb_hostname("wuxi", "istio-system", "nat");
  const json networks = {
      {"networks",
       {{"wuxi",
         {{"endpoints", json::array({{{"fromRegistry", "wuxi"}}})},
          {"gateways",
           json::array({{{"address", "203.0.113.7"}, {"port", 31443}},
                        {{"address", host}, {"port", 15443}},
                        {{"address", "gw.not-resolvable.example"}, {"port", 15443}},
                        {{"registryServiceName", "istio-eastwestgateway.istio-system.svc."
                                                 "cluster.local"},
                         {"port", 15443}}})}}}}}};
  const auto gws = kubesim::istiod::mesh_network_gateways(networks);
  REQUIRE(gws.size() == 2);
  std::vector<std::string> addrs;
  for (const auto& g : gws) {
    CHECK(g.network == "wuxi");
    CHECK(g.cluster.empty());
    addrs.push_back(g.addr + ":" + std::to_string(g.port));
  }
  CHECK(std::find(addrs.begin(), addrs.end(), "203.0.113.7:31443") != addrs.end());
  CHECK(std::find(addrs.begin(), addrs.end(), *kubesim::elb_resolve(host) + ":15443") !=
        addrs.end());
  CHECK(kubesim::istiod::mesh_network_gateways(nullptr).empty());
}

// The east-west gateway (FACTS §4) and the Gateway that exposes services through it. Per cluster:
// a Service labelled with the cluster's network that exposes 15443, with ready pods and an address
// other networks can use, computed as istiod computes it (views.hpp: LoadBalancer ingress,
// externalIPs, or the nodes a NodePort's traffic.istio.io/nodeSelector selects, an annotation
// istiod reads only as a JSON object and otherwise ignores silently). Then, where the service
// runs, an Istio Gateway with TLS AUTO_PASSTHROUGH on 15443 whose hosts cover the service's host.
//
// A gateway published as a hostname (a LoadBalancer whose ingress has only `hostname`, as AWS
// gives) is not an address Envoy gets: istiod resolves it itself (pilot/pkg/model/network.go,
// resolveHostnameGateways, RESOLVE_HOSTNAME_GATEWAYS on by default), A and AAAA through the DNS
// servers of its own pod, and sends proxies one gateway endpoint per IP; a name it cannot resolve
// gives no gateway (istiod logs "could not resolve hostname"). verify resolves the name where it
// runs only to say what it resolves to here: a name that does not resolve here is a warning, not
// an error, since the cluster's DNS may know it — and no warning at all when a client in another
// cluster already reaches the gateway, which proves istiod there resolved it.

#include "check/checks.hpp"
#include "check/checks_common.hpp"
#include "check/resolve.hpp"
#include "core/strings.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace meshctl::check {

namespace {

// How clients in other clusters reach cluster `c`'s gateway: "wuxi's client through
// 198.18.1.2:15443", from the endpoints their Envoys hold.
std::vector<std::string> reached_by(const MeshFacts& facts, const ClusterFacts& c) {
  std::vector<std::string> out;
  for (const auto& o : facts.clusters) {
    if (o.name == c.name || !o.client) {
      continue;
    }
    std::vector<std::string> addresses;
    for (const auto& r : endpoint_rows(facts, o)) {
      if (r.kind == EndpointKind::k_remote_gateway && r.peer_cluster == c.name &&
          std::find(addresses.begin(), addresses.end(), r.endpoint.address) == addresses.end()) {
        addresses.push_back(r.endpoint.address);
      }
    }
    if (!addresses.empty()) {
      out.push_back(o.name + "'s client through " + join(addresses));
    }
  }
  return out;
}

void check_hostnames(const MeshFacts& facts, const ClusterFacts& c, const GatewayView& g,
                     Findings& out) {
  for (const auto& a : g.addresses) {
    if (is_ip_literal(a.address)) {
      continue;
    }
    const std::string name = fmt::format("{}:{} ({})", a.address, a.port, a.source);
    const std::string istiod_does =
        "istiod resolves it itself, through the DNS of its own cluster, and sends proxies the "
        "IP addresses (RESOLVE_HOSTNAME_GATEWAYS, on by default)";
    const auto seen = reached_by(facts, c);
    const std::string proof = seen.empty() ? "" : "; reached by " + join(seen);
    const auto it = facts.host_lookups.find(a.address);
    if (it != facts.host_lookups.end() && !it->second.addresses.empty()) {
      out.push_back(info(FindingId::k_gateway_hostname, c.name,
                         "the gateway address " + name +
                             " is a hostname; from here it resolves "
                             "to " +
                             join(it->second.addresses) + "; " + istiod_does + proof));
      continue;
    }
    const std::string why =
        it == facts.host_lookups.end() ? "it was not looked up" : it->second.error;
    if (!seen.empty()) {
      out.push_back(info(FindingId::k_gateway_hostname, c.name,
                         "the gateway address " + name +
                             " is a hostname that does not resolve "
                             "from here (" +
                             why + "), but istiod in the other clusters resolved it" + proof));
      continue;
    }
    std::vector<std::string> checks;
    for (const auto& o : facts.clusters) {
      if (o.name != c.name) {
        checks.push_back(kubectl(o) +
                         " run dns-check -it --rm --restart=Never --image=busybox "
                         "-- nslookup " +
                         a.address);
      }
    }
    out.push_back(
        warning(FindingId::k_gateway_hostname_unresolved, c.name,
                "the gateway address " + name + " is a hostname that does not resolve from here (" +
                    why + "); " + istiod_does +
                    ", so it may well resolve there, but nothing verify read "
                    "shows that it does",
                "check that the other clusters resolve it" +
                    (checks.empty() ? std::string() : " (" + join(checks) + ")") +
                    "; istiod logs \"could not resolve hostname\" and publishes no gateway for " +
                    c.name + " when it cannot"));
  }
}

// gateway.addresses of `c` (meshctl.yaml) reach the other clusters only through their istiod's
// meshNetworks: each must list every one of them under c's network.
void check_mesh_networks(const MeshFacts& facts, const ClusterFacts& c, Findings& out) {
  for (const auto& o : facts.clusters) {
    if (o.name == c.name || !usable(o) || !o.istiod || !readable(o, "istiod config")) {
      continue;
    }
    const auto known = mesh_network_gateways(o.istiod->mesh_networks);
    const auto it = known.find(c.network);
    std::vector<std::string> wanted;
    std::vector<std::string> missing;
    for (const auto& a : c.gateway_addresses) {
      wanted.push_back(fmt::format("{}:{}", a, c.gateway_port));
      if (it == known.end() ||
          std::find(it->second.begin(), it->second.end(), wanted.back()) == it->second.end()) {
        missing.push_back(wanted.back());
      }
    }
    if (missing.empty()) {
      out.push_back(info(FindingId::k_gateway_mesh_networks, o.name,
                         "istiod in " + o.name + " knows the gateway of network " + c.network +
                             " from meshNetworks: " + join(wanted)));
      continue;
    }
    out.push_back(error(
        FindingId::k_gateway_mesh_networks_missing, o.name,
        "meshNetworks of istiod in " + o.name + " (ConfigMap istio-system/istio) lacks " +
            join(missing) + ", the gateway of network " + c.network + " that meshctl.yaml gives (" +
            c.name + "'s gateway.addresses): its proxies get no way into " + c.name,
        "meshctl join " + all_clusters(facts) + " writes it (see it with " + kubectl(o) +
            " -n istio-system get configmap istio -o jsonpath='{.data.meshNetworks}')"));
  }
}

} // namespace

Findings check_gateways(const MeshFacts& facts) {
  Findings out;
  for (const auto& c : facts.clusters) {
    if (!usable(c) || !readable(c, "gateway-services")) {
      continue;
    }
    const auto views = gateway_views(c);
    for (const auto& g : views) {
      if (g.port && g.network != c.network) {
        out.push_back(error(FindingId::k_gateway_wrong_network, c.name,
                            "Service " + g.namespace_ + "/" + g.name +
                                " is labelled topology.istio.io/network=" + g.network + ", but " +
                                c.name + " is on network " + c.network +
                                ": istiod treats it as the gateway of " + g.network,
                            kubectl(c) + " -n " + g.namespace_ + " label service " + g.name +
                                " topology.istio.io/network=" + c.network + " --overwrite"));
      }
    }
    const auto net = network_gateways(c);
    if (net.empty()) {
      out.push_back(error(
          FindingId::k_gateway_missing, c.name,
          "no east-west gateway: no Service labelled topology.istio.io/network=" + c.network +
              " exposes port 15443, so other clusters cannot reach " + c.name + "'s workloads",
          "meshctl join " + all_clusters(facts) + " installs istio-eastwestgateway"));
    }
    for (const auto& g : net) {
      const std::string svc = g.namespace_ + "/" + g.name;
      const std::string annotate = kubectl(c) + " -n " + g.namespace_ + " annotate service " +
                                   g.name + " traffic.istio.io/nodeSelector=";
      bool fine = true;
      if (g.pods == 0) {
        fine = false;
        out.push_back(error(FindingId::k_gateway_no_pods, c.name,
                            "the gateway Service " + svc + " selects no pod",
                            "is the gateway Deployment there? " + kubectl(c) + " -n " +
                                g.namespace_ + " get deploy,pods -l " + g.pod_selector));
      } else if (g.ready_pods == 0) {
        fine = false;
        out.push_back(
            error(FindingId::k_gateway_pods_not_ready, c.name,
                  fmt::format("none of the {} gateway pods of {} is ready", g.pods, svc),
                  kubectl(c) + " -n " + g.namespace_ + " describe pods -l " + g.pod_selector));
      }
      // Only NodePort gateways use the annotation; elsewhere istiod never reads it.
      const bool bad_selector =
          g.type == "NodePort" && g.has_node_selector && !g.node_selector_valid;
      if (bad_selector) {
        fine = false;
        const std::string msg = fmt::format(
            "the annotation traffic.istio.io/nodeSelector of {} is '{}', not a JSON object: "
            "istiod ignores it silently{}",
            svc, g.node_selector,
            g.addresses.empty()
                ? " and publishes no gateway address"
                : " (the gateway is still reached at " + address_list(g.addresses) + ")");
        const std::string hint =
            "write it as JSON: " + annotate +
            "'{\"kubernetes.io/hostname\":\"NODE\"}' --overwrite ({} selects every node); in "
            "meshctl.yaml: gateway.nodeSelector: {key: value}";
        out.push_back(
            g.addresses.empty()
                ? error(FindingId::k_gateway_node_selector_not_json, c.name, msg, hint)
                : warning(FindingId::k_gateway_node_selector_not_json, c.name, msg, hint));
      }
      if (g.type == "NodePort" && g.has_node_selector && g.node_selector_valid &&
          g.addresses.empty()) {
        fine = false;
        if (g.selected_nodes.empty()) {
          out.push_back(error(FindingId::k_gateway_node_selector_selects_nothing, c.name,
                              "the nodeSelector '" + g.node_selector + "' of " + svc +
                                  " selects no node: istiod publishes no gateway address",
                              "select existing nodes (" + kubectl(c) +
                                  " get nodes --show-labels), or list reachable node IPs in the "
                                  "Service's spec.externalIPs (meshctl.yaml: "
                                  "gateway.externalIPs: [IP, …], then meshctl join)"));
        } else {
          out.push_back(error(
              FindingId::k_gateway_nodes_without_external_ip, c.name,
              fmt::format("the {} node(s) the nodeSelector of {} selects ({}) have no ExternalIP "
                          "address: istiod publishes no gateway address, so calls from other "
                          "networks fail",
                          g.selected_nodes.size(), svc, join(g.selected_without_external_ip)),
              "put node IPs the other clusters can reach into the Service's spec.externalIPs and "
              "keep nodeSelector {} (meshctl.yaml: gateway.externalIPs: [IP, …], then meshctl "
              "join), or give the nodes an ExternalIP"));
        }
      } else if (g.addresses.empty() && !bad_selector) {
        fine = false;
        if (g.type == "LoadBalancer") {
          out.push_back(error(
              FindingId::k_gateway_loadbalancer_pending, c.name,
              "the LoadBalancer Service " + svc +
                  " has no ingress address (EXTERNAL-IP <pending>): istiod publishes no gateway "
                  "for " +
                  c.network + ", so other networks cannot reach it",
              "the cluster's load balancer controller has not given it one: its events say why (" +
                  kubectl(c) + " -n " + g.namespace_ + " describe service " + g.name +
                  "); wait for it (" + kubectl(c) + " -n " + g.namespace_ + " get service " +
                  g.name +
                  " -w); a cluster without one (bare metal) needs gateway.type NodePort "
                  "with gateway.externalIPs in meshctl.yaml (or gateway.addresses for an address "
                  "in front of the cluster), then meshctl join"));
        } else {
          out.push_back(error(FindingId::k_gateway_no_address, c.name,
                              "the " + g.type + " Service " + svc +
                                  " has no address other networks can use (no LoadBalancer "
                                  "ingress, externalIPs or NodePort nodeSelector)",
                              "set gateway.type LoadBalancer, or NodePort with gateway.externalIPs "
                              "in meshctl.yaml (gateway.addresses for an address in front of the "
                              "cluster, such as a NAT), then meshctl join"));
        }
      }
      if (fine) {
        out.push_back(info(FindingId::k_gateway_ok, c.name,
                           fmt::format("gateway {}: {}/{} pods ready, reachable at {}", svc,
                                       g.ready_pods, g.pods, address_list(g.addresses))));
      }
      check_hostnames(facts, c, g, out);
      if (!g.shadowed.empty()) {
        out.push_back(warning(
            FindingId::k_gateway_addresses_shadowed, c.name,
            "meshctl.yaml gives " + c.name + " gateway.addresses " + address_list(g.shadowed) +
                ", but the Service " + svc + " publishes addresses of its own (" +
                address_list(g.addresses) + ") and istiod prefers those for " + c.name +
                "'s workloads",
            "remove gateway.addresses from meshctl.yaml, or keep the Service from publishing "
            "addresses (no LoadBalancer ingress, externalIPs or traffic.istio.io/nodeSelector)"));
      }
    }
    if (!c.gateway_addresses.empty()) {
      check_mesh_networks(facts, c, out);
    }
    // Whether the service is exposed: nothing to say without one (meshctl status).
    if (net.empty() || !readable(c, "gateways") || facts.service.empty()) {
      continue;
    }
    const bool runs = !c.workloads.empty();
    const auto e = exposure(facts, c);
    if (e.gateways.empty()) {
      const std::string msg = "no Gateway with TLS AUTO_PASSTHROUGH on port 15443 selects the "
                              "east-west gateway: other clusters cannot reach " +
                              c.name + "'s services";
      const std::string hint = "meshctl expose " + service_arg(facts) +
                               " creates cross-network-gateway for it (meshctl expose --all: for "
                               "every service)";
      out.push_back(runs ? error(FindingId::k_expose_missing, c.name, msg, hint)
                         : warning(FindingId::k_expose_missing, c.name, msg, hint));
    } else if (!e.covered) {
      if (runs) {
        out.push_back(error(FindingId::k_expose_host_not_covered, c.name,
                            join(e.gateways) + " exposes " + join(e.hosts) + " but not " +
                                facts.host() +
                                ": its gateway has no SNI route for it, so calls "
                                "from other clusters fail",
                            "meshctl expose " + service_arg(facts)));
      }
    } else if (runs) {
      out.push_back(info(FindingId::k_expose_ok, c.name,
                         join(e.gateways) + " exposes " + facts.host() + " on 15443"));
    }
  }
  return out;
}

} // namespace meshctl::check

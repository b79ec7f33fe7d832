// The east-west gateway (FACTS §4) and the Gateway that exposes services through it. Per cluster:
// a Service labelled with the cluster's network that exposes 15443, with ready pods and an address
// other networks can use, computed as istiod computes it (views.hpp: LoadBalancer ingress,
// externalIPs, or the nodes a NodePort's traffic.istio.io/nodeSelector selects, an annotation
// istiod reads only as a JSON object and otherwise ignores silently). Then, where the service
// runs, an Istio Gateway with TLS AUTO_PASSTHROUGH on 15443 whose hosts cover the service's host.

#include "check/checks.hpp"
#include "check/checks_common.hpp"
#include "core/strings.hpp"

#include <fmt/format.h>

namespace meshctl::check {

Findings check_gateways(const MeshFacts& facts) {
  Findings out;
  for (const auto& c : facts.clusters) {
    if (!usable(c) || !readable(c, "gateway-services")) {
      continue;
    }
    const auto views = gateway_views(c);
    for (const auto& g : views) {
      if (g.port && g.network != c.network) {
        out.push_back(error("gateway.wrong-network", c.name,
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
          "gateway.missing", c.name,
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
        out.push_back(error("gateway.no-pods", c.name,
                            "the gateway Service " + svc + " selects no pod",
                            "is the gateway Deployment there? " + kubectl(c) + " -n " +
                                g.namespace_ + " get deploy,pods -l " + g.pod_selector));
      } else if (g.ready_pods == 0) {
        fine = false;
        out.push_back(
            error("gateway.pods-not-ready", c.name,
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
        out.push_back(g.addresses.empty()
                          ? error("gateway.node-selector-not-json", c.name, msg, hint)
                          : warning("gateway.node-selector-not-json", c.name, msg, hint));
      }
      if (g.type == "NodePort" && g.has_node_selector && g.node_selector_valid &&
          g.addresses.empty()) {
        fine = false;
        if (g.selected_nodes.empty()) {
          out.push_back(error("gateway.node-selector-selects-nothing", c.name,
                              "the nodeSelector '" + g.node_selector + "' of " + svc +
                                  " selects no node: istiod publishes no gateway address",
                              "select existing nodes (" + kubectl(c) +
                                  " get nodes --show-labels), or list reachable node IPs in the "
                                  "Service's spec.externalIPs (meshctl.yaml: "
                                  "gateway.externalIPs: [IP, …], then meshctl join)"));
        } else {
          out.push_back(error(
              "gateway.nodes-without-external-ip", c.name,
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
          out.push_back(error("gateway.loadbalancer-pending", c.name,
                              "the LoadBalancer Service " + svc +
                                  " has no ingress address yet: other networks cannot reach it",
                              "wait for the cloud's load balancer (" + kubectl(c) + " -n " +
                                  g.namespace_ + " get svc " + g.name +
                                  " -w), or use NodePort with externalIPs"));
        } else {
          out.push_back(error("gateway.no-address", c.name,
                              "the " + g.type + " Service " + svc +
                                  " has no address other networks can use (no LoadBalancer "
                                  "ingress, externalIPs or NodePort nodeSelector)",
                              "set gateway.type LoadBalancer, or NodePort with gateway.externalIPs "
                              "in meshctl.yaml, then meshctl join"));
        }
      }
      if (fine) {
        out.push_back(info("gateway.ok", c.name,
                           fmt::format("gateway {}: {}/{} pods ready, reachable at {}", svc,
                                       g.ready_pods, g.pods, address_list(g.addresses))));
      }
    }
    if (net.empty() || !readable(c, "gateways")) {
      continue;
    }
    const bool runs = !c.workloads.empty();
    const auto e = exposure(facts, c);
    if (e.gateways.empty()) {
      const std::string msg = "no Gateway with TLS AUTO_PASSTHROUGH on port 15443 selects the "
                              "east-west gateway: other clusters cannot reach " +
                              c.name + "'s services";
      const std::string hint = "meshctl expose (meshctl join creates cross-network-gateway)";
      out.push_back(runs ? error("expose.missing", c.name, msg, hint)
                         : warning("expose.missing", c.name, msg, hint));
    } else if (!e.covered) {
      if (runs) {
        out.push_back(error("expose.host-not-covered", c.name,
                            join(e.gateways) + " exposes " + join(e.hosts) + " but not " +
                                facts.host() +
                                ": its gateway has no SNI route for it, so calls "
                                "from other clusters fail",
                            "meshctl expose " + service_arg(facts)));
      }
    } else if (runs) {
      out.push_back(
          info("expose.ok", c.name, join(e.gateways) + " exposes " + facts.host() + " on 15443"));
    }
  }
  return out;
}

} // namespace meshctl::check

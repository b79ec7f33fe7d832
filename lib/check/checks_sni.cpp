// SNI routes (FACTS §6). A gateway of a cluster that runs the service must route
// outbound_.<port>_._.<host> on 15443 for every service port, as its Envoy listeners show
// (views.hpp: sni_rows); without the route, calls from other clusters to that port are refused.
// The hint tells "not exposed" (meshctl expose) from "exposed but not pushed" (istiod).

#include "check/checks.hpp"
#include "check/checks_common.hpp"
#include "core/strings.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace meshctl::check {

Findings check_sni_routes(const MeshFacts& facts) {
  Findings out;
  for (const auto& c : facts.clusters) {
    if (!usable(c) || c.workloads.empty() || network_gateways(c).empty()) {
      continue;
    }
    const bool covered = exposure(facts, c).covered;
    if (c.gateway_dumps.empty()) {
      out.push_back(warning(FindingId::k_sni_unavailable, c.name,
                            "could not read the east-west gateway's listeners" +
                                read_failure(c, "gateway-pods", "no ready gateway pod"),
                            "read them by hand: meshctl proxy-config listener --context " + c.name +
                                " <gateway-pod>.istio-system --port 15443"));
      continue;
    }
    for (const auto& g : c.gateway_dumps) {
      const std::string pod = g.listeners.pod + "." + g.listeners.namespace_;
      if (!g.listeners.bytes || !g.parse_error.empty()) {
        const std::string why = g.listeners.error ? g.listeners.error->message : g.parse_error;
        out.push_back(
            warning(FindingId::k_sni_unavailable, c.name,
                    fmt::format("could not read the listeners of gateway {}: {}", pod, why),
                    g.listeners.error && !g.listeners.error->hint.empty()
                        ? g.listeners.error->hint
                        : fmt::format("meshctl proxy-config listener --context {} {} "
                                      "--port 15443",
                                      c.name, pod)));
      }
    }
    std::vector<std::string> ok_ports;
    for (const auto& row : sni_rows(facts, c)) {
      if (row.present) {
        ok_ports.push_back(std::to_string(row.service_port));
        continue;
      }
      out.push_back(error(FindingId::k_sni_missing, c.name,
                          "gateway " + row.gateway + " has no 15443 route for SNI " + row.sni +
                              ": calls from other clusters to port " +
                              std::to_string(row.service_port) + " are refused",
                          covered ? "the Gateway exposes the host but istiod has not pushed the "
                                    "route: is istiod in " +
                                        c.name +
                                        " ready and the gateway connected? (istioctl "
                                        "proxy-status)"
                                  : "meshctl expose " + service_arg(facts)));
    }
    if (!ok_ports.empty()) {
      std::sort(ok_ports.begin(), ok_ports.end());
      ok_ports.erase(std::unique(ok_ports.begin(), ok_ports.end()), ok_ports.end());
      out.push_back(info(FindingId::k_sni_ok, c.name,
                         "the east-west gateway routes " + facts.host() + " on 15443 (port " +
                             join(ok_ports) + ")"));
    }
  }
  return out;
}

} // namespace meshctl::check

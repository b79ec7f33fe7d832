// Endpoints as a client sees them (FACTS §5). The Envoy of a client pod in each cluster must list
// every ready local pod and, for every other network that runs the service, a gateway of that
// network; a pod IP of another network is unreachable, and unhealthy endpoints are named. Locality:
// a DestinationRule with localityLbSetting but no outlierDetection is ignored by Istio; one in
// effect puts local pods at priority 0 and remote endpoints above; with none, pods in several
// clusters mean calls are spread across them.

#include "check/checks.hpp"
#include "check/checks_common.hpp"
#include "core/json.hpp"
#include "core/strings.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace meshctl::check {

namespace {

std::string proxy_config_endpoints(const ClusterFacts& c, const ClientFacts& cl) {
  return "meshctl proxy-config endpoints --context " + c.name + " " + cl.pod + "." + cl.namespace_;
}

// The DestinationRules' locality settings and, where none is in effect, whether calls from `c`
// are spread over several clusters. Returns whether a rule keeps traffic local (failover).
bool check_locality(const MeshFacts& facts, const ClusterFacts& c,
                    const std::vector<std::string>& running, Findings& out) {
  bool active = false;
  if (!readable(c, "destination-rules")) {
    return active;
  }
  for (const auto& r : rule_views(c)) {
    if (r.locality_lb && !r.outlier_detection) {
      out.push_back(error(FindingId::k_destination_rule_no_outlier_detection, c.name,
                          "DestinationRule " + r.namespace_ + "/" + r.name +
                              " sets localityLbSetting without outlierDetection: Istio "
                              "ignores it silently, so traffic is not kept local",
                          r.name == facts.service && r.namespace_ == facts.namespace_
                              ? "add trafficPolicy.outlierDetection (meshctl localize " +
                                    service_arg(facts) + " writes both)"
                              : "add trafficPolicy.outlierDetection to it (Istio applies one "
                                "DestinationRule per host, so a rule of meshctl localize's "
                                "beside it would not help)"));
    }
    active = active || r.active();
  }
  const bool local = !c.workloads.empty();
  // Where pods run: the checked clusters' workloads, and the clusters the client's endpoints
  // lead to (the only evidence about clusters verify --context left out).
  std::set<std::string> where(running.begin(), running.end());
  if (local && c.client && c.client->parse_error.empty()) {
    for (const auto& r : endpoint_rows(facts, c)) {
      if (!r.peer_cluster.empty()) {
        where.insert(r.peer_cluster);
      }
    }
  }
  if (local && where.size() > 1 && !active) {
    out.push_back(warning(FindingId::k_traffic_spread, c.name,
                          "pods of " + facts.service + " run in " +
                              join(std::vector<std::string>(where.begin(), where.end())) +
                              " and no DestinationRule keeps traffic local: calls from " + c.name +
                              " are spread across clusters",
                          "meshctl localize " + service_arg(facts)));
  }
  return active;
}

// Whether the client of `c` could be read at all; says why not when it could not.
bool client_readable(const MeshFacts& facts, const ClusterFacts& c, Findings& out) {
  if (!c.client) {
    const auto e = c.errors.find("client");
    if (e != c.errors.end()) {
      out.push_back(warning(FindingId::k_endpoints_unavailable, c.name,
                            "cannot read a client's endpoints: " + e->second.message,
                            e->second.hint.empty() ? "name a client with --from POD.NAMESPACE"
                                                   : e->second.hint));
    } else {
      out.push_back(warning(FindingId::k_endpoints_no_client, c.name,
                            "no pod with an istio-proxy in namespace " + facts.namespace_ +
                                " to read the endpoints a client sees",
                            "name one with --from POD.NAMESPACE"));
    }
    return false;
  }
  const auto& cl = *c.client;
  const std::string client = cl.namespace_ + "/" + cl.pod;
  if (!cl.cluster_status.bytes && !cl.eds.bytes) {
    const auto& e = cl.cluster_status.error ? cl.cluster_status.error : cl.eds.error;
    out.push_back(
        warning(FindingId::k_endpoints_unavailable, c.name,
                "could not read the Envoy of " + client + (e ? ": " + e->message : std::string()),
                e && !e->hint.empty() ? e->hint : proxy_config_endpoints(c, cl)));
    return false;
  }
  if (!cl.parse_error.empty()) {
    out.push_back(warning(FindingId::k_endpoints_unavailable, c.name,
                          "could not read the Envoy dump of " + client + ": " + cl.parse_error,
                          proxy_config_endpoints(c, cl)));
    return false;
  }
  return true;
}

// Every ready local pod, and a way into every other network whose cluster runs ready pods of the
// service, among the client's endpoints. Returns whether nothing is missing.
bool check_complete(const MeshFacts& facts, const ClusterFacts& c, const std::string& client,
                    const std::vector<EndpointRow>& rows, Findings& out) {
  bool fine = true;
  std::set<std::string> seen_ips;
  std::set<std::string> seen_peers;
  for (const auto& r : rows) {
    seen_ips.insert(r.endpoint.ip);
    if (r.kind == EndpointKind::k_remote_gateway) {
      seen_peers.insert(r.peer_cluster);
    }
  }
  std::vector<std::string> missing_local;
  for (const auto& w : c.workloads) {
    if (pod_ready(w) && !seen_ips.contains(pod_ip(w))) {
      missing_local.push_back(str(member(w, "metadata"), "name"));
    }
  }
  if (!missing_local.empty()) {
    fine = false;
    out.push_back(error(FindingId::k_endpoints_missing_local, c.name,
                        "the Envoy of " + client + " lacks local pods " + join(missing_local),
                        "istiod has not pushed them: is istiod in " + c.name +
                            " ready? (istioctl proxy-status)"));
  }
  for (const auto& o : facts.clusters) {
    if (o.name == c.name || !usable(o) || o.network == c.network || ready_pods(o.workloads) == 0 ||
        seen_peers.contains(o.name)) {
      continue;
    }
    fine = false;
    std::vector<GatewayAddress> expected;
    for (const auto& g : network_gateways(o)) {
      expected.insert(expected.end(), g.addresses.begin(), g.addresses.end());
    }
    out.push_back(
        error(FindingId::k_endpoints_missing_remote, c.name,
              "the Envoy of " + client + " has no endpoint leading to " + o.name +
                  (expected.empty() ? std::string(" (whose gateway has no address)")
                                    : " (expected its gateway at " + address_list(expected) + ")"),
              "fix the remote-secret, clusterz and gateway findings for " + o.name +
                  " above; istiod in " + c.name + " must watch " + o.name +
                  " and know its gateway address"));
  }
  return fine;
}

// No pod of another network among the client's endpoints, and every endpoint healthy. Returns
// whether that holds.
bool check_healthy(const MeshFacts& facts, const ClusterFacts& c, const std::string& client,
                   const std::vector<EndpointRow>& rows, Findings& out) {
  bool fine = true;
  std::vector<std::string> unhealthy;
  for (const auto& r : rows) {
    if (r.kind == EndpointKind::k_remote_pod) {
      const auto* peer = facts.find(r.peer_cluster);
      if (peer != nullptr && peer->network != c.network) {
        fine = false;
        out.push_back(warning(FindingId::k_endpoints_remote_pod, c.name,
                              "endpoint " + r.endpoint.address + " is " + r.what +
                                  " on another network: unreachable from " + c.name,
                              "istiod did not replace it with the gateway address: check the "
                              "network labels and istiod's network values (findings above)"));
      }
    }
    if (r.endpoint.health != "HEALTHY" || r.endpoint.outlier_failed) {
      unhealthy.push_back(r.endpoint.address + " " + r.endpoint.health +
                          (r.endpoint.outlier_failed ? " (outlier)" : ""));
    }
  }
  if (!unhealthy.empty()) {
    fine = false;
    out.push_back(warning(FindingId::k_endpoints_unhealthy, c.name,
                          "unhealthy endpoints seen by " + client + ": " + join(unhealthy),
                          proxy_config_endpoints(c, *c.client) + " -o wide"));
  }
  return fine;
}

// The priorities of the client's local and remote endpoints.
struct Priorities {
  std::vector<std::uint32_t> local;
  std::vector<std::uint32_t> remote;
};

Priorities priorities(const std::vector<EndpointRow>& rows) {
  Priorities p;
  for (const auto& r : rows) {
    if (r.kind == EndpointKind::k_local_pod) {
      p.local.push_back(r.endpoint.priority);
    } else if (r.kind == EndpointKind::k_remote_gateway || r.kind == EndpointKind::k_remote_pod) {
      p.remote.push_back(r.endpoint.priority);
    }
  }
  return p;
}

// With a rule that keeps traffic local (FACTS §5): local endpoints at priority 0, remote ones
// later. Returns false only when a rule is active and its priorities are not in the Envoy.
bool check_priorities(const ClusterFacts& c, const std::string& client, const Priorities& p,
                      bool active, Findings& out) {
  if (!active || p.local.empty() || p.remote.empty()) {
    return true;
  }
  const bool local_zero =
      std::all_of(p.local.begin(), p.local.end(), [](auto x) { return x == 0; });
  const bool remote_later =
      std::all_of(p.remote.begin(), p.remote.end(), [](auto x) { return x > 0; });
  const auto first_remote = *std::min_element(p.remote.begin(), p.remote.end());
  if (!local_zero || !remote_later) {
    out.push_back(
        error(FindingId::k_endpoints_priority, c.name,
              fmt::format("a DestinationRule keeps traffic local, but the Envoy of "
                          "{} has local pods at priority {} and remote endpoints "
                          "at priority {}: the rule is not in effect",
                          client, *std::max_element(p.local.begin(), p.local.end()), first_remote),
              "check that the rule applies to the client (namespace, exportTo) "
              "and that istiod pushed it: istioctl proxy-status"));
    return false;
  }
  out.push_back(info(FindingId::k_traffic_localized, c.name,
                     "calls from " + c.name +
                         " stay local: local pods at priority 0, other clusters at priority " +
                         std::to_string(first_remote) + " (failover)"));
  return true;
}

} // namespace

Findings check_endpoints(const MeshFacts& facts) {
  Findings out;
  // A cluster whose client could not be read (403 on the --from pod) may well hold the pod:
  // endpoints.unavailable says so there, and nothing may claim the pod absent.
  const bool from_found_or_unread =
      std::any_of(facts.clusters.begin(), facts.clusters.end(), [](const ClusterFacts& c) {
        return (c.client && c.client->picked_by == "--from") ||
               (usable(c) && !readable(c, "client"));
      });
  if (!facts.from.empty() && !from_found_or_unread) {
    out.push_back(error(FindingId::k_endpoints_from_not_found, "",
                        "--from " + facts.from + ": no such pod in any reachable cluster",
                        "name a pod as POD.NAMESPACE (kubectl get pods -A | grep istio-proxy "
                        "shows candidates)"));
  }
  std::vector<std::string> running;
  for (const auto& c : facts.clusters) {
    if (usable(c) && !c.workloads.empty()) {
      running.push_back(c.name);
    }
  }
  for (const auto& c : facts.clusters) {
    if (!usable(c)) {
      continue;
    }
    const bool active = check_locality(facts, c, running, out);
    if (!client_readable(facts, c, out)) {
      continue;
    }
    const std::string client = c.client->namespace_ + "/" + c.client->pod;
    const auto rows = endpoint_rows(facts, c);
    if (rows.empty()) {
      out.push_back(error(FindingId::k_endpoints_none, c.name,
                          "the Envoy of " + client + " has no endpoint for " + facts.host() +
                              ": calls fail with 503 (no healthy upstream)",
                          "check the findings above (remote secrets, gateway, service); then "
                          "istioctl proxy-status for the push state"));
      continue;
    }
    const bool complete = check_complete(facts, c, client, rows, out);
    const bool healthy = check_healthy(facts, c, client, rows, out);
    const auto p = priorities(rows);
    const bool in_effect = check_priorities(c, client, p, active, out);
    if (complete && healthy && in_effect) {
      out.push_back(info(FindingId::k_endpoints_ok, c.name,
                         fmt::format("{} sees {} endpoint(s) of {} ({} local, {} remote)", client,
                                     rows.size(), facts.host(), p.local.size(), p.remote.size())));
    }
  }
  return out;
}

} // namespace meshctl::check

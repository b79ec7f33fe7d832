// The Service (FACTS §8). Istio merges the Services of one name and namespace in every cluster
// into one host, so they must agree in type and ports (number, name and protocol: the name decides
// the protocol). Per cluster: the Service present (DNS resolves the name only where it exists),
// its pods, their sidecars and readiness. Mesh-wide: present somewhere and running somewhere;
// when --context names a subset, what the checked clusters lack says nothing about the others.

#include "check/checks.hpp"
#include "check/checks_common.hpp"
#include "core/json.hpp"
#include "core/strings.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace meshctl::check {

using nlohmann::json;

namespace {

std::string service_kind(const json& svc) {
  const json& spec = member(svc, "spec");
  const std::string type = str(spec, "type").empty() ? "ClusterIP" : str(spec, "type");
  return str(spec, "clusterIP") == "None" ? type + " (headless)" : type;
}

std::string service_port_list(const json& svc) {
  std::vector<std::string> out;
  for (const auto& p : array_of(member(svc, "spec"), "ports")) {
    const json& n = member(p, "port");
    std::string proto = str(p, "protocol");
    out.push_back((n.is_number() ? std::to_string(n.get<int>()) : std::string("?")) + "/" +
                  (str(p, "name").empty() ? "-" : str(p, "name")) + "/" +
                  (proto.empty() ? "TCP" : proto));
  }
  std::sort(out.begin(), out.end());
  return join(out, " ");
}

// sync-svc rewrites only the copies it made (label app.kubernetes.io/managed-by: meshctl); two
// Services someone else made stay as they are, so the hint must not promise otherwise.
std::string identical_hint(const ClusterFacts& c, const ClusterFacts& first) {
  const auto copy = [](const json& svc) {
    return str(member(member(svc, "metadata"), "labels"), "app.kubernetes.io/managed-by") ==
           "meshctl";
  };
  if (copy(c.service) || copy(first.service)) {
    return "meshctl sync-svc rewrites the copy it made (in " +
           (copy(c.service) ? c.name : first.name) + ") from its source";
  }
  return "make them identical by hand: meshctl sync-svc never changes a Service it did not "
         "create (delete the one in " +
         c.name + ", and meshctl sync-svc copies the one of " + first.name + ")";
}

} // namespace

Findings check_service(const MeshFacts& facts) {
  Findings out;
  const std::string svc = facts.namespace_ + "/" + facts.service;
  const ClusterFacts* first = nullptr;
  std::vector<std::string> present;
  std::vector<std::string> running;
  const auto unchecked = facts.unchecked();
  bool all_pods_read = true; // else "no cluster runs pods" is not known
  for (const auto& c : facts.clusters) {
    if (!usable(c) || !readable(c, "service")) {
      continue;
    }
    if (c.service.is_object()) {
      present.push_back(c.name);
      if (first == nullptr) {
        first = &c;
      }
    }
    if (!c.workloads.empty()) {
      running.push_back(c.name);
    }
  }
  for (const auto& c : facts.clusters) {
    if (!usable(c) || !readable(c, "service")) {
      continue;
    }
    if (!c.service.is_object()) {
      if (!present.empty()) {
        out.push_back(
            error(FindingId::k_service_missing, c.name,
                  "Service " + svc + " does not exist in " + c.name + ": DNS will not resolve " +
                      service_arg(facts) + " in " + c.name + ", so its clients cannot call it",
                  "run meshctl sync-svc (or copy the Service from " + present.front() + ")"));
      }
    } else if (first != nullptr && &c != first) {
      if (service_kind(c.service) != service_kind(first->service)) {
        out.push_back(error(FindingId::k_service_type_differs, c.name,
                            "Service " + svc + " is " + service_kind(c.service) + " in " + c.name +
                                " but " + service_kind(first->service) + " in " + first->name +
                                ": Istio merges them into one host",
                            identical_hint(c, *first)));
      }
      if (service_port_list(c.service) != service_port_list(first->service)) {
        out.push_back(error(FindingId::k_service_ports_differ, c.name,
                            "Service " + svc + " has ports " + service_port_list(c.service) +
                                " in " + c.name + " but " + service_port_list(first->service) +
                                " in " + first->name +
                                ": Istio merges endpoints by host and the port name decides the "
                                "protocol",
                            identical_hint(c, *first)));
      }
    }
    if (c.service.is_object()) {
      out.push_back(info(FindingId::k_service_present, c.name,
                         "Service " + svc + " present (" + service_kind(c.service) + ", ports " +
                             service_port_list(c.service) + ")"));
    }
    if (!readable(c, "service pods")) {
      all_pods_read = false;
      continue; // the read error is reported with the reachability findings
    }
    if (c.workloads.empty()) {
      std::string where;
      if (!running.empty()) {
        where = ": calls go to " + join(running);
      } else if (!unchecked.empty()) {
        where = ": calls can only go to " + join(unchecked) + " (not checked)";
      }
      out.push_back(info(FindingId::k_service_no_workloads, c.name,
                         "no pods of " + facts.service + " run in " + c.name + where));
      continue;
    }
    int ready = 0;
    std::vector<std::string> without;
    std::vector<std::string> not_ready;
    for (const auto& w : c.workloads) {
      const std::string name = str(member(w, "metadata"), "name");
      if (!has_proxy(w)) {
        without.push_back(name);
      }
      if (pod_ready(w)) {
        ++ready;
      } else {
        not_ready.push_back(name);
      }
    }
    if (!without.empty()) {
      out.push_back(error(FindingId::k_workload_no_sidecar, c.name,
                          "pods without an istio-proxy sidecar: " + join(without) +
                              ": they are outside the mesh and unreachable across networks",
                          kubectl(c) + " label namespace " + facts.namespace_ +
                              " istio-injection=enabled, then restart them (kubectl rollout "
                              "restart deployment …)"));
    }
    if (!not_ready.empty()) {
      out.push_back(
          warning(FindingId::k_workload_not_ready, c.name, "pods not ready: " + join(not_ready),
                  kubectl(c) + " -n " + facts.namespace_ + " describe pod " + not_ready.front()));
    }
    out.push_back(
        info(FindingId::k_service_workloads, c.name,
             fmt::format("{} pod(s) of {} ({} ready, {} with sidecar)", c.workloads.size(),
                         facts.service, ready, c.workloads.size() - without.size())));
  }
  // With --context naming a subset, what holds for the checked clusters says nothing about the
  // others: a missing Service still breaks DNS here, but pods may well run elsewhere.
  const std::string also =
      unchecked.empty() ? std::string() : " (not checked: " + join(unchecked) + ")";
  const std::string everywhere =
      "meshctl verify " + service_arg(facts) + " without --context checks every cluster";
  if (present.empty() && !facts.clusters.empty()) {
    out.push_back(error(FindingId::k_service_missing, "",
                        "Service " + svc + " exists in no " +
                            (unchecked.empty() ? "reachable" : "checked") + " cluster" + also,
                        "check the name (SERVICE.NAMESPACE), e.g. kubectl get svc -n " +
                            facts.namespace_ +
                            (unchecked.empty() ? std::string() : "; " + everywhere)));
  } else if (running.empty() && !present.empty() && unchecked.empty() && all_pods_read) {
    out.push_back(error(FindingId::k_service_no_workloads, "",
                        "no cluster runs pods of " + facts.service + ": calls fail everywhere",
                        "deploy it, or check its selector: kubectl get pods -n " +
                            facts.namespace_ + " --show-labels"));
  } else if (running.empty() && !present.empty() && all_pods_read) {
    out.push_back(
        info(FindingId::k_service_no_workloads, "",
             "no checked cluster runs pods of " + facts.service + also + "; " + everywhere));
  }
  return out;
}

} // namespace meshctl::check

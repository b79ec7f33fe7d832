#include "check/checks_common.hpp"

#include "core/json.hpp"
#include "core/strings.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace meshctl::check {

using nlohmann::json;

Finding info(FindingId id, std::string cluster, std::string message) {
  return {std::string(finding_id_name(id)),
          Severity::k_info,
          std::move(cluster),
          std::move(message),
          {}};
}

Finding warning(FindingId id, std::string cluster, std::string message, std::string hint) {
  return {std::string(finding_id_name(id)), Severity::k_warning, std::move(cluster),
          std::move(message), std::move(hint)};
}

Finding error(FindingId id, std::string cluster, std::string message, std::string hint) {
  return {std::string(finding_id_name(id)), Severity::k_error, std::move(cluster),
          std::move(message), std::move(hint)};
}

std::string kubectl(const ClusterFacts& c) {
  return "kubectl --context " + (c.context.empty() ? c.name : c.context);
}

std::string istiod_deployment(const ClusterFacts& c) {
  const std::string name =
      c.istiod ? str(member(c.istiod->deployment, "metadata"), "name") : std::string();
  return name.empty() ? std::string("istiod") : name;
}

bool usable(const ClusterFacts& c) {
  return c.reachable;
}

bool readable(const ClusterFacts& c, const std::string& fact) {
  return !c.errors.contains(fact);
}

std::string read_failure(const ClusterFacts& c, const std::string& fact,
                         const std::string& otherwise) {
  const auto e = c.errors.find(fact);
  return e == c.errors.end() ? " (" + otherwise + ")" : ": " + e->second.message;
}

std::string all_clusters(const MeshFacts& facts) {
  return join(facts.mesh_names(), " ");
}

std::string service_arg(const MeshFacts& facts) {
  return facts.service + "." + facts.namespace_;
}

int ready_pods(const std::vector<json>& pods) {
  return static_cast<int>(std::count_if(pods.begin(), pods.end(), pod_ready));
}

std::string address_list(const std::vector<GatewayAddress>& addresses) {
  std::vector<std::string> parts;
  parts.reserve(addresses.size());
  for (const auto& a : addresses) {
    parts.push_back(fmt::format("{}:{} ({})", a.address, a.port, a.source));
  }
  return join(parts);
}

namespace {

// A Gateway host ("[ns/]host", wildcards) covering `host` of namespace `ns`.
bool host_covered(const std::string& pattern, const std::string& host, const std::string& ns) {
  std::string h = pattern;
  if (const auto slash = h.find('/'); slash != std::string::npos) {
    const std::string gw_ns = h.substr(0, slash);
    if (gw_ns != "*" && gw_ns != "." && gw_ns != ns) {
      return false;
    }
    h = h.substr(slash + 1);
  }
  if (h == "*" || h == host) {
    return true;
  }
  return h.starts_with("*.") && host.ends_with(h.substr(1));
}

} // namespace

Exposure exposure(const MeshFacts& facts, const ClusterFacts& c) {
  Exposure e;
  const std::string host = facts.host();
  for (const auto& gw : c.gateways) {
    const json& spec = member(gw, "spec");
    // The Gateway must select the east-west gateway's pods.
    const bool selects =
        std::any_of(c.gateway_pods.begin(), c.gateway_pods.end(), [&](const json& pod) {
          return selector_matches(member(spec, "selector"), member_at(pod, {"metadata", "labels"}));
        });
    if (!selects) {
      continue;
    }
    for (const auto& server : array_of(spec, "servers")) {
      const json& number = member_at(server, {"port", "number"});
      if (!number.is_number() || number.get<int>() != 15443 ||
          str(member(server, "tls"), "mode") != "AUTO_PASSTHROUGH") {
        continue;
      }
      e.gateways.push_back(object_name(gw));
      for (const auto& h : array_of(server, "hosts")) {
        if (h.is_string()) {
          e.hosts.push_back(h.get<std::string>());
          e.covered = e.covered || host_covered(h.get<std::string>(), host, facts.namespace_);
        }
      }
    }
  }
  return e;
}

} // namespace meshctl::check

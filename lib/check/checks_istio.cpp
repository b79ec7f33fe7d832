// Istio in each cluster (FACTS §1): the networking.istio.io CRDs served, istiod ready, and
// istiod's identity (cluster ID from its pods' CLUSTER_ID, mesh ID and network from its
// ConfigMaps) agreeing with meshctl.yaml; across clusters, one mesh ID and no cluster ID twice
// (istiod ignores a remote secret for its own ID); and namespace istio-system labelled with the
// cluster's network, which decides the network of the cluster's workloads.

#include "check/checks.hpp"
#include "check/checks_common.hpp"
#include "core/strings.hpp"
#include "kube/istio_api.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace meshctl::check {

namespace {

std::string install_flags(const MeshFacts& facts, const ClusterFacts& c) {
  return "--set values.global.meshID=" + facts.mesh_id +
         " --set values.global.multiCluster.clusterName=" + c.name +
         " --set values.global.network=" + c.network;
}

} // namespace

Findings check_istio(const MeshFacts& facts) {
  Findings out;
  std::map<std::string, std::vector<std::string>> mesh_ids;    // mesh id -> clusters
  std::map<std::string, std::vector<std::string>> cluster_ids; // cluster id -> clusters
  for (const auto& c : facts.clusters) {
    if (!usable(c)) {
      continue;
    }
    if (readable(c, "discovery")) {
      std::vector<std::string> missing;
      for (const char* kind : {"Gateway", "DestinationRule"}) {
        if (!c.istio_kinds.contains(kind)) {
          missing.emplace_back(kind);
        }
      }
      std::vector<std::string> too_old;
      for (const auto kind : kube::k_istio_kinds) {
        const auto it = c.istio_kinds.find(std::string(kind));
        if (it == c.istio_kinds.end()) {
          continue;
        }
        const auto version = kube::split_api_version(it->second).second;
        if (std::find(kube::k_istio_networking_versions.begin(),
                      kube::k_istio_networking_versions.end(),
                      version) == kube::k_istio_networking_versions.end()) {
          too_old.push_back(std::string(kind) + " at " + version);
        }
      }
      if (!missing.empty()) {
        out.push_back(error("istio.crds-missing", c.name,
                            "Istio's CRDs are not served (" + join(missing) +
                                " of networking.istio.io): Istio is not installed",
                            "install Istio in " + c.name + ": istioctl install --context " +
                                c.context + " " + install_flags(facts, c)));
      } else if (!too_old.empty()) {
        out.push_back(error("istio.crds-too-old", c.name,
                            "Istio's CRDs serve networking.istio.io " + join(too_old) +
                                " only; meshctl needs v1 or v1beta1",
                            "upgrade Istio in " + c.name +
                                " to 1.18 or later (networking.istio.io/v1beta1; v1 from 1.22)"));
      } else {
        out.push_back(
            info("istio.crds", c.name, "Istio CRDs served (" + c.istio_kinds.at("Gateway") + ")"));
      }
    }
    if (!readable(c, "istiod")) {
      continue;
    }
    if (!c.istiod) {
      out.push_back(error(
          "istiod.missing", c.name, "istiod is not installed (no Deployment istio-system/istiod)",
          "install it: istioctl install --context " + c.context + " " + install_flags(facts, c)));
      continue;
    }
    const auto& d = *c.istiod;
    const int ready = ready_pods(d.pods);
    if (ready == 0) {
      out.push_back(error("istiod.not-ready", c.name,
                          fmt::format("istiod has no ready pod ({} pods)", d.pods.size()),
                          "look at why: " + kubectl(c) +
                              " -n istio-system describe pods -l app=istiod; " + kubectl(c) +
                              " -n istio-system logs deploy/istiod"));
    } else {
      out.push_back(info("istiod.ready", c.name,
                         fmt::format("istiod ready ({}/{} pods)", ready, d.pods.size())));
    }
    cluster_ids[d.cluster_id].push_back(c.name); // from the pods' CLUSTER_ID
    // Mesh ID and network come from istiod's ConfigMaps: unread, there is nothing to compare
    // (the read error is reported with the reachability findings).
    if (readable(c, "istiod config")) {
      std::vector<std::string> wrong;
      if (d.cluster_id != c.name) {
        wrong.push_back("cluster ID \"" + d.cluster_id + "\", not \"" + c.name + "\"");
      }
      if (d.mesh_id != facts.mesh_id) {
        wrong.push_back("mesh ID \"" + d.mesh_id + "\", not \"" + facts.mesh_id + "\"");
      }
      if (d.network != c.network) {
        wrong.push_back("network \"" + d.network + "\", not \"" + c.network + "\"");
      }
      if (!wrong.empty()) {
        out.push_back(error("istiod.identity-mismatch", c.name,
                            "istiod was installed with " + join(wrong, "; ") +
                                " (meshctl's config wants the latter)",
                            "reinstall istiod with: istioctl install --context " + c.context + " " +
                                install_flags(facts, c) + " (or change meshctl.yaml to match)"));
      } else {
        out.push_back(info("istiod.identity", c.name,
                           "istiod identity: cluster ID " + d.cluster_id + ", mesh " + d.mesh_id +
                               ", network " + d.network));
      }
      mesh_ids[d.mesh_id].push_back(c.name);
    }

    if (readable(c, "istio-system namespace")) {
      const std::string label = label_of(c.istio_system_namespace, k_network_label);
      if (label != c.network) {
        out.push_back(error(
            "network.namespace-label", c.name,
            c.istio_system_namespace.is_null()
                ? "namespace istio-system does not exist"
                : "namespace istio-system is labelled topology.istio.io/network=\"" + label +
                      "\", not \"" + c.network +
                      "\": istiod puts this cluster's workloads on "
                      "the wrong network",
            kubectl(c) + " label namespace istio-system topology.istio.io/network=" + c.network +
                " --overwrite (meshctl join does this)"));
      }
    }
  }
  if (mesh_ids.size() > 1) {
    std::vector<std::string> parts;
    parts.reserve(mesh_ids.size());
    for (const auto& [id, cs] : mesh_ids) {
      parts.push_back(fmt::format("{}: {}", join(cs), id));
    }
    out.push_back(error("istiod.mesh-id-differs", "",
                        "istiod runs with different mesh IDs (" + join(parts, "; ") +
                            "): the clusters are not one mesh",
                        "reinstall istiod with --set values.global.meshID=" + facts.mesh_id +
                            " where it differs"));
  }
  for (const auto& [id, cs] : cluster_ids) {
    if (cs.size() > 1) {
      out.push_back(error("istiod.cluster-id-duplicate", "",
                          "clusters " + join(cs) + " share the cluster ID \"" + id +
                              "\": istiod ignores a remote secret for its own ID",
                          "give every cluster its own ID: --set "
                          "values.global.multiCluster.clusterName=<name>"));
    }
  }
  return out;
}

} // namespace meshctl::check

// Istio in each cluster (FACTS §1): the networking.istio.io CRDs served, istiod ready, and
// istiod's identity (cluster ID from its pods' CLUSTER_ID, mesh ID and network from its
// ConfigMaps) agreeing with meshctl.yaml; across clusters, one mesh ID and no cluster ID twice
// (istiod ignores a remote secret for its own ID); and namespace istio-system labelled with the
// cluster's network, which decides the network of the cluster's workloads. istiod is the revision
// meshctl works with (configured, or the only one installed); its trust domain must be
// meshctl.yaml's and accepted by every other cluster (trustDomain or trustDomainAliases).

#include "check/checks.hpp"
#include "check/checks_common.hpp"
#include "core/json.hpp"
#include "core/strings.hpp"
#include "kube/istio_api.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string_view>
#include <utility>

namespace meshctl::check {

namespace {

std::string install_flags(const MeshFacts& facts, const ClusterFacts& c) {
  std::string rev = c.istiod ? c.istiod->revision : c.configured_revision;
  return (rev.empty() || rev == "default" ? std::string() : "--revision " + rev + " ") +
         "--set values.global.meshID=" + facts.mesh_id +
         " --set values.global.multiCluster.clusterName=" + c.name +
         " --set values.global.network=" + c.network;
}

// "revision 1-24, " or "" for the default revision; "version 1.24.2" when known.
std::string revision_and_version(const IstiodFacts& d) {
  std::vector<std::string> parts;
  parts.push_back("revision " + (d.revision.empty() ? std::string("default") : d.revision));
  if (!d.version.empty()) {
    parts.push_back("version " + d.version);
  }
  return join(parts, ", ");
}

// The trust domains one cluster's istiod accepts as its own: its trust domain and its aliases.
bool accepts(const IstiodFacts& d, const std::string& trust_domain) {
  return d.trust_domain == trust_domain ||
         std::find(d.trust_domain_aliases.begin(), d.trust_domain_aliases.end(), trust_domain) !=
             d.trust_domain_aliases.end();
}

// Trust domains (meshConfig.trustDomain of istio[-<rev>]): every istiod signs workload
// identities spiffe://<trust domain>/ns/<ns>/sa/<sa>, and a peer (and an AuthorizationPolicy)
// only accepts identities of its own trust domain or of its trustDomainAliases. meshctl.yaml's
// mesh.trustDomain is what the mesh is meant to use.
void check_trust_domains(const MeshFacts& facts, Findings& out) {
  std::vector<const ClusterFacts*> with;
  for (const auto& c : facts.clusters) {
    if (usable(c) && c.istiod && c.istiod->mesh_config_read && !c.istiod->trust_domain.empty() &&
        readable(c, "istiod config")) {
      with.push_back(&c);
    }
  }
  std::map<std::string, std::vector<std::string>> by_domain; // trust domain -> clusters
  for (const auto* c : with) {
    const auto& d = *c->istiod;
    by_domain[d.trust_domain].push_back(c->name);
    const std::string cm =
        "istio-system/istio" +
        (d.revision.empty() || d.revision == "default" ? std::string() : "-" + d.revision);
    if (d.trust_domain != facts.trust_domain) {
      out.push_back(error(
          FindingId::k_istiod_trust_domain_differs, c->name,
          "istiod's trust domain is \"" + d.trust_domain +
              "\", meshctl.yaml's mesh.trustDomain \"" + facts.trust_domain +
              "\": workloads of this cluster get identities other clusters do not accept",
          "set trustDomain: " + facts.trust_domain + " in the mesh config of " + c->name +
              " (ConfigMap " + cm +
              ", key mesh; IstioOperator spec.meshConfig.trustDomain or "
              "Helm meshConfig.trustDomain: istioctl install --context " +
              c->context + " " +
              (d.revision == "default" || d.revision.empty() ? std::string()
                                                             : "--revision " + d.revision + " ") +
              "--set meshConfig.trustDomain=" + facts.trust_domain +
              "), then restart istiod and the workloads; to keep \"" + d.trust_domain +
              "\" instead, set mesh.trustDomain in meshctl.yaml and list the other trust domain "
              "under meshConfig.trustDomainAliases in every cluster"));
    } else {
      out.push_back(info(FindingId::k_istiod_trust_domain, c->name,
                         "istiod trust domain " + d.trust_domain +
                             (d.trust_domain_aliases.empty()
                                  ? std::string()
                                  : " (aliases " + join(d.trust_domain_aliases) + ")")));
    }
  }
  if (by_domain.size() < 2) {
    return;
  }
  // Across clusters: an identity of one cluster that another does not accept breaks mTLS
  // authorisation between them, whatever meshctl.yaml says.
  std::vector<std::string> rejected;
  for (const auto* a : with) {
    for (const auto* b : with) {
      if (a != b && !accepts(*b->istiod, a->istiod->trust_domain)) {
        rejected.push_back(b->name + " does not accept " + a->istiod->trust_domain + " of " +
                           a->name);
      }
    }
  }
  std::vector<std::string> parts;
  for (const auto& [td, cs] : by_domain) {
    parts.push_back(fmt::format("{}: {}", join(cs), td));
  }
  if (rejected.empty()) {
    out.push_back(info(FindingId::k_istiod_trust_domain, "",
                       "trust domains differ (" + join(parts, "; ") +
                           ") but every cluster lists the others under trustDomainAliases"));
    return;
  }
  out.push_back(error(FindingId::k_istiod_trust_domain_differs, "",
                      "istiod runs with different trust domains (" + join(parts, "; ") +
                          "): " + join(rejected, "; "),
                      "give every cluster meshConfig.trustDomain " + facts.trust_domain +
                          " (istioctl install --set meshConfig.trustDomain=" + facts.trust_domain +
                          "), or list the other clusters' trust domains under "
                          "meshConfig.trustDomainAliases in each cluster"));
}

// Istio's support policy (https://istio.io/latest/docs/releases/supported-releases/, "Control
// Plane/Data Plane Skew"; upgrades go one minor version at a time,
// https://istio.io/latest/docs/setup/upgrade/): a control plane may be one minor version ahead of
// the proxies it serves, never more. In a multi-primary mesh every istiod also programs its
// gateways and sidecars to talk to the other clusters' proxies, so the clusters' istiods are kept
// within one minor version: one apart is an upgrade in progress (a warning), more is outside what
// Istio supports (an error). Patch versions may differ freely. Unparsable versions (a custom tag)
// are left out.
std::optional<std::pair<int, int>> major_minor(const std::string& version) {
  int major = 0;
  int minor = 0;
  std::string_view v = version;
  if (v.starts_with('v')) {
    v.remove_prefix(1);
  }
  const auto dot = v.find('.');
  if (dot == std::string_view::npos) {
    return std::nullopt;
  }
  const auto rest = v.substr(dot + 1);
  const auto end = rest.find_first_not_of("0123456789");
  const auto minor_text = rest.substr(0, end);
  const auto major_text = v.substr(0, dot);
  if (major_text.empty() || minor_text.empty() ||
      major_text.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  major = std::stoi(std::string(major_text));
  minor = std::stoi(std::string(minor_text));
  return std::pair{major, minor};
}

void check_version_skew(const MeshFacts& facts, Findings& out) {
  std::map<std::pair<int, int>, std::vector<std::string>> by_minor; // (major, minor) -> clusters
  std::map<std::pair<int, int>, std::string> shown;                 // -> a version as read
  for (const auto& c : facts.clusters) {
    if (!usable(c) || !c.istiod) {
      continue;
    }
    if (const auto mm = major_minor(c.istiod->version)) {
      by_minor[*mm].push_back(c.name);
      shown.emplace(*mm, c.istiod->version);
    }
  }
  if (by_minor.size() < 2) {
    return;
  }
  const auto oldest = by_minor.begin()->first;
  const auto newest = by_minor.rbegin()->first;
  std::vector<std::string> parts;
  for (const auto& [mm, cs] : by_minor) {
    parts.push_back(fmt::format("{}: {}", join(cs), shown.at(mm)));
  }
  const std::string newest_version = fmt::format("{}.{}", newest.first, newest.second);
  const std::string hint = "upgrade istiod in " + join(by_minor.begin()->second) + " toward " +
                           newest_version +
                           ", one minor version at a time (istioctl upgrade, or a canary "
                           "revision)";
  if (oldest.first == newest.first && newest.second - oldest.second == 1) {
    out.push_back(warning(FindingId::k_istiod_version_skew, "",
                          "istiod versions differ by one minor version (" + join(parts, "; ") +
                              "): supported while upgrading, but finish the upgrade",
                          hint));
    return;
  }
  out.push_back(error(FindingId::k_istiod_version_skew_unsupported, "",
                      "istiod versions differ by more than one minor version (" +
                          join(parts, "; ") + "): Istio supports a skew of one minor version",
                      hint));
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
        out.push_back(error(FindingId::k_istio_crds_missing, c.name,
                            "Istio's CRDs are not served (" + join(missing) +
                                " of networking.istio.io): Istio is not installed",
                            "install Istio in " + c.name + ": istioctl install --context " +
                                c.context + " " + install_flags(facts, c)));
      } else if (!too_old.empty()) {
        out.push_back(error(FindingId::k_istio_crds_too_old, c.name,
                            "Istio's CRDs serve networking.istio.io " + join(too_old) +
                                " only; meshctl needs v1 or v1beta1",
                            "upgrade Istio in " + c.name +
                                " to 1.18 or later (networking.istio.io/v1beta1; v1 from 1.22)"));
      } else {
        out.push_back(info(FindingId::k_istio_crds, c.name,
                           "Istio CRDs served (" + c.istio_kinds.at("Gateway") + ")"));
      }
    }
    if (!readable(c, "istiod")) {
      continue;
    }
    if (!c.istiod && c.revision_error) {
      // Several revisions and none configured, or the configured one is not installed.
      out.push_back(error(c.configured_revision.empty() ? FindingId::k_istiod_revision_ambiguous
                                                        : FindingId::k_istiod_revision_missing,
                          c.name, c.revision_error->message, c.revision_error->hint));
      continue;
    }
    if (!c.istiod) {
      out.push_back(error(
          FindingId::k_istiod_missing, c.name,
          "istiod is not installed (no Deployment labelled app=istiod in istio-system)",
          "install it: istioctl install --context " + c.context + " " + install_flags(facts, c)));
      continue;
    }
    const auto& d = *c.istiod;
    const int ready = ready_pods(d.pods);
    const std::string pods_selector =
        "app=istiod" + (d.revision == "default" ? std::string() : ",istio.io/rev=" + d.revision);
    if (ready == 0) {
      out.push_back(error(FindingId::k_istiod_not_ready, c.name,
                          fmt::format("istiod ({}) has no ready pod ({} pods)",
                                      revision_and_version(d), d.pods.size()),
                          "look at why: " + kubectl(c) + " -n istio-system describe pods -l " +
                              pods_selector + "; " + kubectl(c) + " -n istio-system logs deploy/" +
                              istiod_deployment(c)));
    } else {
      out.push_back(info(FindingId::k_istiod_ready, c.name,
                         fmt::format("istiod ready ({}/{} pods; {})", ready, d.pods.size(),
                                     revision_and_version(d))));
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
        out.push_back(error(FindingId::k_istiod_identity_mismatch, c.name,
                            "istiod was installed with " + join(wrong, "; ") +
                                " (meshctl's config wants the latter)",
                            "reinstall istiod with: istioctl install --context " + c.context + " " +
                                install_flags(facts, c) + " (or change meshctl.yaml to match)"));
      } else {
        out.push_back(info(FindingId::k_istiod_identity, c.name,
                           "istiod identity: cluster ID " + d.cluster_id + ", mesh " + d.mesh_id +
                               ", network " + d.network));
      }
      mesh_ids[d.mesh_id].push_back(c.name);
    }

    if (readable(c, "istio-system namespace")) {
      const std::string label = label_of(c.istio_system_namespace, k_network_label);
      if (label != c.network) {
        out.push_back(error(
            FindingId::k_network_namespace_label, c.name,
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
    out.push_back(error(FindingId::k_istiod_mesh_id_differs, "",
                        "istiod runs with different mesh IDs (" + join(parts, "; ") +
                            "): the clusters are not one mesh",
                        "reinstall istiod with --set values.global.meshID=" + facts.mesh_id +
                            " where it differs"));
  }
  check_trust_domains(facts, out);
  check_version_skew(facts, out);
  for (const auto& [id, cs] : cluster_ids) {
    if (cs.size() > 1) {
      out.push_back(error(FindingId::k_istiod_cluster_id_duplicate, "",
                          "clusters " + join(cs) + " share the cluster ID \"" + id +
                              "\": istiod ignores a remote secret for its own ID",
                          "give every cluster its own ID: --set "
                          "values.global.multiCluster.clusterName=<name>"));
    }
  }
  return out;
}

} // namespace meshctl::check

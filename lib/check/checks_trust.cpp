// Trust (FACTS §3, the plug-in CA): every cluster's Secret istio-system/cacerts complete, its
// intermediate chaining to its root, nothing expired or expiring within 30 days, and one root
// across the mesh. Then the root istiod actually serves: istiod writes it into ConfigMap
// istio-ca-root-cert of every meshed namespace when it starts, so a root there that differs from
// cacerts' means istiod has not been restarted since cacerts changed.

#include "check/checks.hpp"
#include "check/checks_common.hpp"
#include "core/strings.hpp"
#include "mesh/istiod.hpp"
#include "pki/cert.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace meshctl::check {

namespace {

std::string day(std::chrono::sys_seconds t) {
  return fmt::format("{:%Y-%m-%d}", t);
}

// join issues a new intermediate only when the one in the PKI dir no longer chains to the root
// (expired included), and never replaces the root: a certificate still valid must be moved out
// of the PKI dir first, a root always. A new intermediate under the same root leaves the served
// root unchanged, hence --restart-istiod; a new root makes join restart istiod by itself.
std::string rotate_hint(const MeshFacts& facts, const ClusterFacts& c, bool root) {
  if (root) {
    return "rotate the mesh root: move root-cert.pem and root-key.pem out of the PKI dir (pki.dir, "
           "see meshctl config view), then meshctl join " +
           all_clusters(facts) +
           " --force-ca creates a new root and restarts istiod; then restart the workloads";
  }
  return "move the PKI dir's " + c.name +
         "/ directory (pki.dir, see meshctl config view) aside, "
         "then meshctl join " +
         all_clusters(facts) + " --restart-istiod issues a new intermediate and restarts istiod";
}

} // namespace

Findings check_trust(const MeshFacts& facts) {
  Findings out;
  constexpr auto k_soon = std::chrono::days(30);
  std::map<std::string, std::vector<std::string>> roots; // fingerprint -> clusters
  std::map<std::string, std::string> root_of;            // cluster -> fingerprint
  for (const auto& c : facts.clusters) {
    if (!usable(c) || !readable(c, "cacerts")) {
      continue;
    }
    if (!c.cacerts) {
      out.push_back(error(FindingId::k_cacerts_missing, c.name,
                          "Secret istio-system/cacerts is missing: istiod signs with its own "
                          "self-signed root, which the other clusters do not trust",
                          "meshctl join " + all_clusters(facts) +
                              " creates it from the mesh's root and restarts istiod"));
      continue;
    }
    const auto& ca = *c.cacerts;
    std::vector<std::string> missing;
    for (const char* key : {"ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem"}) {
      if (std::find(ca.keys.begin(), ca.keys.end(), key) == ca.keys.end()) {
        missing.emplace_back(key);
      }
    }
    if (!missing.empty()) {
      out.push_back(error(FindingId::k_cacerts_incomplete, c.name,
                          "Secret istio-system/cacerts lacks " + join(missing) +
                              ": istiod falls back to its self-signed root",
                          "meshctl join " + all_clusters(facts) +
                              " --force-ca rewrites it and restarts istiod"));
      continue;
    }
    auto root = pki::inspect(ca.root_cert);
    auto inter = pki::inspect(ca.ca_cert);
    if (!root || !inter) {
      out.push_back(error(FindingId::k_cacerts_unreadable, c.name,
                          "cacerts holds a certificate that does not parse: " +
                              (root ? inter.error() : root.error()).message(),
                          "meshctl join " + all_clusters(facts) +
                              " --force-ca rewrites it and restarts istiod"));
      continue;
    }
    roots[root->sha256_fingerprint].push_back(c.name);
    root_of[c.name] = root->sha256_fingerprint;
    bool fine = true;
    if (auto chained = pki::verify_chain(ca.ca_cert, ca.root_cert, false); !chained) {
      fine = false;
      out.push_back(error(FindingId::k_cacerts_chain_invalid, c.name,
                          "the intermediate (ca-cert.pem) does not chain to root-cert.pem: " +
                              chained.error().message(),
                          "issue the cluster's intermediate from the mesh root: meshctl join " +
                              all_clusters(facts) + " --force-ca"));
    }
    if (!ca.cert_chain.empty() && !pki::same_certificate(ca.cert_chain, ca.ca_cert)) {
      fine = false;
      out.push_back(warning(FindingId::k_cacerts_cert_chain_stale, c.name,
                            "cert-chain.pem does not start with ca-cert.pem: workloads get a "
                            "chain that does not match their signer",
                            "cert-chain.pem must be ca-cert.pem followed by root-cert.pem; "
                            "meshctl join " +
                                all_clusters(facts) + " rewrites it and restarts istiod"));
    }
    for (const auto* cert : {&*root, &*inter}) {
      const std::string which = cert == &*root ? "root" : "intermediate";
      if (cert->not_after <= facts.collected_at) {
        fine = false;
        out.push_back(error(FindingId::k_cacerts_expired, c.name,
                            "the " + which + " certificate \"" + cert->subject + "\" expired on " +
                                day(cert->not_after),
                            rotate_hint(facts, c, cert == &*root)));
      } else if (cert->not_after - facts.collected_at < k_soon) {
        fine = false;
        const auto left =
            std::chrono::duration_cast<std::chrono::days>(cert->not_after - facts.collected_at);
        out.push_back(warning(FindingId::k_cacerts_expiring, c.name,
                              fmt::format("the {} certificate \"{}\" expires on {} (in {} days)",
                                          which, cert->subject, day(cert->not_after), left.count()),
                              "before then: " + rotate_hint(facts, c, cert == &*root)));
      }
    }
    if (fine) {
      out.push_back(info(FindingId::k_cacerts_ok, c.name,
                         "cacerts: root \"" + root->subject + "\" (SHA-256 " +
                             mesh::short_fingerprint(root->sha256_fingerprint) +
                             "), intermediate \"" + inter->subject + "\" valid until " +
                             day(inter->not_after)));
    }
  }
  if (roots.size() > 1) {
    std::vector<std::string> parts;
    parts.reserve(roots.size());
    for (const auto& [fp, cs] : roots) {
      parts.push_back(fmt::format("{} {}", join(cs), mesh::short_fingerprint(fp)));
    }
    out.push_back(error(FindingId::k_cacerts_root_differs, "",
                        "the clusters' cacerts hold different roots (" + join(parts, "; ") +
                            "): workloads of different roots fail mTLS across clusters",
                        "give every cluster the same root: meshctl join " + all_clusters(facts) +
                            " --force-ca (it restarts istiod), then restart the workloads"));
  }
  // The root istiod actually serves: written into istio-ca-root-cert in every meshed namespace at
  // istiod's start. A cacerts root that differs means istiod has not been restarted since. It is
  // read in the service's namespace: without a service (meshctl status) there is none to look at.
  for (const auto& c : facts.clusters) {
    if (facts.service.empty()) {
      break;
    }
    if (!usable(c) || !readable(c, "root-configmap") || !root_of.contains(c.name)) {
      continue;
    }
    if (!c.root_configmap) {
      out.push_back(warning(FindingId::k_root_configmap_missing, c.name,
                            "ConfigMap istio-ca-root-cert is missing in namespace " +
                                facts.namespace_ + ": istiod has not written its root there",
                            "is istiod running and the namespace meshed? " + kubectl(c) +
                                " label namespace " + facts.namespace_ +
                                " istio-injection=enabled"));
      continue;
    }
    const auto served = mesh::compare_served_root(c.cacerts->root_cert, *c.root_configmap);
    if (!served.stale) {
      out.push_back(
          info(FindingId::k_root_configmap_ok, c.name,
               "istiod serves the cacerts root (istio-ca-root-cert in " + facts.namespace_ + ")"));
      continue;
    }
    out.push_back(error(FindingId::k_root_configmap_stale, c.name,
                        "istiod was not restarted after cacerts changed: istio-ca-root-cert in " +
                            facts.namespace_ + " holds " + served.describe_served() +
                            ", cacerts holds SHA-256 " +
                            mesh::short_fingerprint(root_of.at(c.name)),
                        "meshctl join " + all_clusters(facts) +
                            " restarts istiod where it serves another root (or " + kubectl(c) +
                            " -n istio-system rollout restart deployment/" + istiod_deployment(c) +
                            "); then restart the workloads so they get new certificates"));
  }
  return out;
}

} // namespace meshctl::check

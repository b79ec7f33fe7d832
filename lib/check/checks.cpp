// verify's checks. Each area walks the clusters in the facts' order and says, per cluster, what is
// fine (info), what works but not as intended or could not be verified (warning), and what is
// broken (error) — always with the command or change that fixes it. The rules come from FACTS.md:
// §1 identity and network label, §2 remote secrets and clusterz, §3 plug-in CA, §4 gateway
// addresses, §5 locality priorities, §6 SNI routes, §8 service sameness.

#include "check/checks.hpp"

#include "check/views.hpp"
#include "kube/url.hpp"
#include "pki/cert.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace meshctl::check {

using nlohmann::json;

std::string_view severity_name(Severity s) {
  switch (s) {
  case Severity::k_info:
    return "info";
  case Severity::k_warning:
    return "warning";
  case Severity::k_error:
    return "error";
  }
  return "info";
}

namespace {

Finding info(std::string id, std::string cluster, std::string message) {
  return {std::move(id), Severity::k_info, std::move(cluster), std::move(message), {}};
}
Finding warning(std::string id, std::string cluster, std::string message, std::string hint) {
  return {std::move(id), Severity::k_warning, std::move(cluster), std::move(message),
          std::move(hint)};
}
Finding error(std::string id, std::string cluster, std::string message, std::string hint) {
  return {std::move(id), Severity::k_error, std::move(cluster), std::move(message),
          std::move(hint)};
}

std::string join(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) {
      out += sep;
    }
    out += i;
  }
  return out;
}

std::string kubectl(const ClusterFacts& c) {
  return "kubectl --context " + (c.context.empty() ? c.name : c.context);
}

bool usable(const ClusterFacts& c) {
  return c.reachable;
}

bool readable(const ClusterFacts& c, const std::string& fact) {
  return !c.errors.contains(fact);
}

std::string short_fingerprint(const std::string& fp) {
  return fp.size() > 23 ? fp.substr(0, 23) + "…" : fp;
}

std::string day(std::chrono::sys_seconds t) {
  return fmt::format("{:%Y-%m-%d}", t);
}

/// Every cluster of the mesh, checked or not (hints such as "meshctl join …" name them all).
std::string all_clusters(const MeshFacts& facts) {
  return join(facts.mesh_names(), " ");
}

std::string service_arg(const MeshFacts& facts) {
  return facts.service + "." + facts.namespace_;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// 1. Reachability

Findings check_reachability(const MeshFacts& facts) {
  Findings out;
  for (const auto& c : facts.clusters) {
    if (!c.reachable) {
      const ReadError e = c.connect_error.value_or(ReadError{"no answer", "", 0, true});
      if (e.unauthorized()) {
        out.push_back(error("cluster.unauthorized", c.name,
                            "the API server of " + c.name + " rejects the credentials of context " +
                                c.context + ": " + e.message,
                            e.hint.empty() ? "refresh the credentials of context " + c.context +
                                                 " in your kubeconfig"
                                           : e.hint));
      } else {
        out.push_back(error("cluster.unreachable", c.name,
                            "cannot reach " + c.name + " (" + c.server + "): " + e.message,
                            e.hint.empty() ? "check the network path and the server URL: " +
                                                 kubectl(c) + " get --raw /version"
                                           : e.hint));
      }
      continue;
    }
    out.push_back(
        info("cluster.reachable", c.name,
             fmt::format("reachable and authorised ({:.0f} ms, Kubernetes {})", c.latency_ms,
                         c.server_version.empty() ? "?" : c.server_version)));
    if (c.latency_ms > 2000) {
      out.push_back(warning("cluster.slow", c.name,
                            fmt::format("the API server took {:.0f} ms to answer", c.latency_ms),
                            "a slow API server delays istiod's view of this cluster too; check "
                            "the network path to " +
                                c.server));
    }
    for (const auto& [fact, e] : c.errors) {
      if (fact == "clusterz" || fact == "client") {
        continue; // their own checks say what they could not verify, with a better hint
      }
      if (e.forbidden()) {
        out.push_back(warning("cluster.forbidden", c.name,
                              "cannot read " + fact + " (forbidden): that part is not verified",
                              e.hint.empty() ? "use a context that may read it" : e.hint));
      } else {
        out.push_back(
            warning("cluster.read-failed", c.name,
                    "cannot read " + fact + ": " + e.message + ": that part is not verified",
                    e.hint.empty() ? "run verify again; -v shows the requests" : e.hint));
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 2. Istio: CRDs, istiod, identity

namespace {

std::string install_flags(const MeshFacts& facts, const ClusterFacts& c) {
  return "--set values.global.meshID=" + facts.mesh_id +
         " --set values.global.multiCluster.clusterName=" + c.name +
         " --set values.global.network=" + c.network;
}

int ready_pods(const std::vector<json>& pods) {
  int n = 0;
  for (const auto& p : pods) {
    n += pod_ready(p) ? 1 : 0;
  }
  return n;
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
      if (!missing.empty()) {
        out.push_back(error("istio.crds-missing", c.name,
                            "Istio's CRDs are not served (" + join(missing) +
                                " of networking.istio.io): Istio is not installed",
                            "install Istio in " + c.name + ": istioctl install --context " +
                                c.context + " " + install_flags(facts, c)));
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

// ---------------------------------------------------------------------------------------------
// 3. Trust

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
      out.push_back(error("cacerts.missing", c.name,
                          "Secret istio-system/cacerts is missing: istiod signs with its own "
                          "self-signed root, which the other clusters do not trust",
                          "meshctl join " + all_clusters(facts) +
                              " creates it from the mesh's root (then restart istiod)"));
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
      out.push_back(error("cacerts.incomplete", c.name,
                          "Secret istio-system/cacerts lacks " + join(missing) +
                              ": istiod falls back to its self-signed root",
                          "meshctl join " + all_clusters(facts) + " --force-ca rewrites it"));
      continue;
    }
    auto root = pki::inspect(ca.root_cert);
    auto inter = pki::inspect(ca.ca_cert);
    if (!root || !inter) {
      out.push_back(error("cacerts.unreadable", c.name,
                          "cacerts holds a certificate that does not parse: " +
                              (root ? inter.error() : root.error()).message(),
                          "meshctl join " + all_clusters(facts) + " --force-ca rewrites it"));
      continue;
    }
    roots[root->sha256_fingerprint].push_back(c.name);
    root_of[c.name] = root->sha256_fingerprint;
    bool fine = true;
    if (auto chained = pki::verify_chain(ca.ca_cert, ca.root_cert, false); !chained) {
      fine = false;
      out.push_back(error("cacerts.chain-invalid", c.name,
                          "the intermediate (ca-cert.pem) does not chain to root-cert.pem: " +
                              chained.error().message(),
                          "issue the cluster's intermediate from the mesh root: meshctl join " +
                              all_clusters(facts) + " --force-ca"));
    }
    if (!ca.cert_chain.empty() && !pki::same_certificate(ca.cert_chain, ca.ca_cert)) {
      fine = false;
      out.push_back(warning("cacerts.cert-chain-stale", c.name,
                            "cert-chain.pem does not start with ca-cert.pem: workloads get a "
                            "chain that does not match their signer",
                            "cert-chain.pem must be ca-cert.pem followed by root-cert.pem; "
                            "meshctl join --force-ca rewrites it"));
    }
    for (const auto* cert : {&*root, &*inter}) {
      const std::string which = cert == &*root ? "root" : "intermediate";
      if (cert->not_after <= facts.collected_at) {
        fine = false;
        out.push_back(error("cacerts.expired", c.name,
                            "the " + which + " certificate \"" + cert->subject + "\" expired on " +
                                day(cert->not_after),
                            "rotate the plug-in CA: meshctl join " + all_clusters(facts) +
                                " --force-ca, then restart istiod and the workloads"));
      } else if (cert->not_after - facts.collected_at < k_soon) {
        fine = false;
        const auto left =
            std::chrono::duration_cast<std::chrono::days>(cert->not_after - facts.collected_at);
        out.push_back(warning("cacerts.expiring", c.name,
                              fmt::format("the {} certificate \"{}\" expires on {} (in {} days)",
                                          which, cert->subject, day(cert->not_after), left.count()),
                              "rotate the plug-in CA before then: meshctl join " +
                                  all_clusters(facts) + " --force-ca, then restart istiod"));
      }
    }
    if (fine) {
      out.push_back(info("cacerts.ok", c.name,
                         "cacerts: root \"" + root->subject + "\" (SHA-256 " +
                             short_fingerprint(root->sha256_fingerprint) + "), intermediate \"" +
                             inter->subject + "\" valid until " + day(inter->not_after)));
    }
  }
  if (roots.size() > 1) {
    std::vector<std::string> parts;
    parts.reserve(roots.size());
    for (const auto& [fp, cs] : roots) {
      parts.push_back(fmt::format("{} {}", join(cs), short_fingerprint(fp)));
    }
    out.push_back(error("cacerts.root-differs", "",
                        "the clusters' cacerts hold different roots (" + join(parts, "; ") +
                            "): workloads of different roots fail mTLS across clusters",
                        "give every cluster the same root: meshctl join " + all_clusters(facts) +
                            " --force-ca, then restart istiod and the workloads"));
  }
  // The root istiod actually serves: written into istio-ca-root-cert in every meshed namespace at
  // istiod's start. A cacerts root that differs means istiod has not been restarted since.
  for (const auto& c : facts.clusters) {
    if (!usable(c) || !readable(c, "root-configmap") || !root_of.contains(c.name)) {
      continue;
    }
    if (!c.root_configmap) {
      out.push_back(warning("root-configmap.missing", c.name,
                            "ConfigMap istio-ca-root-cert is missing in namespace " +
                                facts.namespace_ + ": istiod has not written its root there",
                            "is istiod running and the namespace meshed? " + kubectl(c) +
                                " label namespace " + facts.namespace_ +
                                " istio-injection=enabled"));
      continue;
    }
    auto served = pki::inspect(*c.root_configmap);
    if (served && served->sha256_fingerprint == root_of.at(c.name)) {
      out.push_back(
          info("root-configmap.ok", c.name,
               "istiod serves the cacerts root (istio-ca-root-cert in " + facts.namespace_ + ")"));
      continue;
    }
    out.push_back(error("root-configmap.stale", c.name,
                        "istiod was not restarted after cacerts changed: istio-ca-root-cert in " +
                            facts.namespace_ + " holds " +
                            (served ? "root \"" + served->subject + "\" (SHA-256 " +
                                          short_fingerprint(served->sha256_fingerprint) + ")"
                                    : std::string("an unreadable certificate")) +
                            ", cacerts holds SHA-256 " + short_fingerprint(root_of.at(c.name)),
                        kubectl(c) +
                            " -n istio-system rollout restart deployment/istiod (or meshctl join "
                            "--restart-istiod); then restart the workloads so they get new "
                            "certificates"));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 4. Remote secrets and clusterz

namespace {

struct SecretKey {
  const RemoteSecretFacts* secret;
  const RemoteKubeconfigFacts* kubeconfig;
};

void check_token(const ClusterFacts& c, const std::string& configured_server,
                 const std::string& other, const RemoteSecretFacts& s,
                 const RemoteKubeconfigFacts& k, Findings& out) {
  const std::string where = "Secret istio-system/" + s.name;
  if (!k.parse_error.empty()) {
    out.push_back(error("remote-secret.kubeconfig", c.name,
                        where + " key " + other + " is not a usable kubeconfig: " + k.parse_error,
                        "meshctl join " + c.name + " " + other + " rewrites it"));
    return;
  }
  if (!k.has_token) {
    out.push_back(error("remote-secret.kubeconfig", c.name,
                        where + " has no token for " + other +
                            ": istiod cannot authenticate to its API server",
                        "meshctl join " + c.name + " " + other + " rewrites it"));
    return;
  }
  bool fine = true;
  // A loopback server is wrong unless meshctl.yaml names it on purpose (all clusters on one host).
  const bool configured = !configured_server.empty() && configured_server == k.server;
  if (kube::is_loopback_url(k.server) && !configured) {
    fine = false;
    out.push_back(error("remote-secret.loopback", c.name,
                        where + " points at " + k.server + ", a loopback address: istiod in " +
                            c.name + " would connect to itself, not to " + other,
                        "set clusters[" + other + "].apiServer in meshctl.yaml to an address " +
                            c.name + "'s pods can reach, then: meshctl join " + c.name + " " +
                            other));
  }
  if (!k.token_check) {
    return;
  }
  const auto& t = *k.token_check;
  if (t.error) {
    if (t.error->unauthorized()) {
      out.push_back(error("remote-secret.token-rejected", c.name,
                          "the API server of " + other + " rejects the token in " + where +
                              ": istiod in " + c.name + " cannot watch " + other,
                          "the token was revoked or its Secret deleted: meshctl join " + c.name +
                              " " + other + " writes a fresh one"));
    } else {
      out.push_back(warning("remote-secret.server-unreachable", c.name,
                            "could not check the token of " + where + " against " + k.server +
                                " from here: " + t.error->message,
                            "istiod in " + c.name + " must reach " + k.server +
                                "; check it from there (clusterz below tells what istiod sees)"));
    }
    return;
  }
  std::vector<std::string> denied;
  std::vector<std::string> writes;
  for (const auto& a : t.access) {
    const std::string what =
        a.verb + " " + a.resource + (a.namespace_.empty() ? "" : " in " + a.namespace_);
    if (a.want_allowed && !a.allowed) {
      denied.push_back(what);
    } else if (!a.want_allowed && a.allowed) {
      writes.push_back(what);
    }
  }
  if (!denied.empty()) {
    fine = false;
    out.push_back(error("remote-secret.permissions", c.name,
                        "the token in " + where + " may not " + join(denied) + " in " + other +
                            ": istiod in " + c.name + " cannot discover " + other + "'s services",
                        "bind the token's ServiceAccount to the reader ClusterRole in " + other +
                            ": meshctl join " + c.name + " " + other +
                            " (ClusterRoleBinding istio-reader-clusterrole-istio-system)"));
  }
  if (!writes.empty()) {
    fine = false;
    out.push_back(warning("remote-secret.too-powerful", c.name,
                          "the token in " + where + " may " + join(writes) + " in " + other +
                              ": more than istiod needs",
                          "bind it only to the reader ClusterRole "
                          "istio-reader-clusterrole-istio-system"));
  }
  if (fine) {
    out.push_back(
        info("remote-secret.ok", c.name,
             "remote secret for " + other + ": " + k.server +
                 (kube::is_loopback_url(k.server) ? " (loopback, as meshctl.yaml sets it)" : "") +
                 ", token accepted with reader rights" +
                 (t.via.empty() || t.via == k.server ? "" : " (checked via " + t.via + ")")));
  }
}

} // namespace

Findings check_remote_secrets(const MeshFacts& facts) {
  Findings out;
  const auto names = facts.mesh_names(); // unchecked clusters need their secrets too
  for (const auto& c : facts.clusters) {
    if (!usable(c) || !readable(c, "remote-secrets")) {
      continue;
    }
    std::map<std::string, std::vector<SecretKey>> by_key;
    for (const auto& s : c.remote_secrets) {
      for (const auto& k : s.kubeconfigs) {
        by_key[k.key].push_back({&s, &k});
      }
    }
    for (const auto& other : names) {
      if (other == c.name) {
        continue;
      }
      const auto it = by_key.find(other);
      if (it == by_key.end()) {
        const std::string expected = "istio-remote-secret-" + other;
        const auto named = std::find_if(c.remote_secrets.begin(), c.remote_secrets.end(),
                                        [&](const auto& s) { return s.name == expected; });
        if (named != c.remote_secrets.end()) {
          out.push_back(error("remote-secret.key", c.name,
                              fmt::format("Secret istio-system/{} has no key \"{}\" (keys: {}): "
                                          "istiod reads one cluster per key, named by cluster ID",
                                          expected, other, join(named->keys)),
                              fmt::format("meshctl join {} {} rewrites it", c.name, other)));
        } else {
          out.push_back(error("remote-secret.missing", c.name,
                              fmt::format("no remote secret for {0}: istiod in {1} does not watch "
                                          "{0}, so {1}'s clients get no endpoints in {0}",
                                          other, c.name),
                              fmt::format("meshctl join {} {}", c.name, other)));
        }
        continue;
      }
      if (it->second.size() > 1) {
        std::vector<std::string> secrets;
        secrets.reserve(it->second.size());
        for (const auto& sk : it->second) {
          secrets.push_back(sk.secret->name);
        }
        out.push_back(
            warning("remote-secret.duplicate", c.name,
                    "several Secrets hold cluster " + other + " (" + join(secrets) +
                        "): istiod uses whichever it saw first",
                    "delete all but one: " + kubectl(c) + " -n istio-system delete secret NAME"));
      }
      const auto& [s, k] = it->second.front();
      const std::string where = "Secret istio-system/" + s->name;
      const auto label = s->labels.find("istio/multiCluster");
      if (label == s->labels.end() || label->second != "true") {
        out.push_back(error("remote-secret.label", c.name,
                            where + " lacks the label istio/multiCluster=true: istiod ignores it",
                            kubectl(c) + " -n istio-system label secret " + s->name +
                                " istio/multiCluster=true --overwrite"));
      }
      const auto ann = s->annotations.find("networking.istio.io/cluster");
      if (ann == s->annotations.end() || ann->second != other) {
        out.push_back(warning(
            "remote-secret.annotation", c.name,
            fmt::format("{} lacks the annotation networking.istio.io/cluster={}", where, other),
            fmt::format("{} -n istio-system annotate secret {} "
                        "networking.istio.io/cluster={} --overwrite",
                        kubectl(c), s->name, other)));
      }
      check_token(c, facts.configured_api_server(other), other, *s, *k, out);
    }
    for (const auto& [key, entries] : by_key) {
      if (key == c.name) {
        out.push_back(warning("remote-secret.self", c.name,
                              "Secret istio-system/" + entries.front().secret->name +
                                  " holds this cluster's own ID \"" + key + "\": istiod ignores it",
                              "delete it: " + kubectl(c) + " -n istio-system delete secret " +
                                  entries.front().secret->name));
      } else if (std::find(names.begin(), names.end(), key) == names.end()) {
        out.push_back(info("remote-secret.unknown-cluster", c.name,
                           "istiod also watches cluster \"" + key + "\" (Secret " +
                               entries.front().secret->name + "), which this run does not verify"));
      }
    }

    // What istiod itself says about its remote clusters.
    if (!c.istiod || !readable(c, "istiod")) {
      continue;
    }
    if (!c.clusterz) {
      const auto e = c.errors.find("clusterz");
      const std::string pod = c.clusterz_pod.empty() ? "<istiod-pod>" : c.clusterz_pod;
      out.push_back(warning("clusterz.unavailable", c.name,
                            "could not read istiod's /debug/clusterz" +
                                (e == c.errors.end() ? std::string(" (no ready istiod pod)")
                                                     : ": " + e->second.message),
                            "read it by hand: " + kubectl(c) +
                                " get --raw /api/v1/namespaces/istio-system/pods/" + pod +
                                ":15014/proxy/debug/clusterz"));
      continue;
    }
    std::vector<std::string> synced;
    for (const auto& other : names) {
      if (other == c.name || !by_key.contains(other)) {
        continue;
      }
      const auto e = std::find_if(c.clusterz->begin(), c.clusterz->end(),
                                  [&](const auto& x) { return x.id == other; });
      if (e == c.clusterz->end()) {
        out.push_back(error("clusterz.missing", c.name,
                            fmt::format("istiod in {} does not list {} in /debug/clusterz "
                                        "although a remote secret for it exists",
                                        c.name, other),
                            fmt::format("istiod rejected the secret: {} -n istio-system logs "
                                        "deploy/istiod | grep -i {}",
                                        kubectl(c), other)));
      } else if (e->sync_status != "synced") {
        out.push_back(
            error("clusterz.not-synced", c.name,
                  fmt::format("istiod in {} reports {} as {}, not synced: it cannot "
                              "read {}'s API server",
                              c.name, other, e->sync_status.empty() ? "?" : e->sync_status, other),
                  fmt::format("check that {}'s pods reach the secret's server and that "
                              "the token works; istiod's log says why: {} -n "
                              "istio-system logs deploy/istiod | grep -i {}",
                              c.name, kubectl(c), other)));
      } else {
        synced.push_back(other);
      }
    }
    if (!synced.empty()) {
      out.push_back(info("clusterz.synced", c.name, "istiod reports " + join(synced) + " synced"));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 5. East-west gateway and expose Gateway

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

struct Exposure {
  std::vector<std::string> gateways; ///< Gateway objects with AUTO_PASSTHROUGH on 15443
  std::vector<std::string> hosts;
  bool covered = false;
};

Exposure exposure(const MeshFacts& facts, const ClusterFacts& c) {
  Exposure e;
  const std::string host = facts.host();
  const auto views = network_gateways(c);
  for (const auto& gw : c.gateways) {
    const json& spec = member(gw, "spec");
    // The Gateway must select the east-west gateway's pods.
    bool selects = false;
    for (const auto& pod : c.gateway_pods) {
      if (selector_matches(member(spec, "selector"), member(member(pod, "metadata"), "labels"))) {
        selects = true;
      }
    }
    if (!selects) {
      continue;
    }
    for (const auto& server :
         member(spec, "servers").is_array() ? member(spec, "servers") : json::array()) {
      const json& port = member(server, "port");
      const json& number = member(port, "number");
      if (!number.is_number() || number.get<int>() != 15443 ||
          str(member(server, "tls"), "mode") != "AUTO_PASSTHROUGH") {
        continue;
      }
      e.gateways.push_back(object_name(gw));
      for (const auto& h :
           member(server, "hosts").is_array() ? member(server, "hosts") : json::array()) {
        if (h.is_string()) {
          e.hosts.push_back(h.get<std::string>());
          e.covered = e.covered || host_covered(h.get<std::string>(), host, facts.namespace_);
        }
      }
    }
  }
  (void)views;
  return e;
}

std::string address_list(const std::vector<GatewayAddress>& addresses) {
  std::vector<std::string> parts;
  parts.reserve(addresses.size());
  for (const auto& a : addresses) {
    parts.push_back(fmt::format("{}:{} ({})", a.address, a.port, a.source));
  }
  return join(parts);
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
                                g.namespace_ + " get deploy,pods -l istio=eastwestgateway"));
      } else if (g.ready_pods == 0) {
        fine = false;
        out.push_back(
            error("gateway.pods-not-ready", c.name,
                  fmt::format("none of the {} gateway pods of {} is ready", g.pods, svc),
                  kubectl(c) + " -n " + g.namespace_ + " describe pods -l istio=eastwestgateway"));
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

// ---------------------------------------------------------------------------------------------
// 6. The Service

namespace {

std::string service_kind(const json& svc) {
  const json& spec = member(svc, "spec");
  const std::string type = str(spec, "type").empty() ? "ClusterIP" : str(spec, "type");
  return str(spec, "clusterIP") == "None" ? type + " (headless)" : type;
}

std::string service_port_list(const json& svc) {
  std::vector<std::string> out;
  const json& ports = member(member(svc, "spec"), "ports");
  for (const auto& p : ports.is_array() ? ports : json::array()) {
    const json& n = member(p, "port");
    std::string proto = str(p, "protocol");
    out.push_back((n.is_number() ? std::to_string(n.get<int>()) : std::string("?")) + "/" +
                  (str(p, "name").empty() ? "-" : str(p, "name")) + "/" +
                  (proto.empty() ? "TCP" : proto));
  }
  std::sort(out.begin(), out.end());
  return join(out, " ");
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
            error("service.missing", c.name,
                  "Service " + svc + " does not exist in " + c.name + ": DNS will not resolve " +
                      service_arg(facts) + " in " + c.name + ", so its clients cannot call it",
                  "run meshctl sync-svc (or copy the Service from " + present.front() + ")"));
      }
    } else if (first != nullptr && &c != first) {
      if (service_kind(c.service) != service_kind(first->service)) {
        out.push_back(error("service.type-differs", c.name,
                            "Service " + svc + " is " + service_kind(c.service) + " in " + c.name +
                                " but " + service_kind(first->service) + " in " + first->name +
                                ": Istio merges them into one host",
                            "make the Services identical (meshctl sync-svc copies one)"));
      }
      if (service_port_list(c.service) != service_port_list(first->service)) {
        out.push_back(error("service.ports-differ", c.name,
                            "Service " + svc + " has ports " + service_port_list(c.service) +
                                " in " + c.name + " but " + service_port_list(first->service) +
                                " in " + first->name +
                                ": Istio merges endpoints by host and the port name decides the "
                                "protocol",
                            "make the ports (number, name, protocol) identical (meshctl sync-svc "
                            "copies one Service everywhere)"));
      }
    }
    if (c.service.is_object()) {
      out.push_back(info("service.present", c.name,
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
      out.push_back(info("service.no-workloads", c.name,
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
      out.push_back(error("workload.no-sidecar", c.name,
                          "pods without an istio-proxy sidecar: " + join(without) +
                              ": they are outside the mesh and unreachable across networks",
                          kubectl(c) + " label namespace " + facts.namespace_ +
                              " istio-injection=enabled, then restart them (kubectl rollout "
                              "restart deployment …)"));
    }
    if (!not_ready.empty()) {
      out.push_back(
          warning("workload.not-ready", c.name, "pods not ready: " + join(not_ready),
                  kubectl(c) + " -n " + facts.namespace_ + " describe pod " + not_ready.front()));
    }
    out.push_back(
        info("service.workloads", c.name,
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
    out.push_back(error("service.missing", "",
                        "Service " + svc + " exists in no " +
                            (unchecked.empty() ? "reachable" : "checked") + " cluster" + also,
                        "check the name (SERVICE.NAMESPACE), e.g. kubectl get svc -n " +
                            facts.namespace_ +
                            (unchecked.empty() ? std::string() : "; " + everywhere)));
  } else if (running.empty() && !present.empty() && unchecked.empty() && all_pods_read) {
    out.push_back(error("service.no-workloads", "",
                        "no cluster runs pods of " + facts.service + ": calls fail everywhere",
                        "deploy it, or check its selector: kubectl get pods -n " +
                            facts.namespace_ + " --show-labels"));
  } else if (running.empty() && !present.empty() && all_pods_read) {
    out.push_back(
        info("service.no-workloads", "",
             "no checked cluster runs pods of " + facts.service + also + "; " + everywhere));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 7. SNI routes

Findings check_sni_routes(const MeshFacts& facts) {
  Findings out;
  for (const auto& c : facts.clusters) {
    if (!usable(c) || c.workloads.empty() || network_gateways(c).empty()) {
      continue;
    }
    const bool covered = exposure(facts, c).covered;
    if (c.gateway_dumps.empty()) {
      const auto e = c.errors.find("gateway-pods");
      out.push_back(warning("sni.unavailable", c.name,
                            "could not read the east-west gateway's listeners" +
                                (e == c.errors.end() ? std::string(" (no ready gateway pod)")
                                                     : ": " + e->second.message),
                            "read them by hand: meshctl proxy-config listener --context " + c.name +
                                " <gateway-pod>.istio-system --port 15443"));
      continue;
    }
    for (const auto& g : c.gateway_dumps) {
      const std::string pod = g.listeners.pod + "." + g.listeners.namespace_;
      if (!g.listeners.bytes || !g.parse_error.empty()) {
        const std::string why = g.listeners.error ? g.listeners.error->message : g.parse_error;
        out.push_back(
            warning("sni.unavailable", c.name,
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
      out.push_back(error("sni.missing", c.name,
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
      out.push_back(info("sni.ok", c.name,
                         "the east-west gateway routes " + facts.host() + " on 15443 (port " +
                             join(ok_ports) + ")"));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 8. Endpoints, priorities and locality rules

Findings check_endpoints(const MeshFacts& facts) {
  Findings out;
  if (!facts.from.empty() &&
      std::none_of(facts.clusters.begin(), facts.clusters.end(), [](const ClusterFacts& c) {
        return c.client && c.client->picked_by == "--from";
      })) {
    out.push_back(error("endpoints.from-not-found", "",
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
    bool active = false;
    if (readable(c, "destination-rules")) {
      for (const auto& r : rule_views(c)) {
        if (r.locality_lb && !r.outlier_detection) {
          out.push_back(error("destination-rule.no-outlier-detection", c.name,
                              "DestinationRule " + r.namespace_ + "/" + r.name +
                                  " sets localityLbSetting without outlierDetection: Istio "
                                  "ignores it silently, so traffic is not kept local",
                              "add trafficPolicy.outlierDetection (meshctl localize " +
                                  service_arg(facts) + " writes both)"));
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
        out.push_back(warning("traffic.spread", c.name,
                              "pods of " + facts.service + " run in " +
                                  join(std::vector<std::string>(where.begin(), where.end())) +
                                  " and no DestinationRule keeps traffic local: calls from " +
                                  c.name + " are spread across clusters",
                              "meshctl localize " + service_arg(facts)));
      }
    }
    if (!c.client) {
      const auto e = c.errors.find("client");
      if (e != c.errors.end()) {
        out.push_back(warning("endpoints.unavailable", c.name,
                              "cannot read a client's endpoints: " + e->second.message,
                              e->second.hint.empty() ? "name a client with --from POD.NAMESPACE"
                                                     : e->second.hint));
      } else {
        out.push_back(warning("endpoints.no-client", c.name,
                              "no pod with an istio-proxy in namespace " + facts.namespace_ +
                                  " to read the endpoints a client sees",
                              "name one with --from POD.NAMESPACE"));
      }
      continue;
    }
    const auto& cl = *c.client;
    const std::string client = cl.namespace_ + "/" + cl.pod;
    if (!cl.cluster_status.bytes && !cl.eds.bytes) {
      const auto& e = cl.cluster_status.error ? cl.cluster_status.error : cl.eds.error;
      out.push_back(
          warning("endpoints.unavailable", c.name,
                  "could not read the Envoy of " + client + (e ? ": " + e->message : std::string()),
                  e && !e->hint.empty() ? e->hint
                                        : "meshctl proxy-config endpoints --context " + c.name +
                                              " " + cl.pod + "." + cl.namespace_));
      continue;
    }
    if (!cl.parse_error.empty()) {
      out.push_back(warning("endpoints.unavailable", c.name,
                            "could not read the Envoy dump of " + client + ": " + cl.parse_error,
                            "meshctl proxy-config endpoints --context " + c.name + " " + cl.pod +
                                "." + cl.namespace_));
      continue;
    }
    const auto rows = endpoint_rows(facts, c);
    if (rows.empty()) {
      out.push_back(error("endpoints.none", c.name,
                          "the Envoy of " + client + " has no endpoint for " + facts.host() +
                              ": calls fail with 503 (no healthy upstream)",
                          "check the findings above (remote secrets, gateway, service); then "
                          "istioctl proxy-status for the push state"));
      continue;
    }
    bool fine = true;
    // Every ready local pod is an endpoint.
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
      out.push_back(error("endpoints.missing-local", c.name,
                          "the Envoy of " + client + " lacks local pods " + join(missing_local),
                          "istiod has not pushed them: is istiod in " + c.name +
                              " ready? (istioctl proxy-status)"));
    }
    for (const auto& o : facts.clusters) {
      if (o.name == c.name || !usable(o) || o.workloads.empty() || o.network == c.network) {
        continue;
      }
      bool any_ready = false;
      for (const auto& w : o.workloads) {
        any_ready = any_ready || pod_ready(w);
      }
      if (!any_ready || seen_peers.contains(o.name)) {
        continue;
      }
      fine = false;
      std::vector<GatewayAddress> expected;
      for (const auto& g : network_gateways(o)) {
        expected.insert(expected.end(), g.addresses.begin(), g.addresses.end());
      }
      out.push_back(error("endpoints.missing-remote", c.name,
                          "the Envoy of " + client + " has no endpoint leading to " + o.name +
                              (expected.empty()
                                   ? std::string(" (whose gateway has no address)")
                                   : " (expected its gateway at " + address_list(expected) + ")"),
                          "fix the remote-secret, clusterz and gateway findings for " + o.name +
                              " above; istiod in " + c.name + " must watch " + o.name +
                              " and know its gateway address"));
    }
    std::vector<std::string> unhealthy;
    for (const auto& r : rows) {
      if (r.kind == EndpointKind::k_remote_pod) {
        const auto* peer = facts.find(r.peer_cluster);
        if (peer != nullptr && peer->network != c.network) {
          fine = false;
          out.push_back(warning("endpoints.remote-pod", c.name,
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
      out.push_back(warning("endpoints.unhealthy", c.name,
                            "unhealthy endpoints seen by " + client + ": " + join(unhealthy),
                            "meshctl proxy-config endpoints --context " + c.name + " " + cl.pod +
                                "." + cl.namespace_ + " -o wide"));
    }
    // Priorities (FACTS §5): with an active rule local = 0, remote > 0.
    std::vector<std::uint32_t> local_p;
    std::vector<std::uint32_t> remote_p;
    for (const auto& r : rows) {
      if (r.kind == EndpointKind::k_local_pod) {
        local_p.push_back(r.endpoint.priority);
      } else if (r.kind == EndpointKind::k_remote_gateway || r.kind == EndpointKind::k_remote_pod) {
        remote_p.push_back(r.endpoint.priority);
      }
    }
    if (active && !local_p.empty() && !remote_p.empty()) {
      const bool local_zero =
          std::all_of(local_p.begin(), local_p.end(), [](auto p) { return p == 0; });
      const bool remote_later =
          std::all_of(remote_p.begin(), remote_p.end(), [](auto p) { return p > 0; });
      if (!local_zero || !remote_later) {
        fine = false;
        out.push_back(error("endpoints.priority", c.name,
                            fmt::format("a DestinationRule keeps traffic local, but the Envoy of "
                                        "{} has local pods at priority {} and remote endpoints "
                                        "at priority {}: the rule is not in effect",
                                        client, *std::max_element(local_p.begin(), local_p.end()),
                                        *std::min_element(remote_p.begin(), remote_p.end())),
                            "check that the rule applies to the client (namespace, exportTo) "
                            "and that istiod pushed it: istioctl proxy-status"));
      } else {
        out.push_back(info("traffic.localized", c.name,
                           "calls from " + c.name +
                               " stay local: local pods at priority 0, "
                               "other clusters at priority " +
                               std::to_string(*std::min_element(remote_p.begin(), remote_p.end())) +
                               " (failover)"));
      }
    }
    if (fine) {
      out.push_back(info("endpoints.ok", c.name,
                         fmt::format("{} sees {} endpoint(s) of {} ({} local, {} remote)", client,
                                     rows.size(), facts.host(), local_p.size(), remote_p.size())));
    }
  }
  return out;
}

Findings run_checks(const MeshFacts& facts) {
  Findings out;
  for (auto* check : {&check_reachability, &check_istio, &check_trust, &check_remote_secrets,
                      &check_gateways, &check_service, &check_sni_routes, &check_endpoints}) {
    auto f = check(facts);
    out.insert(out.end(), std::make_move_iterator(f.begin()), std::make_move_iterator(f.end()));
  }
  return out;
}

} // namespace meshctl::check

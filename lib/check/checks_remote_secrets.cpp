// Remote secrets and clusterz (FACTS §2). In every checked cluster, istiod needs one Secret per
// other mesh cluster (checked or not), keyed by that cluster's ID and labelled
// istio/multiCluster=true, whose kubeconfig names a server istiod can reach (not loopback, unless
// meshctl.yaml sets it so) with a token that the collector saw accepted with reader rights and no
// write. Then istiod's own word: /debug/clusterz must list each such cluster as synced.

#include "check/checks.hpp"
#include "check/checks_common.hpp"
#include "core/strings.hpp"
#include "kube/url.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace meshctl::check {

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
    out.push_back(error(FindingId::k_remote_secret_kubeconfig, c.name,
                        where + " key " + other + " is not a usable kubeconfig: " + k.parse_error,
                        "meshctl join " + c.name + " " + other + " rewrites it"));
    return;
  }
  if (!k.has_token) {
    out.push_back(error(FindingId::k_remote_secret_kubeconfig, c.name,
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
    out.push_back(error(FindingId::k_remote_secret_loopback, c.name,
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
      out.push_back(error(FindingId::k_remote_secret_token_rejected, c.name,
                          "the API server of " + other + " rejects the token in " + where +
                              ": istiod in " + c.name + " cannot watch " + other,
                          "the token was revoked or its Secret deleted: meshctl join " + c.name +
                              " " + other + " writes a fresh one"));
    } else {
      out.push_back(warning(FindingId::k_remote_secret_server_unreachable, c.name,
                            "could not check the token of " + where + " against " + k.server +
                                " from here: " + t.error->message,
                            "istiod in " + c.name + " must reach " + k.server +
                                "; check it from there (clusterz below tells what istiod sees)"));
    }
    return;
  }
  std::vector<std::string> denied;
  std::vector<std::string> writes;
  std::vector<std::string> unknown;
  for (const auto& a : t.access) {
    const std::string what =
        a.verb + " " + a.resource + (a.namespace_.empty() ? "" : " in " + a.namespace_);
    if (a.unanswered) {
      unknown.push_back(what + " (" +
                        (a.http_status == 0 ? std::string("no answer")
                                            : "HTTP " + std::to_string(a.http_status)) +
                        ")");
    } else if (a.want_allowed && !a.allowed) {
      denied.push_back(what);
    } else if (!a.want_allowed && a.allowed) {
      writes.push_back(what);
    }
  }
  if (!denied.empty()) {
    fine = false;
    out.push_back(error(FindingId::k_remote_secret_permissions, c.name,
                        "the token in " + where + " may not " + join(denied) + " in " + other +
                            ": istiod in " + c.name + " cannot discover " + other + "'s services",
                        "bind the token's ServiceAccount to the reader ClusterRole in " + other +
                            ": meshctl join " + c.name + " " + other +
                            " (ClusterRoleBinding istio-reader-clusterrole-istio-system)"));
  }
  if (!unknown.empty()) {
    fine = false;
    out.push_back(warning(FindingId::k_remote_secret_unchecked, c.name,
                          "could not check whether the token in " + where + " may " +
                              join(unknown) + " in " + other +
                              ": the API server did not answer, even after retries",
                          "this is no verdict on the token's permissions; run meshctl verify "
                          "again when the API server of " +
                              other + " answers (-v shows each attempt)"));
  }
  if (!writes.empty()) {
    fine = false;
    out.push_back(warning(FindingId::k_remote_secret_too_powerful, c.name,
                          "the token in " + where + " may " + join(writes) + " in " + other +
                              ": more than istiod needs",
                          "bind it only to the reader ClusterRole "
                          "istio-reader-clusterrole-istio-system"));
  }
  if (fine) {
    out.push_back(
        info(FindingId::k_remote_secret_ok, c.name,
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
          out.push_back(error(FindingId::k_remote_secret_key, c.name,
                              fmt::format("Secret istio-system/{} has no key \"{}\" (keys: {}): "
                                          "istiod reads one cluster per key, named by cluster ID",
                                          expected, other, join(named->keys)),
                              fmt::format("meshctl join {} {} rewrites it", c.name, other)));
        } else {
          out.push_back(error(FindingId::k_remote_secret_missing, c.name,
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
            warning(FindingId::k_remote_secret_duplicate, c.name,
                    "several Secrets hold cluster " + other + " (" + join(secrets) +
                        "): istiod uses whichever it saw first",
                    "delete all but one: " + kubectl(c) + " -n istio-system delete secret NAME"));
      }
      const auto& [s, k] = it->second.front();
      const std::string where = "Secret istio-system/" + s->name;
      const auto label = s->labels.find("istio/multiCluster");
      if (label == s->labels.end() || label->second != "true") {
        out.push_back(error(FindingId::k_remote_secret_label, c.name,
                            where + " lacks the label istio/multiCluster=true: istiod ignores it",
                            kubectl(c) + " -n istio-system label secret " + s->name +
                                " istio/multiCluster=true --overwrite"));
      }
      const auto ann = s->annotations.find("networking.istio.io/cluster");
      if (ann == s->annotations.end() || ann->second != other) {
        out.push_back(warning(
            FindingId::k_remote_secret_annotation, c.name,
            fmt::format("{} lacks the annotation networking.istio.io/cluster={}", where, other),
            fmt::format("{} -n istio-system annotate secret {} "
                        "networking.istio.io/cluster={} --overwrite",
                        kubectl(c), s->name, other)));
      }
      check_token(c, facts.configured_api_server(other), other, *s, *k, out);
    }
    for (const auto& [key, entries] : by_key) {
      if (key == c.name) {
        out.push_back(warning(FindingId::k_remote_secret_self, c.name,
                              "Secret istio-system/" + entries.front().secret->name +
                                  " holds this cluster's own ID \"" + key + "\": istiod ignores it",
                              "delete it: " + kubectl(c) + " -n istio-system delete secret " +
                                  entries.front().secret->name));
      } else if (std::find(names.begin(), names.end(), key) == names.end()) {
        out.push_back(info(FindingId::k_remote_secret_unknown_cluster, c.name,
                           "istiod also watches cluster \"" + key + "\" (Secret " +
                               entries.front().secret->name + "), which this run does not verify"));
      }
    }

    // What istiod itself says about its remote clusters.
    if (!c.istiod || !readable(c, "istiod")) {
      continue;
    }
    if (!c.clusterz) {
      const std::string pod = c.clusterz_pod.empty() ? "<istiod-pod>" : c.clusterz_pod;
      out.push_back(warning(FindingId::k_clusterz_unavailable, c.name,
                            "could not read istiod's /debug/clusterz" +
                                read_failure(c, "clusterz", "no ready istiod pod"),
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
        out.push_back(error(FindingId::k_clusterz_missing, c.name,
                            fmt::format("istiod in {} does not list {} in /debug/clusterz "
                                        "although a remote secret for it exists",
                                        c.name, other),
                            fmt::format("istiod rejected the secret: {} -n istio-system logs "
                                        "deploy/{} | grep -i {}",
                                        kubectl(c), istiod_deployment(c), other)));
      } else if (e->sync_status != "synced") {
        out.push_back(
            error(FindingId::k_clusterz_not_synced, c.name,
                  fmt::format("istiod in {} reports {} as {}, not synced: it cannot "
                              "read {}'s API server",
                              c.name, other, e->sync_status.empty() ? "?" : e->sync_status, other),
                  fmt::format("check that {}'s pods reach the secret's server and that "
                              "the token works; istiod's log says why: {} -n "
                              "istio-system logs deploy/{} | grep -i {}",
                              c.name, kubectl(c), istiod_deployment(c), other)));
      } else {
        synced.push_back(other);
      }
    }
    if (!synced.empty()) {
      out.push_back(
          info(FindingId::k_clusterz_synced, c.name, "istiod reports " + join(synced) + " synced"));
    }
  }
  return out;
}

} // namespace meshctl::check

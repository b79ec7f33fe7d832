#include "mesh/istiod.hpp"

#include "core/json.hpp"
#include "core/strings.hpp"
#include "core/try.hpp"

#include <algorithm>
#include <map>

namespace meshctl::mesh {

using nlohmann::json;

std::string IstiodRevision::suffix() const {
  return revision == k_default_revision ? std::string() : "-" + revision;
}

std::string IstiodRevision::pod_selector() const {
  // Old default installs may lack the label on their pods; app=istiod alone then, filtered by
  // revision_of() by whoever lists them.
  return revision == k_default_revision
             ? std::string("app=istiod")
             : "app=istiod," + std::string(k_revision_label) + "=" + revision;
}

std::string revision_of(const json& object) {
  const std::string rev = str(member(member(object, "metadata"), "labels"), k_revision_label);
  return rev.empty() ? std::string(k_default_revision) : rev;
}

std::string image_tag(const std::string& image) {
  const std::string ref = image.substr(0, image.find('@')); // a digest is not a version
  const auto slash = ref.rfind('/');
  const auto colon = ref.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) {
    return {};
  }
  return ref.substr(colon + 1);
}

std::string istiod_image(const json& deployment) {
  const json& containers =
      member(member(member(member(deployment, "spec"), "template"), "spec"), "containers");
  for (const auto& c : containers.is_array() ? containers : json::array()) {
    if (str(c, "name") == "discovery") {
      return str(c, "image");
    }
  }
  return {};
}

std::string istiod_version(const json& deployment) {
  return image_tag(istiod_image(deployment));
}

Result<IstiodRevision> pick_revision(const std::vector<json>& deployments,
                                     const std::optional<std::string>& configured,
                                     const std::string& cluster) {
  std::map<std::string, std::string> by_revision; // revision -> first Deployment name
  for (const auto& d : deployments) {
    const std::string name = str(member(d, "metadata"), "name");
    auto [it, fresh] = by_revision.emplace(revision_of(d), name);
    if (!fresh && name < it->second) {
      it->second = name;
    }
  }
  std::vector<std::string> revisions;
  revisions.reserve(by_revision.size());
  for (const auto& [rev, name] : by_revision) {
    revisions.push_back(rev);
  }
  if (by_revision.empty()) {
    return fail("istiod is not installed in " + cluster +
                    " (no Deployment labelled app=istiod in istio-system)",
                "install Istio first (meshctl prints the values to use), then run join again");
  }
  if (configured) {
    const auto it = by_revision.find(*configured);
    if (it == by_revision.end()) {
      return fail("istiod revision \"" + *configured +
                      "\" (istio.revision in meshctl.yaml) is not "
                      "installed in " +
                      cluster + ": it runs " +
                      (revisions.size() == 1 ? "revision " : "revisions ") + join(revisions),
                  "set istio.revision (or clusters[].istio.revision for " + cluster +
                      ") in meshctl.yaml to one of them, or install that revision");
    }
    return IstiodRevision{it->first, it->second};
  }
  if (by_revision.size() > 1) {
    return fail(cluster + " runs several istiod revisions (" + join(revisions) +
                    "): meshctl cannot tell which one to work with",
                "choose one with istio.revision in meshctl.yaml (or clusters[].istio.revision "
                "for " +
                    cluster + "), e.g. istio: {revision: " + revisions.back() + "}");
  }
  return IstiodRevision{by_revision.begin()->first, by_revision.begin()->second};
}

Result<std::vector<json>> list_istiod_deployments(kube::Client& client,
                                                  const std::string& cluster) {
  kube::ListOptions opts;
  opts.label_selector = "app=istiod";
  auto list = client.list({"apps", "v1", "deployments", "istio-system", "", ""}, opts);
  if (!list) {
    return tl::make_unexpected(
        Error(list.error()).with_context("listing istiod Deployments of " + cluster));
  }
  std::vector<json> deployments;
  const json& items = member(*list, "items");
  if (items.is_array()) {
    deployments.assign(items.begin(), items.end());
  }
  return deployments;
}

Result<IstiodRevision> find_istiod(kube::Client& client,
                                   const std::optional<std::string>& configured,
                                   const std::string& cluster) {
  TRY_ASSIGN(const auto deployments, list_istiod_deployments(client, cluster));
  return pick_revision(deployments, configured, cluster);
}

std::string short_fingerprint(const std::string& fingerprint) {
  return fingerprint.size() > 23 ? fingerprint.substr(0, 23) + "…" : fingerprint;
}

std::string ServedRoot::describe_served() const {
  return served ? "root \"" + served->subject + "\" (SHA-256 " +
                      short_fingerprint(served->sha256_fingerprint) + ")"
                : std::string("an unreadable certificate");
}

ServedRoot compare_served_root(const std::string& cacerts_root_pem, const std::string& served_pem) {
  ServedRoot out;
  if (auto served = pki::inspect(served_pem)) {
    out.served = std::move(*served);
  }
  if (auto wanted = pki::inspect(cacerts_root_pem)) {
    out.wanted = std::move(*wanted);
  }
  out.stale = !out.served || !out.wanted ||
              out.served->sha256_fingerprint != out.wanted->sha256_fingerprint;
  return out;
}

Result<std::optional<std::string>> read_served_root(kube::Client& client) {
  auto cm = client.get({"", "v1", "configmaps", "istio-system", std::string(k_root_configmap), ""});
  if (!cm) {
    if (cm.error().not_found()) {
      return std::optional<std::string>{};
    }
    return tl::make_unexpected(
        Error(cm.error())
            .with_context("reading ConfigMap istio-system/" + std::string(k_root_configmap)));
  }
  return std::optional<std::string>{str(member(*cm, "data"), "root-cert.pem")};
}

} // namespace meshctl::mesh

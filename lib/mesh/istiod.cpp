#include "mesh/istiod.hpp"

#include "core/json.hpp"
#include "core/strings.hpp"

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

Result<IstiodRevision> find_istiod(kube::Client& client,
                                   const std::optional<std::string>& configured,
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
  return pick_revision(deployments, configured, cluster);
}

} // namespace meshctl::mesh

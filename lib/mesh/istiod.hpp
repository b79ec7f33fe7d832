#pragma once
// Which istiod meshctl works with in a cluster. Istio names everything of a revision after it
// (istio-discovery chart): Deployment and Service `istiod-<rev>`, ConfigMaps `istio-<rev>` (mesh
// config) and `istio-sidecar-injector-<rev>`, all labelled `app=istiod` / `istio.io/rev=<rev>`;
// the revision without a name is `default` and has no suffix. A cluster may run several
// revisions at once (a canary upgrade), so istiod is found by its labels, never by the name
// `istiod`, and one revision is picked: the configured one (istio.revision), else the only one.

#include "config/config.hpp"
#include "core/error.hpp"
#include "kube/client.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshctl::mesh {

inline constexpr std::string_view k_default_revision = "default";
inline constexpr std::string_view k_revision_label = "istio.io/rev";

/// One istiod revision in a cluster and the names of its objects.
struct IstiodRevision {
  std::string revision;   ///< "default", "1-24", …
  std::string deployment; ///< its Deployment's name (istiod, istiod-1-24)
  /// "" for the default revision, else "-<rev>": what Istio appends to its objects' names.
  [[nodiscard]] std::string suffix() const;
  [[nodiscard]] std::string mesh_configmap() const { return "istio" + suffix(); }
  [[nodiscard]] std::string injector_configmap() const {
    return "istio-sidecar-injector" + suffix();
  }
  /// The label selector of its pods.
  [[nodiscard]] std::string pod_selector() const;
};

/// The revision of an istiod Deployment (or pod): its istio.io/rev label, "default" without one.
std::string revision_of(const nlohmann::json& object);

/// Picks the revision to work with among the istiod Deployments of a cluster (objects labelled
/// app=istiod in istio-system): `configured` when given (an error naming the installed revisions
/// when it is absent), else the only revision; none is an error saying Istio must be installed,
/// several an error naming them and the config key that chooses. Pure.
Result<IstiodRevision> pick_revision(const std::vector<nlohmann::json>& deployments,
                                     const std::optional<std::string>& configured,
                                     const std::string& cluster);

/// Lists the istiod Deployments of the cluster and picks the revision (see pick_revision).
/// Read errors come back as they are (context: the cluster).
Result<IstiodRevision> find_istiod(kube::Client& client,
                                   const std::optional<std::string>& configured,
                                   const std::string& cluster);

} // namespace meshctl::mesh

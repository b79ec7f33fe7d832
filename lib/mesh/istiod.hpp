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
#include "pki/cert.hpp"

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

/// The tag of a container image reference ("docker.io/istio/pilot:1.24.2" -> "1.24.2"; "" when
/// it has none; a digest is not a version).
std::string image_tag(const std::string& image);

/// istiod's version as its Deployment tells it: the tag of its `discovery` container's image
/// ("" when it has none).
/// The image of an istiod Deployment's `discovery` container, "" when it has none.
std::string istiod_image(const nlohmann::json& deployment);
std::string istiod_version(const nlohmann::json& deployment);

/// Picks the revision to work with among the istiod Deployments of a cluster (objects labelled
/// app=istiod in istio-system): `configured` when given (an error naming the installed revisions
/// when it is absent), else the only revision; none is an error saying Istio must be installed,
/// several an error naming them and the config key that chooses. Pure.
Result<IstiodRevision> pick_revision(const std::vector<nlohmann::json>& deployments,
                                     const std::optional<std::string>& configured,
                                     const std::string& cluster);

/// istiod loads its CA from Secret istio-system/cacerts only when it starts, and publishes the root
/// it loaded as ConfigMap istio-ca-root-cert (key root-cert.pem) in every namespace it watches,
/// istio-system included. A published root other than cacerts' root-cert.pem therefore means istiod
/// has not restarted since cacerts changed: what `verify` reports and what makes `join` restart it.
inline constexpr std::string_view k_root_configmap = "istio-ca-root-cert";

/// The root istiod serves compared with the root of cacerts.
struct ServedRoot {
  bool stale = false;                  ///< istiod serves another root (or one that does not parse)
  std::optional<pki::CertInfo> served; ///< the served root, when it parses
  std::optional<pki::CertInfo> wanted; ///< cacerts' root, when it parses
  /// "root \"O = Istio, CN = Root CA\" (SHA-256 AB:CD:…)" for the served root, or "an unreadable
  /// certificate".
  [[nodiscard]] std::string describe_served() const;
};

/// Compares the root istiod publishes (`served_pem`) with cacerts' root (`cacerts_root_pem`) by
/// SHA-256 fingerprint. Either one not parsing (a cacerts root not created yet, in a dry run) is
/// stale. Pure.
ServedRoot compare_served_root(const std::string& cacerts_root_pem, const std::string& served_pem);

/// The first 23 characters of a certificate fingerprint followed by "…", for one-line messages.
std::string short_fingerprint(const std::string& fingerprint);

/// root-cert.pem of istio-system/istio-ca-root-cert: the root istiod serves; nothing when istiod
/// has published none (not running yet). Other read errors come back as they are.
Result<std::optional<std::string>> read_served_root(kube::Client& client);

/// The istiod Deployments of the cluster: those labelled app=istiod in istio-system, every
/// revision. Read errors come back as they are (context: the cluster).
Result<std::vector<nlohmann::json>> list_istiod_deployments(kube::Client& client,
                                                            const std::string& cluster);

/// Lists the istiod Deployments of the cluster and picks the revision (see pick_revision).
/// Read errors come back as they are (context: the cluster).
Result<IstiodRevision> find_istiod(kube::Client& client,
                                   const std::optional<std::string>& configured,
                                   const std::string& cluster);

} // namespace meshctl::mesh

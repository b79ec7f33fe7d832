#pragma once
// API discovery: which kinds a cluster serves, under which group, version and resource name.
// Built from the classic discovery documents (GET /api, /api/v1, /apis and one APIResourceList per
// group version), the way kubectl's RESTMapper does: for each (group, kind) the group's preferred
// version comes first, then the other served versions in the server's order. CRDs appear here as
// soon as they are established, so Istio's kinds are found the same way as built-in ones.
//
// Kinds are keyed by (group, kind), never by kind alone: "Gateway" is both networking.istio.io and
// gateway.networking.k8s.io.

#include "core/error.hpp"
#include "kube/path.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshctl::kube {

/// One served resource of one group version.
struct ResourceInfo {
  std::string group;
  std::string version;
  std::string resource; ///< plural, lower case: "gateways"
  std::string kind;     ///< "Gateway"
  bool namespaced = false;
  std::vector<std::string> verbs;

  /// "networking.istio.io/v1" or "v1".
  [[nodiscard]] std::string api_version() const { return join_api_version(group, version); }
  /// A reference to the collection (empty name) or one object of this resource.
  [[nodiscard]] ResourceRef ref(std::string namespace_ = {}, std::string name = {}) const;
  /// Whether `verb` ("patch", "list", …) is among the verbs the server advertises.
  [[nodiscard]] bool supports(std::string_view verb) const;
};

/// One entry of an APIGroupList.
struct GroupVersions {
  std::string group;
  std::vector<std::string> versions; ///< in the server's priority order
  std::string preferred;             ///< the preferred version ("" = the first)
};

/// Parses GET /api (APIVersions) into the core group, as a GroupVersions with group "".
Result<GroupVersions> parse_core_versions(const nlohmann::json& api_versions);

/// Parses GET /apis (APIGroupList).
Result<std::vector<GroupVersions>> parse_group_list(const nlohmann::json& group_list);

/// Parses an APIResourceList; subresources ("pods/exec") are left out.
Result<std::vector<ResourceInfo>> parse_resource_list(const nlohmann::json& resource_list);

/// The kinds a cluster serves. Immutable once built; shared between threads.
class ResourceMap {
public:
  /// What discovery returned for one group version: its resources, or why it failed.
  struct GroupVersionResult {
    std::vector<ResourceInfo> resources;
    std::string error; ///< non-empty when fetching this group version failed
  };

  ResourceMap() = default;
  /// Builds the map from the groups and, per "group/version" key (core: "v1"), its resources.
  ResourceMap(const std::vector<GroupVersions>& groups,
              const std::map<std::string, GroupVersionResult>& resources);

  /// The resource of a kind: `version` empty = the preferred version serving it. Errors say
  /// whether the group is not served, the kind is unknown in it, only other versions serve it,
  /// or discovery of the group failed.
  [[nodiscard]] Result<ResourceInfo> find(std::string_view group, std::string_view version,
                                          std::string_view kind) const;
  /// find() by "group/version" as written in a manifest's apiVersion.
  [[nodiscard]] Result<ResourceInfo> find(std::string_view api_version,
                                          std::string_view kind) const;
  /// The resource with this plural name in a group (preferred version), if served.
  [[nodiscard]] Result<ResourceInfo> find_resource(std::string_view group,
                                                   std::string_view resource) const;

  [[nodiscard]] bool serves_group(std::string_view group) const;
  /// Every served version of a (group, kind), preferred first; empty when not served.
  [[nodiscard]] std::vector<std::string> versions_of(std::string_view group,
                                                     std::string_view kind) const;
  /// Number of distinct (group, kind) pairs.
  [[nodiscard]] std::size_t size() const { return m_kinds.size(); }
  /// Group versions whose discovery failed, with the error (kubectl warns and goes on).
  [[nodiscard]] const std::map<std::string, std::string>& failures() const { return m_failures; }

private:
  std::map<std::pair<std::string, std::string>, std::vector<ResourceInfo>> m_kinds;
  std::map<std::string, std::vector<std::string>, std::less<>> m_group_versions;
  std::map<std::string, std::string> m_failures; ///< "group/version" -> error
};

/// Like ResourceMap::find, with the cluster's name in the message, and Istio's groups
/// (*.istio.io) explained: an unknown Istio kind gives "Istio is not installed in wuxi
/// (networking.istio.io Gateway unknown)"; a kind served only in other versions says which.
Result<ResourceInfo> require_kind(const ResourceMap& map, std::string_view cluster,
                                  std::string_view api_version, std::string_view kind);

/// Whether a group belongs to Istio (networking.istio.io, security.istio.io, …).
bool is_istio_group(std::string_view group);

} // namespace meshctl::kube

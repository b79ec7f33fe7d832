#include "kube/discovery.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace meshctl::kube {
namespace {

tl::unexpected<Error> shape_error(std::string_view what, std::string_view problem) {
  return fail(fmt::format("unexpected {} from the API server: {}", what, problem),
              "the server at this address may not be a Kubernetes API server");
}

std::string text_at(const nlohmann::json& obj, const char* key) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string list(const std::vector<std::string>& items) {
  return fmt::format("{}", fmt::join(items, ", "));
}

} // namespace

ResourceRef ResourceInfo::ref(std::string namespace_, std::string name) const {
  return {group,           version, resource, namespaced ? std::move(namespace_) : std::string(),
          std::move(name), {}};
}

bool ResourceInfo::supports(std::string_view verb) const {
  return std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
}

Result<GroupVersions> parse_core_versions(const nlohmann::json& api_versions) {
  if (!api_versions.is_object()) {
    return shape_error("APIVersions (/api)", "not a JSON object");
  }
  const auto it = api_versions.find("versions");
  if (it == api_versions.end() || !it->is_array()) {
    return shape_error("APIVersions (/api)", "no versions list");
  }
  GroupVersions core;
  for (const auto& v : *it) {
    if (v.is_string()) {
      core.versions.push_back(v.get<std::string>());
    }
  }
  if (core.versions.empty()) {
    return shape_error("APIVersions (/api)", "the core group has no version");
  }
  core.preferred = core.versions.front();
  return core;
}

Result<std::vector<GroupVersions>> parse_group_list(const nlohmann::json& group_list) {
  if (!group_list.is_object()) {
    return shape_error("APIGroupList (/apis)", "not a JSON object");
  }
  const auto groups = group_list.find("groups");
  if (groups == group_list.end() || groups->is_null()) {
    return std::vector<GroupVersions>{}; // a server with no groups sends "groups": null
  }
  if (!groups->is_array()) {
    return shape_error("APIGroupList (/apis)", "groups is not a list");
  }
  std::vector<GroupVersions> out;
  for (const auto& g : *groups) {
    if (!g.is_object()) {
      continue;
    }
    GroupVersions gv;
    gv.group = text_at(g, "name");
    if (gv.group.empty()) {
      return shape_error("APIGroupList (/apis)", "a group without a name");
    }
    if (const auto vs = g.find("versions"); vs != g.end() && vs->is_array()) {
      for (const auto& v : *vs) {
        if (v.is_object() && !text_at(v, "version").empty()) {
          gv.versions.push_back(text_at(v, "version"));
        }
      }
    }
    if (const auto pv = g.find("preferredVersion"); pv != g.end() && pv->is_object()) {
      gv.preferred = text_at(*pv, "version");
    }
    if (gv.preferred.empty() && !gv.versions.empty()) {
      gv.preferred = gv.versions.front();
    }
    out.push_back(std::move(gv));
  }
  return out;
}

Result<std::vector<ResourceInfo>> parse_resource_list(const nlohmann::json& resource_list) {
  if (!resource_list.is_object()) {
    return shape_error("APIResourceList", "not a JSON object");
  }
  const std::string group_version = text_at(resource_list, "groupVersion");
  if (group_version.empty()) {
    return shape_error("APIResourceList", "no groupVersion");
  }
  auto [group, version] = split_api_version(group_version);
  std::vector<ResourceInfo> out;
  const auto resources = resource_list.find("resources");
  if (resources == resource_list.end() || resources->is_null()) {
    return out;
  }
  if (!resources->is_array()) {
    return shape_error("APIResourceList " + group_version, "resources is not a list");
  }
  for (const auto& r : *resources) {
    if (!r.is_object()) {
      continue;
    }
    ResourceInfo info;
    info.resource = text_at(r, "name");
    info.kind = text_at(r, "kind");
    if (info.resource.empty() || info.kind.empty() ||
        info.resource.find('/') != std::string::npos) {
      continue; // subresources (pods/exec, deployments/scale) are reached through their parent
    }
    info.group = group;
    info.version = version;
    if (const auto ns = r.find("namespaced"); ns != r.end() && ns->is_boolean()) {
      info.namespaced = ns->get<bool>();
    }
    if (const auto vs = r.find("verbs"); vs != r.end() && vs->is_array()) {
      for (const auto& v : *vs) {
        if (v.is_string()) {
          info.verbs.push_back(v.get<std::string>());
        }
      }
    }
    out.push_back(std::move(info));
  }
  return out;
}

ResourceMap::ResourceMap(const std::vector<GroupVersions>& groups,
                         const std::map<std::string, GroupVersionResult>& resources) {
  for (const auto& g : groups) {
    // Preferred version first, then the rest in the server's order.
    std::vector<std::string> order;
    if (!g.preferred.empty()) {
      order.push_back(g.preferred);
    }
    for (const auto& v : g.versions) {
      if (v != g.preferred) {
        order.push_back(v);
      }
    }
    m_group_versions[g.group] = order;
    for (const auto& v : order) {
      const std::string gv = join_api_version(g.group, v);
      const auto it = resources.find(gv);
      if (it == resources.end()) {
        continue;
      }
      if (!it->second.error.empty()) {
        m_failures[gv] = it->second.error;
        continue;
      }
      for (const auto& info : it->second.resources) {
        m_kinds[{info.group, info.kind}].push_back(info);
      }
    }
  }
}

bool ResourceMap::serves_group(std::string_view group) const {
  return m_group_versions.find(group) != m_group_versions.end();
}

std::vector<std::string> ResourceMap::versions_of(std::string_view group,
                                                  std::string_view kind) const {
  std::vector<std::string> out;
  const auto it = m_kinds.find({std::string(group), std::string(kind)});
  if (it != m_kinds.end()) {
    for (const auto& info : it->second) {
      out.push_back(info.version);
    }
  }
  return out;
}

Result<ResourceInfo> ResourceMap::find(std::string_view group, std::string_view version,
                                       std::string_view kind) const {
  const std::string group_label = group.empty() ? "core" : std::string(group);
  const auto it = m_kinds.find({std::string(group), std::string(kind)});
  if (it != m_kinds.end()) {
    if (version.empty()) {
      return it->second.front();
    }
    for (const auto& info : it->second) {
      if (info.version == version) {
        return info;
      }
    }
    return fail(fmt::format("{} {} is not served (served versions: {})",
                            join_api_version(group, version), kind, list(versions_of(group, kind))),
                "use a served apiVersion");
  }
  // Unknown kind: was it because a group version's discovery failed?
  const auto gvs = m_group_versions.find(group);
  if (gvs != m_group_versions.end()) {
    for (const auto& v : gvs->second) {
      const auto f = m_failures.find(join_api_version(group, v));
      if (f != m_failures.end() && (version.empty() || version == v)) {
        return fail(fmt::format("cannot tell whether kind {} is served: discovery of {} failed: {}",
                                kind, f->first, f->second),
                    "the API service behind this group is unavailable; check it with kubectl get "
                    "apiservices");
      }
    }
    return fail(fmt::format("kind {} is not served in API group {}", kind, group_label),
                "check the kind's spelling and its apiVersion");
  }
  return fail(fmt::format("API group {} is not served (kind {} unknown)", group_label, kind),
              "the API (or the CRD that defines it) is not installed in this cluster");
}

Result<ResourceInfo> ResourceMap::find(std::string_view api_version, std::string_view kind) const {
  const auto [group, version] = split_api_version(api_version);
  return find(group, version, kind);
}

Result<ResourceInfo> ResourceMap::find_resource(std::string_view group,
                                                std::string_view resource) const {
  const auto gvs = m_group_versions.find(group);
  if (gvs != m_group_versions.end()) {
    for (const auto& v : gvs->second) {
      for (const auto& [key, infos] : m_kinds) {
        if (key.first != group) {
          continue;
        }
        for (const auto& info : infos) {
          if (info.version == v && info.resource == resource) {
            return info;
          }
        }
      }
    }
  }
  return fail(fmt::format("resource {}{} is not served", resource,
                          group.empty() ? "" : "." + std::string(group)),
              "the API (or the CRD that defines it) is not installed in this cluster");
}

bool is_istio_group(std::string_view group) {
  static constexpr std::string_view k_suffix = ".istio.io";
  return group == "istio.io" ||
         (group.size() > k_suffix.size() &&
          group.compare(group.size() - k_suffix.size(), k_suffix.size(), k_suffix) == 0);
}

Result<ResourceInfo> require_kind(const ResourceMap& map, std::string_view cluster,
                                  std::string_view api_version, std::string_view kind) {
  const auto [group, version] = split_api_version(api_version);
  auto found = map.find(group, version, kind);
  if (found) {
    return found;
  }
  const auto served = map.versions_of(group, kind);
  if (is_istio_group(group)) {
    if (served.empty()) {
      bool discovery_failed = false;
      for (const auto& [gv, err] : map.failures()) {
        discovery_failed = discovery_failed || split_api_version(gv).first == group;
      }
      if (!discovery_failed) {
        return fail(
            fmt::format("Istio is not installed in {} ({} {} unknown)", cluster, group, kind),
            fmt::format("install Istio (istiod and its CRDs, e.g. istioctl install or the "
                        "istio/base and istiod Helm charts) in {} first",
                        cluster));
      }
    } else {
      return fail(fmt::format("Istio in {} does not serve {} {} (served versions: {})", cluster,
                              api_version, kind, list(served)),
                  fmt::format("Istio in {} is older than this apiVersion needs (networking.istio.io"
                              "/v1 needs Istio 1.22 or later): upgrade it",
                              cluster));
    }
  }
  found.error().with_context(std::string(cluster));
  return found;
}

} // namespace meshctl::kube

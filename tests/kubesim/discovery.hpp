#pragma once
// Discovery documents (/api, /api/v1, /apis, /apis/<g>, /apis/<g>/<v>), the aggregated discovery
// form kubectl >= 1.30 asks for first, /version, and OpenAPI v3 (/openapi/v3 and per
// group-version documents) with what kubectl checks before it validates on the server side:
// a PATCH operation per kind with x-kubernetes-group-version-kind and a `fieldValidation` query
// parameter.

#include "store.hpp"

#include <optional>
#include <string>

namespace kubesim {

json api_versions();
std::optional<json> api_resource_list(const Store& store, const std::string& group,
                                      const std::string& version);
json api_group_list(const Store& store);
std::optional<json> api_group(const Store& store, const std::string& group);
/// apidiscovery.k8s.io/v2 APIGroupDiscoveryList for /api (core = true) or /apis.
json aggregated_discovery(const Store& store, bool core);
json version_info(const std::string& version);
json openapi_v3_root(const Store& store);
/// The document for "api/v1" or "apis/<group>/<version>", or nullopt.
std::optional<json> openapi_v3_doc(const Store& store, const std::string& gv_path);
/// kube's version priority: v1 > v1beta2 > v1beta1 > v1alpha1 > others; true if a sorts first.
bool version_before(const std::string& a, const std::string& b);

} // namespace kubesim

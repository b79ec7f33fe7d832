#pragma once
// What a verb wants in each cluster, before it is planned against live state.

#include "kube/istio_api.hpp"
#include "render/object.hpp"

#include <map>
#include <string>
#include <vector>

namespace meshctl::mesh {

/// How apply treats an object that already exists.
enum class Ownership {
  /// meshctl owns it (app.kubernetes.io/managed-by: meshctl): bring every field it sets in line.
  k_owned,
  /// Istio's own install may own it (istio-system Namespace, reader RBAC): create it when absent,
  /// otherwise only merge meshctl's labels — never fight a Helm release over its fields.
  k_shared,
  /// Another verb maintains it after creation (join creates cross-network-gateway, expose edits
  /// its hosts): create when absent, never update.
  k_create_only,
  /// Istio's install owns the object and meshctl only the fields it sends (the meshNetworks key
  /// of ConfigMap istio): never created (absent is an error), those fields applied with force.
  k_fields,
};

struct DesiredObject {
  render::Object object;
  Ownership ownership = Ownership::k_owned;
};

/// Everything one verb wants in one cluster, in apply order.
struct ClusterObjects {
  std::string cluster;
  std::vector<DesiredObject> objects;
};

/// The default ownership of a rendered object: owned when it carries meshctl's managed-by label,
/// else shared.
Ownership default_ownership(const render::Object& obj);

/// Wraps rendered objects with their default ownership.
std::vector<DesiredObject> desired(const std::vector<render::Object>& objects);

/// The networking.istio.io version chosen for each cluster, by cluster name (kube/istio_api.hpp).
/// Live verbs fill it from every cluster's discovery before rendering; an offline --dry-run,
/// which asks no cluster, leaves it empty and so renders the default, v1.
using IstioApis = std::map<std::string, kube::IstioApi, std::less<>>;

/// The version chosen for `cluster`, or the default (v1) when `apis` has none for it.
kube::IstioApi istio_api_of(const IstioApis& apis, std::string_view cluster);

} // namespace meshctl::mesh

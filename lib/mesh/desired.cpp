#include "mesh/desired.hpp"

namespace meshctl::mesh {

Ownership default_ownership(const render::Object& obj) {
  return render::is_managed_by_meshctl(obj) ? Ownership::k_owned : Ownership::k_shared;
}

std::vector<DesiredObject> desired(const std::vector<render::Object>& objects) {
  std::vector<DesiredObject> out;
  out.reserve(objects.size());
  for (const auto& o : objects) {
    out.push_back({o, default_ownership(o)});
  }
  return out;
}

kube::IstioApi istio_api_of(const IstioApis& apis, std::string_view cluster) {
  const auto it = apis.find(cluster);
  return it == apis.end() ? kube::IstioApi{} : it->second;
}

} // namespace meshctl::mesh

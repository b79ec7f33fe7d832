#include "mesh/service_check.hpp"

#include "core/json.hpp"
#include "core/strings.hpp"
#include "core/suggest.hpp"
#include "mesh/on_clusters.hpp"

namespace meshctl::mesh {

Result<void> require_service(const ServiceName& service, const std::vector<ServiceLookup>& lookups,
                             const std::string& hint) {
  std::vector<std::string> asked;
  std::vector<std::string> candidates;
  for (const auto& l : lookups) {
    if (!l.answered || l.found) {
      return {};
    }
    asked.push_back(l.cluster);
    candidates.insert(candidates.end(), l.others.begin(), l.others.end());
  }
  if (asked.empty()) {
    return {};
  }
  const std::string arg = service.name + "." + service.namespace_;
  return usage_error("Service " + service.namespace_ + "/" + service.name +
                         " exists in no cluster (" + join(asked) + ")" +
                         did_you_mean_suffix(arg, candidates),
                     hint);
}

std::vector<ServiceLookup> lookup_service(const Session& session,
                                          std::vector<std::unique_ptr<kube::Client>>& clients,
                                          const ServiceName& service) {
  auto found = on_every_cluster<ServiceLookup>(
      session.clusters, clients,
      [&](const std::string& name, kube::Client& client) -> Result<ServiceLookup> {
        ServiceLookup out;
        out.cluster = name;
        auto svc = client.get({"", "v1", "services", service.namespace_, service.name, ""});
        if (svc) {
          out.answered = out.found = true;
          return out;
        }
        if (!svc.error().not_found()) {
          return out; // unreachable or forbidden: the verb itself says so
        }
        out.answered = true;
        if (auto all = client.list({"", "v1", "services", "", "", ""})) {
          for (const auto& item : array_of(*all, "items")) {
            const auto& md = member(item, "metadata");
            out.others.push_back(str(md, "name") + "." + str(md, "namespace"));
          }
        }
        return out;
      });
  return found ? std::move(*found) : std::vector<ServiceLookup>{}; // never fails
}

} // namespace meshctl::mesh

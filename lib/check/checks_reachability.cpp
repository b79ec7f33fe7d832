// Reachability, the first area: did each cluster answer GET /version with the kubeconfig's
// credentials, how fast, and which facts could it not give. An unreachable cluster gets only this
// finding: the other areas skip it (usable()). A fact that could not be read is reported here,
// once, as a warning, so the areas that need it stay silent instead of calling it absent.

#include "check/checks.hpp"
#include "check/checks_common.hpp"

#include <fmt/format.h>

namespace meshctl::check {

Findings check_reachability(const MeshFacts& facts) {
  Findings out;
  for (const auto& c : facts.clusters) {
    if (!c.reachable) {
      const ReadError e = c.connect_error.value_or(ReadError{"no answer", "", 0, true});
      if (e.unauthorized()) {
        out.push_back(error(FindingId::k_cluster_unauthorized, c.name,
                            "the API server of " + c.name + " rejects the credentials of context " +
                                c.context + ": " + e.message,
                            e.hint.empty() ? "refresh the credentials of context " + c.context +
                                                 " in your kubeconfig"
                                           : e.hint));
      } else {
        out.push_back(error(FindingId::k_cluster_unreachable, c.name,
                            "cannot reach " + c.name + " (" + c.server + "): " + e.message,
                            e.hint.empty() ? "check the network path and the server URL: " +
                                                 kubectl(c) + " get --raw /version"
                                           : e.hint));
      }
      continue;
    }
    out.push_back(
        info(FindingId::k_cluster_reachable, c.name,
             fmt::format("reachable and authorised ({:.0f} ms, Kubernetes {})", c.latency_ms,
                         c.server_version.empty() ? "?" : c.server_version)));
    if (c.latency_ms > 2000) {
      out.push_back(warning(FindingId::k_cluster_slow, c.name,
                            fmt::format("the API server took {:.0f} ms to answer", c.latency_ms),
                            "a slow API server delays istiod's view of this cluster too; check "
                            "the network path to " +
                                c.server));
    }
    for (const auto& [fact, e] : c.errors) {
      if (fact == "clusterz" || fact == "client") {
        continue; // their own checks say what they could not verify, with a better hint
      }
      if (e.forbidden()) {
        out.push_back(warning(FindingId::k_cluster_forbidden, c.name,
                              "cannot read " + fact + " (forbidden): that part is not verified",
                              e.hint.empty() ? "use a context that may read it" : e.hint));
      } else {
        out.push_back(
            warning(FindingId::k_cluster_read_failed, c.name,
                    "cannot read " + fact + ": " + e.message + ": that part is not verified",
                    e.hint.empty() ? "run verify again; -v shows the requests" : e.hint));
      }
    }
  }
  return out;
}

} // namespace meshctl::check

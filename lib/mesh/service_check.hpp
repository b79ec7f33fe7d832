#pragma once
// A typo in SERVICE.NAMESPACE must not pass for a service that simply has no pods yet: verify
// would bury "exists in no cluster" under dozens of findings, and expose or localize would write
// objects for a host nobody serves. So the verbs that take a service look it up in every cluster
// first, and a service found in none of them (every cluster having answered) is a usage error,
// with the closest existing Service as "did you mean".

#include "core/error.hpp"
#include "kube/client.hpp"
#include "mesh/session.hpp"

#include <memory>
#include <string>
#include <vector>

namespace meshctl::mesh {

/// What one cluster said about a Service.
struct ServiceLookup {
  std::string cluster;
  bool answered = false; ///< the cluster could be asked (else nothing is concluded from it)
  bool found = false;
  std::vector<std::string> others; ///< when not found: every Service there, as NAME.NAMESPACE
};

/// Nothing when `service` exists in some cluster or some cluster did not answer; else a usage
/// error (exit 2) naming the clusters asked, with "did you mean" among the Services that exist
/// and `hint` (what to do instead, e.g. --force). Pure.
Result<void> require_service(const ServiceName& service, const std::vector<ServiceLookup>& lookups,
                             const std::string& hint);

/// Looks `service` up in every cluster of the session in parallel (`clients` in its order): a
/// GET of the Service, and where it is absent a list of all Services for the suggestion.
std::vector<ServiceLookup> lookup_service(const Session& session,
                                          std::vector<std::unique_ptr<kube::Client>>& clients,
                                          const ServiceName& service);

} // namespace meshctl::mesh

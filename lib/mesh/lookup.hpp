#pragma once
// Names shell completion offers from the clusters themselves: namespaces, pods with an Envoy and
// Services, the last two as POD.NAMESPACE / SERVICE.NAMESPACE, the form the verbs take them in.
// Completion runs while someone waits at a prompt, so every cluster is asked at once, within a
// short bound, and a cluster that does not answer in time (or at all) simply adds nothing: there
// is no error to report in the middle of a command line.

#include "core/options.hpp"
#include "mesh/session.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace meshctl::mesh {

/// What to list.
enum class LookupKind {
  k_namespaces, ///< namespace names
  k_proxy_pods, ///< pods running an istio-proxy container (sidecar or gateway), POD.NAMESPACE
  k_services,   ///< Services, SERVICE.NAMESPACE
};

/// The bound on a lookup unless --timeout asks for less.
inline constexpr std::chrono::milliseconds k_lookup_timeout{2000};

/// The names of `kind` in every cluster of `targets` (in `namespace_` only, when given), sorted
/// and without duplicates. Each request is bounded by the smaller of global.timeout and
/// k_lookup_timeout, retries included; failures are dropped (logged at -v).
std::vector<std::string> lookup_names(const ReadTargets& targets, const GlobalOptions& global,
                                      LookupKind kind, const std::string& namespace_ = "");

} // namespace meshctl::mesh

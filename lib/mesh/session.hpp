#pragma once
// What every verb starts from: the config, the kubeconfig, and the clusters it works on.

#include "config/config.hpp"
#include "config/kubeconfig.hpp"
#include "core/error.hpp"
#include "core/options.hpp"

#include <string>
#include <vector>

namespace meshctl::mesh {

struct Session {
  config::MeshConfig config;
  config::Kubeconfig kubeconfig;
  std::vector<config::ClusterConfig> clusters; ///< the selected clusters, contexts resolved
};

/// Loads config and kubeconfig and selects `names` (all clusters of the config when empty); every
/// selected cluster's context must resolve. Errors are exit 2 with file:line / "did you mean".
Result<Session> open_session(const GlobalOptions& global, const std::vector<std::string>& names);

/// The clusters a look that only reads works on (version, and the namespaces, pods and Services
/// completion offers), and the kubeconfig to reach them: those named (--context, as every verb
/// takes them), else every cluster of meshctl.yaml, else the kubeconfig's current context (the one
/// kubectl would ask), else none. Unlike open_session, a context that does not resolve is left for
/// whoever connects to it, so one broken cluster does not hide the others; only a config or
/// kubeconfig that cannot be read, or a name that is neither a cluster nor a context, fail it.
struct ReadTargets {
  config::Kubeconfig kubeconfig;
  std::vector<config::ClusterConfig> clusters;
};
Result<ReadTargets> read_targets(const GlobalOptions& global,
                                 const std::vector<std::string>& names);

/// A Service named as users write it: "helloworld.dev" or "helloworld.dev.svc.cluster.local".
struct ServiceName {
  std::string name;
  std::string namespace_;
};

/// Parses SERVICE.NAMESPACE (or the FQDN form); with `namespace_flag` (-n), a bare SERVICE is in
/// that namespace, and a name whose namespace differs from it is a usage error. Anything else is a
/// usage error with an example.
Result<ServiceName> parse_service_name(const std::string& text,
                                       const std::string& namespace_flag = "");

/// The namespace of `what` (a service or pod as the user wrote it): the one its name gives
/// (`named`), else -n's (`flag`), else `fallback`. A name and -n that disagree are a usage error
/// (exit 2) naming both, as an object has one namespace.
Result<std::string> choose_namespace(const std::string& what, const std::string& named,
                                     const std::string& flag, const std::string& fallback = "");

} // namespace meshctl::mesh

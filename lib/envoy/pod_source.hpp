#pragma once
// Envoy admin output of a live pod (FACTS §6–7): `pilot-agent request GET <path>` run over exec in
// the pod's istio-proxy container. pilot-agent forwards the GET to Envoy's admin port on loopback
// and prints the body, so the bytes are exactly what `curl localhost:15000/<path>` returns, with no
// port-forward and nothing but `create` on `pods/exec` needed. istioctl asks for the same paths.

#include "core/error.hpp"
#include "envoy/dump_source.hpp"
#include "kube/client.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace meshctl::envoy {

/// The admin paths istioctl's proxy-config commands ask for.
inline constexpr std::string_view k_listeners_path =
    "config_dump?mask=dynamic_listeners,static_listeners";
inline constexpr std::string_view k_eds_path = "config_dump?include_eds=true";
inline constexpr std::string_view k_clusters_config_path =
    "config_dump?mask=dynamic_active_clusters,dynamic_warming_clusters,static_clusters";
inline constexpr std::string_view k_cluster_status_path = "clusters?format=json";

/// The container Istio injects (sidecars) or fills in (gateways): it runs pilot-agent and Envoy.
inline constexpr std::string_view k_proxy_container = "istio-proxy";

/// Splits "POD[.NAMESPACE]" at the last dot, as istioctl does (pod names may contain dots);
/// no dot gives `default_namespace`.
std::pair<std::string, std::string> split_pod_name(std::string_view text,
                                                   std::string_view default_namespace);

/// Admin output of one pod's Envoy through exec. The client must outlive the source.
class PodDumpSource final : public DumpSource {
public:
  PodDumpSource(kube::Client& client, std::string namespace_, std::string pod,
                std::chrono::milliseconds timeout = std::chrono::seconds(60));
  /// Runs `pilot-agent request GET <admin_path>` in istio-proxy. A forbidden exec says which
  /// RBAC permission is missing (create on pods/exec); a pod without istio-proxy says so.
  Result<DumpBytes> get(const std::string& admin_path) override;
  /// "pod sleep-7656cf8794-k3m9r.dev in wuxi".
  [[nodiscard]] std::string describe() const override;

private:
  kube::Client& m_client;
  std::string m_namespace;
  std::string m_pod;
  std::chrono::milliseconds m_timeout;
};

} // namespace meshctl::envoy

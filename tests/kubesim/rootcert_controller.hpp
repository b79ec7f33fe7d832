#pragma once
// istiod's root-certificate publisher: which CA root istiod loaded when it started, and the
// ConfigMap istio-ca-root-cert it writes into every namespace (see rootcert_controller.cpp).

#include <nlohmann/json.hpp>

#include <string>

namespace kubesim {

/// The CA root of the running istiod. Api calls it when an istiod pod is created and publishes
/// config_map() into every namespace; it holds no store and never writes by itself.
class RootCertController {
public:
  /// True for an istiod pod: namespace istio-system, label app=istiod.
  static bool is_istiod_pod(const nlohmann::json& pod);

  /// istiod (re)started: its root is `cacerts`' root-cert.pem (the Secret istio-system/cacerts,
  /// or nullptr when it does not exist), else a self-signed root made once per kubesim.
  void istiod_started(const nlohmann::json* cacerts);

  /// The root (PEM) istiod loaded at its last start; empty before any istiod started.
  [[nodiscard]] const std::string& root() const { return m_root; }

  /// ConfigMap istio-ca-root-cert for `ns` with root(), labelled as Istio labels it.
  [[nodiscard]] nlohmann::json config_map(const std::string& ns) const;

private:
  std::string m_self_signed;
  std::string m_root;
};

} // namespace kubesim

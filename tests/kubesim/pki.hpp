#pragma once
// kubesim's PKI: a CA made at start, a serving certificate for loopback, client certificates
// (CN = user, O = groups) and ServiceAccount tokens (RS256 JWTs, like the legacy token controller).

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kubesim {

/// A PEM certificate with its PEM private key.
struct CertPair {
  std::string cert_pem;
  std::string key_pem;
};

/// Who a credential says the caller is.
struct Identity {
  std::string user;
  std::vector<std::string> groups;
  std::string uid;
};

/// The cluster's certificate authority and token signer. Thread-safe after construction.
class Pki {
public:
  /// Generates a fresh CA (EC P-256, "kubesim-ca-<name>") and an RSA token-signing key.
  explicit Pki(const std::string& cluster_name);
  ~Pki();
  Pki(const Pki&) = delete;
  Pki& operator=(const Pki&) = delete;

  [[nodiscard]] const std::string& ca_pem() const { return m_ca.cert_pem; }
  [[nodiscard]] const std::string& ca_key_pem() const { return m_ca.key_pem; }

  /// A serving certificate for 127.0.0.1, localhost and `extra_sans` (IPs or DNS names).
  [[nodiscard]] CertPair serving_cert(const std::vector<std::string>& extra_sans) const;
  /// A client certificate with CN = user and one O per group.
  [[nodiscard]] CertPair client_cert(const std::string& user,
                                     const std::vector<std::string>& groups) const;
  /// Reads CN and O out of a PEM or DER client certificate (already verified by TLS).
  static Identity identity_of_cert_der(const std::string& der);

  /// Signs `claims` as an RS256 JWT.
  [[nodiscard]] std::string sign_jwt(const nlohmann::json& claims) const;
  /// The claims of a JWT this Pki signed, or nullopt when the signature or format is wrong.
  [[nodiscard]] std::optional<nlohmann::json> verify_jwt(const std::string& token) const;

private:
  struct Keys;
  std::unique_ptr<Keys> m_keys;
  CertPair m_ca;
};

/// Base64 (standard alphabet, padded) and back; decode returns nullopt on invalid input.
std::string base64_encode(const std::string& in);
std::optional<std::string> base64_decode(const std::string& in);
/// A random lowercase hex string of `n` bytes of entropy.
std::string random_hex(std::size_t n);

} // namespace kubesim

#pragma once
// Read-only views of X.509 certificates for `meshctl verify` and the tests: what a person would
// look up with `openssl x509 -noout -text`, as data. Nothing here needs a private key.

#include "core/error.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace meshctl::pki {

/// One X.509v3 extension as `openssl x509 -text` prints it.
struct ExtensionInfo {
  std::string name; ///< OpenSSL's long name, e.g. "X509v3 Basic Constraints"
  bool critical = false;
  std::string value; ///< OpenSSL's rendering, lines joined with "\n", e.g. "CA:TRUE, pathlen:0"
};

/// The facts of one certificate that the PKI checks and `verify` reports need.
struct CertInfo {
  std::string
      subject; ///< RFC 2253-ish one-line form in certificate order: "O = Istio, CN = Root CA"
  std::string issuer; ///< same form as subject
  std::string serial; ///< lower-case hex with colons, as `openssl x509 -text` shows it
  std::chrono::sys_seconds not_before;
  std::chrono::sys_seconds not_after;
  /// SHA-256 of the DER, upper-case hex with colons (`openssl x509 -fingerprint -sha256`).
  std::string sha256_fingerprint;
  std::string signature_algorithm; ///< e.g. "sha256WithRSAEncryption"
  std::string key_type;            ///< "RSA", "EC", "ED25519", … (OpenSSL's type name)
  int key_bits = 0;
  bool is_ca = false;                ///< basicConstraints CA:TRUE
  std::optional<long> path_length;   ///< basicConstraints pathlen; absent = unlimited/not set
  bool self_signed = false;          ///< issuer == subject and the signature verifies with its key
  std::vector<std::string> dns_sans; ///< subjectAltName DNS entries, in order
  std::string subject_key_id;        ///< hex with colons; empty when absent
  std::string authority_key_id;      ///< keyid of the AKI, hex with colons; empty when absent
  std::vector<ExtensionInfo> extensions; ///< every extension, in certificate order
};

/// Facts of the first certificate in `pem`. Exit code 2 (bad input) for text that holds none.
Result<CertInfo> inspect(const std::string& pem);

/// Facts of every certificate in a PEM bundle, in order (e.g. cert-chain.pem).
Result<std::vector<CertInfo>> inspect_all(const std::string& pem_bundle);

/// Verifies that the first certificate of `cert_pem` chains to `root_pem` (the only trust anchor)
/// at the current time, with OpenSSL's X509_verify_cert. Further certificates in `cert_pem` serve
/// as untrusted intermediates, so a whole cert-chain.pem can be passed. The error names the failing
/// certificate and OpenSSL's reason ("certificate has expired", "unable to get local issuer …").
/// With check_time false, validity periods are ignored (verify judges expiry on its own, at the
/// snapshot's time, so a saved bundle gives the same answer later).
Result<void> verify_chain(const std::string& cert_pem, const std::string& root_pem,
                          bool check_time = true);

/// Whether the first certificates of both PEM texts are the same certificate (same DER).
/// False when either does not parse.
bool same_certificate(const std::string& a_pem, const std::string& b_pem);

} // namespace meshctl::pki

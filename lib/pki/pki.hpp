#pragma once
// The mesh's plug-in CA (FACTS §3), made the way Istio's tools/certs recipe makes it, so that
// meshctl and the recipe can use each other's directories:
//
//   <pki dir>/root-cert.pem, root-key.pem (0600)         one root per mesh; the key never leaves
//   <pki dir>/<cluster>/ca-cert.pem, ca-key.pem (0600),    one intermediate per cluster = the four
//                       root-cert.pem, cert-chain.pem      keys of Secret istio-system/cacerts
//
// Loading is strict (key must match certificate, roots must be self-signed CAs) because istiod
// fails late and obscurely on a bad cacerts. Re-running is idempotent: a stored intermediate that
// still chains to the root is reused, so `join` produces a byte-identical Secret and istiod needs
// no restart. Files are written atomically (temp file with its final mode, then rename), never over
// an existing root, and only when their content changes, so a read-only recipe directory can be
// used as is. Errors: bad or missing input files exit 2 (usage/config); OpenSSL or I/O failures
// exit 1.

#include "core/error.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace meshctl::pki {

/// File names shared by the PKI directory, Istio's recipe and the keys of Secret cacerts.
inline constexpr std::string_view k_root_cert_file = "root-cert.pem";
inline constexpr std::string_view k_root_key_file = "root-key.pem";
inline constexpr std::string_view k_ca_cert_file = "ca-cert.pem";
inline constexpr std::string_view k_ca_key_file = "ca-key.pem";
inline constexpr std::string_view k_cert_chain_file = "cert-chain.pem";

/// Profile of both CA levels (Istio's recipe): RSA key size, validity, istiod's SAN.
inline constexpr int k_key_bits = 4096;
inline constexpr int k_validity_days = 3650;
inline constexpr std::string_view k_istiod_san = "istiod.istio-system.svc";

/// The mesh's root CA. Both PEMs are canonical (re-encoded), the key as unencrypted PKCS#8.
struct RootCA {
  std::string cert_pem;
  std::string key_pem; ///< registered with register_secret(); must never leave this machine
};

/// One cluster's plug-in CA: exactly the four files of Secret istio-system/cacerts.
struct ClusterCA {
  std::string cluster;
  std::string ca_cert_pem;    ///< ca-cert.pem: the intermediate, L=<cluster>
  std::string ca_key_pem;     ///< ca-key.pem: its key (registered with register_secret())
  std::string root_cert_pem;  ///< root-cert.pem
  std::string cert_chain_pem; ///< cert-chain.pem = ca_cert_pem followed by root_cert_pem
};

/// The `data` of Secret cacerts: file name -> PEM text (4 entries, sorted by name).
std::map<std::string, std::string> cacerts_data(const ClusterCA& ca);

/// A new root CA in memory only (subject O=Istio, CN=Root CA; RSA 4096; 3650 days; SHA-256).
/// For --dry-run, which must not write anything.
Result<RootCA> generate_root();

/// Creates a new root in `dir` (created with mode 0700 where missing). Refuses, leaving everything
/// as it is, when root-cert.pem or root-key.pem already exists there.
Result<RootCA> create_root(const std::filesystem::path& dir);

/// The root stored in `dir`, or nullopt when neither root file exists. An error when only one
/// exists, a file does not parse, the key does not match, or the certificate is no usable root.
Result<std::optional<RootCA>> find_root(const std::filesystem::path& dir);

/// The root stored in `dir`; unlike find_root(), a missing root is an error (with a hint).
Result<RootCA> load_root(const std::filesystem::path& dir);

/// The root stored in `dir`, created there first if there is none.
Result<RootCA> load_or_create_root(const std::filesystem::path& dir);

/// Copies an existing root (e.g. from Istio's tools/certs recipe) into `dir` after checking it:
/// self-signed, CA:TRUE, allowed to sign certificates, not expired, key matches, key unencrypted.
/// Importing the root that `dir` already holds is a no-op; a different one is refused.
Result<RootCA> import_root(const std::filesystem::path& cert_path,
                           const std::filesystem::path& key_path, const std::filesystem::path& dir);

/// A new intermediate for `cluster`, signed by `root`, in memory only: subject O=Istio,
/// CN=Intermediate CA, L=<cluster>; CA:TRUE, pathlen:0; SAN DNS:istiod.istio-system.svc.
Result<ClusterCA> issue_intermediate(const RootCA& root, const std::string& cluster);

/// The intermediate stored in <dir>/<cluster>/ if it chains to `root` now, else nullopt (absent,
/// expired, or issued by another root). Files that are present but unusable (half a pair, garbage,
/// key does not match) are an error: they are never silently replaced. Writes nothing.
Result<std::optional<ClusterCA>>
find_intermediate(const RootCA& root, const std::filesystem::path& dir, const std::string& cluster);

/// Writes the four files of `ca` to <dir>/<cluster>/ (key 0600, dir 0700 where created), each
/// only if its content differs from what is there.
Result<void> store_intermediate(const ClusterCA& ca, const std::filesystem::path& dir);

/// find_intermediate(), else issue_intermediate() + store_intermediate(). A reused intermediate's
/// public files (ca-cert, root-cert, cert-chain) are rewritten only if they differ from the
/// canonical ones; its key file is never rewritten. Running it again with the same root returns
/// byte-identical PEMs.
Result<ClusterCA> load_or_issue_intermediate(const RootCA& root, const std::filesystem::path& dir,
                                             const std::string& cluster);

} // namespace meshctl::pki

#include "pki/pki.hpp"

#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/try.hpp"
#include "pki/cert.hpp"
#include "pki/ossl.hpp"
#include "pki/pem_files.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <unistd.h>

#include <ctime>
#include <utility>
#include <vector>

namespace meshctl::pki {
namespace {

using namespace detail;
namespace fs = std::filesystem;

// A cluster name becomes a directory name and the subject's L=; keep it a plain path component.
Result<void> check_cluster_name(const std::string& cluster) {
  if (cluster.empty() || cluster == "." || cluster == ".." ||
      cluster.find_first_of(std::string_view("/\0", 2)) != std::string::npos) {
    return usage_error(fmt::format("invalid cluster name \"{}\" for the PKI directory", cluster),
                       "cluster names are DNS-1123 labels such as \"wuxi\"");
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Certificates, built like `openssl x509 -req -extfile …` in Istio's recipe does.

Result<PkeyPtr> generate_rsa_key() {
  ERR_clear_error();
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), k_key_bits) <= 0 ||
      EVP_PKEY_generate(ctx.get(), &raw) <= 0) {
    return openssl_fail(fmt::format("cannot generate an RSA {} key", k_key_bits));
  }
  return PkeyPtr(raw);
}

struct Rdn {
  int nid;
  std::string value;
};

struct CertSpec {
  std::vector<Rdn> subject;                            ///< in certificate order
  std::vector<std::pair<int, std::string>> extensions; ///< openssl config syntax, in order
};

// Signs a CA certificate for `subject_key`; a null `issuer` means self-signed.
Result<X509Ptr> sign_cert(const CertSpec& spec, EVP_PKEY* subject_key, X509* issuer,
                          EVP_PKEY* issuer_key) {
  ERR_clear_error();
  X509Ptr cert(X509_new());
  BignumPtr serial(BN_new());
  if (!cert || !serial) {
    return openssl_fail("cannot allocate a certificate");
  }
  // 159 random bits with the top one set: positive, 20 bytes, like openssl's -CAcreateserial.
  if (BN_rand(serial.get(), 159, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return openssl_fail("cannot make a random serial number");
  }
  const std::time_t now = std::time(nullptr);
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      ASN1_TIME_adj(X509_getm_notBefore(cert.get()), now, 0, 0) == nullptr ||
      ASN1_TIME_adj(X509_getm_notAfter(cert.get()), now, k_validity_days, 0) == nullptr) {
    return openssl_fail("cannot set the certificate's version and validity");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& rdn : spec.subject) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(rdn.value.c_str());
    if (X509_NAME_add_entry_by_NID(name, rdn.nid, V_ASN1_UTF8STRING, bytes, -1, -1, 0) != 1) {
      return openssl_fail("cannot build the certificate's subject");
    }
  }
  X509* signer = issuer != nullptr ? issuer : cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) != 1 ||
      X509_set_pubkey(cert.get(), subject_key) != 1) {
    return openssl_fail("cannot set the certificate's issuer and key");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, signer, cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : spec.extensions) {
    ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str()));
    if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1) {
      return openssl_fail(fmt::format("cannot add extension {} = {}", OBJ_nid2sn(nid), value));
    }
  }
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) <= 0) {
    return openssl_fail("cannot sign the certificate");
  }
  return cert;
}

constexpr const char* k_ca_key_usage =
    "critical, digitalSignature, nonRepudiation, keyEncipherment, keyCertSign";

CertSpec root_spec() {
  return {{{NID_organizationName, "Istio"}, {NID_commonName, "Root CA"}},
          {{NID_subject_key_identifier, "hash"},
           {NID_basic_constraints, "critical, CA:true"},
           {NID_key_usage, k_ca_key_usage}}};
}

CertSpec intermediate_spec(const std::string& cluster) {
  // The recipe's order: O, CN, L (see its intermediate.conf); AKI last, as `openssl x509` adds it.
  return {{{NID_organizationName, "Istio"},
           {NID_commonName, "Intermediate CA"},
           {NID_localityName, cluster}},
          {{NID_subject_key_identifier, "hash"},
           {NID_basic_constraints, "critical, CA:true, pathlen:0"},
           {NID_key_usage, k_ca_key_usage},
           {NID_subject_alt_name, fmt::format("DNS:{}", k_istiod_san)},
           {NID_authority_key_identifier, "keyid, issuer"}}};
}

bool key_matches(X509* cert, EVP_PKEY* key) {
  const bool ok = EVP_PKEY_eq(X509_get0_pubkey(cert), key) == 1;
  ERR_clear_error();
  return ok;
}

bool is_ca(X509* cert) {
  BasicConstraintsPtr bc(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(cert, NID_basic_constraints, nullptr, nullptr)));
  ERR_clear_error();
  return bc && bc->ca != 0;
}

// What makes a certificate usable as the mesh's root: checked on create, load and import alike.
Result<void> check_root(X509* cert, EVP_PKEY* key) {
  const std::string hint_other =
      "use the root of Istio's tools/certs recipe (root-cert.pem + root-key.pem) or let meshctl "
      "create one";
  if (!key_matches(cert, key)) {
    return usage_error("the private key does not belong to the root certificate",
                       "pass the key that was generated together with this certificate");
  }
  if (!is_ca(cert)) {
    return usage_error("the certificate is not a CA (basicConstraints CA:TRUE is missing)",
                       hint_other);
  }
  if ((X509_get_extension_flags(cert) & EXFLAG_KUSAGE) != 0 &&
      (X509_get_key_usage(cert) & KU_KEY_CERT_SIGN) == 0) {
    return usage_error("the certificate may not sign certificates (keyUsage lacks keyCertSign)",
                       hint_other);
  }
  if (X509_get_pathlen(cert) == 0) {
    return usage_error("the certificate has pathlen:0, so it cannot sign intermediate CAs",
                       "an intermediate CA cannot serve as the mesh root; " + hint_other);
  }
  if (X509_self_signed(cert, 1) != 1) {
    ERR_clear_error();
    return usage_error("the certificate is not self-signed, so it is not a root CA",
                       "meshctl needs the top of the chain; " + hint_other);
  }
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
    return usage_error("the root certificate has expired", hint_other);
  }
  ERR_clear_error();
  return {};
}

// The canonical PEMs of a certificate and its key; the key is registered as a secret.
Result<PemFiles> canonical_pems(X509* cert, EVP_PKEY* key) {
  auto cert_pem = cert_to_pem(cert);
  auto key_pem = key_to_pem(key);
  if (!cert_pem || !key_pem) {
    return tl::make_unexpected(!cert_pem ? cert_pem.error() : key_pem.error());
  }
  register_secret(*key_pem);
  return PemFiles{std::move(*cert_pem), std::move(*key_pem)};
}

// One cluster's cacerts: its intermediate's PEMs, the root's certificate and the chain of both.
ClusterCA cluster_ca(const std::string& cluster, PemFiles intermediate, const RootCA& root) {
  ClusterCA ca{
      cluster, std::move(intermediate.cert), std::move(intermediate.key), root.cert_pem, {}};
  ca.cert_chain_pem = ca.ca_cert_pem + ca.root_cert_pem;
  return ca;
}

// Parses, checks and canonicalises a root given as PEM texts.
Result<RootCA> root_from_pems(std::string_view cert_text, std::string_view key_text) {
  auto cert = parse_cert(cert_text);
  if (!cert) {
    return tl::make_unexpected(cert.error().with_context(std::string(k_root_cert_file)));
  }
  auto key = parse_key(key_text);
  if (!key) {
    return tl::make_unexpected(key.error().with_context(std::string(k_root_key_file)));
  }
  if (auto ok = check_root(cert->get(), key->get()); !ok) {
    return tl::make_unexpected(ok.error());
  }
  TRY_ASSIGN(auto pems, canonical_pems(cert->get(), key->get()));
  return RootCA{std::move(pems.cert), std::move(pems.key)};
}

// Writes a new root's two files, key first; never over existing files, and on failure leaves no
// half root behind.
Result<void> write_root(const RootCA& root, const fs::path& dir) {
  if (auto ok = ensure_private_dir(dir); !ok) {
    return ok;
  }
  const fs::path key_path = dir / k_root_key_file;
  if (auto ok = write_atomic(key_path, root.key_pem, k_private_file_mode, false); !ok) {
    return ok;
  }
  if (auto ok = write_atomic(dir / k_root_cert_file, root.cert_pem, k_public_file_mode, false);
      !ok) {
    ::unlink(key_path.c_str());
    return ok;
  }
  return {};
}

// Writes the cacerts files of `ca` into <dir>/<cluster>/, each only if its content changed. The
// key is left out for a reused intermediate: its file may be PKCS#1 or carry comments, and a
// private key the user made is not ours to rewrite. A `new_key` never replaces a key file.
Result<void> store_files(const ClusterCA& ca, const fs::path& dir, bool with_key,
                         bool new_key = false) {
  if (auto ok = check_cluster_name(ca.cluster); !ok) {
    return ok;
  }
  const fs::path cdir = dir / ca.cluster;
  const std::string ctx =
      fmt::format("storing the intermediate CA of cluster {} in {}", ca.cluster, cdir.string());
  const std::pair<std::string_view, const std::string*> files[] = {
      {k_ca_key_file, &ca.ca_key_pem},
      {k_ca_cert_file, &ca.ca_cert_pem},
      {k_root_cert_file, &ca.root_cert_pem},
      {k_cert_chain_file, &ca.cert_chain_pem}};
  if (auto ok = ensure_private_dir(cdir); !ok) {
    return tl::make_unexpected(ok.error().with_context(ctx));
  }
  for (const auto& [name, content] : files) {
    const bool is_key = name == k_ca_key_file;
    if (is_key && !with_key) {
      continue;
    }
    const mode_t mode = is_key ? k_private_file_mode : k_public_file_mode;
    if (is_key && new_key) {
      // A new key never replaces one: if another meshctl issued this intermediate meanwhile,
      // its key stays and its certificate with it (the files below would otherwise mix both).
      if (auto ok = write_atomic(cdir / name, *content, mode, false); !ok) {
        if (auto theirs = read_text(cdir / name); theirs && *theirs != *content) {
          return tl::make_unexpected(
              Error(ExitCode::k_failed,
                    "another meshctl join issued this cluster's intermediate CA at the same time",
                    "nothing was written to any cluster; run the same command again: it uses "
                    "that intermediate")
                  .with_context(ctx));
        }
        return tl::make_unexpected(ok.error().with_context(ctx));
      }
      continue;
    }
    if (auto ok = write_if_changed(cdir / name, *content, mode); !ok) {
      return tl::make_unexpected(ok.error().with_context(ctx));
    }
  }
  return {};
}

} // namespace

std::map<std::string, std::string> cacerts_data(const ClusterCA& ca) {
  return {{std::string(k_ca_cert_file), ca.ca_cert_pem},
          {std::string(k_ca_key_file), ca.ca_key_pem},
          {std::string(k_root_cert_file), ca.root_cert_pem},
          {std::string(k_cert_chain_file), ca.cert_chain_pem}};
}

Result<RootCA> generate_root() {
  auto key = generate_rsa_key();
  if (!key) {
    return tl::make_unexpected(key.error().with_context("creating the root CA"));
  }
  auto cert = sign_cert(root_spec(), key->get(), nullptr, key->get());
  if (!cert) {
    return tl::make_unexpected(cert.error().with_context("creating the root CA"));
  }
  auto pems = canonical_pems(cert->get(), key->get());
  if (!pems) {
    return tl::make_unexpected(pems.error().with_context("creating the root CA"));
  }
  return RootCA{std::move(pems->cert), std::move(pems->key)};
}

Result<RootCA> create_root(const fs::path& dir) {
  const std::string ctx = fmt::format("creating the root CA in {}", dir.string());
  if (path_exists(dir / k_root_cert_file) || path_exists(dir / k_root_key_file)) {
    return tl::make_unexpected(
        Error(ExitCode::k_usage, "a root CA already exists there",
              "meshctl uses an existing root as it is; to start over, move the directory away "
              "(every cluster's intermediate must then be issued again)")
            .with_context(ctx));
  }
  auto root = generate_root();
  if (!root) {
    return root;
  }
  if (auto ok = write_root(*root, dir); !ok) {
    // The key is written first and never over another: when one is there now, another meshctl
    // created the root between our check and our write. Nothing is wrong with the setup.
    if (auto theirs = read_text(dir / k_root_key_file); theirs && *theirs != root->key_pem) {
      return tl::make_unexpected(
          Error(ExitCode::k_failed,
                "another meshctl join created the mesh's root CA at the same time",
                "nothing was written to any cluster; run the same command again: it uses that "
                "root")
              .with_context(ctx));
    }
    return tl::make_unexpected(ok.error().with_context(ctx));
  }
  log::info("created a new root CA in {} (keep {} private: it never leaves this machine)",
            dir.string(), k_root_key_file);
  return root;
}

Result<std::optional<RootCA>> find_root(const fs::path& dir) {
  const std::string ctx = fmt::format("loading the root CA from {}", dir.string());
  const std::string hint = "restore it from a backup; without both files meshctl cannot sign "
                           "intermediates (a new root means re-issuing every cluster's cacerts)";
  TRY_ASSIGN(const auto files, read_ca_files(dir, k_root_cert_file, k_root_key_file, hint, ctx));
  if (!files) {
    return std::optional<RootCA>();
  }
  auto root = root_from_pems(files->cert, files->key);
  if (!root) {
    return tl::make_unexpected(root.error().with_context(ctx));
  }
  return std::optional<RootCA>(std::move(*root));
}

Result<RootCA> load_root(const fs::path& dir) {
  auto found = find_root(dir);
  if (!found) {
    return tl::make_unexpected(found.error());
  }
  if (!*found) {
    return usage_error(
        fmt::format("no root CA in {} ({} and {} are absent)", dir.string(), k_root_cert_file,
                    k_root_key_file),
        "let meshctl create one, import an existing root, or set pki.dir in meshctl.yaml to the "
        "directory that holds it");
  }
  return std::move(**found);
}

Result<RootCA> load_or_create_root(const fs::path& dir) {
  auto found = find_root(dir);
  if (!found) {
    return tl::make_unexpected(found.error());
  }
  if (*found) {
    return std::move(**found);
  }
  return create_root(dir);
}

Result<RootCA> import_root(const fs::path& cert_path, const fs::path& key_path,
                           const fs::path& dir) {
  const std::string ctx =
      fmt::format("importing the root CA {} + {}", cert_path.string(), key_path.string());
  TRY_ASSIGN(const auto files, read_pem_files(cert_path, key_path, ctx));
  auto root = root_from_pems(files.cert, files.key);
  if (!root) {
    return tl::make_unexpected(root.error().with_context(ctx));
  }
  auto existing = find_root(dir);
  if (!existing) {
    return tl::make_unexpected(existing.error().with_context(ctx));
  }
  if (*existing) {
    if (same_certificate((*existing)->cert_pem, root->cert_pem)) {
      return std::move(**existing);
    }
    return tl::make_unexpected(
        Error(ExitCode::k_usage, fmt::format("{} already holds a different root CA", dir.string()),
              "a mesh has exactly one root; move that directory away first if you really mean to "
              "replace it (every cluster's cacerts must then be issued again)")
            .with_context(ctx));
  }
  if (auto ok = write_root(*root, dir); !ok) {
    return tl::make_unexpected(ok.error().with_context(ctx));
  }
  log::info("imported the root CA into {}", dir.string());
  return root;
}

Result<ClusterCA> issue_intermediate(const RootCA& root, const std::string& cluster) {
  const std::string ctx = fmt::format("issuing the intermediate CA of cluster {}", cluster);
  if (auto ok = check_cluster_name(cluster); !ok) {
    return tl::make_unexpected(ok.error());
  }
  auto root_cert = parse_cert(root.cert_pem);
  auto root_key = root_cert ? parse_key(root.key_pem) : Result<PkeyPtr>();
  if (!root_cert || !root_key) {
    return tl::make_unexpected((!root_cert ? root_cert.error() : root_key.error())
                                   .with_context("root CA")
                                   .with_context(ctx));
  }
  auto key = generate_rsa_key();
  if (!key) {
    return tl::make_unexpected(key.error().with_context(ctx));
  }
  auto cert = sign_cert(intermediate_spec(cluster), key->get(), root_cert->get(), root_key->get());
  if (!cert) {
    return tl::make_unexpected(cert.error().with_context(ctx));
  }
  auto pems = canonical_pems(cert->get(), key->get());
  if (!pems) {
    return tl::make_unexpected(pems.error().with_context(ctx));
  }
  return cluster_ca(cluster, std::move(*pems), root);
}

Result<std::optional<ClusterCA>> find_intermediate(const RootCA& root, const fs::path& dir,
                                                   const std::string& cluster) {
  if (auto ok = check_cluster_name(cluster); !ok) {
    return tl::make_unexpected(ok.error());
  }
  const fs::path cdir = dir / cluster;
  const std::string ctx =
      fmt::format("loading the intermediate CA of cluster {} from {}", cluster, cdir.string());
  const std::string hint_reissue =
      fmt::format("move {} away to have a new intermediate issued (istiod in {} must then be "
                  "restarted)",
                  cdir.string(), cluster);
  TRY_ASSIGN(const auto files,
             read_ca_files(cdir, k_ca_cert_file, k_ca_key_file, hint_reissue, ctx));
  if (!files) {
    return std::optional<ClusterCA>();
  }
  const auto unreadable = [&](Error e, std::string_view file) {
    return tl::make_unexpected(
        std::move(e).with_hint(hint_reissue).with_context(std::string(file)).with_context(ctx));
  };
  auto cert = parse_cert(files->cert);
  if (!cert) {
    return unreadable(cert.error(), k_ca_cert_file);
  }
  auto key = parse_key(files->key);
  if (!key) {
    return unreadable(key.error(), k_ca_key_file);
  }
  if (!key_matches(cert->get(), key->get())) {
    return tl::make_unexpected(
        Error(ExitCode::k_usage,
              fmt::format("{} does not belong to {}", k_ca_key_file, k_ca_cert_file), hint_reissue)
            .with_context(ctx));
  }
  if (!is_ca(cert->get())) {
    return tl::make_unexpected(Error(ExitCode::k_usage,
                                     fmt::format("{} is not a CA certificate", k_ca_cert_file),
                                     hint_reissue)
                                   .with_context(ctx));
  }
  auto pems = canonical_pems(cert->get(), key->get());
  if (!pems) {
    return tl::make_unexpected(pems.error().with_context(ctx));
  }
  if (auto chained = verify_chain(pems->cert, root.cert_pem); !chained) {
    log::warn("{}: the stored intermediate CA is not usable with this root ({}); a new one will be "
              "issued",
              cdir.string(), chained.error().message());
    return std::optional<ClusterCA>();
  }
  return std::optional<ClusterCA>(cluster_ca(cluster, std::move(*pems), root));
}

Result<void> store_intermediate(const ClusterCA& ca, const fs::path& dir) {
  return store_files(ca, dir, true);
}

Result<ClusterCA> load_or_issue_intermediate(const RootCA& root, const fs::path& dir,
                                             const std::string& cluster) {
  auto found = find_intermediate(root, dir, cluster);
  if (!found) {
    return tl::make_unexpected(found.error());
  }
  if (*found) {
    // Keep the derived public files in step (a root-cert.pem or cert-chain.pem may be missing).
    if (auto ok = store_files(**found, dir, false); !ok) {
      return tl::make_unexpected(ok.error());
    }
    return std::move(**found);
  }
  // Where there was no key (a first issue), one appearing by the time ours is written was
  // written by a concurrent join.
  const bool first = !path_exists(dir / cluster / k_ca_key_file);
  auto ca = issue_intermediate(root, cluster);
  if (!ca) {
    return ca;
  }
  if (auto ok = store_files(*ca, dir, true, first); !ok) {
    return tl::make_unexpected(ok.error());
  }
  log::info("issued a new intermediate CA for cluster {} in {}", cluster, (dir / cluster).string());
  return ca;
}

} // namespace meshctl::pki

#pragma once
// Internal to lib/pki: owning handles for OpenSSL objects and the conversion of OpenSSL's error
// queue into meshctl Errors. Every OpenSSL object lives in one of these unique_ptrs from the line
// that creates it, so an early `return fail(...)` can never leak; nothing here throws.

#include "core/error.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace meshctl::pki::detail {

/// Calls the OpenSSL free function `Fn` on destruction.
template <auto Fn> struct Free {
  template <class T> void operator()(T* p) const { Fn(p); }
};

using BioPtr = std::unique_ptr<BIO, Free<BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Free<X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Free<EVP_PKEY_CTX_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Free<X509_EXTENSION_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Free<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Free<X509_STORE_CTX_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Free<BN_free>>;
using NamePtr = std::unique_ptr<X509_NAME, Free<X509_NAME_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Free<GENERAL_NAMES_free>>;
using BasicConstraintsPtr = std::unique_ptr<BASIC_CONSTRAINTS, Free<BASIC_CONSTRAINTS_free>>;
using OctetStringPtr = std::unique_ptr<ASN1_OCTET_STRING, Free<ASN1_OCTET_STRING_free>>;
using AuthorityKeyIdPtr = std::unique_ptr<AUTHORITY_KEYID, Free<AUTHORITY_KEYID_free>>;

/// Drains OpenSSL's thread-local error queue into one line ("what: error:…; error:…").
/// Call ERR_clear_error() before the operation so that stale entries do not leak in.
std::string drain_errors(std::string_view what);

/// A failed Result built from the error queue (exit code 1: OpenSSL itself failed).
tl::unexpected<Error> openssl_fail(std::string_view what, std::string hint = {});

/// A read-only memory BIO over `text` (which must outlive it).
BioPtr memory_bio(std::string_view text);

/// The contents of a memory BIO.
std::string bio_text(BIO* bio);

/// Parses every CERTIFICATE block of `pem` in order. Text outside the blocks is ignored (like
/// openssl); a bundle without any certificate, or with a corrupt block, is an error.
Result<std::vector<X509Ptr>> parse_certs(std::string_view pem);

/// Parses exactly the first CERTIFICATE block of `pem`.
Result<X509Ptr> parse_cert(std::string_view pem);

/// Parses an unencrypted private key (PKCS#8 "PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY", …).
/// Never prompts for a pass phrase: an encrypted key is an error with a hint.
Result<PkeyPtr> parse_key(std::string_view pem);

/// PEM of a certificate (canonical: 64-column base64 of its DER).
Result<std::string> cert_to_pem(X509* cert);

/// Unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY") of a private key, as `openssl genrsa` writes it.
Result<std::string> key_to_pem(EVP_PKEY* key);

/// The DER encoding of a certificate (empty on failure).
std::vector<unsigned char> cert_der(X509* cert);

} // namespace meshctl::pki::detail

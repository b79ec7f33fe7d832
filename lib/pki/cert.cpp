#include "pki/cert.hpp"

#include "core/try.hpp"
#include "pki/ossl.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include <array>
#include <ctime>

namespace meshctl::pki {
namespace {

using namespace detail;

struct StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};
using CertStackPtr = std::unique_ptr<STACK_OF(X509), StackFree>;

std::string hex_colons(const unsigned char* data, std::size_t len, bool upper) {
  std::string out;
  out.reserve(len * 3);
  for (std::size_t i = 0; i < len; ++i) {
    if (i > 0) {
      out += ':';
    }
    out += upper ? fmt::format("{:02X}", data[i]) : fmt::format("{:02x}", data[i]);
  }
  return out;
}

// The name as `openssl x509 -text` prints it ("O = Istio, CN = Root CA"), UTF-8 kept readable.
std::string name_text(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) {
    return {};
  }
  const unsigned long flags = (XN_FLAG_ONELINE | ASN1_STRFLGS_UTF8_CONVERT) & ~ASN1_STRFLGS_ESC_MSB;
  X509_NAME_print_ex(bio.get(), name, 0, flags);
  return bio_text(bio.get());
}

std::chrono::sys_seconds time_of(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return {};
  }
  return std::chrono::sys_seconds(std::chrono::seconds(timegm(&tm)));
}

std::string extension_value(X509_EXTENSION* ext) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) {
    return {};
  }
  // Unknown extensions print as their raw bytes, as openssl does.
  if (X509V3_EXT_print(bio.get(), ext, 0, 0) != 1) {
    ERR_clear_error();
    ASN1_STRING_print(bio.get(), X509_EXTENSION_get_data(ext));
  }
  std::string text = bio_text(bio.get());
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) {
    text.pop_back();
  }
  return text;
}

std::string octets_hex(const ASN1_OCTET_STRING* s) {
  if (s == nullptr) {
    return {};
  }
  return hex_colons(ASN1_STRING_get0_data(s), static_cast<std::size_t>(ASN1_STRING_length(s)),
                    true);
}

Result<CertInfo> info_of(X509* cert) {
  CertInfo info;
  info.subject = name_text(X509_get_subject_name(cert));
  info.issuer = name_text(X509_get_issuer_name(cert));

  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  info.serial = hex_colons(ASN1_STRING_get0_data(serial),
                           static_cast<std::size_t>(ASN1_STRING_length(serial)), false);
  if (ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER) {
    info.serial = "(Negative)" + info.serial;
  }
  info.not_before = time_of(X509_get0_notBefore(cert));
  info.not_after = time_of(X509_get0_notAfter(cert));

  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int md_len = 0;
  if (X509_digest(cert, EVP_sha256(), md.data(), &md_len) != 1) {
    return openssl_fail("cannot compute the certificate's SHA-256 fingerprint");
  }
  info.sha256_fingerprint = hex_colons(md.data(), md_len, true);

  const char* sig = OBJ_nid2ln(X509_get_signature_nid(cert));
  info.signature_algorithm = sig != nullptr ? sig : "unknown";

  if (EVP_PKEY* key = X509_get0_pubkey(cert)) {
    const char* type = EVP_PKEY_get0_type_name(key);
    info.key_type = type != nullptr ? type : "unknown";
    info.key_bits = EVP_PKEY_get_bits(key);
  }

  int crit = 0;
  BasicConstraintsPtr bc(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(cert, NID_basic_constraints, &crit, nullptr)));
  if (bc) {
    info.is_ca = bc->ca != 0;
    if (bc->pathlen != nullptr) {
      info.path_length = ASN1_INTEGER_get(bc->pathlen);
    }
  }
  info.self_signed = X509_self_signed(cert, 1) == 1;

  GeneralNamesPtr sans(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, nullptr)));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans.get()); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
      if (gn->type == GEN_DNS) {
        const ASN1_IA5STRING* dns = gn->d.dNSName;
        info.dns_sans.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                   static_cast<std::size_t>(ASN1_STRING_length(dns)));
      }
    }
  }
  info.subject_key_id = octets_hex(X509_get0_subject_key_id(cert));
  info.authority_key_id = octets_hex(X509_get0_authority_key_id(cert));

  for (int i = 0; i < X509_get_ext_count(cert); ++i) {
    X509_EXTENSION* ext = X509_get_ext(cert, i);
    std::array<char, 128> name{};
    OBJ_obj2txt(name.data(), static_cast<int>(name.size()), X509_EXTENSION_get_object(ext), 0);
    info.extensions.push_back(
        {name.data(), X509_EXTENSION_get_critical(ext) == 1, extension_value(ext)});
  }
  // The d2i calls above leave "extension absent" entries behind.
  ERR_clear_error();
  return info;
}

std::string verify_hint(int err) {
  switch (err) {
  case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
  case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
  case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    return "the certificate was not issued by this root: issue a new intermediate from the mesh's "
           "root (meshctl join), or compare root-cert.pem of every cluster";
  case X509_V_ERR_CERT_HAS_EXPIRED:
    return "the certificate has expired: issue a new intermediate (meshctl join) and restart "
           "istiod";
  case X509_V_ERR_CERT_NOT_YET_VALID:
    return "the certificate is not valid yet: check this machine's clock";
  default:
    return {};
  }
}

} // namespace

Result<CertInfo> inspect(const std::string& pem) {
  TRY_ASSIGN(auto cert, parse_cert(pem));
  return info_of(cert.get());
}

Result<std::vector<CertInfo>> inspect_all(const std::string& pem_bundle) {
  TRY_ASSIGN(auto certs, parse_certs(pem_bundle));
  std::vector<CertInfo> out;
  for (std::size_t i = 0; i < certs.size(); ++i) {
    auto info = info_of(certs[i].get());
    if (!info) {
      return tl::make_unexpected(info.error().with_context(fmt::format("certificate #{}", i + 1)));
    }
    out.push_back(std::move(*info));
  }
  return out;
}

Result<void> verify_chain(const std::string& cert_pem, const std::string& root_pem,
                          bool check_time) {
  auto certs = parse_certs(cert_pem);
  if (!certs) {
    return tl::make_unexpected(certs.error().with_context("reading the certificate to verify"));
  }
  auto roots = parse_certs(root_pem);
  if (!roots) {
    return tl::make_unexpected(roots.error().with_context("reading the root certificate"));
  }
  ERR_clear_error();
  StorePtr store(X509_STORE_new());
  CertStackPtr untrusted(sk_X509_new_null());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) {
    return openssl_fail("cannot set up certificate verification");
  }
  for (const auto& root : *roots) {
    if (X509_STORE_add_cert(store.get(), root.get()) != 1) { // takes its own reference
      return openssl_fail("cannot add the root certificate to the trust store");
    }
  }
  for (std::size_t i = 1; i < certs->size(); ++i) {
    if (sk_X509_push(untrusted.get(), (*certs)[i].get()) <= 0) { // borrowed; certs outlives ctx
      return openssl_fail("cannot collect the intermediate certificates");
    }
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), certs->front().get(), untrusted.get()) != 1) {
    return openssl_fail("cannot set up certificate verification");
  }
  if (!check_time) {
    X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_NO_CHECK_TIME);
  }
  if (X509_verify_cert(ctx.get()) == 1) {
    ERR_clear_error();
    return {};
  }
  const int err = X509_STORE_CTX_get_error(ctx.get());
  const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
  X509* failing = X509_STORE_CTX_get_current_cert(ctx.get());
  std::string who =
      failing != nullptr ? name_text(X509_get_subject_name(failing)) : std::string("?");
  ERR_clear_error();
  return fail(fmt::format("certificate \"{}\" (depth {}) does not verify: {}", who, depth,
                          X509_verify_cert_error_string(err)),
              verify_hint(err));
}

bool same_certificate(const std::string& a_pem, const std::string& b_pem) {
  auto a = parse_cert(a_pem);
  auto b = parse_cert(b_pem);
  if (!a || !b) {
    return false;
  }
  const auto da = cert_der(a->get());
  return !da.empty() && da == cert_der(b->get());
}

} // namespace meshctl::pki

#include "pki.hpp"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace kubesim {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

void check(bool ok, const char* what) {
  if (!ok) {
    throw std::runtime_error(std::string("OpenSSL: ") + what);
  }
}

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string key_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "write key");
  return bio_string(bio.get());
}

std::string cert_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_X509(bio.get(), cert) == 1, "write cert");
  return bio_string(bio.get());
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  check(ext != nullptr, "extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

X509Ptr make_cert(EVP_PKEY* key, X509* issuer, const std::string& cn,
                  const std::vector<std::string>& orgs, long days) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  std::string serial_bytes(16, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(serial_bytes.data()), 16);
  serial_bytes[0] = static_cast<char>(serial_bytes[0] & 0x7f);
  BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(serial_bytes.data()), 16, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& o : orgs) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(o.c_str()), -1, -1, 0);
  }
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509* iss = issuer ? issuer : cert.get();
  if (issuer == nullptr) {
    add_ext(cert.get(), iss, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert.get(), iss, NID_key_usage,
            "critical,digitalSignature,keyEncipherment,keyCertSign");
    add_ext(cert.get(), iss, NID_subject_key_identifier, "hash");
  }
  return cert;
}

PkeyPtr ec_key() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EC key");
  return key;
}

std::string base64url(const std::string& in) {
  std::string s = base64_encode(in);
  while (!s.empty() && s.back() == '=') {
    s.pop_back();
  }
  for (auto& c : s) {
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return s;
}

std::optional<std::string> base64url_decode(std::string s) {
  for (auto& c : s) {
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  while (s.size() % 4 != 0) {
    s.push_back('=');
  }
  return base64_decode(s);
}

} // namespace

struct Pki::Keys {
  PkeyPtr ca_key;
  X509Ptr ca_cert;
  PkeyPtr token_key;
};

Pki::Pki(const std::string& cluster_name) : m_keys(std::make_unique<Keys>()) {
  m_keys->ca_key = ec_key();
  m_keys->ca_cert =
      make_cert(m_keys->ca_key.get(), nullptr, "kubesim-ca-" + cluster_name, {}, 3650);
  check(X509_sign(m_keys->ca_cert.get(), m_keys->ca_key.get(), EVP_sha256()) > 0, "sign CA");
  m_ca.cert_pem = cert_pem(m_keys->ca_cert.get());
  m_ca.key_pem = key_pem(m_keys->ca_key.get());
  m_keys->token_key.reset(EVP_RSA_gen(2048));
  check(m_keys->token_key != nullptr, "RSA key");
}

Pki::~Pki() = default;

CertPair Pki::serving_cert(const std::vector<std::string>& extra_sans) const {
  PkeyPtr key = ec_key();
  X509Ptr cert = make_cert(key.get(), m_keys->ca_cert.get(), "kube-apiserver", {}, 365);
  std::string sans = "IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,"
                     "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local";
  for (const auto& s : extra_sans) {
    unsigned char buf[16];
    const bool ip =
        inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
    sans += (ip ? ",IP:" : ",DNS:") + s;
  }
  add_ext(cert.get(), m_keys->ca_cert.get(), NID_subject_alt_name, sans);
  add_ext(cert.get(), m_keys->ca_cert.get(), NID_key_usage,
          "critical,digitalSignature,keyEncipherment");
  add_ext(cert.get(), m_keys->ca_cert.get(), NID_ext_key_usage, "serverAuth");
  check(X509_sign(cert.get(), m_keys->ca_key.get(), EVP_sha256()) > 0, "sign serving cert");
  return {cert_pem(cert.get()), key_pem(key.get())};
}

CertPair Pki::client_cert(const std::string& user, const std::vector<std::string>& groups) const {
  PkeyPtr key = ec_key();
  X509Ptr cert = make_cert(key.get(), m_keys->ca_cert.get(), user, groups, 365);
  add_ext(cert.get(), m_keys->ca_cert.get(), NID_key_usage,
          "critical,digitalSignature,keyEncipherment");
  add_ext(cert.get(), m_keys->ca_cert.get(), NID_ext_key_usage, "clientAuth");
  check(X509_sign(cert.get(), m_keys->ca_key.get(), EVP_sha256()) > 0, "sign client cert");
  return {cert_pem(cert.get()), key_pem(key.get())};
}

Identity Pki::identity_of_cert_der(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  Identity id;
  if (!cert) {
    return id;
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    const int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
    unsigned char* utf8 = nullptr;
    const int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
    if (n < 0) {
      continue;
    }
    std::string value(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
    OPENSSL_free(utf8);
    if (nid == NID_commonName) {
      id.user = value;
    } else if (nid == NID_organizationName) {
      id.groups.push_back(value);
    }
  }
  return id;
}

std::string Pki::sign_jwt(const nlohmann::json& claims) const {
  const std::string header = base64url(R"({"alg":"RS256","kid":"kubesim"})");
  const std::string input = header + "." + base64url(claims.dump());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  check(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, m_keys->token_key.get()) == 1,
        "sign init");
  std::size_t len = 0;
  check(EVP_DigestSign(ctx.get(), nullptr, &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1,
        "sign size");
  std::string sig(len, '\0');
  check(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1,
        "sign");
  sig.resize(len);
  return input + "." + base64url(sig);
}

std::optional<nlohmann::json> Pki::verify_jwt(const std::string& token) const {
  const auto d1 = token.find('.');
  const auto d2 = d1 == std::string::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string::npos) {
    return std::nullopt;
  }
  const std::string input = token.substr(0, d2);
  const auto sig = base64url_decode(token.substr(d2 + 1));
  const auto payload = base64url_decode(token.substr(d1 + 1, d2 - d1 - 1));
  if (!sig || !payload) {
    return std::nullopt;
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, m_keys->token_key.get()) !=
          1 ||
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return std::nullopt;
  }
  auto claims = nlohmann::json::parse(*payload, nullptr, false);
  if (claims.is_discarded() || !claims.is_object()) {
    return std::nullopt;
  }
  return claims;
}

std::string base64_encode(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(const std::string& in) {
  if (in.size() % 4 != 0) {
    return std::nullopt;
  }
  for (char c : in) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=')) {
      return std::nullopt;
    }
  }
  std::string out(in.size() / 4 * 3 + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) {
    return std::nullopt;
  }
  std::size_t len = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts padding as zero bytes; drop them.
  if (!in.empty() && in.back() == '=') {
    --len;
    if (in.size() >= 2 && in[in.size() - 2] == '=') {
      --len;
    }
  }
  out.resize(len);
  return out;
}

std::string random_hex(std::size_t n) {
  std::string raw(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(n));
  static const char* k_hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(k_hex[c >> 4]);
    out.push_back(k_hex[c & 15]);
  }
  return out;
}

} // namespace kubesim

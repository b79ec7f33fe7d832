// istiod publishes its CA root as ConfigMap istio-ca-root-cert (key root-cert.pem, label
// istio.io/config=true) in every namespace, for sidecars to verify it with. The root is the one
// its CA loaded at start: the plugged-in root of Secret istio-system/cacerts when that Secret
// existed then, else istiod's own self-signed root (subject O=<trust domain>). istiod reads
// cacerts only at start, so creating or changing cacerts leaves every ConfigMap with the old
// root until istiod restarts — the state `meshctl verify` reports as "istiod was not restarted
// after cacerts". This file decides the root; api.cpp calls it when an istiod pod is created and
// writes the ConfigMaps (also into namespaces created later), as fieldManager "istiod".

#include "rootcert_controller.hpp"

#include "pki.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace kubesim {
namespace {

using json = nlohmann::json;

// A self-signed CA certificate (EC P-256, O=cluster.local, ten years) like istiod's own root.
std::string make_self_signed_root() {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!key || !cert) {
    throw std::runtime_error("rootcert: cannot make a key");
  }
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("cluster.local"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  for (const auto& [nid, value] :
       {std::pair{NID_basic_constraints, "critical,CA:TRUE"},
        std::pair{NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"}}) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (ext == nullptr) {
      throw std::runtime_error("rootcert: bad extension");
    }
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) {
    throw std::runtime_error("rootcert: cannot sign the root");
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(bio.get(), cert.get());
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

} // namespace

bool RootCertController::is_istiod_pod(const json& pod) {
  const json md = pod.value("metadata", json::object());
  return md.value("namespace", "") == "istio-system" &&
         md.value("labels", json::object()).value("app", "") == "istiod";
}

void RootCertController::istiod_started(const json* cacerts) {
  if (cacerts != nullptr) {
    const json data = cacerts->value("data", json::object());
    if (data.contains("root-cert.pem") && data["root-cert.pem"].is_string()) {
      if (auto pem = base64_decode(data["root-cert.pem"].get<std::string>())) {
        m_root = *pem;
        return;
      }
    }
    // istiod fails to start on a cacerts without a usable root; keeping the self-signed root
    // is the closest a model without crash loops gets.
  }
  if (m_self_signed.empty()) {
    m_self_signed = make_self_signed_root();
  }
  m_root = m_self_signed;
}

json RootCertController::config_map(const std::string& ns) const {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata",
           {{"name", "istio-ca-root-cert"},
            {"namespace", ns},
            {"labels", {{"istio.io/config", "true"}}}}},
          {"data", {{"root-cert.pem", m_root}}}};
}

} // namespace kubesim

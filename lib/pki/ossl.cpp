#include "pki/ossl.hpp"

#include "core/try.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <array>
#include <climits>

namespace meshctl::pki::detail {
namespace {

// OpenSSL would otherwise prompt on the terminal for the pass phrase of an encrypted key.
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) {
  return -1;
}

bool is_pem_eof(unsigned long err) {
  return ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
}

} // namespace

std::string drain_errors(std::string_view what) {
  std::string out(what);
  bool first = true;
  std::array<char, 256> buf{};
  while (const unsigned long err = ERR_get_error()) {
    out += first ? ": " : "; ";
    // The reason a person can read ("bad base64 decode"); the code only when there is none.
    if (const char* reason = ERR_reason_error_string(err); reason != nullptr) {
      out += reason;
    } else {
      ERR_error_string_n(err, buf.data(), buf.size());
      out += buf.data();
    }
    first = false;
  }
  if (first) {
    out += ": unknown OpenSSL error";
  }
  return out;
}

tl::unexpected<Error> openssl_fail(std::string_view what, std::string hint) {
  return fail(drain_errors(what), std::move(hint));
}

BioPtr memory_bio(std::string_view text) {
  if (text.size() > static_cast<std::size_t>(INT_MAX)) {
    return BioPtr(BIO_new_mem_buf("", 0));
  }
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) {
    return {};
  }
  return {data, static_cast<std::size_t>(len)};
}

Result<std::vector<X509Ptr>> parse_certs(std::string_view pem) {
  ERR_clear_error();
  auto bio = memory_bio(pem);
  if (!bio) {
    return openssl_fail("cannot allocate a memory BIO");
  }
  std::vector<X509Ptr> certs;
  while (true) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr));
    if (!cert) {
      break;
    }
    certs.push_back(std::move(cert));
  }
  // The loop ends on "no start line" at the end of the text; anything else is a corrupt block.
  const unsigned long last = ERR_peek_last_error();
  if (last != 0 && !is_pem_eof(last)) {
    return tl::make_unexpected(Error(ExitCode::k_usage, drain_errors("corrupt PEM certificate"),
                                     "check that the file holds PEM certificates "
                                     "(-----BEGIN CERTIFICATE-----)"));
  }
  ERR_clear_error();
  if (certs.empty()) {
    return usage_error("no PEM certificate found",
                       "check that the file holds PEM certificates (-----BEGIN CERTIFICATE-----)");
  }
  return certs;
}

Result<X509Ptr> parse_cert(std::string_view pem) {
  TRY_ASSIGN(auto certs, parse_certs(pem));
  return std::move(certs.front());
}

Result<PkeyPtr> parse_key(std::string_view pem) {
  if (pem.find("ENCRYPTED") != std::string_view::npos) {
    return usage_error("the private key is encrypted",
                       "write an unencrypted copy with `openssl pkey -in KEY -out PLAIN_KEY` and "
                       "keep it private (mode 0600)");
  }
  ERR_clear_error();
  auto bio = memory_bio(pem);
  if (!bio) {
    return openssl_fail("cannot allocate a memory BIO");
  }
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    return tl::make_unexpected(
        Error(ExitCode::k_usage, drain_errors("no usable PEM private key"),
              "check that the file holds an unencrypted PEM private key "
              "(-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)"));
  }
  return key;
}

Result<std::string> cert_to_pem(X509* cert) {
  ERR_clear_error();
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return openssl_fail("cannot encode the certificate as PEM");
  }
  return bio_text(bio.get());
}

Result<std::string> key_to_pem(EVP_PKEY* key) {
  ERR_clear_error();
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return openssl_fail("cannot encode the private key as PEM");
  }
  return bio_text(bio.get());
}

std::vector<unsigned char> cert_der(X509* cert) {
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert, &der);
  if (len <= 0 || der == nullptr) {
    ERR_clear_error();
    return {};
  }
  std::vector<unsigned char> out(der, der + len);
  OPENSSL_free(der);
  return out;
}

} // namespace meshctl::pki::detail

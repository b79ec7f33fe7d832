// Fuzz target: what an exec credential plugin prints on stdout (an ExecCredential, JSON) must
// never crash or throw, whatever the bytes; what parses has a token or a certificate and key
// pair, and an expiry only when the text had a valid one.

#include "config/exec_credential.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const char* api :
       {"client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"}) {
    auto creds = meshctl::config::detail::parse_exec_credential(text, api, "exec plugin \"fuzz\"");
    if (!creds) {
      (void)creds.error().what();
      continue;
    }
    const bool has_token = !creds->bearer_token.empty();
    const bool has_pair = !creds->client_certificate_pem.empty() && !creds->client_key_pem.empty();
    if (!has_token && !has_pair) {
      std::fprintf(stderr, "accepted an ExecCredential without token or cert/key pair\n");
      std::abort();
    }
  }
  return 0;
}

// Fuzz target: certificate inspection (the PEM in cacerts and remote secrets that verify reads)
// must never crash or throw on any text, and what inspect() accepts is the first certificate
// inspect_all() finds.

#include "pki/cert.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string pem(reinterpret_cast<const char*>(data), size);
  const auto first = meshctl::pki::inspect(pem);
  const auto all = meshctl::pki::inspect_all(pem);
  if (first && all &&
      (all->empty() || all->front().sha256_fingerprint != first->sha256_fingerprint)) {
    std::fprintf(stderr, "inspect and inspect_all disagree on the first certificate\n");
    std::abort();
  }
  if (first) {
    (void)meshctl::pki::same_certificate(pem, pem);
    (void)meshctl::pki::verify_chain(pem, pem, false);
  }
  return 0;
}

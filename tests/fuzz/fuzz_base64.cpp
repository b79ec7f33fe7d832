// Fuzz target: base64 decoding (Secret data, kubeconfig *-data fields) must never crash on any
// text; the three decoders agree with each other, and encoding then decoding any bytes gives the
// same bytes back.

#include "core/base64.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

[[noreturn]] void differ(const char* what) {
  std::fprintf(stderr, "base64: %s\n", what);
  std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto plain = meshctl::base64_decode(text);
  const auto refuse = meshctl::base64_decode_lines(text, meshctl::Base64Breaks::k_refuse);
  const auto skip = meshctl::base64_decode_lines(text, meshctl::Base64Breaks::k_skip);
  if (plain.has_value() != refuse.has_value() || (plain && *plain != *refuse)) {
    differ("base64_decode and base64_decode_lines(k_refuse) disagree");
  }
  if (refuse && (!skip || *skip != *refuse)) {
    differ("text without line breaks decodes differently when breaks are skipped");
  }
  if (refuse && meshctl::base64_decode(meshctl::base64_encode(*refuse)) != *refuse) {
    differ("decoded bytes do not survive encode + decode");
  }
  if (meshctl::base64_decode(meshctl::base64_encode(text)) != std::string(text)) {
    differ("encode + decode changes the bytes");
  }
  if (!refuse && refuse.error().empty()) {
    differ("a refusal without a reason");
  }
  return 0;
}

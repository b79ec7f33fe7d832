#include "core/base64.hpp"

#include <openssl/evp.h>

#include <array>
#include <vector>

namespace meshctl {

namespace {

// The 6-bit value of a base64 character, or -1.
int sextet(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

} // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  auto out = base64_decode_lines(text, Base64Breaks::k_refuse);
  if (!out) {
    return std::nullopt;
  }
  return std::move(*out);
}

tl::expected<std::string, std::string> base64_decode_lines(std::string_view text,
                                                           Base64Breaks breaks) {
  // The characters that count, with their offsets in `text` (for error messages).
  std::string clean;
  std::vector<std::size_t> offset;
  clean.reserve(text.size());
  offset.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (breaks == Base64Breaks::k_skip && (c == '\r' || c == '\n')) {
      continue;
    }
    if (c != '=' && sextet(c) < 0) {
      return tl::make_unexpected("illegal character at offset " + std::to_string(i));
    }
    clean += c;
    offset.push_back(i);
  }
  if (clean.size() % 4 != 0) {
    return tl::make_unexpected("length " + std::to_string(clean.size()) +
                               " is not a multiple of 4 (missing padding?)");
  }
  std::string out;
  out.reserve(clean.size() / 4 * 3);
  for (std::size_t i = 0; i < clean.size(); i += 4) {
    const bool last = i + 4 == clean.size();
    int pad = 0;
    std::array<unsigned, 4> v{};
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = clean[i + j];
      if (c == '=') {
        // '=' only in the last quantum, at most two, and nothing but '=' after the first one.
        if (!last || j < 2) {
          return tl::make_unexpected("misplaced padding at offset " +
                                     std::to_string(offset[i + j]));
        }
        ++pad;
      } else {
        if (pad > 0) {
          return tl::make_unexpected("data after padding at offset " +
                                     std::to_string(offset[i + j]));
        }
        v[j] = static_cast<unsigned>(sextet(c));
      }
    }
    const unsigned triple = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += static_cast<char>((triple >> 16) & 0xffU);
    if (pad < 2) {
      out += static_cast<char>((triple >> 8) & 0xffU);
    }
    if (pad < 1) {
      out += static_cast<char>(triple & 0xffU);
    }
  }
  return out;
}

} // namespace meshctl

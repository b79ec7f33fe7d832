#pragma once
// Standard base64 (RFC 4648 alphabet, padding required): the encoding of a Secret's data values
// and of a kubeconfig's *-data fields.

#include <tl/expected.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace meshctl {

/// Encodes bytes as padded base64 without line breaks.
std::string base64_encode(std::string_view bytes);

/// Decodes padded base64 (no whitespace); nullopt when `text` is not valid base64.
std::optional<std::string> base64_decode(std::string_view text);

/// What base64_decode_lines does with line breaks.
enum class Base64Breaks {
  k_refuse, ///< '\r' and '\n' are illegal characters (as base64_decode)
  k_skip,   ///< '\r' and '\n' are ignored, as Go's StdEncoding (so encoding/json's []byte) does
};

/// Decodes padded base64; on failure the reason, for an error message ("illegal character at
/// offset 3", "length 6 is not a multiple of 4 (missing padding?)", "misplaced padding at offset
/// 5", "data after padding at offset 7"). Offsets count bytes of `text` as given.
tl::expected<std::string, std::string> base64_decode_lines(std::string_view text,
                                                           Base64Breaks breaks);

} // namespace meshctl

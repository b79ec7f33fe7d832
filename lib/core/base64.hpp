#pragma once
// Standard base64 (RFC 4648, padded, no line breaks): the encoding of a Secret's data values.

#include <optional>
#include <string>
#include <string_view>

namespace meshctl {

/// Encodes bytes as padded base64 without line breaks.
std::string base64_encode(std::string_view bytes);

/// Decodes padded base64 (no whitespace); nullopt when `text` is not valid base64.
std::optional<std::string> base64_decode(std::string_view text);

} // namespace meshctl

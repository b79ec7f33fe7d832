#pragma once
// Secrets never reach a log line or --dry-run output unless asked for (vcpkg's SanitizedUrl idea):
// every secret value meshctl learns is registered here, and text leaving the process is scrubbed.

#include <string>
#include <string_view>

namespace meshctl {

inline constexpr std::string_view k_redacted = "<redacted>";

/// Registers a secret value (token, key, password) so that redact() hides it. Thread-safe.
/// Values shorter than 6 characters are ignored: they would scrub ordinary words.
void register_secret(std::string_view value);

/// Returns text with every registered secret, bearer token and private key block replaced by
/// "<redacted>". Thread-safe.
std::string redact(std::string_view text);

} // namespace meshctl

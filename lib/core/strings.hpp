#pragma once
// Small string helpers every layer needs, in one place (ASCII only: they serve protocol tokens,
// header names, YAML scalars and identifiers, never user prose).

#include <string>
#include <string_view>
#include <vector>

namespace meshctl {

/// `s` without leading and trailing spaces, tabs, CR and LF.
std::string_view trim(std::string_view s);

/// The items separated by `sep` ("a, b, c" with the default).
std::string join(const std::vector<std::string>& items, std::string_view sep = ", ");

/// ASCII case-insensitive equality (HTTP header names, WebSocket tokens, Envoy enum names).
bool iequals(std::string_view a, std::string_view b);

/// `s` with ASCII letters lowered.
std::string to_lower(std::string s);

/// Kubernetes' DNS-1123 label (namespace names, Istio cluster IDs): lower-case alphanumerics and
/// '-', starting and ending alphanumeric, at most 63 characters.
bool is_dns1123_label(std::string_view s);

/// `s` split at every `sep`; empty pieces kept ("a,,b" → "a", "", "b"; "" → one empty piece).
std::vector<std::string> split(std::string_view s, char sep);

} // namespace meshctl

#pragma once
// Output formats shared by every verb (kubectl's -o).

#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace meshctl {

enum class OutputFormat { k_table, k_wide, k_yaml, k_json };

/// Parses "table", "wide", "yaml" or "json"; anything else (an empty -o too) is a usage error
/// with a suggestion.
Result<OutputFormat> parse_output_format(std::string_view text);

/// The names -o takes, in the order the help gives them.
std::vector<std::string> output_format_names();

/// Renders a JSON value as block-style YAML, strings quoted when needed. Keys come in the value's
/// order: sorted for nlohmann::json, as inserted for nlohmann::ordered_json.
std::string to_yaml(const nlohmann::json& value);
std::string to_yaml(const nlohmann::ordered_json& value);

/// Whether `text` needs quotes to stay a plain YAML string (and not a number, bool, null, …).
bool yaml_needs_quotes(std::string_view text);

/// The case of the hex digits in a \xNN escape: meshctl's own YAML writes lower case; go-yaml
/// (what istioctl prints, which the envoy/ output mirrors) upper case.
enum class HexCase { k_lower, k_upper };

/// Quotes and escapes `text` as a YAML double-quoted scalar.
std::string yaml_double_quote(std::string_view text, HexCase hex = HexCase::k_lower);

} // namespace meshctl

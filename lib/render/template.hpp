#pragma once
// Mustache templates (kainjow) embedded from templates/*.yaml, expanded with YAML-safe escaping and
// parsed back into objects. Used by manifests.cpp; exposed for tests of the escaping itself.

#include "core/error.hpp"
#include "render/object.hpp"

#include <kainjow/mustache.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshctl::render {

/// Values for one template. Every name a template uses must be set (sections that are off must be
/// set to false): a missing name is an internal error, never a silent empty value.
using Values = kainjow::mustache::data;

/// Names of the unescaped ({{{name}}}) values templates may use. manifests.cpp fills these only
/// from C++ integers, so nothing outside meshctl can reach YAML through them unescaped.
inline constexpr std::string_view k_raw_values[] = {"node_port", "consecutive_5xx_errors"};

/// The escape installed for {{name}}: the value as a YAML double-quoted scalar, so quotes, ": ",
/// "#", newlines or "{{" in a value stay inside that one string.
std::string yaml_escape(const std::string& value);

/// The source of an embedded template ("eastwest-gateway.yaml"), or nullopt when unknown.
std::optional<std::string_view> embedded_template(std::string_view name);

/// Names of all embedded templates, sorted.
std::vector<std::string> embedded_template_names();

/// Expands `source` with `values`. An invalid template, a missing value, a delimiter change, or a
/// raw tag whose name is not in k_raw_values or whose value is not an integer is an internal error
/// naming `name`.
Result<std::string> expand(std::string_view name, std::string_view source, const Values& values);

/// expand() and then parse_objects(); a result that does not parse is an internal error naming
/// the template (escaping makes that a bug in meshctl, not in the input).
Result<std::vector<Object>> render_source(std::string_view name, std::string_view source,
                                          const Values& values);

/// render_source() for an embedded template.
Result<std::vector<Object>> render_template(std::string_view name, const Values& values);

} // namespace meshctl::render

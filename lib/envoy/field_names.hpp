#pragma once
// Protobuf field names in JSON: Envoy writes them snake_case, as the .proto spells them; protojson
// (istioctl, older dumps) writes lowerCamelCase. The readers accept both.

#include <string>
#include <string_view>

namespace meshctl::envoy {

/// Rewrites a protobuf field name the way protojson names it: "route_config" -> "routeConfig".
std::string json_camel_case(std::string_view snake);

/// True when `key` names protobuf field `snake` in either JSON spelling ("route_config" or
/// "routeConfig"): Envoy writes snake_case, istioctl and older dumps camelCase.
bool field_is(std::string_view key, std::string_view snake) noexcept;

} // namespace meshctl::envoy

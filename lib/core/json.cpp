#include "core/json.hpp"

#include <cmath>

namespace meshctl {

using nlohmann::json;

const json& member(const json& j, std::string_view key) {
  static const json k_null;
  if (!j.is_object()) {
    return k_null;
  }
  const auto it = j.find(key);
  return it == j.end() ? k_null : *it;
}

const json& member_at(const json& j, std::initializer_list<std::string_view> path) {
  const json* cur = &j;
  for (const auto key : path) {
    cur = &member(*cur, key);
  }
  return *cur;
}

std::string str(const json& j, std::string_view key) {
  const json& v = member(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

const json& array_of(const json& j, std::string_view key) {
  static const json k_empty = json::array();
  const json& v = member(j, key);
  return v.is_array() ? v : k_empty;
}

const json& object_of(const json& j, std::string_view key) {
  static const json k_empty = json::object();
  const json& v = member(j, key);
  return v.is_object() ? v : k_empty;
}

std::int64_t int_of(const json& j, std::string_view key, std::int64_t fallback) {
  const json& v = member(j, key);
  if (v.is_number_integer()) {
    return v.get<std::int64_t>();
  }
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    return u > static_cast<std::uint64_t>(INT64_MAX) ? fallback : static_cast<std::int64_t>(u);
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    // Range first: converting a double outside int64's range is undefined.
    if (d >= -9.2e18 && d <= 9.2e18 && d == std::trunc(d)) {
      return static_cast<std::int64_t>(d);
    }
  }
  return fallback;
}

} // namespace meshctl

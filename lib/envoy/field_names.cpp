// Protobuf field names as Envoy's JSON spells them: snake_case as in the .proto (Envoy's own
// config_dump), or protojson's lowerCamelCase (istioctl, older dumps).

#include "envoy/field_names.hpp"

namespace meshctl::envoy {

std::string json_camel_case(std::string_view snake) {
  std::string out;
  out.reserve(snake.size());
  bool was_underscore = false;
  for (char c : snake) {
    if (c != '_') {
      if (was_underscore && c >= 'a' && c <= 'z') {
        c = static_cast<char>(c - 'a' + 'A');
      }
      out += c;
    }
    was_underscore = c == '_';
  }
  return out;
}

bool field_is(std::string_view key, std::string_view snake) noexcept {
  if (key == snake) {
    return true;
  }
  std::size_t j = 0;
  bool was_underscore = false;
  for (char c : snake) {
    if (c != '_') {
      if (was_underscore && c >= 'a' && c <= 'z') {
        c = static_cast<char>(c - 'a' + 'A');
      }
      if (j >= key.size() || key[j] != c) {
        return false;
      }
      ++j;
    }
    was_underscore = c == '_';
  }
  return j == key.size();
}

} // namespace meshctl::envoy

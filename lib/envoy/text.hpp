#pragma once
// Small string helpers shared by lib/envoy.

#include <initializer_list>
#include <string>
#include <string_view>

namespace meshctl::envoy {

/// Concatenates `parts` with one allocation. (Also sidesteps GCC 12's -Wrestrict false positive
/// on `"literal" + std::string&&`, which -Werror builds would trip over.)
inline std::string cat(std::initializer_list<std::string_view> parts) {
  std::size_t n = 0;
  for (const auto p : parts) {
    n += p.size();
  }
  std::string out;
  out.reserve(n);
  for (const auto p : parts) {
    out += p;
  }
  return out;
}

} // namespace meshctl::envoy

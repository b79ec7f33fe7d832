#pragma once
// An enum's names as one table, read both ways: the name of a value (for output) and the value of
// a name (for parsing). A table rather than a switch so that a mapping is written once; the table
// sits next to the function that reads it, and a value missing from it gets the caller's fallback.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshctl {

template <class E> struct EnumName {
  E value;
  const char* name;
};

/// The name of `value` in `names` (the first entry that has it), else `otherwise`.
template <class E, std::size_t N>
constexpr const char* name_of(const EnumName<E> (&names)[N], E value, const char* otherwise) {
  for (const auto& n : names) {
    if (n.value == value) {
      return n.name;
    }
  }
  return otherwise;
}

/// The value named exactly `name` in `names` (the first entry), nullopt when there is none.
template <class E, std::size_t N>
constexpr std::optional<E> value_of(const EnumName<E> (&names)[N], std::string_view name) {
  for (const auto& n : names) {
    if (name == n.name) {
      return n.value;
    }
  }
  return std::nullopt;
}

/// Every name in `names`, in the table's order (what a flag accepts, for completion).
template <class E, std::size_t N> std::vector<std::string> names_of(const EnumName<E> (&names)[N]) {
  std::vector<std::string> out;
  out.reserve(N);
  for (const auto& n : names) {
    out.emplace_back(n.name);
  }
  return out;
}

} // namespace meshctl

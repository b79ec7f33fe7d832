#include "core/enum_names.hpp"
#include "core/output.hpp"

#include <catch2/catch.hpp>

using namespace meshctl;

namespace {
enum class Colour { k_red, k_green, k_blue };
constexpr EnumName<Colour> k_colours[] = {{Colour::k_red, "red"}, {Colour::k_green, "green"}};
} // namespace

TEST_CASE("an enum's name table reads both ways, with a fallback for values it lacks", "[core]") {
  CHECK(std::string(name_of(k_colours, Colour::k_green, "?")) == "green");
  CHECK(std::string(name_of(k_colours, Colour::k_blue, "?")) == "?");
  CHECK(value_of(k_colours, "red") == Colour::k_red);
  CHECK_FALSE(value_of(k_colours, "Red").has_value()); // exact match, as the parsers want
  CHECK_FALSE(value_of(k_colours, "").has_value());
  static_assert(name_of(k_colours, Colour::k_red, "?")[0] == 'r', "usable at compile time");
}

TEST_CASE("YAML double quoting writes control characters in the hex case asked for", "[core]") {
  CHECK(yaml_double_quote("a\x1b") == "\"a\\x1b\"");
  CHECK(yaml_double_quote("a\x1b", HexCase::k_upper) == "\"a\\x1B\"");
  CHECK(yaml_double_quote("\t\"\\") == "\"\\t\\\"\\\\\"");
}

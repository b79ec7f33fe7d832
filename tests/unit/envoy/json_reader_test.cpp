// JsonReader: values, escapes, skipping, errors with offsets, and documents larger than the
// reader's index window (strings, escapes and brackets straddling 64-byte blocks and windows).
// Every reader test runs once per SIMD kernel this CPU has (SSE2, AVX2, AVX-512), forced through
// the test-only detail::force_kernel, so a machine with AVX-512 still tests the narrower ones.

#include "envoy/field_names.hpp"
#include "envoy/json_index.hpp"
#include "envoy/json_reader.hpp"
#include "support/testing.hpp"

#include <string>
#include <vector>

using meshctl::envoy::field_is;
using meshctl::envoy::json_camel_case;
using meshctl::envoy::JsonError;
using meshctl::envoy::JsonReader;

namespace {

namespace detail = meshctl::envoy::detail;

// Catch2 runs a test case that calls this once per kernel the CPU supports (GENERATE re-enters it
// for each value); the returned scope keeps that kernel forced until the test case ends.
#define FOR_EACH_KERNEL()                                                                          \
  const auto kernel_ = GENERATE(from_range(detail::supported_kernels()));                          \
  const detail::ScopedKernel forced_kernel_(kernel_);                                              \
  INFO("JSON index kernel: " << detail::kernel_name(kernel_))

// Reads any value into a compact canonical text, to compare what the reader saw.
std::string canonical(JsonReader& r) {
  switch (r.peek()) {
  case JsonReader::Kind::k_object: {
    std::string out = "{";
    r.begin_object();
    std::string_view k;
    bool first = true;
    while (r.next_member(k)) {
      if (!first) {
        out += ',';
      }
      out += k;
      out += ':';
      first = false;
      out += canonical(r);
    }
    return out + "}";
  }
  case JsonReader::Kind::k_array: {
    std::string out = "[";
    r.begin_array();
    bool first = true;
    while (r.next_element()) {
      out += first ? "" : ",";
      first = false;
      out += canonical(r);
    }
    return out + "]";
  }
  case JsonReader::Kind::k_string: {
    std::string quoted = "'";
    quoted += r.read_string();
    quoted += '\'';
    return quoted;
  }
  default:
    return r.read_scalar_text();
  }
}

std::string read_all(const std::string& text) {
  JsonReader r(text);
  std::string out = canonical(r);
  r.expect_end();
  return out;
}

std::uint64_t error_offset(const std::string& text) {
  try {
    read_all(text);
  } catch (const JsonError& e) {
    return e.offset();
  }
  FAIL("no error for: " << text);
  return 0;
}

} // namespace

TEST_CASE("JsonReader reads nested values in order", "[envoy][json]") {
  FOR_EACH_KERNEL();
  CHECK(read_all(R"({"a": 1, "b": [true, false, null, -2.5e3], "c": {"d": "x"}, "e": []})") ==
        "{a:1,b:[true,false,null,-2.5e3],c:{d:'x'},e:[]}");
  CHECK(read_all("  [ ]  ") == "[]");
  CHECK(read_all("{}") == "{}");
  CHECK(read_all("[5]") == "[5]");
  CHECK(read_all("[ 1 , 2 ]") == "[1,2]");
  CHECK(read_all("\"top\"") == "'top'");
  CHECK(read_all("42") == "42");
}

TEST_CASE("JsonReader unescapes strings, including surrogate pairs", "[envoy][json]") {
  FOR_EACH_KERNEL();
  CHECK(read_all(R"(["a\"b", "\\", "\/", "\n\t", "\u00e9", "\ud83d\ude00", "\ud800x"])") ==
        "['a\"b','\\','/','\n\t','\xC3\xA9','\xF0\x9F\x98\x80','\xEF\xBF\xBDx']");
  // Escaped quotes and backslashes must not end the string or hide brackets in it.
  CHECK(read_all(R"({"k\"}": "v\\", "n": "[{\"x\": 1}]"})") == "{k\"}:'v\\',n:'[{\"x\": 1}]'}");
}

TEST_CASE("JsonReader reads integers, quoted 64-bit integers and booleans", "[envoy][json]") {
  FOR_EACH_KERNEL();
  JsonReader r(R"({"port": 15443, "big": "18446744073709551615", "neg": -7, "on": true})");
  r.begin_object();
  std::string_view k;
  REQUIRE(r.next_member(k));
  CHECK(r.read_uint() == 15443);
  REQUIRE(r.next_member(k));
  CHECK(r.read_uint() == 18446744073709551615ULL);
  REQUIRE(r.next_member(k));
  CHECK(r.read_int() == -7);
  REQUIRE(r.next_member(k));
  CHECK(r.read_bool());
  CHECK_FALSE(r.next_member(k));
  r.expect_end();
  JsonReader bad(R"({"port": "eighty"})");
  bad.begin_object();
  REQUIRE(bad.next_member(k));
  CHECK_THROWS_AS(bad.read_uint(), JsonError);
}

TEST_CASE("JsonReader skips and captures values", "[envoy][json]") {
  FOR_EACH_KERNEL();
  const std::string text =
      R"({"skip": {"a": [1, {"b": "]}"}], "c": null}, "keep": [1, "x"], "s": "t", "n": 3})";
  JsonReader r(text);
  r.begin_object();
  std::string_view k;
  REQUIRE(r.next_member(k));
  CHECK(k == "skip");
  r.skip_value();
  REQUIRE(r.next_member(k));
  CHECK(k == "keep");
  CHECK(r.capture_value() == R"([1, "x"])");
  REQUIRE(r.next_member(k));
  r.skip_value();
  REQUIRE(r.next_member(k));
  r.skip_value();
  CHECK_FALSE(r.next_member(k));
  r.expect_end();
}

TEST_CASE("JsonReader rejects malformed documents at the right offset", "[envoy][json]") {
  FOR_EACH_KERNEL();
  CHECK(error_offset(R"({"a": 1)") == 7);       // truncated: error at the end
  CHECK(error_offset(R"({"a": [1, 2})") == 11); // '}' closes an array
  CHECK(error_offset(R"({"a" 1})") == 6);       // missing ':' (the next entry is '}')
  CHECK(error_offset(R"({"a": 1,})") == 8);     // trailing comma
  CHECK(error_offset(R"({"a": 1} x)") == 9);    // data after the document
  CHECK(error_offset(R"({"a": nope})") == 6);   // not a literal
  // Numbers follow JSON's grammar (the fuzzer found "-" and "1.2.3" read as numbers).
  CHECK(error_offset("[-]") == 1);
  CHECK(error_offset(R"({"a": 1.2.3})") == 6);
  CHECK(error_offset("[01]") == 1);
  CHECK(error_offset("[1e]") == 1);
  CHECK(error_offset("[.5]") == 1);
  CHECK(read_all("[-0, 0.5e-3, 1E+2, 10]") == "[-0,0.5e-3,1E+2,10]");
  CHECK(error_offset(R"({"a": "b\q"})") == 9); // bad escape
  CHECK(error_offset(R"(<html>)") == 0);       // an error page, not JSON
  CHECK(error_offset("") == 0);
  // Skipping checks brackets too.
  JsonReader r(R"({"a": {"b": [}}})");
  r.begin_object();
  std::string_view k;
  REQUIRE(r.next_member(k));
  CHECK_THROWS_AS(r.skip_value(), JsonError);
}

namespace {

// The message of the JsonError `f` throws ("" when it throws none).
template <class F> std::string error_message(F&& f) {
  try {
    f();
  } catch (const JsonError& e) {
    return e.what();
  }
  return {};
}

// Reads every value of `text` (skipping them all).
void skip_all(const std::string& text) {
  JsonReader r(text);
  r.skip_value();
  r.expect_end();
}

} // namespace

TEST_CASE("what cannot be JSON is refused from its first bytes", "[envoy][json]") {
  using meshctl::envoy::check_json_start;
  CHECK(error_message([] { check_json_start("", true); }) == "the document is empty");
  CHECK(error_message([] { check_json_start(" \n", true); }).find("nothing but whitespace") !=
        std::string::npos);
  CHECK(error_message([] { check_json_start(" \n", false); }).empty()); // a stream: wait for more
  CHECK(error_message([] { check_json_start(std::string(4, '\0'), false); }) ==
        "a NUL byte: this is binary data, not JSON text");
  CHECK(error_message([] { check_json_start("<html>502</html>", true); }) ==
        "not JSON: expected '{' or '[' first, found \"<html>502</h\"\u2026");
  CHECK(error_message([] {
          check_json_start(std::string(70000, ' ') + "{}", true);
        }).find("more than 64 KiB of whitespace") != std::string::npos);
  CHECK(error_message([] { check_json_start(" \r\n\t{\"configs\": []}", true); }).empty());
}

TEST_CASE("JsonReader refuses NUL bytes and whole windows of whitespace without reading on",
          "[envoy][json]") {
  // In the reader's own thread (small documents) and in the background indexer's (>= 8 MB).
  for (const std::size_t size : {std::size_t{3} << 20U, std::size_t{12} << 20U}) {
    INFO(size);
    std::string zeros = "[\"a\", ";
    zeros.resize(size, '\0');
    CHECK(error_message([&] { skip_all(zeros); }).find("a NUL byte") != std::string::npos);
    std::string blank = "[1, ";
    blank.resize(size, ' ');
    CHECK(error_message([&] { skip_all(blank + "2]"); }).find("of nothing but whitespace") !=
          std::string::npos);
    // A long string is no whitespace: a window inside it indexes nothing and is fine.
    const std::string long_string = "[\"" + std::string(size, 'x') + "\"]";
    CHECK(error_message([&] { skip_all(long_string); }).empty());
  }
}

namespace {

// A JSON array of `n` objects whose strings hold escapes, quotes and brackets at every possible
// position relative to 64-byte blocks (lengths cycle through 0..130); `expected` gets the values.
std::string escape_torture(int n, std::vector<std::string>& expected) {
  std::string text = "[";
  for (int i = 0; i < n; ++i) {
    std::string raw;
    std::string value;
    const int len = i % 131;
    for (int j = 0; j < len; ++j) {
      switch ((i + j) % 7) {
      case 0:
        raw += "\\\\";
        value += '\\';
        break;
      case 1:
        raw += "\\\"";
        value += '"';
        break;
      case 2:
        raw += "{]";
        value += "{]";
        break;
      default:
        raw += static_cast<char>('a' + j % 26);
        value += static_cast<char>('a' + j % 26);
      }
    }
    if (i > 0) {
      text += ",\n  ";
    }
    text += "{\"i\": ";
    text += std::to_string(i);
    text += ", \"s\": \"" + raw + "\", \"skip\": [[\"" + raw + "\"], {}]}";
    expected.push_back(value);
  }
  return text + "]";
}

void check_escape_torture(const std::string& text, const std::vector<std::string>& expected) {
  JsonReader r(text);
  r.begin_array();
  std::size_t n = 0;
  while (r.next_element()) {
    r.begin_object();
    std::string_view k;
    std::uint64_t i = 0;
    while (r.next_member(k)) {
      if (k == "i") {
        i = r.read_uint();
      } else if (k == "s") {
        REQUIRE(r.take_string() == expected[i]);
      } else {
        r.skip_value();
      }
    }
    REQUIRE(i == n);
    ++n;
  }
  r.expect_end();
  CHECK(n == expected.size());
}

} // namespace

TEST_CASE("JsonReader handles documents much larger than its index window", "[envoy][json]") {
  FOR_EACH_KERNEL();
  // ~5 MB: indexed window by window on the reader's thread.
  std::vector<std::string> expected;
  const std::string text = escape_torture(30000, expected);
  REQUIRE(text.size() > 3 * 512 * 1024);
  REQUIRE(text.size() < 8 * 1024 * 1024);
  check_escape_torture(text, expected);
}

TEST_CASE("JsonReader indexes big documents on a second thread correctly", "[envoy][json]") {
  FOR_EACH_KERNEL();
  // >= 8 MB: stage one runs ahead on another thread (where the machine has two cores).
  std::vector<std::string> expected;
  const std::string text = escape_torture(70000, expected);
  REQUIRE(text.size() >= 8 * 1024 * 1024);
  check_escape_torture(text, expected);
  // Stopping early (an error, or a reader dropped half-way) must not hang or crash.
  for (int stop_after : {0, 1, 5000}) {
    JsonReader r(text);
    r.begin_array();
    for (int i = 0; i < stop_after && r.next_element(); ++i) {
      r.skip_value();
    }
  }
  const std::string broken = text.substr(0, text.size() / 2) + "}"; // cut off, badly closed
  JsonReader r(broken);
  CHECK_THROWS_AS(r.skip_value(), JsonError);
}

TEST_CASE("field_is accepts Envoy's snake_case and protojson's camelCase", "[envoy][json]") {
  CHECK(field_is("route_config", "route_config"));
  CHECK(field_is("routeConfig", "route_config"));
  CHECK(field_is("lbEndpoints", "lb_endpoints"));
  CHECK_FALSE(field_is("route", "route_config"));
  CHECK_FALSE(field_is("routeconfig", "route_config"));
  CHECK_FALSE(field_is("RouteConfig", "route_config"));
  CHECK(json_camel_case("http2_protocol_options") == "http2ProtocolOptions");
  CHECK(json_camel_case("typed_config") == "typedConfig");
  CHECK(json_camel_case("@type") == "@type");
  CHECK(json_camel_case("a__b_2c") == "aB2c");
}

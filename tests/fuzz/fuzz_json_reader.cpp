// Fuzz target (differential): the streaming JsonReader (lib/envoy) against nlohmann/json on the
// same bytes, once per SIMD kernel this CPU has (SSE2, AVX2, AVX-512, forced with the test-only
// detail::force_kernel). The bytes are read in place, so ASan sees any read past their end.
//
// What "the same" means, and so what counts as a difference (each aborts):
// 1. Every kernel gives the same outcome: an equal value, or a JsonError with the same message
//    and offset. No slack here: the kernels must be indistinguishable.
// 2. When nlohmann::json::parse accepts the bytes (RFC 8259: no comments, no trailing commas),
//    the reader accepts them too, and its value equals nlohmann's:
//    - strings byte for byte, after unescaping;
//    - numbers as nlohmann parses the text the reader returns for them, so "1.0", "1e0" and
//      "10e-1" are one double, and an integer stays an integer (its exact value is compared);
//    - objects as nlohmann keeps them: of duplicate keys the last wins, member order is ignored;
//    - arrays element by element.
//    This holds for a walk that reads every value and for one that skips some (every odd array
//    element, every member whose key has an odd length): skipping must land where reading does.
// 3. Whatever the reader accepts, each number or literal it returns is valid JSON on its own, and
//    capture_value() of the whole document gives text that the reader reads back to the same value.
// 4. The reader throws nothing but JsonError.
// What is NOT a difference: the reader accepting bytes that nlohmann rejects for a reason
// json_reader.cpp says the reader does not check — bytes other than whitespace between tokens,
// raw control characters or invalid UTF-8 inside strings, unpaired \u surrogates (read as
// U+FFFD), and anything inside skipped values but brackets and strings; and a leading UTF-8 byte
// order mark, which nlohmann skips, and a NUL byte, where nlohmann ends the document (documents
// with either are not compared with nlohmann).

#include "envoy/json_index.hpp"
#include "envoy/json_reader.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using meshctl::envoy::JsonError;
using meshctl::envoy::JsonReader;
namespace detail = meshctl::envoy::detail;
using nlohmann::json;

const json k_skipped = "<skipped>";

[[noreturn]] void difference(const std::string& what, std::string_view input) {
  std::fprintf(stderr, "json_reader differs: %s\ninput (%zu bytes): %.*s\n", what.c_str(),
               input.size(), static_cast<int>(std::min<std::size_t>(input.size(), 2000)),
               input.data());
  std::abort();
}

// A number or literal the reader returned, as nlohmann reads it on its own. A number nlohmann
// cannot hold (1e400 overflows a double) keeps its text: nlohmann rejects the whole document then,
// so there is nothing to compare it with.
json scalar_value(const std::string& text, std::string_view input) {
  try {
    json v = json::parse(text);
    if (!v.is_primitive() || v.is_string()) {
      difference("the reader returned '" + text + "' as a number or literal", input);
    }
    return v;
  } catch (const json::out_of_range&) {
    return json("number " + text); // valid, but more than a double holds
  } catch (const json::parse_error&) {
    difference("the reader returned '" + text + "' as a number or literal", input);
  }
}

// Nesting deeper than this is left alone: walk() recurses, and the reader's own stack is a string.
constexpr int k_max_depth = 256;

int max_depth(std::string_view input) {
  int depth = 0;
  int deepest = 0;
  for (const char c : input) {
    if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

bool skip_member(std::string_view key) {
  return key.size() % 2 == 1;
}

// Reads the next value into a json; with `skipping`, odd array elements and members with odd-length
// keys are skipped (k_skipped in arrays, left out of objects).
json walk(JsonReader& r, bool skipping, std::string_view input) {
  switch (r.peek()) {
  case JsonReader::Kind::k_object: {
    json out = json::object();
    r.begin_object();
    std::string_view key;
    while (r.next_member(key)) {
      std::string k(key);
      if (skipping && skip_member(k)) {
        r.skip_value();
        out.erase(k); // a later duplicate that is skipped still replaces an earlier one
        continue;
      }
      out[k] = walk(r, skipping, input);
    }
    return out;
  }
  case JsonReader::Kind::k_array: {
    json out = json::array();
    r.begin_array();
    while (r.next_element()) {
      if (skipping && out.size() % 2 == 1) {
        r.skip_value();
        out.push_back(k_skipped);
        continue;
      }
      out.push_back(walk(r, skipping, input));
    }
    return out;
  }
  case JsonReader::Kind::k_string:
    return json(r.take_string());
  default:
    return scalar_value(r.read_scalar_text(), input);
  }
}

// nlohmann's value with the same parts skipped as walk(skipping = true).
json skipped_like_walk(const json& v) {
  if (v.is_object()) {
    json out = json::object();
    for (const auto& [k, child] : v.items()) {
      if (!skip_member(k)) {
        out[k] = skipped_like_walk(child);
      }
    }
    return out;
  }
  if (v.is_array()) {
    json out = json::array();
    for (std::size_t i = 0; i < v.size(); ++i) {
      out.push_back(i % 2 == 1 ? k_skipped : skipped_like_walk(v[i]));
    }
    return out;
  }
  return v;
}

// nlohmann's equality: numbers by value (1 == 1.0), objects as key-sorted maps.
bool same(const json& a, const json& b) {
  return a == b;
}

struct Outcome {
  std::optional<json> value;
  std::string error; // "offset: message" when the reader rejected the bytes
  bool operator==(const Outcome& o) const {
    return error == o.error && value.has_value() == o.value.has_value() &&
           (!value || same(*value, *o.value));
  }
};

Outcome read(std::string_view text, bool skipping, std::string_view input) {
  Outcome out;
  try {
    JsonReader r(text);
    json v = walk(r, skipping, input);
    r.expect_end();
    out.value = std::move(v);
  } catch (const JsonError& e) {
    out.error = std::to_string(e.offset()) + ": " + e.what();
  }
  return out;
}

std::string describe(const Outcome& o) {
  return o.value ? o.value->dump(-1, ' ', false, json::error_handler_t::replace)
                 : "error " + o.error;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (max_depth(input) > k_max_depth) {
    return 0;
  }
  const json reference = json::parse(input.begin(), input.end(), nullptr, false);
  // nlohmann skips a leading UTF-8 byte order mark; to the reader it is bytes before the value.
  const bool bom = input.substr(0, 3) == "\xEF\xBB\xBF";
  // nlohmann also ends a document at a NUL byte; the reader reads on.
  const bool nul = input.find('\0') != std::string_view::npos;
  const bool valid = !reference.is_discarded() && !bom && !nul;

  std::optional<Outcome> first_full;
  std::optional<Outcome> first_skipping;
  for (const auto kernel : detail::supported_kernels()) {
    const detail::ScopedKernel forced(kernel);
    const std::string name(detail::kernel_name(kernel));
    const Outcome full = read(input, false, input);
    const Outcome skipping = read(input, true, input);
    if (!first_full) {
      first_full = full;
      first_skipping = skipping;
    } else if (!(full == *first_full) || !(skipping == *first_skipping)) {
      difference("kernel " + name + " reads " + describe(full) + " where sse2 reads " +
                     describe(*first_full),
                 input);
    }
    if (valid) {
      if (!full.value || !same(*full.value, reference)) {
        difference("kernel " + name + ": reader " + describe(full) + ", nlohmann " +
                       reference.dump(),
                   input);
      }
      if (!skipping.value || !same(*skipping.value, skipped_like_walk(reference))) {
        difference("kernel " + name + ", skipping: reader " + describe(skipping) + ", nlohmann " +
                       skipped_like_walk(reference).dump(),
                   input);
      }
    }
    if (full.value) {
      // The captured text of the whole document reads back to the same value.
      std::string captured;
      try {
        JsonReader r(input);
        captured = r.capture_value();
      } catch (const JsonError& e) {
        difference("kernel " + name +
                       ": capture_value fails on what the reader accepted: " + e.what(),
                   input);
      }
      const Outcome again = read(captured, false, input);
      if (!again.value || !same(*again.value, *full.value)) {
        difference("kernel " + name + ": captured text reads as " + describe(again), input);
      }
    }
  }
  return 0;
}

#pragma once
// Shared plumbing of the lib/envoy readers: run a JsonReader over a dump and turn a JsonError
// into an Error naming the file, line, column and JSON path; name the path as errors unwind.

#include "core/error.hpp"
#include "core/shown.hpp"
#include "envoy/dump_source.hpp"
#include "envoy/field_names.hpp"
#include "envoy/json_reader.hpp"
#include "envoy/text.hpp"

#include <string>
#include <string_view>

namespace meshctl::envoy {

/// Runs `body(reader)` over the whole dump and checks nothing follows the document.
template <class T, class F> Result<T> parse_dump(const DumpBytes& dump, F&& body) {
  try {
    check_json_start(dump.text(), true); // binary data or blank space fails here, not 2 GB later
    JsonReader reader(dump.text(), dump.releaser());
    T out = body(reader);
    reader.expect_end();
    return out;
  } catch (const JsonError& e) {
    const auto [line, column] = dump.line_column(e.offset());
    std::string message = shown(dump.name()) + ": line " + std::to_string(line) + ", column " +
                          std::to_string(column) + ": " + e.what();
    if (!e.path().empty()) {
      message += " (at " + e.path() + ")";
    }
    return fail(std::move(message),
                "expected output of the proxy's admin API, e.g. `kubectl exec POD -c istio-proxy "
                "-- pilot-agent request GET config_dump`; check the file is complete");
  }
}

/// Runs `f()`, naming `segment` (a member name) in the path of any JsonError it throws. Inside
/// for_each_member that is not needed (it names every member as the file spells it); readers use
/// it for the snake_case name, or where one value is read on its own.
template <class F> decltype(auto) in_member(std::string_view segment, F&& f) {
  try {
    return f();
  } catch (JsonError& e) {
    e.add_member(segment);
    throw;
  }
}

/// Runs `f()`, naming array index `i` in the path of any JsonError it throws.
template <class F> decltype(auto) in_element(std::size_t i, F&& f) {
  try {
    return f();
  } catch (JsonError& e) {
    e.take_member_named();
    e.add_outer(cat({"[", std::to_string(i), "]"}));
    throw;
  }
}

/// Calls `each(index)` for every element of the array under the reader.
template <class F> void for_each_element(JsonReader& r, F&& each) {
  r.begin_array();
  std::size_t i = 0;
  while (r.next_element()) {
    in_element(i, [&] { each(i); });
    ++i;
  }
}

/// Calls `on_member(key)` for every member of the object under the reader. `on_member` reads the
/// member's value and returns true, or returns false and the value is skipped. Inlined: the
/// readers' hot loops cost what a hand-written `while (next_member)` loop costs.
template <class F> void for_each_member(JsonReader& r, F&& on_member) {
  r.begin_object();
  std::string_view key;
  while (r.next_member(key)) {
    try {
      if (!on_member(key)) {
        r.skip_value();
      }
    } catch (JsonError& e) {
      // Every member on the path of an error is named ("configs[3].dynamic_route_configs[0]
      // .route_config"), unless the reader named it already.
      if (!e.take_member_named()) {
        e.add_outer(r.in_document(key) ? key : std::string_view("(a member)"));
      }
      throw;
    }
  }
}

/// for_each_member, and when `raw` is not null the object's JSON text is copied there (what
/// `-o json` prints of one item).
template <class F> void for_each_member(JsonReader& r, std::string* raw, F&& on_member) {
  const std::size_t start = r.value_start();
  for_each_member(r, on_member);
  if (raw != nullptr) {
    *raw = std::string(r.slice(start, r.position()));
  }
}

/// Reads the object under the reader for its one member named `snake` (either JSON spelling, see
/// field_is): calls `read()` for that member's value and skips all others.
template <class F> void read_member(JsonReader& r, std::string_view snake, F&& read) {
  for_each_member(r, [&](std::string_view key) {
    if (!field_is(key, snake)) {
      return false;
    }
    read();
    return true;
  });
}

/// Reads an array of strings.
inline std::vector<std::string> read_string_array(JsonReader& r) {
  std::vector<std::string> out;
  r.begin_array();
  while (r.next_element()) {
    out.push_back(r.read_scalar_text());
  }
  return out;
}

/// Calls `on_member(key)` for every member of every element of a config_dump's "configs" array;
/// `on_member` returns false for members it did not read, which are skipped.
template <class F> void walk_config_dump(JsonReader& r, F&& on_member) {
  if (r.peek() != JsonReader::Kind::k_object) {
    JsonReader::fail_at("expected a config_dump object ({\"configs\": [...]})", r.value_start());
  }
  read_member(r, "configs", [&] {
    in_member("configs", [&] {
      for_each_element(r, [&](std::size_t) {
        if (r.peek() != JsonReader::Kind::k_object) {
          r.skip_value();
          return;
        }
        for_each_member(r, on_member);
      });
    });
  });
}

} // namespace meshctl::envoy

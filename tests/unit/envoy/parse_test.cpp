// The loops the lib/envoy readers share (envoy/parse.hpp): members read or skipped in either JSON
// spelling, and errors that name the path down to the member being read.

#include "envoy/parse.hpp"
#include "support/testing.hpp"

#include <string>
#include <vector>

using meshctl::envoy::for_each_element;
using meshctl::envoy::for_each_member;
using meshctl::envoy::in_member;
using meshctl::envoy::JsonError;
using meshctl::envoy::JsonReader;
using meshctl::envoy::read_member;

TEST_CASE("for_each_member reads the members it takes and skips the rest", "[envoy][json]") {
  JsonReader r(R"({"name":"a","skip":{"deep":[1,{"x":2}]},"port":15443,"tail":[true]})");
  std::string name;
  std::uint64_t port = 0;
  std::vector<std::string> seen;
  for_each_member(r, [&](std::string_view k) {
    seen.emplace_back(k);
    if (k == "name") {
      name = r.take_string();
    } else if (k == "port") {
      port = r.read_uint();
    } else {
      return false;
    }
    return true;
  });
  r.expect_end();
  CHECK(name == "a");
  CHECK(port == 15443);
  CHECK(seen == std::vector<std::string>{"name", "skip", "port", "tail"});
}

TEST_CASE("read_member takes one member in snake_case or camelCase", "[envoy][json]") {
  for (const char* doc :
       {R"({"a":1,"route_config_name":"r","b":[2]})", R"({"a":1,"routeConfigName":"r","b":[2]})"}) {
    JsonReader r(doc);
    std::string got;
    read_member(r, "route_config_name", [&] { got = r.take_string(); });
    r.expect_end();
    CHECK(got == "r");
  }
  JsonReader none(R"({"other":"x"})");
  bool called = false;
  read_member(none, "route_config_name", [&] { called = true; });
  none.expect_end();
  CHECK_FALSE(called);
}

TEST_CASE("errors inside the shared loops name the path", "[envoy][json]") {
  JsonReader r(R"({"configs":[{"ok":1},{"ports":[1,"x"]}]})");
  try {
    read_member(r, "configs", [&] {
      in_member("configs", [&] {
        for_each_element(r, [&](std::size_t) {
          for_each_member(r, [&](std::string_view k) {
            if (k != "ports") {
              return false;
            }
            in_member("ports", [&] { for_each_element(r, [&](std::size_t) { r.read_uint(); }); });
            return true;
          });
        });
      });
    });
    FAIL("no error for a string port");
  } catch (const JsonError& e) {
    CHECK(e.path() == "configs[1].ports[1]");
  }
}

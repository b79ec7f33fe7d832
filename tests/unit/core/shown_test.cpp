#include "core/shown.hpp"

#include <catch2/catch.hpp>

using namespace meshctl;

TEST_CASE("shown escapes control characters and bytes that are not UTF-8", "[core]") {
  CHECK(shown("helloworld.dev") == "helloworld.dev");
  CHECK(shown("hello\x1b[31mworld.dev") == "hello\\x1b[31mworld.dev");
  CHECK(shown(std::string("a\0b", 3)) == "a\\x00b");
  CHECK(shown("tab\there\nline\x7f") == "tab\\x09here\\x0aline\\x7f");
  CHECK(shown("csi \xc2\x9b"
              "2J") == "csi \\u009b2J"); // C1 control U+009B
  CHECK(shown("bad \xff\xfe") == "bad \\xff\\xfe");
  CHECK(shown("caf\xc3\xa9 \xe2\x80\xa6") == "caf\xc3\xa9 \xe2\x80\xa6"); // valid UTF-8 stays
  CHECK(shown_quoted("x\x1b") == "\"x\\x1b\"");
}

TEST_CASE("shown keeps the head and tail of a long value", "[core]") {
  const std::string long_value = "head-" + std::string(100000, 'a') + "-tail";
  const std::string s = shown(long_value);
  CHECK(s.size() <= k_shown_max + 2); // "…" is three bytes
  CHECK(s.rfind("head-aaa", 0) == 0);
  CHECK(s.ends_with("aaa-tail"));
  CHECK(s.find("\xe2\x80\xa6") != std::string::npos);
  CHECK(shown(long_value, 20).size() <= 22);
  // Never cut inside an escape or a multi-byte character.
  const std::string escapes(300, '\x1b');
  const std::string e = shown(escapes, 30);
  CHECK(e.rfind("\\x1b", 0) == 0);
  CHECK(e.ends_with("\\x1b"));
  const std::string wide = shown(std::string(200, 'x') + "\xe2\x82\xac\xe2\x82\xac", 11);
  CHECK(invalid_utf8_at(wide) == std::string::npos);
}

TEST_CASE("valid_utf8 replaces each bad byte with U+FFFD", "[core]") {
  CHECK(valid_utf8("plain") == "plain");
  CHECK(valid_utf8("a\xff"
                   "b") == "a\xef\xbf\xbd"
                           "b");
  CHECK(valid_utf8("\xe2\x82") == "\xef\xbf\xbd\xef\xbf\xbd");                 // a cut-off sequence
  CHECK(valid_utf8("\xc0\xaf") == "\xef\xbf\xbd\xef\xbf\xbd");                 // overlong '/'
  CHECK(valid_utf8("\xed\xa0\x80") == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); // a surrogate
  CHECK(valid_utf8("\xf0\x9f\x98\x80") == "\xf0\x9f\x98\x80");
  CHECK(invalid_utf8_at("ok\xe2\x82\xac then \xff") == 11);
  CHECK(utf8_length_at("\xe2\x82\xac", 0) == 3);
  CHECK(utf8_length_at("\x82", 0) == 0);
}

#include "core/base64.hpp"
#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/fanout.hpp"
#include "core/json.hpp"
#include "core/output.hpp"
#include "core/redact.hpp"
#include "core/strings.hpp"
#include "core/suggest.hpp"
#include "core/try.hpp"

#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include <thread>

using namespace meshctl;

TEST_CASE("errors carry context outer to inner and keep the innermost hint", "[core]") {
  Error e(ExitCode::k_unreachable, "connection refused", "check the API server address");
  e.with_context("reading Secret istio-system/cacerts").with_context("wuxi");
  e.with_hint("outer hint");
  CHECK(e.what() == "wuxi: reading Secret istio-system/cacerts: connection refused");
  CHECK(e.hint() == "check the API server address");
  CHECK(e.code() == ExitCode::k_unreachable);

  Result<int> r = fail("boom");
  r = context(std::move(r), "step");
  REQUIRE_FALSE(r);
  CHECK(r.error().what() == "step: boom");
}

TEST_CASE("did you mean finds close words and rejects distant ones", "[core]") {
  const std::vector<std::string> verbs{"join", "expose", "localize", "sync-svc", "verify"};
  CHECK(did_you_mean("jion", verbs) == "join");
  CHECK(did_you_mean("verfy", verbs) == "verify");
  CHECK(did_you_mean("sync", verbs) == "sync-svc");
  CHECK_FALSE(did_you_mean("kubernetes", verbs).has_value());
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(did_you_mean_suffix("wux", {"wuxi", "cn-shanghai"}) == " (did you mean \"wuxi\"?)");
  // The word itself is never the suggestion ("--context" (did you mean "--context"?)).
  CHECK_FALSE(did_you_mean("--context", {"--context"}).has_value());
  CHECK(did_you_mean("--context", {"--context", "--contexts"}) == "--contexts");
}

TEST_CASE("redaction hides registered secrets, bearer tokens and private keys", "[core]") {
  register_secret("s3cr3t-token-value");
  register_secret("abc"); // too short: ignored, or it would scrub ordinary words
  CHECK(redact("token: s3cr3t-token-value\n") == "token: <redacted>\n");
  CHECK(redact("abc") == "abc");
  CHECK(redact("Authorization: Bearer eyJhbGciOi.x.y") == "Authorization: Bearer <redacted>");
  const std::string pem =
      "a\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\nabcd\n-----END RSA PRIVATE KEY-----\nb";
  CHECK(redact(pem) == "a\n<redacted>\nb");
  const std::string cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
  CHECK(redact(cert) == cert);
}

TEST_CASE("output formats parse and suggest", "[core]") {
  CHECK(parse_output_format("json").value() == OutputFormat::k_json);
  CHECK(parse_output_format("wide").value() == OutputFormat::k_wide);
  auto bad = parse_output_format("jsno");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code() == ExitCode::k_usage);
  CHECK(bad.error().message().find("did you mean \"json\"") != std::string::npos);
}

TEST_CASE("to_yaml quotes what YAML would misread and round-trips", "[core]") {
  nlohmann::json j = {{"a", "true"},
                      {"b", "1.5"},
                      {"c", "plain"},
                      {"d", "x: y"},
                      {"e", "line1\nline2"},
                      {"f", 7},
                      {"g", nlohmann::json::array({"*.local"})},
                      {"h", ""},
                      {"i", "{}"}};
  const std::string y = to_yaml(j);
  const YAML::Node n = YAML::Load(y);
  CHECK(n["a"].Tag() == "!");
  CHECK(n["a"].as<std::string>() == "true");
  CHECK(n["b"].as<std::string>() == "1.5");
  CHECK(n["d"].as<std::string>() == "x: y");
  CHECK(n["e"].as<std::string>() == "line1\nline2");
  CHECK(n["f"].as<int>() == 7);
  CHECK(n["g"][0].as<std::string>() == "*.local");
  CHECK(n["h"].as<std::string>().empty());
  CHECK(n["i"].as<std::string>() == "{}");
  CHECK(yaml_needs_quotes("no"));
  CHECK(yaml_needs_quotes("0x1F"));
  CHECK_FALSE(yaml_needs_quotes("cn-shanghai"));
  CHECK(yaml_double_quote("a\"b\n") == "\"a\\\"b\\n\"");
}

TEST_CASE("fan-out runs clusters concurrently and keeps input order", "[core]") {
  const std::vector<std::string> clusters{"a", "b", "c"};
  const auto start = std::chrono::steady_clock::now();
  auto results = for_each_cluster(clusters, [](const std::string& c) {
    std::this_thread::sleep_for(std::chrono::milliseconds(c == "a" ? 150 : 100));
    return c + "!";
  });
  const auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE(results.size() == 3);
  CHECK(results[0].cluster == "a");
  CHECK(results[0].value == "a!");
  CHECK(results[2].value == "c!");
  CHECK(elapsed < std::chrono::milliseconds(340)); // serial would take 350 ms
}

TEST_CASE("string helpers trim, join, compare and split ASCII", "[core]") {
  CHECK(trim("  \t a b \r\n") == "a b");
  CHECK(trim(" \n ").empty());
  CHECK(join({"a", "b", "c"}) == "a, b, c");
  CHECK(join({"a", "b"}, "/") == "a/b");
  CHECK(join({}, "/").empty());
  CHECK(iequals("Sec-WebSocket-Accept", "sec-websocket-accept"));
  CHECK_FALSE(iequals("abc", "abd"));
  CHECK_FALSE(iequals("abc", "abcd"));
  CHECK(to_lower("HTTP/1.1 Upgrade") == "http/1.1 upgrade");
  CHECK(split("a,,b", ',') == std::vector<std::string>{"a", "", "b"});
  CHECK(split("", ',') == std::vector<std::string>{""});
}

TEST_CASE("JSON readers treat missing and mistyped members as absent", "[core]") {
  const auto j = nlohmann::json::parse(
      R"({"metadata":{"name":"istiod","labels":{"app":"istiod"}},"n":3,"f":2.0,"big":1e300,"s":5,"a":{}})");
  CHECK(str(member(j, "metadata"), "name") == "istiod");
  CHECK(str(j, "s").empty());
  CHECK(str(j, "missing").empty());
  CHECK(member_at(j, {"metadata", "labels", "app"}) == "istiod");
  CHECK(member_at(j, {"metadata", "nope", "app"}).is_null());
  CHECK(member(nlohmann::json::array(), "x").is_null());
  CHECK(array_of(j, "a").is_array());
  CHECK(array_of(j, "a").empty());
  CHECK(object_of(j, "metadata").size() == 2);
  CHECK(object_of(j, "n").empty());
  CHECK(int_of(j, "n") == 3);
  CHECK(int_of(j, "f") == 2);
  CHECK(int_of(j, "big", -1) == -1);
  CHECK(int_of(j, "metadata", 7) == 7);
}

namespace {
Result<int> parse_positive(int v) {
  if (v <= 0) {
    return fail("not positive: " + std::to_string(v));
  }
  return v;
}
Result<void> check_positive(int v) {
  TRY(parse_positive(v));
  return {};
}
Result<int> doubled(int v) {
  TRY_ASSIGN(const int n, parse_positive(v));
  TRY_CTX(check_positive(n - 1), "checking " + std::to_string(n));
  return 2 * n;
}
} // namespace

TEST_CASE("TRY, TRY_CTX and TRY_ASSIGN return the first error with its context", "[core]") {
  CHECK(doubled(5) == 10);
  REQUIRE_FALSE(doubled(-1));
  CHECK(doubled(-1).error().what() == "not positive: -1");
  REQUIRE_FALSE(doubled(1));
  CHECK(doubled(1).error().what() == "checking 1: not positive: 0");
  CHECK(check_positive(2).has_value());
}

TEST_CASE("base64: one decoder, strict or skipping line breaks, with reasons", "[core][base64]") {
  CHECK(base64_decode("Zm9vYmFy") == "foobar");
  CHECK(base64_decode("Zm9vYg==") == "foob");
  CHECK(base64_decode("Zm9vYmE=") == "fooba");
  CHECK(base64_decode("") == "");
  CHECK_FALSE(base64_decode("Zm9v\nYmFy").has_value());
  CHECK_FALSE(base64_decode("Zg=A").has_value());
  CHECK_FALSE(base64_decode("Z===").has_value());
  CHECK_FALSE(base64_decode("Zg==Zg==").has_value());

  // Go's StdEncoding (so encoding/json's []byte) skips '\r' and '\n' anywhere.
  CHECK(base64_decode_lines("Zm9v\r\nYmFy\n", Base64Breaks::k_skip) == "foobar");
  CHECK(base64_decode_lines("Zm\n9vYg=\n=", Base64Breaks::k_skip) == "foob");
  CHECK(base64_decode_lines("\n\n", Base64Breaks::k_skip) == "");
  CHECK(base64_decode_lines("Zm9v\nYmFy", Base64Breaks::k_refuse).error() ==
        "illegal character at offset 4");

  CHECK(base64_decode_lines("not*base64", Base64Breaks::k_skip).error() ==
        "illegal character at offset 3");
  CHECK(base64_decode_lines("Zm9vYg", Base64Breaks::k_skip).error() ==
        "length 6 is not a multiple of 4 (missing padding?)");
  CHECK(base64_decode_lines("Zm9v==Zm", Base64Breaks::k_skip).error() ==
        "misplaced padding at offset 4");
  CHECK(base64_decode_lines("Zg=A", Base64Breaks::k_skip).error() ==
        "data after padding at offset 3");
  // Offsets count the bytes as given, line breaks included.
  CHECK(base64_decode_lines("Zm9v\n\n==Zm", Base64Breaks::k_skip).error() ==
        "misplaced padding at offset 6");

  // Every byte value survives a round trip.
  std::string all;
  for (int c = 0; c < 256; ++c) {
    all += static_cast<char>(c);
  }
  CHECK(base64_decode(base64_encode(all)) == all);
}

TEST_CASE("durations as people type them — plain numbers are seconds", "[core]") {
  using std::chrono::milliseconds;
  CHECK(parse_duration("30", "--timeout") == milliseconds(30000));
  CHECK(parse_duration("30s", "--timeout") == milliseconds(30000));
  CHECK(parse_duration("2m", "--timeout") == milliseconds(120000));
  CHECK(parse_duration("1m30s", "--timeout") == milliseconds(90000));
  CHECK(parse_duration("1.5s", "--timeout") == milliseconds(1500));
  CHECK(parse_duration("250ms", "--timeout") == milliseconds(250));
  CHECK(parse_duration("1h", "--timeout") == milliseconds(3600000));
  CHECK(parse_duration("0.5", "--timeout") == milliseconds(500));
  for (const char* bad : {"", "0", "0s", "-5", "soon", "5x", "s", "1m30", "."}) {
    INFO(bad);
    const auto r = parse_duration(bad, "--timeout");
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ExitCode::k_usage);
    CHECK(r.error().what().rfind("--timeout ", 0) == 0);
    CHECK(r.error().hint().find("1m30s") != std::string::npos);
  }
  CHECK(format_duration(milliseconds(90000)) == "1m30s");
  CHECK(format_duration(milliseconds(3000)) == "3s");
  CHECK(format_duration(milliseconds(1500)) == "1.5s");
  CHECK(format_duration(milliseconds(250)) == "250ms");
}

TEST_CASE("an error about a cluster starts with its name, once", "[core]") {
  Error e(ExitCode::k_failed, "boom");
  e.with_context("reading cacerts");
  CHECK(e.with_cluster("wuxi").what() == "wuxi: reading cacerts: boom");
  CHECK(e.with_cluster("wuxi").what() == "wuxi: reading cacerts: boom");
}

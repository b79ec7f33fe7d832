#include "kube/body_log.hpp"

#include <catch2/catch.hpp>

#include <string>

using meshctl::kube::loggable_body;

TEST_CASE("bodies logged at -vvv hide a Secret's values, in an object and in a list",
          "[kube][log]") {
  const std::string secret =
      R"({"kind":"Secret","metadata":{"name":"cacerts"},"data":{"ca-key.pem":"c2VjcmV0"},)"
      R"("stringData":{"token":"plain-secret"}})";
  const auto shown = loggable_body(secret);
  CHECK(shown.find("c2VjcmV0") == std::string::npos);
  CHECK(shown.find("plain-secret") == std::string::npos);
  CHECK(shown.find(R"("ca-key.pem":"<redacted>")") != std::string::npos);
  CHECK(shown.find(R"("name":"cacerts")") != std::string::npos); // the rest stays readable

  const std::string list = R"({"kind":"SecretList","items":[)" + secret + "]}";
  CHECK(loggable_body(list).find("c2VjcmV0") == std::string::npos);
}

TEST_CASE("bodies logged at -vvv hide the tokens of TokenReview and TokenRequest", "[kube][log]") {
  const auto review = loggable_body(R"({"kind":"TokenReview","spec":{"token":"eyJhbGciOi.abc"}})");
  CHECK(review.find("eyJhbGciOi") == std::string::npos);
  const auto request = loggable_body(
      R"({"kind":"TokenRequest","status":{"token":"eyJhbGciOi.def","expirationTimestamp":"x"}})");
  CHECK(request.find("eyJhbGciOi") == std::string::npos);
  CHECK(request.find("expirationTimestamp") != std::string::npos);
}

TEST_CASE("bodies logged at -vvv are cut at the limit, and text too long to scrub is not shown",
          "[kube][log]") {
  CHECK(loggable_body("") == "(empty)");
  const std::string big =
      R"({"kind":"ConfigMap","data":{"a":")" + std::string(10000, 'x') + R"("}})";
  const auto cut = loggable_body(big, 100);
  CHECK(cut.size() < 200);
  CHECK(cut.find("(" + std::to_string(big.size()) + " bytes)") != std::string::npos);
  CHECK(loggable_body(std::string(5000, 'y'), 100) == "(5000 bytes, not shown)");
  CHECK(loggable_body("not json", 100) == "not json");
  // Private key blocks are scrubbed even where the body is not JSON.
  const auto pem = loggable_body("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");
  CHECK(pem.find("MIIE") == std::string::npos);
}

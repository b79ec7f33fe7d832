// Quantities as kube-apiserver reads and stores them. The tables are the cases of
// k8s.io/apimachinery/pkg/api/resource/quantity_test.go (TestQuantityParse, TestQuantityString,
// TestQuantityParseEmit, TestQuantityCmp and the invalid inputs), so a difference from upstream
// shows up as a failing row.

#include "kube/quantity.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace meshctl::kube;

namespace {

Quantity must(const std::string& s) {
  auto q = Quantity::parse(s);
  INFO(s);
  REQUIRE(q.has_value());
  return *q;
}

std::string canon(const std::string& s) {
  return must(s).canonical();
}

struct ParseCase {
  const char* input;
  const char* value; ///< the same value written plainly ("5e-9")
  QuantityFormat format;
};

constexpr auto k_dsi = QuantityFormat::k_decimal_si;
constexpr auto k_bsi = QuantityFormat::k_binary_si;
constexpr auto k_dex = QuantityFormat::k_decimal_exponent;

} // namespace

TEST_CASE("quantities parse to upstream's values and formats", "[kube][quantity]") {
  // TestQuantityParse's table: decQuantity(m, e, f) is written "me<e>" here.
  const std::vector<ParseCase> table{
      {"0", "0", k_dsi},
      {"0n", "0", k_dsi},
      {"0u", "0", k_dsi},
      {"0m", "0", k_dsi},
      {"0Ki", "0", k_bsi},
      {"0k", "0", k_dsi},
      {"0Mi", "0", k_bsi},
      {"0M", "0", k_dsi},
      {"0Gi", "0", k_bsi},
      {"0G", "0", k_dsi},
      {"0Ti", "0", k_bsi},
      {"0T", "0", k_dsi},
      {"1", "1", k_dsi},
      {"1Ki", "1024", k_bsi},
      {"8Ki", "8192", k_bsi},
      {"7Mi", "7340032", k_bsi},
      {"6Gi", "6442450944", k_bsi},
      {"5Ti", "5497558138880", k_bsi},
      {"4Pi", "4503599627370496", k_bsi},
      {"3Ei", "3458764513820540928", k_bsi},
      {"10Ti", "10995116277760", k_bsi},
      {"100Ti", "109951162777600", k_bsi},
      {"5n", "5e-9", k_dsi},
      {"4u", "4e-6", k_dsi},
      {"3m", "3e-3", k_dsi},
      {"9", "9", k_dsi},
      {"8k", "8e3", k_dsi},
      {"50k", "5e4", k_dsi},
      {"7M", "7e6", k_dsi},
      {"6G", "6e9", k_dsi},
      {"5T", "5e12", k_dsi},
      {"40T", "4e13", k_dsi},
      {"300T", "3e14", k_dsi},
      {"2P", "2e15", k_dsi},
      {"1E", "1e18", k_dsi},
      {"1E-3", "1e-3", k_dex},
      {"1e3", "1e3", k_dex},
      {"1E6", "1e6", k_dex},
      {"1e9", "1e9", k_dex},
      {"1E12", "1e12", k_dex},
      {"1e15", "1e15", k_dex},
      {"1E18", "1e18", k_dex},
      {"1e14", "1e14", k_dex},
      {"1e13", "1e13", k_dex},
      {"100.035k", "100035", k_dsi},
      {"0.001", "1e-3", k_dsi},
      {"0.0005k", "5e-1", k_dsi},
      {"0.005", "5e-3", k_dsi},
      {"0.05", "5e-2", k_dsi},
      {"0.5", "5e-1", k_dsi},
      {"0.00050k", "5e-1", k_dsi},
      {"0.00500", "5e-3", k_dsi},
      {"0.05000", "5e-2", k_dsi},
      {"0.50000", "5e-1", k_dsi},
      {"0.5e0", "5e-1", k_dex},
      {"0.5e-1", "5e-2", k_dex},
      {"0.5e-2", "5e-3", k_dex},
      {"10.035M", "10035e3", k_dsi},
      {"1.2e3", "12e2", k_dex},
      {"1.3E+6", "13e5", k_dex},
      {"1.40e9", "14e8", k_dex},
      {"1.53E12", "153e10", k_dex},
      {"1.6e15", "16e14", k_dex},
      {"1.7E18", "17e17", k_dex},
      {"9.01", "901e-2", k_dsi},
      {"8.1k", "81e2", k_dsi},
      {"7.123456M", "7123456", k_dsi},
      {"6.987654321G", "6987654321", k_dsi},
      {"5.444T", "5444e9", k_dsi},
      {"40.1T", "401e11", k_dsi},
      {"300.2T", "3002e11", k_dsi},
      {"2.5P", "25e14", k_dsi},
      {"1.01E", "101e16", k_dsi},
      // rounding up to 1n, and the binary cap
      {"3.001n", "4e-9", k_dsi},
      {"1.1E-9", "2e-9", k_dex},
      {"0.0000000001", "1e-9", k_dsi},
      {"0.0000000005", "1e-9", k_dsi},
      {"0.00000000050", "1e-9", k_dsi},
      {"0.5e-9", "1e-9", k_dex},
      {"0.9n", "1e-9", k_dsi},
      {"0.00000012345", "124e-9", k_dsi},
      {"0.00000012354", "124e-9", k_dsi},
      {"9Ei", "9223372036854775807", k_bsi},
      {"9223372036854775807Ki", "9223372036854775807", k_bsi},
      {"12E", "12e18", k_dsi},
      // fractional binary
      {"100.035Ki", "10243584e-2", k_bsi},
      {"0.5Mi", "524288", k_bsi},
      {"0.05Gi", "536870912e-1", k_bsi},
      {"0.025Ti", "274877906944e-1", k_bsi},
      // "written by trolls"
      {"0.000000000001Ki", "2e-9", k_dsi},
      {".001", "1e-3", k_dsi},
      {".0001k", "100e-3", k_dsi},
      {"1.", "1", k_dsi},
      {"1.G", "1e9", k_dsi},
  };
  for (const auto& c : table) {
    INFO(c.input);
    const auto got = must(c.input);
    CHECK(got == must(c.value));
    CHECK(got.format() == c.format);
    // The negative and the explicitly positive versions, as upstream checks them.
    const auto neg = must(std::string("-") + c.input);
    CHECK(neg.format() == c.format);
    CHECK(neg.compare(got) == (got.compare(must("0")) == 0 ? 0 : -1));
    CHECK(must(std::string("+") + c.input) == got);
  }
}

TEST_CASE("invalid quantities are refused", "[kube][quantity]") {
  for (const char* s : {"", "1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i",
                        "-3.01e-", " 1", "1 ", "1K", "1e", "Non-Numeric"}) {
    INFO(s);
    CHECK_FALSE(Quantity::parse(s).has_value());
  }
}

TEST_CASE("the canonical string is what the API server stores", "[kube][quantity]") {
  // TestQuantityString: {expect, alternate}. The canonical string parses to itself; the
  // alternate spelling canonicalises to it.
  const std::vector<std::pair<const char*, const char*>> table{
      {"1Gi", "1024Mi"},
      {"300Mi", "307200Ki"},
      {"6Ki", ""},
      {"1001Gi", "1025024Mi"},
      {"1Ti", "1024Gi"},
      {"5", "5000m"},
      {"500m", "0.5"},
      {"1G", "1000M"},
      {"1G", "0.001T"},
      {"1m", "1000u"},
      {"80m", ""},
      {"1080m", "1.08"},
      {"1080m", "1080000000n"},
      {"300M", ""},
      {"1T", ""},
      {"1E", ""},
      {"1e21", "1000E"},
      {"5e21", "5000E"},
      {"1e24", "1000000E"},
      {"1234567M", ""},
      {"1234567m", ""},
      {"3k", ""},
      {"1025", ""},
      {"0", ""},
      {"1e9", ".001e12"},
      {"1e-3", "0.001e0"},
      {"1e-9", "1000e-12"},
      {"80e-3", ""},
      {"300e6", ""},
      {"1e12", ""},
      {"1e3", ""},
      {"3e3", ""},
      {"0", "00"},
      {"1n", ""},
      {"80n", ""},
      {"1080n", ""},
      {"1u", ""},
      {"80u", ""},
      {"1080u", ""},
  };
  for (const auto& [expect, alternate] : table) {
    INFO(expect << " / " << alternate);
    CHECK(canon(expect) == expect);
    if (std::string(alternate).empty()) {
      continue;
    }
    CHECK(canon(alternate) == expect);
    if (std::string(expect) != "0") {
      CHECK(canon(std::string("-") + alternate) == std::string("-") + expect);
    }
  }
  // TestQuantityParseEmit, positive and negative.
  const std::vector<std::pair<const char*, const char*>> emit{
      {"1Ki", "1Ki"},
      {"1Mi", "1Mi"},
      {"1Gi", "1Gi"},
      {"1024Mi", "1Gi"},
      {"1000M", "1G"},
      {".001Ki", "1024m"},
      {".000001Ki", "1024u"},
      {".000000001Ki", "1024n"},
      {".000000000001Ki", "2n"},
  };
  for (const auto& [in, expect] : emit) {
    INFO(in);
    CHECK(canon(in) == expect);
    CHECK(canon(std::string("-") + in) == std::string("-") + expect);
  }
}

TEST_CASE("what meshctl's gateway writes reads back the way kube-apiserver writes it",
          "[kube][quantity]") {
  CHECK(canon("2000m") == "2");
  CHECK(canon("1024Mi") == "1Gi");
  CHECK(canon("100m") == "100m");
  CHECK(canon("128Mi") == "128Mi");
  CHECK(canon("1000Mi") == "1000Mi");
  CHECK(canon("1.5Gi") == "1536Mi");
  CHECK(canon("1.5") == "1500m");
  CHECK(canon("1.5k") == "1500");
  CHECK(canon("1500m") == "1500m");
  CHECK(canon("512Ki") == "512Ki");
  CHECK(canon("0.5Ki") == "512");
  CHECK(canon("1.1Ki") == "1126400m"); // a fraction left after the suffix: written as decimal
  CHECK(canon("100e-2") == "1");
  // ParseQuantity keeps text that is canonical enough as it was written, sign and all.
  CHECK(canon("+100m") == "+100m");
  CHECK(canon("1E3") == "1E3");
  CHECK(canon("-0") == "0");
  CHECK(canon("0.0") == "0");
}

TEST_CASE("quantities compare by value", "[kube][quantity]") {
  CHECK(must("0").compare(must("0")) == 0);
  CHECK(must("100m").compare(must("50m")) == 1);
  CHECK(must("50m").compare(must("100m")) == -1);
  CHECK(must("10000T").compare(must("100Gi")) == 1);
  CHECK(must("2") == must("2000m"));
  CHECK(must("1Gi") == must("1024Mi"));
  CHECK(must("1G") == must("1e9"));
  CHECK_FALSE(must("2") == must("3"));
  CHECK(must("-1").compare(must("1")) == -1);
  CHECK(must("-2").compare(must("-1")) == -1);
}

TEST_CASE("JSON quantities are strings or numbers", "[kube][quantity]") {
  CHECK(canonical_quantity(nlohmann::json(" 1")) == "1");
  CHECK(canonical_quantity(nlohmann::json("1 ")) == "1");
  CHECK(canonical_quantity(nlohmann::json(10)) == "10");
  CHECK(canonical_quantity(nlohmann::json(-1)) == "-1");
  CHECK(canonical_quantity(nlohmann::json(0.5)) == "500m");
  CHECK(canonical_quantity(nlohmann::json(2)) == "2");
  CHECK_FALSE(canonical_quantity(nlohmann::json(true)).has_value());
  CHECK_FALSE(canonical_quantity(nlohmann::json("lots")).has_value());
}

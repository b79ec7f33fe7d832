// Quantity parsing and canonical form, after k8s.io/apimachinery/pkg/api/resource (quantity.go,
// amount.go, suffix.go).
//
// ParseQuantity splits the text into sign, integer digits, fraction digits and suffix; the suffix
// names a base (10 or 2), an exponent and a format. The value is exact: digits * 10^exponent for
// decimal suffixes, digits * 2^exponent for binary ones; anything finer than 1n is rounded up
// (away from zero) to 1n, and binary values are capped at 2^63-1.
//
// The string the server stores comes from one of two places:
//  - ParseQuantity's fast path keeps the input text verbatim when it is already "canonical
//    enough": for decimal and exponent formats, a scale that is a multiple of three, no trailing
//    "000" and no leading zero in the digits (so "100m", "+100m" and "1E3" stay as written); for
//    binary, a multiplier not divisible by eight ("1Gi", "1025Mi"). The fast path only runs when
//    the number fits its int64 estimate, so we mirror that estimate too.
//  - otherwise CanonicalizeBytes: zero is "0"; binary values between -1024 and 1024, or with a
//    fraction, are written as decimal; decimal mantissas lose their trailing zeros and are then
//    padded until the exponent is a multiple of three, written with the SI suffix of that exponent
//    (or "eN" where no suffix exists, above E); binary ones are divided by 1024 while they divide.
//
// Values are held as decimal digit strings, so no input overflows: the arithmetic needed
// (multiply by a power of two, divide by 1024, round up) is done by hand on the digits.

#include "kube/quantity.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <utility>

namespace meshctl::kube {

namespace {

constexpr int k_nano = -9;
// Beyond this decimal exponent a quantity is refused: upstream would build a number with that many
// digits; nothing meshctl or a cluster uses comes close.
constexpr int k_max_exponent = 4096;

struct Suffix {
  std::string_view text;
  int exponent;
};
constexpr std::array<Suffix, 10> k_decimal_suffixes{{{"n", -9},
                                                     {"u", -6},
                                                     {"m", -3},
                                                     {"", 0},
                                                     {"k", 3},
                                                     {"M", 6},
                                                     {"G", 9},
                                                     {"T", 12},
                                                     {"P", 15},
                                                     {"E", 18}}};
constexpr std::array<Suffix, 6> k_binary_suffixes{
    {{"Ki", 10}, {"Mi", 20}, {"Gi", 30}, {"Ti", 40}, {"Pi", 50}, {"Ei", 60}}};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

void strip_leading_zeros(std::string& digits) {
  const auto nz = digits.find_first_not_of('0');
  if (nz == std::string::npos) {
    digits = "0";
  } else {
    digits.erase(0, nz);
  }
}

// digits * factor, factor < 2^32.
std::string multiply(const std::string& digits, std::uint32_t factor) {
  std::string out(digits.size() + 10, '0');
  std::uint64_t carry = 0;
  std::size_t pos = out.size();
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    const std::uint64_t v = static_cast<std::uint64_t>(*it - '0') * factor + carry;
    out[--pos] = static_cast<char>('0' + v % 10);
    carry = v / 10;
  }
  while (carry > 0) {
    out[--pos] = static_cast<char>('0' + carry % 10);
    carry /= 10;
  }
  strip_leading_zeros(out);
  return out;
}

// (digits / divisor, digits % divisor).
std::pair<std::string, std::uint32_t> divide(const std::string& digits, std::uint32_t divisor) {
  std::string q;
  q.reserve(digits.size());
  std::uint64_t rem = 0;
  for (const char c : digits) {
    rem = rem * 10 + static_cast<std::uint64_t>(c - '0');
    q.push_back(static_cast<char>('0' + rem / divisor));
    rem %= divisor;
  }
  strip_leading_zeros(q);
  return {q, static_cast<std::uint32_t>(rem)};
}

// Adds one to a digit string.
std::string increment(std::string digits) {
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (*it != '9') {
      ++*it;
      return digits;
    }
    *it = '0';
  }
  return "1" + digits;
}

// Compares two magnitudes given as (digits without leading/trailing zeros, exponent).
int compare_magnitude(const std::string& a, int ea, const std::string& b, int eb) {
  const bool za = a == "0";
  const bool zb = b == "0";
  if (za || zb) {
    return za && zb ? 0 : (za ? -1 : 1);
  }
  const long la = static_cast<long>(a.size()) + ea; // position of the leading digit
  const long lb = static_cast<long>(b.size()) + eb;
  if (la != lb) {
    return la < lb ? -1 : 1;
  }
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const char ca = i < a.size() ? a[i] : '0';
    const char cb = i < b.size() ? b[i] : '0';
    if (ca != cb) {
      return ca < cb ? -1 : 1;
    }
  }
  return 0;
}

// Moves trailing zeros of a non-zero mantissa into the exponent.
void normalise(std::string& digits, int& exponent) {
  if (digits == "0") {
    exponent = 0;
    return;
  }
  const auto last = digits.find_last_not_of('0');
  exponent += static_cast<int>(digits.size() - 1 - last);
  digits.erase(last + 1);
}

struct Split {
  bool positive = true;
  std::string num;
  std::string denom;
  std::string suffix;
};

// parseQuantityString: sign, leading zeros, integer digits, '.', fraction digits, then a suffix
// made of "eEinumkKMGTP" characters, an optional sign and digits.
Result<Split> split(std::string_view s) {
  Split out;
  std::size_t pos = 0;
  const std::size_t end = s.size();
  if (pos < end && (s[0] == '-' || s[0] == '+')) {
    out.positive = s[0] != '-';
    ++pos;
  }
  while (pos < end && s[pos] == '0') {
    ++pos;
  }
  if (pos >= end) {
    out.num = "0";
    return out;
  }
  std::size_t i = pos;
  while (i < end && is_digit(s[i])) {
    ++i;
  }
  out.num = std::string(s.substr(pos, i - pos));
  pos = i;
  if (out.num.empty()) {
    out.num = "0";
  }
  if (pos < end && s[pos] == '.') {
    ++pos;
    i = pos;
    while (i < end && is_digit(s[i])) {
      ++i;
    }
    out.denom = std::string(s.substr(pos, i - pos));
    pos = i;
  }
  const std::size_t suffix_start = pos;
  static constexpr std::string_view k_suffix_chars = "eEinumkKMGTP";
  while (pos < end && k_suffix_chars.find(s[pos]) != std::string_view::npos) {
    ++pos;
  }
  if (pos < end && (s[pos] == '-' || s[pos] == '+')) {
    ++pos;
  }
  while (pos < end && is_digit(s[pos])) {
    ++pos;
  }
  if (pos < end) {
    return fail("quantities must match the regular expression "
                "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  }
  out.suffix = std::string(s.substr(suffix_start));
  return out;
}

struct Interpreted {
  int base = 10;
  int exponent = 0;
  QuantityFormat format = QuantityFormat::k_decimal_si;
};

std::optional<Interpreted> interpret(const std::string& suffix) {
  for (const auto& d : k_decimal_suffixes) {
    if (d.text == suffix) {
      return Interpreted{10, d.exponent, QuantityFormat::k_decimal_si};
    }
  }
  for (const auto& b : k_binary_suffixes) {
    if (b.text == suffix) {
      return Interpreted{2, b.exponent, QuantityFormat::k_binary_si};
    }
  }
  if (suffix.size() > 1 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    std::string_view e(suffix);
    e.remove_prefix(1);
    if (!e.empty() && e[0] == '+') {
      e.remove_prefix(1); // strconv.ParseInt accepts a leading '+'
    }
    long long v = 0;
    const auto [p, ec] = std::from_chars(e.data(), e.data() + e.size(), v);
    if (ec != std::errc() || p != e.data() + e.size() || v > k_max_exponent ||
        v < -k_max_exponent) {
      return std::nullopt;
    }
    return Interpreted{10, static_cast<int>(v), QuantityFormat::k_decimal_exponent};
  }
  return std::nullopt;
}

bool ends_with_000(const std::string& s) {
  return s.size() >= 3 && s.compare(s.size() - 3, 3, "000") == 0;
}

// ParseQuantity's fast path: whether it returns the input text as the quantity's string.
bool keeps_input_text(const Split& sp, const Interpreted& in) {
  int precision = 0;
  int scale = 0;
  std::int64_t mantissa = 1;
  if (in.format == QuantityFormat::k_binary_si) {
    if (!sp.denom.empty()) {
      return false;
    }
    mantissa = std::int64_t{1} << in.exponent;
    precision = 15 - static_cast<int>(sp.num.size()) - in.exponent * 3 / 10 - 1;
  } else {
    scale = in.exponent;
    precision = 18 - static_cast<int>(sp.num.size() + sp.denom.size());
  }
  if (precision < 0) {
    return false;
  }
  scale -= static_cast<int>(sp.denom.size());
  if (scale < k_nano) {
    return false;
  }
  const std::string shifted = sp.num + sp.denom;
  if (shifted.size() > 18) {
    return false; // cannot happen with precision >= 0; keeps the int64 below exact
  }
  std::int64_t value = 0;
  for (const char c : shifted) {
    value = value * 10 + (c - '0');
  }
  std::int64_t product = 0;
  if (__builtin_mul_overflow(value, mantissa, &product)) {
    return false; // int64Multiply fails: the slow path computes the string
  }
  if (in.format == QuantityFormat::k_binary_si) {
    return in.exponent % 10 == 0 && (value & 0x07) != 0;
  }
  return scale % 3 == 0 && !ends_with_000(shifted) && shifted[0] != '0';
}

std::string decimal_suffix(int exponent, QuantityFormat format) {
  if (format == QuantityFormat::k_decimal_si) {
    for (const auto& d : k_decimal_suffixes) {
      if (d.exponent == exponent) {
        return std::string(d.text);
      }
    }
    // No SI suffix above E: upstream falls back to exponent notation.
  }
  return exponent == 0 ? std::string() : "e" + std::to_string(exponent);
}

// CanonicalizeBytes for a normalised non-zero value.
std::string canonicalize(bool negative, const std::string& digits, int exponent,
                         QuantityFormat format) {
  if (digits == "0") {
    return "0";
  }
  const std::string sign = negative ? "-" : "";
  if (format == QuantityFormat::k_binary_si) {
    const bool below_1024 = compare_magnitude(digits, exponent, "1024", 0) < 0;
    if (below_1024 || exponent < 0) {
      format = QuantityFormat::k_decimal_si; // small or fractional: written as decimal
    } else {
      std::string n = digits + std::string(static_cast<std::size_t>(exponent), '0');
      std::size_t times = 0;
      while (times < 6 && compare_magnitude(n, 0, "1024", 0) >= 0) {
        auto [q, r] = divide(n, 1024);
        if (r != 0) {
          break;
        }
        n = std::move(q);
        ++times;
      }
      const std::string_view suffix = times == 0 ? "" : k_binary_suffixes.at(times - 1).text;
      return sign + n + std::string(suffix);
    }
  }
  std::string n = digits;
  int e = exponent;
  while (e % 3 != 0) {
    n.push_back('0');
    --e;
  }
  return sign + n + decimal_suffix(e, format);
}

} // namespace

Result<Quantity> Quantity::parse(std::string_view text) {
  const auto bad = [&text](const std::string& why) {
    return fail("quantity \"" + std::string(text) + "\": " + why,
                "write a Kubernetes quantity such as 500m, 2, 1Gi or 1e3");
  };
  if (text.empty()) {
    return bad("empty");
  }
  Quantity q;
  if (text == "0") {
    return q;
  }
  auto sp = split(text);
  if (!sp) {
    return bad(sp.error().message());
  }
  const auto in = interpret(sp->suffix);
  if (!in) {
    return bad("unable to parse quantity's suffix");
  }

  // The exact value.
  std::string digits = sp->num + sp->denom;
  strip_leading_zeros(digits);
  int exponent = -static_cast<int>(sp->denom.size());
  if (in->base == 10) {
    exponent += in->exponent;
  } else {
    for (int left = in->exponent; left > 0; left -= 10) {
      digits = multiply(digits, 1U << std::min(left, 10));
    }
  }
  normalise(digits, exponent);
  // Round anything finer than 1n up, away from zero.
  if (digits != "0" && exponent < k_nano) {
    const auto drop = static_cast<std::size_t>(k_nano - exponent);
    std::string kept = drop >= digits.size() ? "0" : digits.substr(0, digits.size() - drop);
    const bool lost = drop >= digits.size() ? true
                                            : digits.find_first_not_of('0', digits.size() - drop) !=
                                                  std::string::npos;
    digits = lost ? increment(kept) : kept;
    strip_leading_zeros(digits);
    exponent = k_nano;
    normalise(digits, exponent);
  }
  QuantityFormat format = in->format;
  if (format == QuantityFormat::k_binary_si) {
    static const std::string k_max = "9223372036854775807";
    if (compare_magnitude(digits, exponent, k_max, 0) > 0) {
      digits = k_max;
      exponent = 0;
    }
    if (digits != "0" && compare_magnitude(digits, exponent, "1", 0) < 0) {
      format = QuantityFormat::k_decimal_si;
    }
  }
  q.m_negative = !sp->positive && digits != "0";
  q.m_digits = digits;
  q.m_exponent = exponent;
  q.m_format = format;
  q.m_canonical = keeps_input_text(*sp, *in) ? std::string(text)
                                             : canonicalize(q.m_negative, digits, exponent, format);
  return q;
}

Result<Quantity> Quantity::from_json(const nlohmann::json& value) {
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    const auto first = s.find_first_not_of(" \t\r\n\v\f");
    if (first == std::string::npos) {
      return parse("");
    }
    const auto last = s.find_last_not_of(" \t\r\n\v\f");
    return parse(std::string_view(s).substr(first, last - first + 1));
  }
  if (value.is_number()) {
    return parse(value.dump());
  }
  return fail("a quantity must be a string or a number, not " + std::string(value.type_name()),
              "write a Kubernetes quantity such as 500m, 2, 1Gi or 1e3");
}

int Quantity::compare(const Quantity& other) const {
  if (m_negative != other.m_negative) {
    return m_negative ? -1 : 1;
  }
  const int c = compare_magnitude(m_digits, m_exponent, other.m_digits, other.m_exponent);
  return m_negative ? -c : c;
}

std::optional<std::string> canonical_quantity(const nlohmann::json& value) {
  auto q = Quantity::from_json(value);
  if (!q) {
    return std::nullopt;
  }
  return q->canonical();
}

} // namespace meshctl::kube

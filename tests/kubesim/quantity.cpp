// Quantities as k8s.io/apimachinery/pkg/api/resource parses and prints them (quantity.go,
// amount.go, suffix.go), and where the built-in kinds hold them.
//
// ParseQuantity keeps the text as written when its fast path finds it "canonical enough" (decimal:
// scale a multiple of three, no trailing "000", no leading zero digit — so "100m" and "+100m" stay;
// binary: a multiplier not divisible by eight, "1Gi"); otherwise the value is printed by
// CanonicalizeBytes: zero is "0"; binary values under 1024 in magnitude or with a fraction print as
// decimal; decimal mantissas drop trailing zeros and are padded to an exponent that is a multiple
// of three, with its SI suffix (or "eN" above E); binary ones are divided by 1024 while they
// divide. Values finer than 1n round up to 1n; binary values cap at 2^63-1. Digits are held as
// strings.
//
// kubesim shares no code with meshctl on purpose: this is its own copy of those rules.

#include "quantity.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

namespace kubesim {

namespace {

enum class Format { k_decimal_si, k_binary_si, k_decimal_exponent };

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
std::optional<Split> split(std::string_view s, std::string& error) {
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
    error = "quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
    return std::nullopt;
  }
  out.suffix = std::string(s.substr(suffix_start));
  return out;
}

struct Interpreted {
  int base = 10;
  int exponent = 0;
  Format format = Format::k_decimal_si;
};

std::optional<Interpreted> interpret(const std::string& suffix) {
  for (const auto& d : k_decimal_suffixes) {
    if (d.text == suffix) {
      return Interpreted{10, d.exponent, Format::k_decimal_si};
    }
  }
  for (const auto& b : k_binary_suffixes) {
    if (b.text == suffix) {
      return Interpreted{2, b.exponent, Format::k_binary_si};
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
    return Interpreted{10, static_cast<int>(v), Format::k_decimal_exponent};
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
  if (in.format == Format::k_binary_si) {
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
  if (in.format == Format::k_binary_si) {
    return in.exponent % 10 == 0 && (value & 0x07) != 0;
  }
  return scale % 3 == 0 && !ends_with_000(shifted) && shifted[0] != '0';
}

std::string decimal_suffix(int exponent, Format format) {
  if (format == Format::k_decimal_si) {
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
std::string canonicalize(bool negative, const std::string& digits, int exponent, Format format) {
  if (digits == "0") {
    return "0";
  }
  const std::string sign = negative ? "-" : "";
  if (format == Format::k_binary_si) {
    const bool below_1024 = compare_magnitude(digits, exponent, "1024", 0) < 0;
    if (below_1024 || exponent < 0) {
      format = Format::k_decimal_si; // small or fractional: written as decimal
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

using json = nlohmann::json;

// Applies `f` to every value of the map at `obj[path...]` ("[]" walks a list's elements).
template <class F>
void each_in(json& obj, const std::vector<std::string>& path, std::size_t i, const F& f) {
  if (i == path.size()) {
    if (obj.is_object()) {
      for (auto& [k, v] : obj.items()) {
        f(v);
      }
    }
    return;
  }
  if (path[i] == "[]") {
    if (obj.is_array()) {
      for (auto& e : obj) {
        each_in(e, path, i + 1, f);
      }
    }
    return;
  }
  if (obj.is_object() && obj.contains(path[i])) {
    each_in(obj[path[i]], path, i + 1, f);
  }
}

std::vector<std::string> join_path(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Maps of quantities inside a PodSpec at `spec`.
std::vector<std::vector<std::string>> pod_spec_maps(const std::vector<std::string>& spec) {
  std::vector<std::vector<std::string>> out;
  for (const char* list : {"containers", "initContainers", "ephemeralContainers"}) {
    for (const char* m : {"limits", "requests"}) {
      out.push_back(join_path(spec, {list, "[]", "resources", m}));
    }
  }
  out.push_back(join_path(spec, {"overhead"}));
  out.push_back(join_path(spec, {"resources", "limits"}));
  out.push_back(join_path(spec, {"resources", "requests"}));
  return out;
}

// Single Quantity fields (not maps) inside a PodSpec: emptyDir's sizeLimit.
void pod_spec_fields(json& obj, const std::vector<std::string>& spec,
                     const std::function<void(json&)>& f) {
  json* s = &obj;
  for (const auto& k : spec) {
    if (!s->is_object() || !s->contains(k)) {
      return;
    }
    s = &(*s)[k];
  }
  if (!s->is_object() || !s->contains("volumes") || !(*s)["volumes"].is_array()) {
    return;
  }
  for (auto& vol : (*s)["volumes"]) {
    if (vol.is_object() && vol.contains("emptyDir") && vol["emptyDir"].is_object() &&
        vol["emptyDir"].contains("sizeLimit")) {
      f(vol["emptyDir"]["sizeLimit"]);
    }
  }
}

} // namespace

std::optional<std::string> canonical_quantity(std::string_view text, std::string& error) {
  if (text.empty()) {
    error = "quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
    return std::nullopt;
  }
  if (text == "0") {
    return std::string("0");
  }
  auto sp = split(text, error);
  if (!sp) {
    return std::nullopt;
  }
  const auto in = interpret(sp->suffix);
  if (!in) {
    error = "unable to parse quantity's suffix";
    return std::nullopt;
  }
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
  if (digits != "0" && exponent < k_nano) {
    const auto drop = static_cast<std::size_t>(k_nano - exponent);
    const std::string kept = drop >= digits.size() ? "0" : digits.substr(0, digits.size() - drop);
    const bool lost = drop >= digits.size() ||
                      digits.find_first_not_of('0', digits.size() - drop) != std::string::npos;
    digits = lost ? increment(kept) : kept;
    strip_leading_zeros(digits);
    exponent = k_nano;
    normalise(digits, exponent);
  }
  Format format = in->format;
  if (format == Format::k_binary_si) {
    static const std::string k_max = "9223372036854775807";
    if (compare_magnitude(digits, exponent, k_max, 0) > 0) {
      digits = k_max;
      exponent = 0;
    }
    if (digits != "0" && compare_magnitude(digits, exponent, "1", 0) < 0) {
      format = Format::k_decimal_si;
    }
  }
  if (keeps_input_text(*sp, *in)) {
    return std::string(text);
  }
  return canonicalize(!sp->positive && digits != "0", digits, exponent, format);
}

std::optional<std::string> canonicalize_quantities(const std::string& kind, json& obj) {
  std::vector<std::vector<std::string>> maps;
  std::vector<std::vector<std::string>> specs; // PodSpecs, for sizeLimit
  if (kind == "Pod") {
    specs.push_back({"spec"});
    for (const char* list : {"containerStatuses", "initContainerStatuses"}) {
      maps.push_back({"status", list, "[]", "allocatedResources"});
      maps.push_back({"status", list, "[]", "resources", "limits"});
      maps.push_back({"status", list, "[]", "resources", "requests"});
    }
  } else if (kind == "Deployment" || kind == "ReplicaSet" || kind == "StatefulSet" ||
             kind == "DaemonSet" || kind == "Job" || kind == "ReplicationController") {
    specs.push_back({"spec", "template", "spec"});
  } else if (kind == "PodTemplate") {
    specs.push_back({"template", "spec"});
  } else if (kind == "CronJob") {
    specs.push_back({"spec", "jobTemplate", "spec", "template", "spec"});
  } else if (kind == "ResourceQuota") {
    maps = {{"spec", "hard"}, {"status", "hard"}, {"status", "used"}};
  } else if (kind == "LimitRange") {
    for (const char* m : {"max", "min", "default", "defaultRequest", "maxLimitRequestRatio"}) {
      maps.push_back({"spec", "limits", "[]", m});
    }
  } else if (kind == "PersistentVolumeClaim") {
    maps = {{"spec", "resources", "limits"},
            {"spec", "resources", "requests"},
            {"status", "capacity"},
            {"status", "allocatedResources"}};
  } else if (kind == "PersistentVolume") {
    maps = {{"spec", "capacity"}};
  } else if (kind == "Node") {
    maps = {{"status", "capacity"}, {"status", "allocatable"}};
  }
  if (kind == "StatefulSet") {
    maps.push_back({"spec", "volumeClaimTemplates", "[]", "spec", "resources", "limits"});
    maps.push_back({"spec", "volumeClaimTemplates", "[]", "spec", "resources", "requests"});
  }
  for (const auto& spec : specs) {
    const auto more = pod_spec_maps(spec);
    maps.insert(maps.end(), more.begin(), more.end());
  }

  std::optional<std::string> first_error;
  const auto rewrite = [&first_error](json& v) {
    std::string text;
    if (v.is_string()) {
      // UnmarshalJSON trims surrounding whitespace before parsing.
      const auto& s = v.get_ref<const std::string&>();
      const auto a = s.find_first_not_of(" \t\r\n\v\f");
      text = a == std::string::npos ? "" : s.substr(a, s.find_last_not_of(" \t\r\n\v\f") - a + 1);
    } else if (v.is_number()) {
      text = v.dump();
    } else if (v.is_null()) {
      return;
    } else {
      if (!first_error) {
        first_error = "quantities must match the regular expression "
                      "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
      }
      return;
    }
    std::string error;
    if (auto c = canonical_quantity(text, error)) {
      v = *c;
    } else if (!first_error) {
      first_error = error;
    }
  };
  for (const auto& path : maps) {
    each_in(obj, path, 0, rewrite);
  }
  for (const auto& spec : specs) {
    pod_spec_fields(obj, spec, rewrite);
  }
  return first_error;
}

} // namespace kubesim

#pragma once
// Kubernetes resource quantities ("100m", "1Gi", "1e3") read the way the API server reads them.
//
// kube-apiserver decodes every Quantity field into k8s.io/apimachinery's resource.Quantity and
// stores what that type writes back, so `cpu: 2000m` is read back as `2` and `memory: 1024Mi` as
// `1Gi`. A plan that compared the strings would see a difference after every write and never
// settle; comparing Quantity values, and knowing the string the server will hold, fixes that.

#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace meshctl::kube {

/// How a quantity was written, which decides how the server writes it back.
enum class QuantityFormat {
  k_decimal_si,       ///< "", n, u, m, k, M, G, T, P, E suffixes
  k_binary_si,        ///< Ki, Mi, Gi, Ti, Pi, Ei suffixes
  k_decimal_exponent, ///< "1e3", "5E-3"
};

/// One parsed quantity: its exact value (after the server's rounding up to 1n and, for binary
/// quantities, its cap at 2^63-1), its format, and the string kube-apiserver stores for it.
class Quantity {
public:
  /// Parses `text` exactly as resource.ParseQuantity does: optional sign, digits with an optional
  /// fraction, then a decimal SI, binary SI or e/E exponent suffix. No surrounding whitespace.
  static Result<Quantity> parse(std::string_view text);

  /// Reads a JSON value as the API server decodes a Quantity field: a string (surrounding
  /// whitespace trimmed) or a number. Anything else is an error.
  static Result<Quantity> from_json(const nlohmann::json& value);

  /// The string kube-apiserver returns on a GET after storing this quantity.
  [[nodiscard]] const std::string& canonical() const { return m_canonical; }

  /// The format the quantity keeps (binary quantities below 1 become decimal, as upstream).
  [[nodiscard]] QuantityFormat format() const { return m_format; }

  /// -1, 0 or 1 as this value is less than, equal to or greater than `other`'s (format ignored).
  [[nodiscard]] int compare(const Quantity& other) const;

  /// Equal values, whatever their formats: "2" == "2000m", "1Gi" == "1024Mi".
  friend bool operator==(const Quantity& a, const Quantity& b) { return a.compare(b) == 0; }

private:
  bool m_negative = false;
  std::string m_digits = "0"; ///< magnitude's digits, no leading zeros, no trailing zeros
  int m_exponent = 0;         ///< value = digits * 10^exponent
  QuantityFormat m_format = QuantityFormat::k_decimal_si;
  std::string m_canonical = "0";
};

/// The string the API server would store for a JSON Quantity value, or nullopt when the value
/// is not a quantity it would accept.
std::optional<std::string> canonical_quantity(const nlohmann::json& value);

} // namespace meshctl::kube

#pragma once
// Label and field selectors with kube-apiserver's syntax: `a=b,c!=d,e in (f,g),h notin (i),j,!k`.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace kubesim {

/// One requirement of a selector.
struct Requirement {
  enum class Op { k_eq, k_neq, k_in, k_notin, k_exists, k_not_exists, k_gt, k_lt };
  std::string key;
  Op op = Op::k_eq;
  std::vector<std::string> values;
};

/// A parsed selector; an empty one matches everything.
struct Selector {
  std::vector<Requirement> requirements;
  /// True when `labels` (a JSON object of strings, or null) satisfies every requirement.
  [[nodiscard]] bool matches(const nlohmann::json& labels) const;
};

/// Parses a label selector; on error returns nullopt and sets `error` to kube's message.
std::optional<Selector> parse_label_selector(const std::string& text, std::string& error);
/// Parses a field selector (only =, ==, != are allowed there).
std::optional<Selector> parse_field_selector(const std::string& text, std::string& error);
/// Matches an object against a metav1.LabelSelector (matchLabels + matchExpressions).
bool matches_label_selector_object(const nlohmann::json& selector, const nlohmann::json& labels);

} // namespace kubesim

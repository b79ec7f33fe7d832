#pragma once
// The three PATCH bodies kubectl and client-go send besides apply: RFC 7386 JSON merge patch,
// RFC 6902 JSON patch and Kubernetes' strategic merge patch (the simple cases: map merge, lists
// merged by their patchMergeKey, $patch: delete|replace|merge, $retainKeys,
// $deleteFromPrimitiveList, $setElementOrder ignored).

#include <nlohmann/json.hpp>

#include <string>

namespace kubesim {

/// RFC 7386 merge patch of `target`.
nlohmann::json merge_patch(nlohmann::json target, const nlohmann::json& patch);
/// Strategic merge patch of `target`. Throws std::runtime_error on a malformed directive.
nlohmann::json strategic_merge_patch(nlohmann::json target, const nlohmann::json& patch);
/// The merge key kube uses for a list field (strategic merge and apply), "" when the list is
/// atomic. `field` is the field name, `sample` one element (ports differ by context).
std::string list_merge_key(const std::string& field, const nlohmann::json& sample);

} // namespace kubesim

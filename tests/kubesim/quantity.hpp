#pragma once
// Quantity fields stored the way kube-apiserver stores them. The API server decodes every
// resource.Quantity into k8s.io/apimachinery's type and writes back that type's string, so
// `cpu: 2000m` reads back as `2` and `memory: 1024Mi` as `1Gi`; a client that compares strings
// never settles against a real cluster, and kubesim must not hide that.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace kubesim {

/// The string kube-apiserver stores for the quantity `text` (resource.ParseQuantity, then
/// String()), or nullopt with `error` set to the decoder's message when the text is refused.
std::optional<std::string> canonical_quantity(std::string_view text, std::string& error);

/// Rewrites every Quantity field of a built-in object of `kind` (containers' resources in Pods
/// and in the Pod templates of workloads, pod overhead, emptyDir sizeLimit, PVC and PV sizes,
/// ResourceQuota and LimitRange maps, Node capacity) to its canonical string. Returns the decode
/// error for the first value that is not a quantity; the object is then left half rewritten.
std::optional<std::string> canonicalize_quantities(const std::string& kind, nlohmann::json& obj);

} // namespace kubesim

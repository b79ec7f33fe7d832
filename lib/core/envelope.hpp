#pragma once
// The one shape of every meshctl result printed with -o json|yaml: apiVersion
// meshctl.dev/v1alpha1, a kind naming the result, and, where a verb works on clusters, a
// `clusters` array of entries named by `name`, each holding that cluster's results and its
// `errors`. Each kind has a JSON Schema in docs/schema/<kind>.schema.json, which a test holds real
// output against. Envoy's own config (proxy-config -o json|yaml, as istioctl prints it), the
// config file (config view) and an offline --dry-run's -o yaml manifests are the exceptions.

#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace meshctl {

/// The apiVersion of every meshctl result.
inline constexpr std::string_view k_api_version = "meshctl.dev/v1alpha1";

/// {apiVersion, kind}: the start of every result.
nlohmann::json envelope(std::string_view kind);

/// An error as results carry it: {message, hint}, both in full (message with its context chain).
nlohmann::json error_json(const Error& e);

/// Puts each error into the `errors` array of the entry of `clusters` named by its cluster()
/// (an entry is added, {name, errors}, for a cluster not listed yet); errors that name no
/// cluster go into `out["errors"]`, which is only created for them. Every entry of `clusters`
/// ends up with an `errors` array, empty when its cluster had none.
void attach_errors(nlohmann::json& out, nlohmann::json& clusters, const std::vector<Error>& errors);

} // namespace meshctl

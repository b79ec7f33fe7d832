#pragma once
// meta.k8s.io/v1 Table answers (what `kubectl get` asks for with
// Accept: application/json;as=Table;v=v1;g=meta.k8s.io): columns per kind like kube's printers,
// CRD additionalPrinterColumns (simple JSONPath), Name/Age otherwise.

#include "store.hpp"

#include <string>
#include <vector>

namespace kubesim {

/// A Table of `objects`; include_object is "None", "Object" or "Metadata" (PartialObjectMetadata).
json make_table(const ResourceType& t, const std::vector<json>& objects,
                const std::string& include_object, const json& list_metadata);
/// kube's duration.HumanDuration ("5s", "3m20s", "2d4h", ...).
std::string human_duration(long long seconds);

} // namespace kubesim

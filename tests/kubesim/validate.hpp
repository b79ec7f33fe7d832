#pragma once
// Built-in resource types, their defaulting and validation (the subset of kube-apiserver's
// strategies meshctl's objects exercise), and CRD openAPIV3Schema validation.

#include "store.hpp"

#include <string>
#include <vector>

namespace kubesim {

/// One field error, as kube reports it in details.causes.
struct Cause {
  std::string reason;  ///< FieldValueInvalid, FieldValueRequired, FieldValueNotSupported, ...
  std::string field;   ///< e.g. metadata.name, spec.ports[0].port
  std::string message; ///< e.g. `Invalid value: "Foo": a lowercase RFC 1123 ...`
};

/// Every built-in type kubesim serves.
std::vector<ResourceType> builtin_types();
/// The served types a CRD object declares (one per served version).
std::vector<ResourceType> crd_types(const json& crd);

/// Fills defaults the way kube's defaulting functions do (ports' protocol, Deployment strategy,
/// Service type, ...). Idempotent.
void apply_defaults(const ResourceType& t, json& obj);
/// Validates an object (old_obj is null on create). CRD objects are checked against the schema.
std::vector<Cause> validate_object(const ResourceType& t, const json& obj, const json& old_obj);
/// Removes fields a structural CRD schema does not declare (kube's pruning); returns their paths.
std::vector<std::string> prune_unknown(const json& schema, json& obj);

/// kube's messages: "a lowercase RFC 1123 subdomain must ..." or "" when `name` is valid.
std::string dns1123_subdomain_error(const std::string& name);
std::string dns1123_label_error(const std::string& name);
std::string dns1035_label_error(const std::string& name);

} // namespace kubesim

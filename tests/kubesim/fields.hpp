#pragma once
// metadata.managedFields and server-side apply.
//
// A field set is a set of paths; each path element is written as in fieldsV1: "f:<field>",
// "k:<json of the key fields>" for an item of an associative list, "v:<json>" for an item of a set
// list. Leaves are scalars, atomic lists and empty maps; an associative-list item is also a member
// by itself (the "." entry of fieldsV1). Which lists are associative comes from the CRD schema
// (x-kubernetes-list-type / -list-map-keys) or, for built-in kinds, from the patchMergeKey table
// in patch.cpp.
//
// Apply (structured-merge-diff, simplified): the applied configuration's field set is compared
// with every *other* manager's set; a shared leaf whose live value differs from the applied value
// is a conflict (409 unless force=true, which moves ownership to the applier). The configuration is
// then merged into the live object (maps recursively, associative lists by key, the rest replaced),
// fields the applier owned before but no longer sends are removed unless another manager owns them,
// and the applier's set becomes exactly the applied one. An Update (create, PUT, merge/strategic
// patch) gives its manager the leaves it changed and takes them from everyone else.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace kubesim {

/// One field owned by another manager with a different value.
struct ApplyConflict {
  std::string manager; ///< printed like kube: "\"kubectl\"" or "\"x\" using v1"
  std::string path;    ///< like kube: .spec.replicas, .spec.ports[port=80,protocol="TCP"].name
};

/// Merges `config` into `live` (null when the object does not exist yet) as `manager`; updates
/// metadata.managedFields. On conflicts (and !force) returns null and fills `conflicts`.
nlohmann::json apply_config(const nlohmann::json& live, const nlohmann::json& config,
                            const std::string& manager, bool force, const nlohmann::json& schema,
                            const std::string& api_version, std::vector<ApplyConflict>& conflicts);

/// Records an Update by `manager` from `old_obj` (null on create) to `new_obj` in new_obj's
/// metadata.managedFields (starting from old_obj's). `subresource` is "" or "status".
void record_update(nlohmann::json& new_obj, const nlohmann::json& old_obj,
                   const std::string& manager, const nlohmann::json& schema,
                   const std::string& api_version, const std::string& subresource);

/// `obj` without the volatile parts (resourceVersion, managedFields times) for no-op detection.
nlohmann::json comparable(const nlohmann::json& obj);

} // namespace kubesim

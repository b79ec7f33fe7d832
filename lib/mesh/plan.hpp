#pragma once
// plan(desired, live) -> changes: the pure half of every verb that writes to a cluster.
//
// An object is *unchanged* when everything meshctl sets in it already holds in the live object:
// desired is compared as a subset of live (maps: every desired key present and equal; lists: same
// length, element by element; scalars: equal). Fields the API server adds (uid, resourceVersion,
// defaults such as a port's protocol, status) are therefore ignored, and an object that is already
// right is never written again — re-running `join` on a joined pair makes zero write requests.
//
// "Equal" means what the API server means, because it rewrites some fields on the way in:
//  - Quantity fields (containers' resources.limits/requests and the other Quantity maps) compare
//    by value: the server stores `2000m` as `2` and `1024Mi` as `1Gi`;
//  - a port's `protocol: TCP` holds when the server left it out (it is the default);
//  - IntOrString fields (targetPort, probe ports, maxSurge/maxUnavailable): 8080 == "8080";
//  - an empty or null map/list holds when absent, and so does the zero of the few non-pointer
//    omitempty fields meshctl could write (hostNetwork: false, nodePort: 0, ...);
//  - a Secret's stringData is compared as the base64 data the server turns it into.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace meshctl::mesh {

enum class Action { k_create, k_update, k_unchanged };

/// "create", "update", "unchanged".
const char* to_string(Action a);

/// One field that differs between desired and live, values in full (Secret data as <redacted>):
/// text output shortens them (describe), -o json|yaml does not.
struct FieldDiff {
  std::string path;    ///< "spec.ports[1].nodePort"
  std::string live;    ///< the value the cluster has, "<absent>" when it has none
  std::string desired; ///< the value meshctl wants
};

/// "path: live -> desired", each value longer than `max_value` bytes cut to its head and "...".
std::string describe(const FieldDiff& d, std::size_t max_value = std::string::npos);

/// One object's fate in one cluster.
struct Change {
  std::string cluster;
  Action action = Action::k_create;
  nlohmann::json desired; ///< the object meshctl wants
  /// For updates: each differing field (describe: "spec.ports[1].nodePort: 30880 -> 31000").
  std::vector<FieldDiff> diff;
  /// The desired object still holds a placeholder (a value only known at apply time): it can be
  /// shown, never written.
  bool placeholder = false;
  /// Apply takes the fields over from their current manager (meshctl owns them).
  bool force = false;
  /// Set by apply: the write was stored (not a dry run), so a failed run can say what it wrote.
  bool written = false;
};

/// True when every field of `desired` holds in `live` (see the file comment).
bool is_subset(const nlohmann::json& desired, const nlohmann::json& live);

/// Field-level differences between desired and live, as dotted paths (values of Secret data are
/// never printed: the caller passes `redact_values` for Secrets).
std::vector<FieldDiff> diff_fields(const nlohmann::json& desired, const nlohmann::json& live,
                                   bool redact_values);

/// Decides create / update / unchanged for one desired object against its live counterpart.
Change plan_object(const std::string& cluster, const nlohmann::json& desired,
                   const std::optional<nlohmann::json>& live);

/// Counts per action, for the per-cluster summary.
struct PlanSummary {
  int created = 0;
  int updated = 0;
  int unchanged = 0;
};
PlanSummary summarize(const std::vector<Change>& changes);
/// Counts of the creates and updates that were stored (Change::written): what a failed run wrote.
PlanSummary summarize_written(const std::vector<Change>& changes);

} // namespace meshctl::mesh

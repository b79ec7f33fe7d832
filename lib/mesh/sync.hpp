#pragma once
// sync-svc, the pure half: which Services to copy where, and what each copy looks like.
//
// Istio merges a Service's endpoints across clusters by hostname, but DNS in the caller's cluster
// only resolves names of Services that exist there (MISSION: "Istio does not solve DNS"). So every
// cluster needs a Service of each name any cluster serves. sync-svc copies them:
//
// - A *copy* keeps what DNS and Istio need — name, namespace, labels, ports (name, protocol,
//   appProtocol, port, targetPort), selector, and the kind of Service (ClusterIP; headless stays
//   headless; ExternalName as is) — and drops everything the source cluster allocated or owns
//   (clusterIPs, nodePorts, externalIPs, load balancer fields, status, uid, resourceVersion,
//   managedFields, ownerReferences, creationTimestamp, annotations). It carries
//   app.kubernetes.io/managed-by: meshctl, meshctl.dev/synced-from: <source cluster>, and
//   meshctl.dev/source-hash: the SHA-256 of everything else in it. A copy is unchanged — and never
//   written — when that annotation equals the hash of what the source makes now *and* the copy's
//   own content still hashes to it (nobody edited it).
// - An *original* is any Service that is not a copy. Only originals are sources, so copies never
//   echo back and forth.
// - For a Service name, each target takes it from the first source cluster (in --from order, else
//   the config's) that has an original of it matching --selector. A Service of that name in the
//   target that meshctl did not make is never touched: "present" when it agrees with the source
//   on what Istio requires to agree (FACTS §8: headless or not, and every port's number, name and
//   protocol), a conflict otherwise. Two sources that disagree are a conflict too.
// - A copy whose source cluster (taking part in this run) no longer has the original is pruned.
//   A copy from a cluster outside this run is treated like a foreign Service.
//
// Planning works on small records (ServiceRecord), not on whole objects, so that ten thousand
// Services per cluster fit in a few megabytes, and on any subset of names, so that watch mode
// re-plans only the names that changed.

#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace meshctl::mesh {

inline constexpr std::string_view k_synced_from_label = "meshctl.dev/synced-from";
inline constexpr std::string_view k_source_hash_annotation = "meshctl.dev/source-hash";

/// The namespaces sync-svc skips unless told otherwise: the control plane's own.
std::vector<std::string> default_excluded_namespaces();

/// A label selector in kubectl's syntax: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`,
/// `a`, `!a`, joined by commas.
class LabelSelector {
public:
  /// Parses `text`; "" selects everything. Errors are usage errors naming the bad part.
  static Result<LabelSelector> parse(std::string_view text);
  /// Whether labels satisfy every requirement.
  [[nodiscard]] bool matches(const std::map<std::string, std::string>& labels) const;
  [[nodiscard]] bool empty() const { return m_requirements.empty(); }

private:
  struct Requirement {
    enum class Op { k_eq, k_neq, k_in, k_notin, k_exists, k_not_exists };
    std::string key;
    Op op = Op::k_eq;
    std::vector<std::string> values;
  };
  std::vector<Requirement> m_requirements;
};

/// Which Services sync-svc looks at.
struct SyncScope {
  std::vector<std::string> namespaces; ///< empty = every namespace (-A)
  /// Skipped namespaces; a namespace named in `namespaces` is never skipped.
  std::vector<std::string> excluded = default_excluded_namespaces();

  /// Whether Services of namespace `ns` take part.
  [[nodiscard]] bool covers_namespace(std::string_view ns) const;
  /// Whether the Service ns/name takes part (default/kubernetes, each cluster's own API server,
  /// never does).
  [[nodiscard]] bool covers(std::string_view ns, std::string_view name) const;
};

/// What must agree between Services of one name in several clusters (FACTS §8).
struct ServiceShape {
  struct Port {
    int port = 0;
    std::string protocol; ///< "TCP" when the Service left it out
    std::string name;
    bool operator==(const Port&) const = default;
  };
  std::string type;        ///< "ClusterIP", "headless" or "ExternalName"
  std::vector<Port> ports; ///< sorted by port, then protocol
  bool operator==(const ServiceShape&) const = default;
};

/// The shape of a live Service.
ServiceShape shape_of(const nlohmann::json& service);

/// The differences between two shapes, one line each, naming both sides:
/// "port 5000/TCP: name \"http\" in cn-shanghai, \"grpc\" in wuxi".
std::vector<std::string> shape_diff(const ServiceShape& a, std::string_view a_cluster,
                                    const ServiceShape& b, std::string_view b_cluster);

/// A copy of `source` (a live Service) without the synced-from label and the hash annotation:
/// the kept fields (file comment), defaults made explicit (protocol TCP, targetPort = port) so
/// that the same copy read back from a cluster is equal to it.
nlohmann::json copy_body(const nlohmann::json& source);

/// The copy sync writes: `body` (from copy_body) with synced-from: `source_cluster` and the hash
/// annotation. `hash_out` receives that hash.
nlohmann::json finish_copy(nlohmann::json body, std::string_view source_cluster,
                           std::string* hash_out = nullptr);

/// The hash of a copy without its annotation: hex SHA-256 of its canonical (key-sorted) JSON,
/// first 32 digits.
std::string copy_hash(const nlohmann::json& copy_without_annotation);

/// What sync needs of one live Service.
struct ServiceRecord {
  std::string namespace_;
  std::string name;
  std::string uid;
  std::string resource_version;
  std::map<std::string, std::string> labels;
  bool copy = false;          ///< made by sync-svc: managed-by meshctl and a synced-from label
  std::string synced_from;    ///< copies: their source cluster
  std::string annotated_hash; ///< copies: their source-hash annotation
  std::string content_hash;   ///< copies: the hash of their content as it is now
  ServiceShape shape;
  std::string body; ///< originals: copy_body() as JSON text, the copy they make elsewhere
};

/// Reads a ServiceRecord from a live Service (a list item or a watch event's object).
ServiceRecord service_record(const nlohmann::json& service);

/// "namespace/name": how records and plans key Services.
std::string service_key(std::string_view namespace_, std::string_view name);

/// What sync knows of one cluster.
struct ClusterState {
  std::string cluster;
  std::map<std::string, ServiceRecord> services; ///< in scope, by service_key()
  std::set<std::string> namespaces;              ///< every namespace that exists there
};

/// How a run is set up.
struct SyncSettings {
  std::vector<std::string> sources; ///< in priority order: the first source of a name wins
  std::vector<std::string> targets;
  LabelSelector selector; ///< applies to originals in sources
  bool prune = true;
  bool create_namespaces = true;
};

enum class SyncAction {
  k_create,
  k_update,
  k_unchanged,
  k_prune,
  k_present,
  k_conflict,
  k_skipped
};

/// "create", "update", "unchanged", "prune", "present", "conflict", "skipped".
const char* to_string(SyncAction action);

/// What happens to one Service name in one target.
struct SyncChange {
  std::string from; ///< the source cluster (prune: the cluster the copy came from)
  std::string to;   ///< the target cluster
  std::string namespace_;
  std::string name;
  SyncAction action = SyncAction::k_unchanged;
  std::string body;             ///< create / update: the copy to apply, JSON text
  std::string uid;              ///< prune: the copy as it was seen (a precondition of the delete)
  std::string resource_version; ///< prune: likewise
  std::vector<std::string> details; ///< conflict: the differences; skipped, update: why
};

/// A namespace to create in a target before its copies.
struct NamespaceChange {
  std::string cluster;
  std::string name;
};

/// Everything a run would do.
struct SyncPlan {
  std::vector<NamespaceChange> namespaces;
  std::vector<SyncChange> changes; ///< by name, then target in settings order
};

/// Plans the Service names `keys` (service_key form), or every name any cluster has when `keys`
/// is null. `clusters` must hold every source and target of `settings`.
SyncPlan plan_sync(const std::vector<const ClusterState*>& clusters, const SyncSettings& settings,
                   const std::vector<std::string>* keys = nullptr);

/// The Namespace sync creates in a target: labelled as meshctl's.
nlohmann::json namespace_object(std::string_view name);

/// Counts for one source → target pair.
struct PairSummary {
  std::string from;
  std::string to;
  int created = 0;
  int updated = 0;
  int unchanged = 0;
  int pruned = 0;
  int present = 0;
  int conflicts = 0;
  int skipped = 0;
};

/// One summary per ordered pair of sources × targets (a cluster never syncs to itself), in
/// settings order, zeros included.
std::vector<PairSummary> summarize_sync(const SyncPlan& plan, const SyncSettings& settings);

/// The number of conflicts in a plan (any makes the exit code 1).
int count_conflicts(const SyncPlan& plan);

} // namespace meshctl::mesh

#pragma once
// The object store and the registry of served resource types.
//
// Objects are kept as JSON, per group/resource, keyed "namespace/name" in a sorted map, so lists
// come out in the order etcd's keys give them (namespace, then name). One global counter provides
// every resourceVersion. Every change is appended to a bounded event history and offered to
// listeners, which is what a later `?watch=1` needs (events since a resourceVersion, 410 Gone when
// that version has fallen out of the history). The store itself is not thread-safe: Api serialises
// access with one mutex.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kubesim {

using json = nlohmann::json;

/// One served group/version/resource, built in or from a CRD.
struct ResourceType {
  std::string group;
  std::string version;
  std::string resource; ///< plural, e.g. "deployments"
  std::string kind;
  std::string singular;
  std::string list_kind;
  bool namespaced = true;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  std::vector<std::string> subresources; ///< e.g. "status", "exec", "proxy"
  bool tracks_generation = false;        ///< metadata.generation bumps on spec changes
  bool return_deleted_object = false;    ///< DELETE answers with the object, not a Status
  bool from_crd = false;
  bool storage_version =
      true;               ///< the version objects are stored in (CRDs: spec.versions[].storage)
  json schema;            ///< CRD openAPIV3Schema of this version (null for built-ins)
  json printer_columns;   ///< CRD additionalPrinterColumns of this version (null if none)
  json selectable_fields; ///< unused; reserved for CRD selectableFields

  [[nodiscard]] std::string api_version() const {
    return group.empty() ? version : group + "/" + version;
  }
  [[nodiscard]] std::string group_resource() const {
    return group.empty() ? resource : resource + "." + group;
  }
  [[nodiscard]] bool has_subresource(const std::string& s) const;
};

/// A change to the store, as a watch would report it.
struct Event {
  std::uint64_t rv = 0;
  std::string type; ///< ADDED, MODIFIED, DELETED
  std::string group_resource;
  json object;
};

class Store {
public:
  Store();

  // --- registry ---
  /// Registers (or replaces, keyed by group/version/resource) a served type.
  void add_type(const ResourceType& t);
  /// Removes every version of group/resource (a deleted CRD).
  void remove_types(const std::string& group, const std::string& resource);
  [[nodiscard]] const ResourceType* find_type(const std::string& group, const std::string& version,
                                              const std::string& resource) const;
  [[nodiscard]] const ResourceType* find_kind(const std::string& group, const std::string& version,
                                              const std::string& kind) const;
  /// Stable addresses: a registered type is never moved (CRD registration happens mid-request).
  [[nodiscard]] const std::list<ResourceType>& types() const { return m_types; }
  /// Changes every time the set of served types changes (discovery/openapi hashes).
  [[nodiscard]] std::uint64_t types_generation() const { return m_types_generation; }

  // --- objects (key: group/resource, namespace ("" for cluster scope), name) ---
  [[nodiscard]] const json* get(const std::string& gr, const std::string& ns,
                                const std::string& name) const;
  /// Every object of a group/resource (in one namespace when ns is non-empty), in key order.
  [[nodiscard]] std::vector<const json*> list(const std::string& gr, const std::string& ns) const;
  /// Stores `obj` (setting metadata.resourceVersion to a fresh value) and records the event.
  const json& put(const std::string& gr, json obj, bool created);
  /// Removes an object; returns it (with its last resourceVersion), or nullopt when absent.
  std::optional<json> erase(const std::string& gr, const std::string& ns, const std::string& name);
  /// Every group/resource that has objects (for namespace deletion).
  [[nodiscard]] std::vector<std::string> stored_resources() const;

  [[nodiscard]] std::uint64_t current_rv() const { return m_rv; }
  /// Events after `rv` (nullopt when `rv` is older than the retained history: 410 Gone).
  [[nodiscard]] std::optional<std::vector<Event>> events_since(std::uint64_t rv) const;
  /// Called after every change, with the store's lock held (keep it short).
  void on_event(std::function<void(const Event&)> listener);

private:
  std::list<ResourceType> m_types;
  std::uint64_t m_types_generation = 1;
  std::map<std::string, std::map<std::string, json>> m_objects;
  std::uint64_t m_rv = 1000;
  std::deque<Event> m_history;
  std::vector<std::function<void(const Event&)>> m_listeners;
};

/// "ns/name" or "name" (cluster scope).
std::string object_key(const std::string& ns, const std::string& name);
/// RFC 3339 UTC timestamp of now, second precision (metav1.Time).
std::string now_rfc3339();
/// RFC 3339 with microseconds (metav1.MicroTime, the request log).
std::string now_rfc3339_micro();
/// Parses an RFC 3339 timestamp to seconds since the epoch (0 when malformed).
long long parse_rfc3339(const std::string& s);
/// A random RFC 4122 version 4 UUID.
std::string new_uid();

} // namespace kubesim

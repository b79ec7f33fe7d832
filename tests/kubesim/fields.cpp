#include "fields.hpp"

#include "patch.hpp"
#include "store.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace kubesim {
namespace {

using Path = std::vector<std::string>;
using FieldSet = std::set<Path>;

enum class ListKind { k_atomic, k_map, k_set };

struct ListInfo {
  ListKind kind = ListKind::k_atomic;
  std::vector<std::string> keys;
};

const json k_null;

const json& child_schema(const json& schema, const std::string& field) {
  if (!schema.is_object()) {
    return k_null;
  }
  if (schema.contains("properties") && schema["properties"].contains(field)) {
    return schema["properties"][field];
  }
  if (schema.contains("additionalProperties") && schema["additionalProperties"].is_object()) {
    return schema["additionalProperties"];
  }
  return k_null;
}

const json& items_schema(const json& schema) {
  if (schema.is_object() && schema.contains("items")) {
    return schema["items"];
  }
  return k_null;
}

ListInfo list_info(const std::string& field, const json& list, const json& schema) {
  ListInfo info;
  if (schema.is_object() && schema.contains("x-kubernetes-list-type")) {
    const std::string t = schema["x-kubernetes-list-type"];
    if (t == "map" && schema.contains("x-kubernetes-list-map-keys")) {
      info.kind = ListKind::k_map;
      info.keys = schema["x-kubernetes-list-map-keys"].get<std::vector<std::string>>();
    } else if (t == "set") {
      info.kind = ListKind::k_set;
    }
    return info;
  }
  if (field == "finalizers") {
    info.kind = ListKind::k_set;
    return info;
  }
  const json sample = list.is_array() && !list.empty() ? list[0] : json();
  const std::string key = list_merge_key(field, sample);
  if (key.empty() || !sample.is_object()) {
    return info;
  }
  info.kind = ListKind::k_map;
  info.keys = {key};
  if (field == "ports") {
    info.keys.push_back("protocol");
  }
  return info;
}

// The key of an associative-list item: its key fields (protocol defaults to TCP as kube does).
json item_key(const json& item, const ListInfo& info) {
  json k = json::object();
  for (const auto& f : info.keys) {
    if (item.contains(f)) {
      k[f] = item[f];
    } else if (f == "protocol") {
      k[f] = "TCP";
    }
  }
  return k;
}

bool skip_top(const Path& prefix, const std::string& key) {
  if (prefix.empty()) {
    return key == "apiVersion" || key == "kind" || key == "status";
  }
  if (prefix.size() == 1 && prefix[0] == "f:metadata") {
    return key == "name" || key == "namespace" || key == "uid" || key == "resourceVersion" ||
           key == "generation" || key == "creationTimestamp" || key == "managedFields" ||
           key == "selfLink" || key == "deletionTimestamp" || key == "deletionGracePeriodSeconds" ||
           key == "generateName";
  }
  return false;
}

void collect(const json& value, const json& schema, const std::string& field, Path& prefix,
             FieldSet& out);

void collect_object(const json& obj, const json& schema, Path& prefix, FieldSet& out) {
  for (const auto& [k, v] : obj.items()) {
    if (skip_top(prefix, k)) {
      continue;
    }
    prefix.push_back("f:" + k);
    collect(v, child_schema(schema, k), k, prefix, out);
    prefix.pop_back();
  }
}

void collect(const json& value, const json& schema, const std::string& field, Path& prefix,
             FieldSet& out) {
  if (value.is_object() && !value.empty() &&
      !(schema.is_object() && schema.value("x-kubernetes-map-type", "") == "atomic")) {
    collect_object(value, schema, prefix, out);
    return;
  }
  if (value.is_array() && !value.empty()) {
    const ListInfo info = list_info(field, value, schema);
    if (info.kind == ListKind::k_set) {
      for (const auto& item : value) {
        prefix.push_back("v:" + item.dump());
        out.insert(prefix);
        prefix.pop_back();
      }
      return;
    }
    if (info.kind == ListKind::k_map) {
      for (const auto& item : value) {
        if (!item.is_object()) {
          continue;
        }
        prefix.push_back("k:" + item_key(item, info).dump());
        out.insert(prefix);
        collect_object(item, items_schema(schema), prefix, out);
        prefix.pop_back();
      }
      return;
    }
  }
  out.insert(prefix);
}

FieldSet fields_of(const json& obj, const json& schema) {
  FieldSet out;
  Path prefix;
  if (obj.is_object()) {
    collect_object(obj, schema, prefix, out);
  }
  return out;
}

// The value at a path, or nullopt when absent.
std::optional<json> value_at(const json& obj, const Path& path) {
  const json* cur = &obj;
  for (const auto& el : path) {
    if (el.rfind("f:", 0) == 0) {
      const std::string f = el.substr(2);
      if (!cur->is_object() || !cur->contains(f)) {
        return std::nullopt;
      }
      cur = &(*cur)[f];
    } else if (el.rfind("k:", 0) == 0) {
      const json key = json::parse(el.substr(2));
      if (!cur->is_array()) {
        return std::nullopt;
      }
      const json* found = nullptr;
      for (const auto& item : *cur) {
        bool match = item.is_object();
        for (const auto& [kf, kv] : key.items()) {
          const json v = item.contains(kf) ? item[kf] : (kf == "protocol" ? json("TCP") : json());
          match = match && v == kv;
        }
        if (match) {
          found = &item;
          break;
        }
      }
      if (found == nullptr) {
        return std::nullopt;
      }
      cur = found;
    } else if (el.rfind("v:", 0) == 0) {
      const json v = json::parse(el.substr(2));
      if (!cur->is_array() || std::find(cur->begin(), cur->end(), v) == cur->end()) {
        return std::nullopt;
      }
      return v;
    }
  }
  return *cur;
}

// Removes the field or item at `path`; empties left behind stay (kube leaves them too).
void remove_at(json& obj, const Path& path) {
  if (path.empty()) {
    return;
  }
  json* cur = &obj;
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    const auto& el = path[i];
    if (el.rfind("f:", 0) == 0) {
      const std::string f = el.substr(2);
      if (!cur->is_object() || !cur->contains(f)) {
        return;
      }
      cur = &(*cur)[f];
    } else if (el.rfind("k:", 0) == 0) {
      const json key = json::parse(el.substr(2));
      if (!cur->is_array()) {
        return;
      }
      json* found = nullptr;
      for (auto& item : *cur) {
        bool match = item.is_object();
        for (const auto& [kf, kv] : key.items()) {
          const json v = item.contains(kf) ? item[kf] : (kf == "protocol" ? json("TCP") : json());
          match = match && v == kv;
        }
        if (match) {
          found = &item;
          break;
        }
      }
      if (found == nullptr) {
        return;
      }
      cur = found;
    } else {
      return;
    }
  }
  const auto& last = path.back();
  if (last.rfind("f:", 0) == 0 && cur->is_object()) {
    cur->erase(last.substr(2));
  } else if (last.rfind("k:", 0) == 0 && cur->is_array()) {
    const json key = json::parse(last.substr(2));
    for (auto it = cur->begin(); it != cur->end(); ++it) {
      bool match = it->is_object();
      for (const auto& [kf, kv] : key.items()) {
        const json v = it->contains(kf) ? (*it)[kf] : (kf == "protocol" ? json("TCP") : json());
        match = match && v == kv;
      }
      if (match) {
        cur->erase(it);
        break;
      }
    }
  } else if (last.rfind("v:", 0) == 0 && cur->is_array()) {
    const json v = json::parse(last.substr(2));
    auto it = std::find(cur->begin(), cur->end(), v);
    if (it != cur->end()) {
      cur->erase(it);
    }
  }
}

json merge_apply(const json& live, const json& cfg, const std::string& field, const json& schema);

json merge_object(const json& live, const json& cfg, const json& schema) {
  json out = live.is_object() ? live : json::object();
  for (const auto& [k, v] : cfg.items()) {
    out[k] = merge_apply(out.contains(k) ? out[k] : json(), v, k, child_schema(schema, k));
  }
  return out;
}

json merge_apply(const json& live, const json& cfg, const std::string& field, const json& schema) {
  if (cfg.is_object() && live.is_object() &&
      !(schema.is_object() && schema.value("x-kubernetes-map-type", "") == "atomic")) {
    return merge_object(live, cfg, schema);
  }
  if (cfg.is_array() && live.is_array()) {
    const ListInfo info = list_info(field, cfg.empty() ? live : cfg, schema);
    if (info.kind == ListKind::k_set) {
      json out = live;
      for (const auto& v : cfg) {
        if (std::find(out.begin(), out.end(), v) == out.end()) {
          out.push_back(v);
        }
      }
      return out;
    }
    if (info.kind == ListKind::k_map) {
      json out = live;
      for (const auto& item : cfg) {
        const json key = item_key(item, info);
        auto it = std::find_if(out.begin(), out.end(), [&](const json& l) {
          return l.is_object() && item_key(l, info) == key;
        });
        if (it == out.end()) {
          out.push_back(item);
        } else {
          *it = merge_object(*it, item, items_schema(schema));
        }
      }
      return out;
    }
  }
  return cfg;
}

// --- fieldsV1 <-> FieldSet ---

void to_fields_v1(const FieldSet& set, json& out) {
  out = json::object();
  for (const auto& p : set) {
    json* cur = &out;
    for (const auto& el : p) {
      if (!cur->contains(el)) {
        (*cur)[el] = json::object();
      }
      cur = &(*cur)[el];
    }
    // An item owned by itself and with owned children gets ".".
    if (!p.empty() && p.back().rfind("k:", 0) == 0) {
      (*cur)["."] = json::object();
    }
  }
}

void from_fields_v1(const json& node, Path& prefix, FieldSet& out) {
  if (!node.is_object() || node.empty()) {
    out.insert(prefix);
    return;
  }
  for (const auto& [k, v] : node.items()) {
    if (k == ".") {
      out.insert(prefix);
      continue;
    }
    prefix.push_back(k);
    from_fields_v1(v, prefix, out);
    prefix.pop_back();
  }
}

struct Manager {
  std::string manager;
  std::string operation;
  std::string api_version;
  std::string time;
  std::string subresource;
  FieldSet fields;
};

std::vector<Manager> parse_managers(const json& obj) {
  std::vector<Manager> out;
  if (!obj.is_object() || !obj.contains("metadata") || !obj["metadata"].contains("managedFields") ||
      !obj["metadata"]["managedFields"].is_array()) {
    return out;
  }
  for (const auto& e : obj["metadata"]["managedFields"]) {
    Manager m;
    m.manager = e.value("manager", "");
    m.operation = e.value("operation", "");
    m.api_version = e.value("apiVersion", "");
    m.time = e.value("time", "");
    m.subresource = e.value("subresource", "");
    if (e.contains("fieldsV1")) {
      Path prefix;
      for (const auto& [k, v] : e["fieldsV1"].items()) {
        prefix.push_back(k);
        from_fields_v1(v, prefix, m.fields);
        prefix.pop_back();
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

void store_managers(json& obj, std::vector<Manager>& managers) {
  json arr = json::array();
  for (auto& m : managers) {
    if (m.fields.empty()) {
      continue;
    }
    json e = {{"manager", m.manager},
              {"operation", m.operation},
              {"apiVersion", m.api_version},
              {"time", m.time},
              {"fieldsType", "FieldsV1"}};
    to_fields_v1(m.fields, e["fieldsV1"]);
    if (!m.subresource.empty()) {
      e["subresource"] = m.subresource;
    }
    arr.push_back(e);
  }
  if (arr.empty()) {
    obj["metadata"].erase("managedFields");
  } else {
    obj["metadata"]["managedFields"] = arr;
  }
}

// Drops paths that no longer exist in `obj` from every manager.
void prune_missing(std::vector<Manager>& managers, const json& obj) {
  for (auto& m : managers) {
    std::erase_if(m.fields, [&](const Path& p) { return !value_at(obj, p).has_value(); });
  }
}

std::string path_string(const Path& p) {
  std::string s;
  for (const auto& el : p) {
    if (el.rfind("f:", 0) == 0) {
      s += "." + el.substr(2);
    } else if (el.rfind("k:", 0) == 0) {
      const json key = json::parse(el.substr(2));
      std::string inner;
      for (const auto& [k, v] : key.items()) {
        inner += (inner.empty() ? "" : ",") + k + "=" + v.dump();
      }
      s += "[" + inner + "]";
    } else if (el.rfind("v:", 0) == 0) {
      s += "[=" + el.substr(2) + "]";
    }
  }
  return s;
}

std::string print_manager(const Manager& m) {
  std::string s = "\"" + m.manager + "\"";
  if (!m.subresource.empty()) {
    s += " with subresource \"" + m.subresource + "\"";
  }
  if (m.operation == "Update") {
    s += " using " + m.api_version;
    if (!m.time.empty()) {
      s += " at " + m.time;
    }
  }
  return s;
}

bool is_leaf(const FieldSet& set, const Path& p) {
  auto it = set.upper_bound(p);
  return it == set.end() || it->size() <= p.size() || !std::equal(p.begin(), p.end(), it->begin());
}

bool owns_path_or_child(const Manager& m, const Path& p) {
  auto it = m.fields.lower_bound(p);
  return it != m.fields.end() && it->size() >= p.size() &&
         std::equal(p.begin(), p.end(), it->begin());
}

} // namespace

json apply_config(const json& live, const json& config, const std::string& manager, bool force,
                  const json& schema, const std::string& api_version,
                  std::vector<ApplyConflict>& conflicts) {
  const FieldSet cfg_set = fields_of(config, schema);
  std::vector<Manager> managers = live.is_null() ? std::vector<Manager>{} : parse_managers(live);
  auto is_self = [&](const Manager& m) {
    return m.manager == manager && m.operation == "Apply" && m.subresource.empty();
  };
  // Conflicts: a leaf we send, owned by someone else, with a different live value.
  std::vector<std::pair<std::size_t, Path>> hits;
  for (const auto& p : cfg_set) {
    if (!is_leaf(cfg_set, p)) {
      continue;
    }
    for (std::size_t i = 0; i < managers.size(); ++i) {
      if (is_self(managers[i]) || !managers[i].fields.contains(p)) {
        continue;
      }
      if (value_at(live, p) != value_at(config, p)) {
        hits.emplace_back(i, p);
      }
    }
  }
  if (!hits.empty() && !force) {
    for (const auto& [i, p] : hits) {
      conflicts.push_back({print_manager(managers[i]), path_string(p)});
    }
    return json();
  }
  for (const auto& [i, p] : hits) {
    managers[i].fields.erase(p);
  }
  json merged = merge_object(live.is_null() ? json::object() : live, config, schema);
  auto self = std::find_if(managers.begin(), managers.end(), is_self);
  if (self != managers.end()) {
    // Fields we applied before and no longer send go away, unless someone else holds them.
    std::vector<Path> removed;
    for (const auto& p : self->fields) {
      if (!cfg_set.contains(p)) {
        removed.push_back(p);
      }
    }
    // Whole list items first (a changed key, e.g. a Service port renumbered, drops the old item:
    // emptying it field by field first would leave a keyless husk behind), then fields, deepest
    // first.
    const auto is_item = [](const Path& p) {
      return !p.empty() && (p.back().rfind("k:", 0) == 0 || p.back().rfind("v:", 0) == 0);
    };
    std::sort(removed.begin(), removed.end(), [&](const Path& a, const Path& b) {
      if (is_item(a) != is_item(b)) {
        return is_item(a);
      }
      return is_item(a) ? a.size() < b.size() : a.size() > b.size();
    });
    for (const auto& p : removed) {
      const bool held = std::any_of(managers.begin(), managers.end(), [&](const Manager& m) {
        return !is_self(m) && owns_path_or_child(m, p);
      });
      if (!held) {
        remove_at(merged, p);
      }
    }
  } else {
    managers.push_back({manager, "Apply", api_version, "", "", {}});
    self = managers.end() - 1;
  }
  const FieldSet before = self->fields;
  self->fields = cfg_set;
  self->api_version = api_version;
  if (self->time.empty() || before != cfg_set) {
    self->time = now_rfc3339();
  }
  prune_missing(managers, merged);
  store_managers(merged, managers);
  return merged;
}

void record_update(json& new_obj, const json& old_obj, const std::string& manager,
                   const json& schema, const std::string& api_version,
                   const std::string& subresource) {
  std::vector<Manager> managers =
      old_obj.is_null() ? std::vector<Manager>{} : parse_managers(old_obj);
  const FieldSet new_set = fields_of(new_obj, schema);
  FieldSet changed;
  for (const auto& p : new_set) {
    if (old_obj.is_null() || value_at(old_obj, p) != value_at(new_obj, p)) {
      changed.insert(p);
    }
  }
  if (subresource == "status") {
    // Status lives outside fields_of (it is skipped for the main resource); track its leaves.
    if (new_obj.contains("status")) {
      Path prefix{"f:status"};
      FieldSet status_set;
      if (new_obj["status"].is_object() && !new_obj["status"].empty()) {
        for (const auto& [k, v] : new_obj["status"].items()) {
          prefix.push_back("f:" + k);
          status_set.insert(prefix);
          prefix.pop_back();
        }
      }
      for (const auto& p : status_set) {
        if (old_obj.is_null() || value_at(old_obj, p) != value_at(new_obj, p)) {
          changed.insert(p);
        }
      }
    }
  }
  for (auto& m : managers) {
    if (!(m.manager == manager && m.operation == "Update" && m.subresource == subresource)) {
      for (const auto& p : changed) {
        m.fields.erase(p);
      }
    }
  }
  if (!changed.empty()) {
    auto self = std::find_if(managers.begin(), managers.end(), [&](const Manager& m) {
      return m.manager == manager && m.operation == "Update" && m.subresource == subresource;
    });
    if (self == managers.end()) {
      managers.push_back({manager, "Update", api_version, "", subresource, {}});
      self = managers.end() - 1;
    }
    self->fields.insert(changed.begin(), changed.end());
    self->time = now_rfc3339();
    self->api_version = api_version;
  }
  prune_missing(managers, new_obj);
  store_managers(new_obj, managers);
}

json comparable(const json& obj) {
  json c = obj;
  if (c.contains("metadata")) {
    c["metadata"].erase("resourceVersion");
    if (c["metadata"].contains("managedFields") && c["metadata"]["managedFields"].is_array()) {
      for (auto& e : c["metadata"]["managedFields"]) {
        e.erase("time");
      }
    }
  }
  return c;
}

} // namespace kubesim

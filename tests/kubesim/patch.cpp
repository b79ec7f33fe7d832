#include "patch.hpp"

#include <stdexcept>

namespace kubesim {

using json = nlohmann::json;

json merge_patch(json target, const json& patch) {
  target.merge_patch(patch);
  return target;
}

std::string list_merge_key(const std::string& field, const json& sample) {
  if (field == "containers" || field == "initContainers" || field == "ephemeralContainers" ||
      field == "env" || field == "volumes" || field == "imagePullSecrets" ||
      field == "readinessGates") {
    return field == "readinessGates" ? "conditionType" : "name";
  }
  if (field == "ports") {
    return sample.is_object() && sample.contains("containerPort") ? "containerPort" : "port";
  }
  if (field == "volumeMounts") {
    return "mountPath";
  }
  if (field == "volumeDevices") {
    return "devicePath";
  }
  if (field == "conditions" || field == "addresses") {
    return sample.is_object() && sample.contains("type") ? "type" : "";
  }
  if (field == "ownerReferences") {
    return "uid";
  }
  if (field == "hostAliases") {
    return "ip";
  }
  if (field == "topologySpreadConstraints") {
    return "topologyKey";
  }
  if (field == "taints") {
    return "key";
  }
  return "";
}

namespace {

bool is_primitive_merge_list(const std::string& field) {
  return field == "finalizers";
}

json smp_value(const json& target, const json& patch, const std::string& field);

json smp_list(const json& target, const json& patch, const std::string& field) {
  // A list holding {"$patch": "replace"} means: replace with the other elements.
  json items = json::array();
  bool replace = false;
  for (const auto& p : patch) {
    if (p.is_object() && p.value("$patch", "") == "replace") {
      replace = true;
    } else {
      items.push_back(p);
    }
  }
  if (replace || !target.is_array()) {
    json out = json::array();
    for (auto p : items) {
      if (p.is_object()) {
        p.erase("$patch");
      }
      out.push_back(p);
    }
    return out;
  }
  if (is_primitive_merge_list(field)) {
    json out = target;
    for (const auto& p : items) {
      if (std::find(out.begin(), out.end(), p) == out.end()) {
        out.push_back(p);
      }
    }
    return out;
  }
  const std::string key = list_merge_key(field, items.empty() ? json() : items[0]);
  if (key.empty()) {
    return items;
  }
  json out = target;
  for (const auto& p : items) {
    if (!p.is_object() || !p.contains(key)) {
      throw std::runtime_error("map: " + p.dump() + " does not contain declared merge key: " + key);
    }
    auto it = std::find_if(out.begin(), out.end(), [&](const json& t) {
      return t.is_object() && t.contains(key) && t[key] == p[key];
    });
    if (p.value("$patch", "") == "delete") {
      if (it != out.end()) {
        out.erase(it);
      }
      continue;
    }
    if (it == out.end()) {
      json copy = p;
      copy.erase("$patch");
      out.push_back(strategic_merge_patch(json::object(), copy));
    } else {
      *it = strategic_merge_patch(*it, p);
    }
  }
  return out;
}

json smp_value(const json& target, const json& patch, const std::string& field) {
  if (patch.is_object()) {
    return strategic_merge_patch(target.is_object() ? target : json::object(), patch);
  }
  if (patch.is_array()) {
    return smp_list(target, patch, field);
  }
  return patch;
}

} // namespace

json strategic_merge_patch(json target, const json& patch) {
  if (!patch.is_object()) {
    return patch;
  }
  if (!target.is_object()) {
    target = json::object();
  }
  const std::string directive = patch.value("$patch", "");
  if (directive == "replace") {
    json out = patch;
    out.erase("$patch");
    return out;
  }
  if (directive == "delete") {
    return json::object();
  }
  for (const auto& [k, v] : patch.items()) {
    if (k == "$patch" || k == "$retainKeys" || k.rfind("$setElementOrder/", 0) == 0) {
      continue;
    }
    if (k.rfind("$deleteFromPrimitiveList/", 0) == 0) {
      const std::string field = k.substr(std::string("$deleteFromPrimitiveList/").size());
      if (target.contains(field) && target[field].is_array()) {
        json kept = json::array();
        for (const auto& e : target[field]) {
          if (std::find(v.begin(), v.end(), e) == v.end()) {
            kept.push_back(e);
          }
        }
        target[field] = kept;
      }
      continue;
    }
    if (v.is_null()) {
      target.erase(k);
      continue;
    }
    if (v.is_object() && v.value("$patch", "") == "delete") {
      target.erase(k);
      continue;
    }
    target[k] = smp_value(target.contains(k) ? target[k] : json(), v, k);
  }
  if (patch.contains("$retainKeys") && patch["$retainKeys"].is_array()) {
    json kept = json::object();
    for (const auto& key : patch["$retainKeys"]) {
      const auto name = key.get<std::string>();
      if (target.contains(name)) {
        kept[name] = target[name];
      }
    }
    target = kept;
  }
  return target;
}

} // namespace kubesim

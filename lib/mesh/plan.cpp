#include "mesh/plan.hpp"

#include "core/redact.hpp"

namespace meshctl::mesh {

const char* to_string(Action a) {
  switch (a) {
  case Action::k_create:
    return "create";
  case Action::k_update:
    return "update";
  case Action::k_unchanged:
    return "unchanged";
  }
  return "?";
}

bool is_subset(const nlohmann::json& desired, const nlohmann::json& live) {
  if (desired.is_object()) {
    if (!live.is_object()) {
      return false;
    }
    for (const auto& [k, v] : desired.items()) {
      const auto it = live.find(k);
      if (it == live.end()) {
        // An empty desired map/list or null is satisfied by absence (the API server drops them).
        if (v.is_null() || ((v.is_object() || v.is_array()) && v.empty())) {
          continue;
        }
        return false;
      }
      if (!is_subset(v, *it)) {
        return false;
      }
    }
    return true;
  }
  if (desired.is_array()) {
    if (!live.is_array() || live.size() != desired.size()) {
      return false;
    }
    for (std::size_t i = 0; i < desired.size(); ++i) {
      if (!is_subset(desired[i], live[i])) {
        return false;
      }
    }
    return true;
  }
  if (desired.is_number() && live.is_number()) {
    return desired.get<double>() == live.get<double>();
  }
  return desired == live;
}

namespace {

std::string short_value(const nlohmann::json& v, bool redact_values) {
  if (redact_values) {
    return std::string(k_redacted);
  }
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (s.size() > 60) {
    s = s.substr(0, 57) + "...";
  }
  return s;
}

void diff_into(const nlohmann::json& desired, const nlohmann::json& live, const std::string& path,
               bool redact_values, std::vector<std::string>& out) {
  if (desired.is_object() && live.is_object()) {
    for (const auto& [k, v] : desired.items()) {
      const std::string p = path.empty() ? k : path + "." + k;
      const auto it = live.find(k);
      if (it == live.end()) {
        if (!is_subset(v, nlohmann::json())) {
          out.push_back(p + ": <absent> -> " + short_value(v, redact_values));
        }
        continue;
      }
      diff_into(v, *it, p, redact_values, out);
    }
    return;
  }
  if (desired.is_array() && live.is_array() && desired.size() == live.size()) {
    for (std::size_t i = 0; i < desired.size(); ++i) {
      diff_into(desired[i], live[i], path + "[" + std::to_string(i) + "]", redact_values, out);
    }
    return;
  }
  if (!is_subset(desired, live)) {
    out.push_back(path + ": " + short_value(live, redact_values) + " -> " +
                  short_value(desired, redact_values));
  }
}

} // namespace

std::vector<std::string> diff_fields(const nlohmann::json& desired, const nlohmann::json& live,
                                     bool redact_values) {
  std::vector<std::string> out;
  diff_into(desired, live, "", redact_values, out);
  return out;
}

Change plan_object(const std::string& cluster, const nlohmann::json& desired,
                   const std::optional<nlohmann::json>& live) {
  Change c;
  c.cluster = cluster;
  c.desired = desired;
  if (!live) {
    c.action = Action::k_create;
    return c;
  }
  if (is_subset(desired, *live)) {
    c.action = Action::k_unchanged;
    return c;
  }
  c.action = Action::k_update;
  const bool secret = desired.value("kind", "") == "Secret";
  c.diff = diff_fields(desired, *live, secret);
  return c;
}

PlanSummary summarize(const std::vector<Change>& changes) {
  PlanSummary s;
  for (const auto& c : changes) {
    switch (c.action) {
    case Action::k_create:
      ++s.created;
      break;
    case Action::k_update:
      ++s.updated;
      break;
    case Action::k_unchanged:
      ++s.unchanged;
      break;
    }
  }
  return s;
}

} // namespace meshctl::mesh

#include "mesh/plan.hpp"

#include "core/base64.hpp"
#include "core/enum_names.hpp"
#include "core/redact.hpp"
#include "kube/quantity.hpp"

#include <algorithm>

namespace meshctl::mesh {

const char* to_string(Action a) {
  static constexpr EnumName<Action> k_names[] = {{Action::k_create, "create"},
                                                 {Action::k_update, "update"},
                                                 {Action::k_unchanged, "unchanged"}};
  return name_of(k_names, a, "?");
}

namespace {

// Where a value sits in its object: the kind, then the keys from the root ("[]" for a list
// element), so that the rules below can ask "is this a container's resources.limits entry?".
struct Where {
  std::string kind;
  std::vector<std::string> keys;

  [[nodiscard]] const std::string& back(std::size_t i) const {
    static const std::string k_none;
    return i < keys.size() ? keys[keys.size() - 1 - i] : k_none;
  }
};

// Keys pushed for the time of one comparison.
class Step {
public:
  Step(Where& w, std::string key) : m_where(w) { m_where.keys.push_back(std::move(key)); }
  Step(const Step&) = delete;
  Step& operator=(const Step&) = delete;
  ~Step() { m_where.keys.pop_back(); }

private:
  Where& m_where;
};

// Fields of type resource.Quantity among what meshctl, or a user's manifest through meshctl,
// writes: container and pod resources, PVC requests, pod overhead, emptyDir's sizeLimit, and the
// maps of ResourceQuota, LimitRange and PersistentVolume.
bool is_quantity(const Where& w) {
  const auto& parent = w.back(1);
  if (w.back(2) == "resources" && (parent == "limits" || parent == "requests")) {
    return true;
  }
  if (parent == "overhead" || w.back(0) == "sizeLimit") {
    return true;
  }
  if (w.kind == "ResourceQuota") {
    return parent == "hard" || parent == "used";
  }
  if (w.kind == "LimitRange") {
    return w.back(2) == "[]" && w.back(3) == "limits" &&
           (parent == "max" || parent == "min" || parent == "default" ||
            parent == "defaultRequest" || parent == "maxLimitRequestRatio");
  }
  if (w.kind == "PersistentVolume") {
    return parent == "capacity";
  }
  return false;
}

// IntOrString fields, where 8080 and "8080" are the same port.
bool is_int_or_string(const Where& w) {
  const auto& key = w.back(0);
  if (key == "targetPort" || key == "maxSurge" || key == "maxUnavailable") {
    return true;
  }
  const auto& parent = w.back(1);
  return key == "port" && (parent == "httpGet" || parent == "tcpSocket");
}

// Non-pointer fields with `omitempty` whose zero value the API server drops, so a desired zero
// is the same as the field's absence. Pointer fields (privileged, runAsNonRoot, ...) keep an
// explicit false and are not listed: for them absence means "default", not false.
bool dropped_when_zero(const nlohmann::json& v, const Where& w) {
  if (!(v.is_boolean() && !v.get<bool>()) && !(v.is_number() && v.get<double>() == 0)) {
    return false;
  }
  static const std::vector<std::string> k_zero_dropped{"hostNetwork",
                                                       "hostPID",
                                                       "hostIPC",
                                                       "stdin",
                                                       "stdinOnce",
                                                       "tty",
                                                       "readOnly",
                                                       "hostPort",
                                                       "nodePort",
                                                       "paused",
                                                       "publishNotReadyAddresses",
                                                       "minReadySeconds"};
  return std::find(k_zero_dropped.begin(), k_zero_dropped.end(), w.back(0)) != k_zero_dropped.end();
}

// A desired field whose absence in the live object means the same thing.
bool satisfied_by_absence(const nlohmann::json& v, Where& w) {
  // An empty desired map/list or null: the API server drops them.
  if (v.is_null() || ((v.is_object() || v.is_array()) && v.empty())) {
    return true;
  }
  // A map holding only such fields (`spec: {externalIPs: []}`).
  if (v.is_object()) {
    return std::all_of(v.items().begin(), v.items().end(), [&w](const auto& item) {
      const Step step(w, item.key());
      return satisfied_by_absence(item.value(), w);
    });
  }
  // A port's protocol defaults to TCP (Service, container and endpoint ports alike).
  if (w.back(0) == "protocol" && v == "TCP" && w.back(1) == "[]" && w.back(2) == "ports") {
    return true;
  }
  return dropped_when_zero(v, w);
}

bool numeric_string_equals(const nlohmann::json& number, const nlohmann::json& text) {
  if (!number.is_number_integer() || !text.is_string()) {
    return false;
  }
  return std::to_string(number.get<long long>()) == text.get_ref<const std::string&>();
}

bool scalar_holds(const nlohmann::json& desired, const nlohmann::json& live, const Where& w) {
  if (desired.is_number() && live.is_number()) {
    return desired.get<double>() == live.get<double>();
  }
  if (desired == live) {
    return true;
  }
  if (is_quantity(w)) {
    const auto d = kube::Quantity::from_json(desired);
    const auto l = kube::Quantity::from_json(live);
    return d && l && *d == *l;
  }
  if (is_int_or_string(w)) {
    return numeric_string_equals(desired, live) || numeric_string_equals(live, desired);
  }
  return false;
}

bool holds(const nlohmann::json& desired, const nlohmann::json& live, Where& w) {
  if (desired.is_object()) {
    if (live.is_null() && desired.empty()) {
      return true;
    }
    if (!live.is_object()) {
      return false;
    }
    for (const auto& [k, v] : desired.items()) {
      const Step step(w, k);
      const auto it = live.find(k);
      if (it == live.end() || it->is_null()) {
        if (satisfied_by_absence(v, w)) {
          continue;
        }
        return false;
      }
      if (!holds(v, *it, w)) {
        return false;
      }
    }
    return true;
  }
  if (desired.is_array()) {
    if (live.is_null() && desired.empty()) {
      return true;
    }
    if (!live.is_array() || live.size() != desired.size()) {
      return false;
    }
    const Step step(w, "[]");
    for (std::size_t i = 0; i < desired.size(); ++i) {
      if (!holds(desired[i], live[i], w)) {
        return false;
      }
    }
    return true;
  }
  return scalar_holds(desired, live, w);
}

// The object as the API server will hold it, for comparing: a Secret's stringData is written
// into data (base64) and is never returned, so it is folded in here.
nlohmann::json as_stored(const nlohmann::json& desired) {
  if (!desired.is_object() || desired.value("kind", "") != "Secret" ||
      !desired.contains("stringData") || !desired["stringData"].is_object()) {
    return desired;
  }
  nlohmann::json out = desired;
  auto& data = out["data"];
  if (!data.is_object()) {
    data = nlohmann::json::object();
  }
  for (const auto& [k, v] : desired["stringData"].items()) {
    if (v.is_string()) {
      data[k] = base64_encode(v.get_ref<const std::string&>());
    }
  }
  out.erase("stringData");
  return out;
}

Where root_of(const nlohmann::json& desired) {
  Where w;
  if (desired.is_object()) {
    w.kind = desired.value("kind", "");
  }
  return w;
}

} // namespace

bool is_subset(const nlohmann::json& desired, const nlohmann::json& live) {
  Where w = root_of(desired);
  return holds(as_stored(desired), live, w);
}

namespace {

std::string value_text(const nlohmann::json& v, bool redact_values) {
  if (redact_values) {
    return std::string(k_redacted);
  }
  return v.is_string() ? v.get<std::string>()
                       : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void diff_into(const nlohmann::json& desired, const nlohmann::json& live, const std::string& path,
               bool redact_values, Where& w, std::vector<FieldDiff>& out) {
  if (desired.is_object() && live.is_object()) {
    for (const auto& [k, v] : desired.items()) {
      const std::string p = path.empty() ? k : path + "." + k;
      const Step step(w, k);
      const auto it = live.find(k);
      if (it == live.end() || it->is_null()) {
        if (!satisfied_by_absence(v, w)) {
          out.push_back({p, "<absent>", value_text(v, redact_values)});
        }
        continue;
      }
      diff_into(v, *it, p, redact_values, w, out);
    }
    return;
  }
  if (desired.is_array() && live.is_array() && desired.size() == live.size()) {
    const Step step(w, "[]");
    for (std::size_t i = 0; i < desired.size(); ++i) {
      diff_into(desired[i], live[i], path + "[" + std::to_string(i) + "]", redact_values, w, out);
    }
    return;
  }
  if (!holds(desired, live, w)) {
    out.push_back({path, value_text(live, redact_values), value_text(desired, redact_values)});
  }
}

} // namespace

std::string describe(const FieldDiff& d, std::size_t max_value) {
  const auto cut = [max_value](const std::string& v) {
    return v.size() > max_value && max_value > 3 ? v.substr(0, max_value - 3) + "..." : v;
  };
  return d.path + ": " + cut(d.live) + " -> " + cut(d.desired);
}

std::vector<FieldDiff> diff_fields(const nlohmann::json& desired, const nlohmann::json& live,
                                   bool redact_values) {
  std::vector<FieldDiff> out;
  Where w = root_of(desired);
  diff_into(as_stored(desired), live, "", redact_values, w, out);
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

namespace {

PlanSummary count_actions(const std::vector<Change>& changes, bool written_only) {
  // The count each action adds to.
  static constexpr std::pair<Action, int PlanSummary::*> k_counts[] = {
      {Action::k_create, &PlanSummary::created},
      {Action::k_update, &PlanSummary::updated},
      {Action::k_unchanged, &PlanSummary::unchanged}};
  PlanSummary s;
  for (const auto& c : changes) {
    if (written_only && !c.written) {
      continue;
    }
    for (const auto& [action, count] : k_counts) {
      if (action == c.action) {
        ++(s.*count);
      }
    }
  }
  return s;
}

} // namespace

PlanSummary summarize(const std::vector<Change>& changes) {
  return count_actions(changes, false);
}

PlanSummary summarize_written(const std::vector<Change>& changes) {
  return count_actions(changes, true);
}

} // namespace meshctl::mesh

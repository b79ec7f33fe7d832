#include "table.hpp"

#include <fmt/format.h>

#include <ctime>

namespace kubesim {
namespace {

json column(const std::string& name, const std::string& type, int priority = 0,
            const std::string& format = "", const std::string& description = "") {
  return {{"name", name},
          {"type", type},
          {"format", format},
          {"description", description},
          {"priority", priority}};
}

std::string age_of(const json& obj) {
  const std::string ts = obj["metadata"].value("creationTimestamp", "");
  if (ts.empty()) {
    return "<unknown>";
  }
  return human_duration(static_cast<long long>(std::time(nullptr)) - parse_rfc3339(ts));
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string s;
  for (const auto& e : v) {
    s += (s.empty() ? "" : sep) + e;
  }
  return s;
}

std::string selector_string(const json& sel) {
  std::vector<std::string> parts;
  if (sel.is_object()) {
    for (const auto& [k, v] : sel.items()) {
      parts.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
    }
  }
  return parts.empty() ? "<none>" : join(parts, ",");
}

// A tiny JSONPath: .a.b[0].c (enough for printer columns of the CRDs kubesim serves).
json eval_path(const json& obj, const std::string& path) {
  const json* cur = &obj;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '.') {
      ++i;
      std::size_t j = i;
      while (j < path.size() && path[j] != '.' && path[j] != '[') {
        ++j;
      }
      const std::string key = path.substr(i, j - i);
      if (!cur->is_object() || !cur->contains(key)) {
        return nullptr;
      }
      cur = &(*cur)[key];
      i = j;
    } else if (path[i] == '[') {
      const std::size_t j = path.find(']', i);
      if (j == std::string::npos) {
        return nullptr;
      }
      try {
        const std::size_t idx = std::stoul(path.substr(i + 1, j - i - 1));
        if (!cur->is_array() || idx >= cur->size()) {
          return nullptr;
        }
        cur = &(*cur)[idx];
      } catch (...) {
        return nullptr;
      }
      i = j + 1;
    } else {
      return nullptr;
    }
  }
  return *cur;
}

std::string ports_string(const json& spec) {
  std::vector<std::string> out;
  for (const auto& p : spec.value("ports", json::array())) {
    std::string s = std::to_string(p.value("port", 0));
    if (p.contains("nodePort")) {
      s += ":" + std::to_string(p["nodePort"].get<int>());
    }
    out.push_back(s + "/" + p.value("protocol", "TCP"));
  }
  return out.empty() ? "<none>" : join(out, ",");
}

void kind_columns(const ResourceType& t, json& cols) {
  const std::string& k = t.kind;
  if (k == "Pod") {
    cols.push_back(column("Ready", "string", 0, "",
                          "The aggregate readiness state of this pod for accepting traffic."));
    cols.push_back(
        column("Status", "string", 0, "", "The aggregate status of the containers in this pod."));
    cols.push_back(column("Restarts", "string", 0, "",
                          "The number of times the containers in this pod have been restarted and "
                          "when the last container in this pod has restarted."));
    cols.push_back(column("Age", "string"));
    cols.push_back(column("IP", "string", 1));
    cols.push_back(column("Node", "string", 1));
    cols.push_back(column("Nominated Node", "string", 1));
    cols.push_back(column("Readiness Gates", "string", 1));
  } else if (k == "Service") {
    cols.push_back(column("Type", "string"));
    cols.push_back(column("Cluster-IP", "string"));
    cols.push_back(column("External-IP", "string"));
    cols.push_back(column("Port(s)", "string"));
    cols.push_back(column("Age", "string"));
    cols.push_back(column("Selector", "string", 1));
  } else if (k == "Namespace") {
    cols.push_back(column("Status", "string"));
    cols.push_back(column("Age", "string"));
  } else if (k == "Node") {
    cols.push_back(column("Status", "string"));
    cols.push_back(column("Roles", "string"));
    cols.push_back(column("Age", "string"));
    cols.push_back(column("Version", "string"));
    cols.push_back(column("Internal-IP", "string", 1));
    cols.push_back(column("External-IP", "string", 1));
    cols.push_back(column("OS-Image", "string", 1));
    cols.push_back(column("Kernel-Version", "string", 1));
    cols.push_back(column("Container-Runtime", "string", 1));
  } else if (k == "Deployment") {
    cols.push_back(column("Ready", "string"));
    cols.push_back(column("Up-to-date", "integer"));
    cols.push_back(column("Available", "integer"));
    cols.push_back(column("Age", "string"));
    cols.push_back(column("Containers", "string", 1));
    cols.push_back(column("Images", "string", 1));
    cols.push_back(column("Selector", "string", 1));
  } else if (k == "ConfigMap") {
    cols.push_back(column("Data", "integer"));
    cols.push_back(column("Age", "string"));
  } else if (k == "Secret") {
    cols.push_back(column("Type", "string"));
    cols.push_back(column("Data", "integer"));
    cols.push_back(column("Age", "string"));
  } else if (k == "ServiceAccount") {
    cols.push_back(column("Secrets", "integer"));
    cols.push_back(column("Age", "string"));
  } else if (k == "Endpoints") {
    cols.push_back(column("Endpoints", "string"));
    cols.push_back(column("Age", "string"));
  } else if (k == "RoleBinding" || k == "ClusterRoleBinding") {
    cols.push_back(column("Role", "string"));
    cols.push_back(column("Age", "string"));
  } else if (k == "Role" || k == "ClusterRole" || k == "CustomResourceDefinition") {
    cols.push_back(column("Created At", "date"));
  } else if (t.printer_columns.is_array() && !t.printer_columns.empty()) {
    for (const auto& c : t.printer_columns) {
      cols.push_back(column(c.value("name", ""), c.value("type", "string"), c.value("priority", 0),
                            c.value("format", ""), c.value("description", "")));
    }
  } else {
    cols.push_back(column("Age", "date"));
  }
}

json kind_cells(const ResourceType& t, const json& o) {
  const std::string& k = t.kind;
  const json spec = o.value("spec", json::object());
  const json status = o.value("status", json::object());
  json cells = json::array({o["metadata"].value("name", "")});
  if (k == "Pod") {
    int ready = 0;
    int restarts = 0;
    const json cs = status.value("containerStatuses", json::array());
    for (const auto& c : cs) {
      ready += c.value("ready", false) ? 1 : 0;
      restarts += c.value("restartCount", 0);
    }
    const std::size_t total = spec.value("containers", json::array()).size();
    cells.push_back(fmt::format("{}/{}", ready, total));
    cells.push_back(status.value("reason", status.value("phase", "Unknown")));
    cells.push_back(restarts);
    cells.push_back(age_of(o));
    cells.push_back(status.value("podIP", "<none>"));
    cells.push_back(spec.value("nodeName", "<none>"));
    cells.push_back("<none>");
    cells.push_back("<none>");
  } else if (k == "Service") {
    const std::string type = spec.value("type", "ClusterIP");
    cells.push_back(type);
    cells.push_back(spec.value("clusterIP", "<none>"));
    std::vector<std::string> ext = spec.value("externalIPs", std::vector<std::string>{});
    for (const auto& ing :
         status.value("loadBalancer", json::object()).value("ingress", json::array())) {
      ext.push_back(ing.value("ip", ing.value("hostname", "")));
    }
    if (type == "ExternalName") {
      ext = {spec.value("externalName", "")};
    }
    cells.push_back(ext.empty() ? (type == "LoadBalancer" ? "<pending>" : "<none>")
                                : join(ext, ","));
    cells.push_back(ports_string(spec));
    cells.push_back(age_of(o));
    cells.push_back(selector_string(spec.value("selector", json())));
  } else if (k == "Namespace") {
    cells.push_back(status.value("phase", "Active"));
    cells.push_back(age_of(o));
  } else if (k == "Node") {
    std::string ready = "Unknown";
    for (const auto& c : status.value("conditions", json::array())) {
      if (c.value("type", "") == "Ready") {
        ready = c.value("status", "") == "True" ? "Ready" : "NotReady";
      }
    }
    std::vector<std::string> roles;
    const json node_labels = o["metadata"].value("labels", json::object());
    for (const auto& [lk, lv] : node_labels.items()) {
      const std::string prefix = "node-role.kubernetes.io/";
      if (lk.rfind(prefix, 0) == 0) {
        roles.push_back(lk.substr(prefix.size()));
      }
    }
    cells.push_back(ready);
    cells.push_back(roles.empty() ? "<none>" : join(roles, ","));
    cells.push_back(age_of(o));
    cells.push_back(status.value("nodeInfo", json::object()).value("kubeletVersion", ""));
    std::string internal = "<none>";
    std::string external = "<none>";
    for (const auto& a : status.value("addresses", json::array())) {
      if (a.value("type", "") == "InternalIP" && internal == "<none>") {
        internal = a.value("address", "");
      } else if (a.value("type", "") == "ExternalIP" && external == "<none>") {
        external = a.value("address", "");
      }
    }
    cells.push_back(internal);
    cells.push_back(external);
    const json info = status.value("nodeInfo", json::object());
    cells.push_back(info.value("osImage", "<unknown>"));
    cells.push_back(info.value("kernelVersion", "<unknown>"));
    cells.push_back(info.value("containerRuntimeVersion", "<unknown>"));
  } else if (k == "Deployment") {
    cells.push_back(
        fmt::format("{}/{}", status.value("readyReplicas", 0), spec.value("replicas", 1)));
    cells.push_back(status.value("updatedReplicas", 0));
    cells.push_back(status.value("availableReplicas", 0));
    cells.push_back(age_of(o));
    std::vector<std::string> names;
    std::vector<std::string> images;
    for (const auto& c : spec.value("template", json::object())
                             .value("spec", json::object())
                             .value("containers", json::array())) {
      names.push_back(c.value("name", ""));
      images.push_back(c.value("image", ""));
    }
    cells.push_back(join(names, ","));
    cells.push_back(join(images, ","));
    cells.push_back(
        selector_string(spec.value("selector", json::object()).value("matchLabels", json())));
  } else if (k == "ConfigMap") {
    cells.push_back(o.value("data", json::object()).size() +
                    o.value("binaryData", json::object()).size());
    cells.push_back(age_of(o));
  } else if (k == "Secret") {
    cells.push_back(o.value("type", "Opaque"));
    cells.push_back(o.value("data", json::object()).size());
    cells.push_back(age_of(o));
  } else if (k == "ServiceAccount") {
    cells.push_back(o.value("secrets", json::array()).size());
    cells.push_back(age_of(o));
  } else if (k == "Endpoints") {
    std::vector<std::string> eps;
    for (const auto& s : o.value("subsets", json::array())) {
      for (const auto& a : s.value("addresses", json::array())) {
        for (const auto& p : s.value("ports", json::array())) {
          eps.push_back(a.value("ip", "") + ":" + std::to_string(p.value("port", 0)));
        }
      }
    }
    cells.push_back(eps.empty() ? "<none>" : join(eps, ","));
    cells.push_back(age_of(o));
  } else if (k == "RoleBinding" || k == "ClusterRoleBinding") {
    const json ref = o.value("roleRef", json::object());
    cells.push_back(ref.value("kind", "") + "/" + ref.value("name", ""));
    cells.push_back(age_of(o));
  } else if (k == "Role" || k == "ClusterRole" || k == "CustomResourceDefinition") {
    cells.push_back(o["metadata"].value("creationTimestamp", ""));
  } else if (t.printer_columns.is_array() && !t.printer_columns.empty()) {
    for (const auto& c : t.printer_columns) {
      const json v = eval_path(o, c.value("jsonPath", ""));
      if (c.value("type", "") == "date" && v.is_string()) {
        cells.push_back(human_duration(static_cast<long long>(std::time(nullptr)) -
                                       parse_rfc3339(v.get<std::string>())));
      } else {
        cells.push_back(v);
      }
    }
  } else {
    cells.push_back(o["metadata"].value("creationTimestamp", ""));
  }
  return cells;
}

} // namespace

std::string human_duration(long long s) {
  if (s < -1) {
    return "<invalid>";
  }
  if (s < 0) {
    return "0s";
  }
  if (s < 120) {
    return fmt::format("{}s", s);
  }
  const long long minutes = s / 60;
  if (minutes < 10) {
    return s % 60 == 0 ? fmt::format("{}m", minutes) : fmt::format("{}m{}s", minutes, s % 60);
  }
  if (minutes < 180) {
    return fmt::format("{}m", minutes);
  }
  const long long hours = s / 3600;
  if (hours < 8) {
    return minutes % 60 == 0 ? fmt::format("{}h", hours)
                             : fmt::format("{}h{}m", hours, minutes % 60);
  }
  if (hours < 48) {
    return fmt::format("{}h", hours);
  }
  if (hours < 24 * 8) {
    return hours % 24 == 0 ? fmt::format("{}d", hours / 24)
                           : fmt::format("{}d{}h", hours / 24, hours % 24);
  }
  if (hours < 24 * 365 * 2) {
    return fmt::format("{}d", hours / 24);
  }
  if (hours < 24 * 365 * 8) {
    const long long dy = (hours / 24) % 365;
    return dy == 0 ? fmt::format("{}y", hours / 24 / 365)
                   : fmt::format("{}y{}d", hours / 24 / 365, dy);
  }
  return fmt::format("{}y", hours / 24 / 365);
}

json make_table(const ResourceType& t, const std::vector<json>& objects,
                const std::string& include_object, const json& list_metadata) {
  json cols =
      json::array({column("Name", "string", 0, "name", "Name must be unique within a namespace.")});
  kind_columns(t, cols);
  json rows = json::array();
  for (const auto& o : objects) {
    json row = {{"cells", kind_cells(t, o)}};
    if (include_object == "Object") {
      row["object"] = o;
    } else if (include_object != "None") {
      row["object"] = {{"kind", "PartialObjectMetadata"},
                       {"apiVersion", "meta.k8s.io/v1"},
                       {"metadata", o["metadata"]}};
    }
    rows.push_back(row);
  }
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", list_metadata},
          {"columnDefinitions", cols},
          {"rows", rows}};
}

} // namespace kubesim

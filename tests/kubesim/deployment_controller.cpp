// The Deployment controller and the kubelet (simplified): a Deployment's Pods, their node and IP,
// their start, and the Deployment's status.

#include "api_impl.hpp"
#include "fields.hpp"
#include "pki.hpp"
#include "selectors.hpp"

namespace kubesim {

std::string Api::Impl::template_hash(const json& deployment) {
  static const char* k_alphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::size_t h = std::hash<std::string>{}(
      deployment.value("spec", json::object()).value("template", json::object()).dump());
  std::string out;
  for (int i = 0; i < 10; ++i) {
    out.push_back(k_alphabet[h % 27]);
    h /= 27;
  }
  return out;
}

std::string Api::Impl::pick_node() {
  auto nodes = store.list("nodes", "");
  return nodes.empty() ? "kubesim-node" : (*nodes[0])["metadata"].value("name", "kubesim-node");
}

std::string Api::Impl::node_ip(const std::string& node) {
  const json* n = store.get("nodes", "", node);
  if (n != nullptr) {
    for (const auto& a : n->value("status", json::object()).value("addresses", json::array())) {
      if (a.value("type", "") == "InternalIP") {
        return a.value("address", "");
      }
    }
  }
  return "10.0.0.1";
}

// A Pod IP from the Node's spec.podCIDR (the first unused one from .2), else 10.244.0.0/16.
std::string Api::Impl::allocate_pod_ip(const std::string& node) {
  const json* n = store.get("nodes", "", node);
  const std::string cidr =
      n == nullptr ? "" : n->value("spec", json::object()).value("podCIDR", "");
  const auto slash = cidr.find('/');
  if (slash != std::string::npos) {
    std::set<std::string> used;
    for (const json* p : store.list("pods", "")) {
      used.insert(p->value("status", json::object()).value("podIP", ""));
    }
    const std::uint32_t base = ip_to_u32(cidr.substr(0, slash));
    const int bits = std::stoi(cidr.substr(slash + 1));
    const std::uint32_t size = bits >= 31 ? 2 : (1u << (32 - bits));
    for (std::uint32_t i = 2; i + 1 < size; ++i) {
      if (used.count(u32_to_ip(base + i)) == 0) {
        return u32_to_ip(base + i);
      }
    }
  }
  return u32_to_ip(next_pod_ip++);
}

// The kubelet: a Pending Pod is scheduled and running (every container ready) shortly after.
void Api::Impl::start_pod_later(const std::string& ns, const std::string& name,
                                const std::string& uid) {
  scheduler(std::chrono::milliseconds(20), [this, ns, name, uid] {
    std::lock_guard lock(mu);
    const json* cur = store.get("pods", ns, name);
    if (cur == nullptr || (*cur)["metadata"].value("uid", "") != uid) {
      return;
    }
    json pod = *cur;
    auto& spec = pod["spec"];
    if (spec.value("nodeName", "").empty()) {
      spec["nodeName"] = pick_node();
    }
    const std::string now = now_rfc3339();
    std::string ip = allocate_pod_ip(spec["nodeName"]);
    json statuses = json::array();
    for (const auto& c : spec.value("containers", json::array())) {
      statuses.push_back({{"name", c.value("name", "")},
                          {"image", c.value("image", "")},
                          {"imageID", ""},
                          {"containerID", "containerd://" + random_hex(32)},
                          {"ready", true},
                          {"started", true},
                          {"restartCount", 0},
                          {"state", {{"running", {{"startedAt", now}}}}}});
    }
    json conditions = json::array();
    for (const char* type : {"Initialized", "Ready", "ContainersReady", "PodScheduled"}) {
      conditions.push_back({{"type", type},
                            {"status", "True"},
                            {"lastProbeTime", nullptr},
                            {"lastTransitionTime", now}});
    }
    pod["status"] = {{"phase", "Running"},
                     {"podIP", ip},
                     {"podIPs", json::array({{{"ip", ip}}})},
                     {"hostIP", node_ip(spec["nodeName"])},
                     {"startTime", now},
                     {"qosClass", "BestEffort"},
                     {"conditions", conditions},
                     {"containerStatuses", statuses}};
    record_update(pod, *cur, "kubelet", json(), "v1", "status");
    store.put("pods", pod, false);
    reconcile_endpoints(ns);
    for (const json* d : store.list("deployments.apps", ns)) {
      if (matches_label_selector_object((*d)["spec"].value("selector", json::object()),
                                        pod["metadata"].value("labels", json::object()))) {
        update_deployment_status(ns, (*d)["metadata"].value("name", ""));
      }
    }
  });
}

void Api::Impl::reconcile_deployment_later(const std::string& ns, const std::string& name) {
  scheduler(std::chrono::milliseconds(10), [this, ns, name] {
    std::lock_guard lock(mu);
    reconcile_deployment(ns, name);
  });
}

std::vector<json> Api::Impl::pods_of(const json& deployment) {
  std::vector<json> out;
  const std::string ns = deployment["metadata"].value("namespace", "");
  const json selector = deployment["spec"].value("selector", json::object());
  for (const json* p : store.list("pods", ns)) {
    if (matches_label_selector_object(selector, (*p)["metadata"].value("labels", json::object()))) {
      out.push_back(*p);
    }
  }
  return out;
}

bool Api::Impl::is_current(const json& deployment, const json& pod, const std::string& hash) {
  const std::string key = object_key(deployment["metadata"].value("namespace", ""),
                                     deployment["metadata"].value("name", ""));
  auto it = seeded_templates.find(key);
  if (it != seeded_templates.end() && it->second == hash) {
    return true;
  }
  return pod["metadata"].value("labels", json::object()).value("pod-template-hash", "") == hash;
}

// Rolls a Deployment out at once: Pods of another template go, missing ones are created.
void Api::Impl::reconcile_deployment(const std::string& ns, const std::string& name) {
  const json* cur = store.get("deployments.apps", ns, name);
  if (cur == nullptr) {
    return;
  }
  const json d = *cur;
  const std::string hash = template_hash(d);
  const int replicas = d["spec"].value("replicas", 1);
  int current = 0;
  const ResourceType& pod_type = *store.find_type("", "v1", "pods");
  for (const auto& p : pods_of(d)) {
    const std::string pname = p["metadata"].value("name", "");
    if (is_current(d, p, hash) && current < replicas) {
      ++current;
    } else {
      store.erase("pods", ns, pname);
      reconcile_endpoints(ns);
    }
  }
  const json tmpl = d["spec"].value("template", json::object());
  for (; current < replicas; ++current) {
    json pod = {{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata", tmpl.value("metadata", json::object())},
                {"spec", tmpl.value("spec", json::object())}};
    pod["metadata"]["name"] = name + "-" + hash + "-" + generate_suffix();
    pod["metadata"]["namespace"] = ns;
    pod["metadata"]["labels"]["pod-template-hash"] = hash;
    pod["metadata"]["ownerReferences"] = json::array({{{"apiVersion", "apps/v1"},
                                                       {"kind", "ReplicaSet"},
                                                       {"name", name + "-" + hash},
                                                       {"uid", new_uid()},
                                                       {"controller", true},
                                                       {"blockOwnerDeletion", true}}});
    do_create(pod_type, ns, pod, "kube-controller-manager", false, false);
  }
  update_deployment_status(ns, name);
}

void Api::Impl::update_deployment_status(const std::string& ns, const std::string& name) {
  const json* cur = store.get("deployments.apps", ns, name);
  if (cur == nullptr) {
    return;
  }
  json d = *cur;
  const std::string hash = template_hash(d);
  int total = 0;
  int updated = 0;
  int ready = 0;
  for (const auto& p : pods_of(d)) {
    ++total;
    const bool up = is_current(d, p, hash);
    updated += up ? 1 : 0;
    ready += p.value("status", json::object()).value("phase", "") == "Running" ? 1 : 0;
  }
  const int replicas = d["spec"].value("replicas", 1);
  const std::string now = now_rfc3339();
  json status = {{"observedGeneration", d["metadata"].value("generation", 1)},
                 {"replicas", total},
                 {"updatedReplicas", updated},
                 {"readyReplicas", ready},
                 {"availableReplicas", ready}};
  if (total > ready) {
    status["unavailableReplicas"] = total - ready;
  }
  if (ready == 0) {
    status.erase("readyReplicas");
    status.erase("availableReplicas");
  }
  const bool available = ready >= replicas;
  status["conditions"] = json::array(
      {{{"type", "Available"},
        {"status", available ? "True" : "False"},
        {"reason", available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable"},
        {"message", available ? "Deployment has minimum availability."
                              : "Deployment does not have minimum availability."},
        {"lastUpdateTime", now},
        {"lastTransitionTime", now}},
       {{"type", "Progressing"},
        {"status", "True"},
        {"reason", "NewReplicaSetAvailable"},
        {"message", "ReplicaSet \"" + name + "-" + hash + "\" has successfully progressed."},
        {"lastUpdateTime", now},
        {"lastTransitionTime", now}}});
  json old_cmp = d.value("status", json::object());
  json new_cmp = status;
  for (auto* j : {&old_cmp, &new_cmp}) {
    if (j->contains("conditions")) {
      for (auto& c : (*j)["conditions"]) {
        c.erase("lastUpdateTime");
        c.erase("lastTransitionTime");
      }
    }
  }
  if (old_cmp == new_cmp) {
    return;
  }
  json next = d;
  next["status"] = status;
  record_update(next, d, "kube-controller-manager", json(), "apps/v1", "status");
  store.put("deployments.apps", next, false);
}

} // namespace kubesim

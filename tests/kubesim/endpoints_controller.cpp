// The Endpoints controller (simplified, immediate): a Service's Endpoints from the ready Pods its
// selector matches.

#include "api_impl.hpp"
#include "fields.hpp"
#include "selectors.hpp"

namespace kubesim {

// Endpoints for every Service with a selector (or just `only`): the ready Pods it selects.
// Writes go to the endpoints map only, so the Service pointers stay valid.
void Api::Impl::reconcile_endpoints(const std::string& ns, const std::string& only) {
  const ResourceType& ep_type = *store.find_type("", "v1", "endpoints");
  std::vector<const json*> services;
  if (only.empty()) {
    services = store.list("services", ns);
  } else if (const json* one = store.get("services", ns, only)) {
    services.push_back(one);
  }
  for (const json* svc_ptr : services) {
    const json& svc = *svc_ptr;
    const json spec = svc.value("spec", json::object());
    const json selector = spec.value("selector", json::object());
    if (selector.empty() || spec.value("type", "") == "ExternalName") {
      continue;
    }
    const std::string name = svc["metadata"].value("name", "");
    json addresses = json::array();
    std::vector<json> pods;
    for (const json* p : store.list("pods", ns)) {
      const json labels = (*p)["metadata"].value("labels", json::object());
      bool match = true;
      for (const auto& [k, v] : selector.items()) {
        match = match && labels.contains(k) && labels[k] == v;
      }
      const json st = p->value("status", json::object());
      if (!match || st.value("phase", "") != "Running" || st.value("podIP", "").empty()) {
        continue;
      }
      pods.push_back(*p);
      addresses.push_back({{"ip", st.value("podIP", "")},
                           {"nodeName", (*p)["spec"].value("nodeName", "")},
                           {"targetRef",
                            {{"kind", "Pod"},
                             {"name", (*p)["metadata"].value("name", "")},
                             {"namespace", ns},
                             {"uid", (*p)["metadata"].value("uid", "")}}}});
    }
    json ports = json::array();
    for (const auto& sp : spec.value("ports", json::array())) {
      json target = sp.value("targetPort", sp.value("port", json(0)));
      if (target.is_string() && !pods.empty()) {
        for (const auto& c : pods[0]["spec"].value("containers", json::array())) {
          for (const auto& cp : c.value("ports", json::array())) {
            if (cp.value("name", "") == target.get<std::string>()) {
              target = cp.value("containerPort", 0);
            }
          }
        }
      }
      json port = {{"port", target}, {"protocol", sp.value("protocol", "TCP")}};
      if (sp.contains("name")) {
        port["name"] = sp["name"];
      }
      ports.push_back(port);
    }
    json ep = {{"apiVersion", "v1"},
               {"kind", "Endpoints"},
               {"metadata", {{"name", name}, {"namespace", ns}}}};
    if (svc["metadata"].contains("labels")) {
      ep["metadata"]["labels"] = svc["metadata"]["labels"];
    }
    if (!addresses.empty()) {
      ep["subsets"] = json::array({{{"addresses", addresses}, {"ports", ports}}});
    }
    const json* existing = store.get("endpoints", ns, name);
    if (existing == nullptr) {
      do_create(ep_type, ns, ep, "kube-controller-manager", false, true);
      continue;
    }
    json next = *existing;
    if (ep.contains("subsets")) {
      next["subsets"] = ep["subsets"];
    } else {
      next.erase("subsets");
    }
    if (ep["metadata"].contains("labels")) {
      next["metadata"]["labels"] = ep["metadata"]["labels"];
    }
    if (comparable(next) != comparable(*existing)) {
      record_update(next, *existing, "kube-controller-manager", json(), "v1", "");
      store.put("endpoints", next, false);
    }
  }
}

} // namespace kubesim

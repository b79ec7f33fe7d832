// The reactions to a stored change (after_create, after_update, after_delete) and the small
// controllers they run: the ServiceAccount token controller, CRD registration, the default
// ServiceAccount and kube-root-ca.crt per namespace, namespace deletion and istiod's
// root-certificate publisher (rootcert_controller.hpp).

#include "api_impl.hpp"
#include "fields.hpp"
#include "pki.hpp"

#include <algorithm>

namespace kubesim {

void Api::Impl::after_create(const ResourceType& t, const json& obj) {
  const std::string ns = obj["metadata"].value("namespace", "");
  const std::string name = obj["metadata"].value("name", "");
  if (t.kind == "Namespace") {
    // ServiceAccount controller and root-CA publisher.
    json sa = {{"apiVersion", "v1"},
               {"kind", "ServiceAccount"},
               {"metadata", {{"name", "default"}, {"namespace", name}}}};
    json cm = {{"apiVersion", "v1"},
               {"kind", "ConfigMap"},
               {"metadata",
                {{"name", "kube-root-ca.crt"},
                 {"namespace", name},
                 {"annotations",
                  {{"kubernetes.io/description",
                    "Contains a CA bundle that can be used to verify the kube-apiserver when "
                    "using internal endpoints such as the internal service IP or "
                    "kubernetes.default.svc. No other usage is guaranteed across distributions "
                    "of Kubernetes clusters."}}}}},
               {"data", {{"ca.crt", api.m_pki->ca_pem()}}}};
    for (auto* o : {&sa, &cm}) {
      const ResourceType* ot = type_for(*o);
      if (store.get(ot->group_resource(), name, (*o)["metadata"]["name"]) == nullptr) {
        do_create(*ot, name, *o, "kube-controller-manager", false, true);
      }
    }
    if (istiod_running()) {
      publish_root_cert(name);
    }
  } else if (t.kind == "Secret" && obj.value("type", "") == "kubernetes.io/service-account-token") {
    const std::string uid = obj["metadata"].value("uid", "");
    scheduler(api.m_options.token_delay, [this, ns, name, uid] {
      std::lock_guard lock(mu);
      fill_token(ns, name, uid);
    });
  } else if (t.kind == "CustomResourceDefinition") {
    register_crd(obj);
  } else if (t.kind == "Pod") {
    if (obj.value("status", json::object()).value("phase", "Pending") == "Pending") {
      start_pod_later(ns, name, obj["metadata"].value("uid", ""));
    }
    reconcile_endpoints(ns);
    if (RootCertController::is_istiod_pod(obj)) {
      // istiod loads its CA root at start only: decide it now, publish it everywhere.
      rootcert.istiod_started(store.get("secrets", "istio-system", "cacerts"));
      std::vector<std::string> names;
      for (const json* n : store.list("namespaces", "")) {
        names.push_back((*n)["metadata"].value("name", ""));
      }
      for (const auto& n : names) {
        publish_root_cert(n);
      }
    }
  } else if (t.kind == "Service") {
    reconcile_endpoints(ns, name);
    reconcile_load_balancer(ns, name, false);
  } else if (t.kind == "Deployment") {
    if (seeding) {
      seeded_templates[object_key(ns, name)] = template_hash(obj);
    } else {
      reconcile_deployment_later(ns, name);
    }
  }
}

void Api::Impl::after_update(const ResourceType& t, const json& obj, const json& old) {
  const std::string ns = obj["metadata"].value("namespace", "");
  const std::string name = obj["metadata"].value("name", "");
  if (t.kind == "CustomResourceDefinition") {
    register_crd(obj);
  } else if (t.kind == "Pod") {
    reconcile_endpoints(ns);
  } else if (t.kind == "Service") {
    reconcile_endpoints(ns, name);
    reconcile_load_balancer(ns, name,
                            old.value("spec", json::object()).value("type", "") == "LoadBalancer");
  } else if (t.kind == "Deployment" &&
             obj["metadata"].value("generation", 0) != old["metadata"].value("generation", 0)) {
    reconcile_deployment_later(ns, name);
  }
}

void Api::Impl::after_delete(const ResourceType& t, const json& obj) {
  const std::string name = obj["metadata"].value("name", "");
  const std::string ns = obj["metadata"].value("namespace", "");
  if (t.kind == "Pod") {
    reconcile_endpoints(ns);
    // A Deployment replaces a Pod that goes away.
    for (const json* d : store.list("deployments.apps", ns)) {
      if (matches_label_selector_object((*d)["spec"].value("selector", json::object()),
                                        obj["metadata"].value("labels", json::object()))) {
        reconcile_deployment_later(ns, (*d)["metadata"].value("name", ""));
      }
    }
  } else if (t.kind == "Service") {
    if (!obj.value("spec", json::object()).value("selector", json::object()).empty()) {
      store.erase("endpoints", ns, name);
    }
  } else if (t.kind == "Deployment") {
    seeded_templates.erase(object_key(ns, name));
    for (const auto& p : pods_of(obj)) {
      store.erase("pods", ns, p["metadata"].value("name", ""));
    }
    reconcile_endpoints(ns);
  } else if (t.kind == "Namespace") {
    for (const auto& gr : store.stored_resources()) {
      std::vector<std::string> names;
      for (const json* o : store.list(gr, name)) {
        names.push_back((*o)["metadata"].value("name", ""));
      }
      for (const auto& n : names) {
        store.erase(gr, name, n);
      }
    }
  } else if (t.kind == "CustomResourceDefinition") {
    const std::string gr =
        obj["spec"]["names"].value("plural", "") + "." + obj["spec"].value("group", "");
    std::vector<std::pair<std::string, std::string>> keys;
    for (const json* o : store.list(gr, "")) {
      keys.emplace_back((*o)["metadata"].value("namespace", ""),
                        (*o)["metadata"].value("name", ""));
    }
    for (const auto& [kns, kname] : keys) {
      store.erase(gr, kns, kname);
    }
    store.remove_types(obj["spec"].value("group", ""), obj["spec"]["names"].value("plural", ""));
  } else if (t.kind == "ServiceAccount") {
    std::vector<std::string> doomed;
    for (const json* s : store.list("secrets", ns)) {
      if (s->value("type", "") == "kubernetes.io/service-account-token" &&
          (*s)["metadata"]
                  .value("annotations", json::object())
                  .value("kubernetes.io/service-account.name", "") == name) {
        doomed.push_back((*s)["metadata"].value("name", ""));
      }
    }
    for (const auto& d : doomed) {
      store.erase("secrets", ns, d);
    }
  }
}

void Api::Impl::fill_token(const std::string& ns, const std::string& name, const std::string& uid) {
  const json* s = store.get("secrets", ns, name);
  if (s == nullptr || (*s)["metadata"].value("uid", "") != uid) {
    return;
  }
  const json annotations = (*s)["metadata"].value("annotations", json::object());
  const std::string sa_name = annotations.value("kubernetes.io/service-account.name", "");
  const json* sa = store.get("serviceaccounts", ns, sa_name);
  if (sa == nullptr) {
    // The real controller deletes tokens of ServiceAccounts that do not exist.
    store.erase("secrets", ns, name);
    return;
  }
  json secret = *s;
  const std::string sa_uid = (*sa)["metadata"].value("uid", "");
  if (secret.contains("data") && secret["data"].contains("token")) {
    auto existing = base64_decode(secret["data"]["token"].get<std::string>());
    if (existing && token_identity(*existing)) {
      return;
    }
  }
  const std::string token =
      api.m_pki->sign_jwt({{"iss", "kubernetes/serviceaccount"},
                           {"kubernetes.io/serviceaccount/namespace", ns},
                           {"kubernetes.io/serviceaccount/secret.name", name},
                           {"kubernetes.io/serviceaccount/service-account.name", sa_name},
                           {"kubernetes.io/serviceaccount/service-account.uid", sa_uid},
                           {"sub", "system:serviceaccount:" + ns + ":" + sa_name}});
  secret["data"]["token"] = base64_encode(token);
  secret["data"]["ca.crt"] = base64_encode(api.m_pki->ca_pem());
  secret["data"]["namespace"] = base64_encode(ns);
  secret["metadata"]["annotations"]["kubernetes.io/service-account.uid"] = sa_uid;
  record_update(secret, *s, "kube-controller-manager", json(), "v1", "");
  store.put("secrets", secret, false);
}

void Api::Impl::register_crd(const json& crd) {
  const json& spec = crd["spec"];
  store.remove_types(spec.value("group", ""), spec["names"].value("plural", ""));
  for (const auto& t : crd_types(crd)) {
    store.add_type(t);
  }
}

void Api::Impl::crd_status(json& crd, const json& old) {
  const json& spec = crd["spec"];
  json names = spec["names"];
  // status.storedVersions is every version objects may still be stored at: kube's CRD strategy
  // appends a new storage version and never drops one (only a status write by whoever migrated
  // the objects does).
  std::vector<std::string> stored;
  if (old.is_object() && old.contains("status")) {
    stored = old["status"].value("storedVersions", std::vector<std::string>{});
  }
  for (const auto& v : spec["versions"]) {
    const std::string name = v.value("name", "");
    if (v.value("storage", false) &&
        std::find(stored.begin(), stored.end(), name) == stored.end()) {
      stored.push_back(name);
    }
  }
  const std::string now = now_rfc3339();
  crd["status"] = {
      {"acceptedNames", names},
      {"conditions", json::array({{{"type", "NamesAccepted"},
                                   {"status", "True"},
                                   {"lastTransitionTime", now},
                                   {"reason", "NoConflicts"},
                                   {"message", "no conflicts found"}},
                                  {{"type", "Established"},
                                   {"status", "True"},
                                   {"lastTransitionTime", now},
                                   {"reason", "InitialNamesAccepted"},
                                   {"message", "the initial names have been accepted"}}})},
      {"storedVersions", stored}};
}

bool Api::Impl::istiod_running() {
  if (rootcert.root().empty()) {
    return false;
  }
  for (const json* p : store.list("pods", "istio-system")) {
    if (RootCertController::is_istiod_pod(*p)) {
      return true;
    }
  }
  return false;
}

// Creates or updates istio-ca-root-cert in `ns` with istiod's root, as istiod does (Update).
void Api::Impl::publish_root_cert(const std::string& ns) {
  const json want = rootcert.config_map(ns);
  const json* cur = store.get("configmaps", ns, "istio-ca-root-cert");
  if (cur == nullptr) {
    do_create(*type_for(want), ns, want, "istiod", false, false);
    return;
  }
  json next = *cur;
  next["data"] = want["data"];
  next["metadata"]["labels"]["istio.io/config"] = "true";
  if (next != *cur) {
    record_update(next, *cur, "istiod", json(), "v1", "");
    store.put("configmaps", next, false);
  }
}

} // namespace kubesim

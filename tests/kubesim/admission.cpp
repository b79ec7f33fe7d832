// Admission: what happens to an object between the request body and the store. admit() is the
// single place every write (create, update, patch, apply, seeding) passes an object through
// before it is stored: pruning of unknown CRD fields, defaulting, validation, Service IP/port
// allocation and CRD status. Also the type checks on a body, the fields a write may not change,
// metadata.generation, the stored and the shown apiVersion, and istiod's sidecar injector (a
// mutating webhook in a real cluster).

#include "api_impl.hpp"
#include "fields.hpp"
#include "quantity.hpp"
#include "validate.hpp"

#include <algorithm>
#include <map>

namespace kubesim {

// The type errors Go's decoder reports for ObjectMeta ("cannot unmarshal ...").
std::optional<HttpResponse> Api::Impl::check_meta_types(const json& obj) {
  auto fail = [](const std::string& got, const std::string& field, const std::string& want) {
    return bad_request("json: cannot unmarshal " + got + " into Go struct field " + field +
                       " of type " + want);
  };
  auto type_of = [](const json& v) {
    return v.is_string()    ? "string"
           : v.is_number()  ? "number"
           : v.is_boolean() ? "bool"
           : v.is_array()   ? "array"
                            : "object";
  };
  for (const char* k : {"apiVersion", "kind"}) {
    if (obj.contains(k) && !obj[k].is_string()) {
      return fail(type_of(obj[k]), std::string("TypeMeta.") + k, "string");
    }
  }
  if (!obj.contains("metadata") || obj["metadata"].is_null()) {
    return std::nullopt;
  }
  const json& md = obj["metadata"];
  if (!md.is_object()) {
    return fail(type_of(md), "ObjectMeta.metadata", "v1.ObjectMeta");
  }
  for (const char* k : {"name", "generateName", "namespace", "resourceVersion", "uid"}) {
    if (md.contains(k) && !md[k].is_string() && !md[k].is_null()) {
      return fail(type_of(md[k]), std::string("ObjectMeta.metadata.") + k, "string");
    }
  }
  for (const char* k : {"labels", "annotations"}) {
    if (!md.contains(k) || md[k].is_null()) {
      continue;
    }
    if (!md[k].is_object()) {
      return fail(type_of(md[k]), std::string("ObjectMeta.metadata.") + k, "map[string]string");
    }
    for (const auto& [key, v] : md[k].items()) {
      if (!v.is_string()) {
        return fail(type_of(v), std::string("ObjectMeta.metadata.") + k, "string");
      }
    }
  }
  return std::nullopt;
}

// Checks apiVersion/kind of a body against the URL's type. Empty when fine.
std::optional<HttpResponse> Api::Impl::check_type(const ResourceType& t, json& obj) {
  if (!obj.is_object()) {
    return bad_request("the body of the request was not a JSON object");
  }
  if (auto bad = check_meta_types(obj)) {
    return bad;
  }
  const std::string av = obj.value("apiVersion", "");
  const std::string kind = obj.value("kind", "");
  if (av.empty() && kind.empty()) {
    obj["apiVersion"] = t.api_version();
    obj["kind"] = t.kind;
    return std::nullopt;
  }
  if (av != t.api_version()) {
    return bad_request("the API version in the data (" + av +
                       ") does not match the expected API version (" + t.api_version() + ")");
  }
  if (kind != t.kind) {
    return bad_request(kind + " in version \"" + t.version + "\" cannot be handled as a " + t.kind +
                       ": the kind in the data (" + kind + ") does not match the expected kind");
  }
  return std::nullopt;
}

// Admission of an object about to be stored, for every write (create, update, patch, apply and
// the system's own creates): prunes unknown CRD fields, applies defaults, validates, allocates a
// Service's IPs and ports and fills a CRD's status. Returns the failure response or nullopt.
std::optional<HttpResponse> Api::Impl::admit(const ResourceType& t, json& obj, const json& old,
                                             bool strict, std::vector<std::string>* warnings) {
  if (t.from_crd && t.schema.is_object()) {
    const auto pruned = prune_unknown(t.schema, obj);
    if (!pruned.empty()) {
      if (strict) {
        std::string msg;
        for (const auto& p : pruned) {
          msg += (msg.empty() ? "" : ", ") + std::string("unknown field \"") + p.substr(1) + "\"";
        }
        return bad_request("strict decoding error: " + msg);
      }
      if (warnings != nullptr) {
        for (const auto& p : pruned) {
          warnings->push_back("unknown field \"" + p.substr(1) + "\"");
        }
      }
    }
  }
  // Decoding stores every Quantity in canonical form (quantity.hpp); a bad one fails decoding.
  if (auto bad = canonicalize_quantities(t.kind, obj)) {
    return bad_request(t.kind + " in version \"" + t.version + "\" cannot be handled as a " +
                       t.kind + ": " + *bad);
  }
  apply_defaults(t, obj);
  const std::string name = obj["metadata"].value("name", "");
  auto causes = validate_object(t, obj, old);
  if (t.kind == "Secret" && obj.value("type", "") == "kubernetes.io/service-account-token" &&
      obj["metadata"]
          .value("annotations", json::object())
          .value("kubernetes.io/service-account.name", "")
          .empty()) {
    causes.push_back({"FieldValueRequired",
                      "metadata.annotations[kubernetes.io/service-account.name]",
                      "Required value"});
  }
  if (causes.empty() && t.kind == "Service") {
    causes = allocate_service(obj, old);
  }
  if (!causes.empty()) {
    return invalid(t, name, causes);
  }
  if (t.kind == "CustomResourceDefinition") {
    crd_status(obj, old);
  }
  return std::nullopt;
}

// Status and other fields a write to the main resource may not change.
void Api::Impl::keep_server_fields(const ResourceType& t, json& obj, const json& old) {
  auto& md = obj["metadata"];
  const auto& omd = old["metadata"];
  for (const char* k : {"uid", "creationTimestamp", "generation"}) {
    if (omd.contains(k)) {
      md[k] = omd[k];
    } else {
      md.erase(k);
    }
  }
  if (t.has_subresource("status") || t.kind == "Namespace") {
    if (old.contains("status")) {
      obj["status"] = old["status"];
    } else {
      obj.erase("status");
    }
  }
}

void Api::Impl::bump_generation(const ResourceType& t, json& obj, const json& old) {
  if (!t.tracks_generation) {
    return;
  }
  json a = obj;
  json b = old;
  for (auto* j : {&a, &b}) {
    j->erase("status");
    j->erase("metadata");
    j->erase("apiVersion");
    j->erase("kind");
  }
  if (a != b) {
    obj["metadata"]["generation"] = old["metadata"].value("generation", 1) + 1;
  }
}

std::string Api::Impl::storage_api_version(const ResourceType& t) {
  if (!t.from_crd) {
    return t.api_version();
  }
  for (const auto& o : store.types()) {
    if (o.group == t.group && o.resource == t.resource && o.storage_version) {
      return o.api_version();
    }
  }
  return t.api_version();
}

json Api::Impl::present(const ResourceType& t, json obj) {
  obj["apiVersion"] = t.api_version();
  obj["kind"] = t.kind;
  return obj;
}

// Istio's sidecar injector, a mutating webhook in a real cluster, one per istiod revision R
// installed (its ConfigMap istio-system/istio-sidecar-injector[-R], labelled istio.io/rev=R; no
// suffix for the revision `default`). Which one injects a Pod is decided by the selectors of the
// chart's MutatingWebhookConfiguration (istio-discovery mutatingwebhook.yaml), with N the Pod's
// namespace:
//   rev.namespace  N has istio.io/rev=R and no istio-injection label; the Pod is not
//                  sidecar.istio.io/inject=false;
//   rev.object     N has neither label; the Pod has istio.io/rev=R and is not inject=false;
// and, only for the default revision (a revision-only install has no such injector):
//   namespace      N has istio-injection=enabled; the Pod is not inject=false;
//   object         N has neither label; the Pod has sidecar.istio.io/inject=true and no
//                  istio.io/rev.
// The injected Pod gets the istio-init and istio-proxy containers of that revision's values'
// hub/tag, the cluster's identity in the proxy's environment, Istio's labels, and istio.io/rev
// and sidecar.istio.io/status naming the revision. Pods that already carry that annotation or an
// istio-proxy container, and hostNetwork Pods, are left alone — except a Pod asking for the
// `gateway` template (annotation inject.istio.io/templates: gateway, as Istio's gateway chart and
// meshctl's east-west gateway render it), whose own istio-proxy container with image: auto gets
// the revision's proxy image and identity, and no init container.
namespace {

// The injectors installed: revision -> its ConfigMap.
std::map<std::string, const json*> injectors(const Store& store) {
  std::map<std::string, const json*> out;
  constexpr std::string_view k_base = "istio-sidecar-injector";
  for (const json* cm : store.list("configmaps", "istio-system")) {
    const std::string name = (*cm)["metadata"].value("name", std::string());
    if (name == k_base) {
      out.emplace("default", cm);
    } else if (name.rfind(std::string(k_base) + "-", 0) == 0) {
      const json labels = (*cm)["metadata"].value("labels", json::object());
      const std::string rev = labels.value("istio.io/rev", name.substr(k_base.size() + 1));
      out.emplace(rev, cm);
    }
  }
  return out;
}

// The revision whose injector the webhooks' selectors send the Pod to, or "" for none.
std::string injecting_revision(const std::map<std::string, const json*>& installed,
                               const json& ns_labels, const json& pod_labels) {
  const std::string ns_injection = ns_labels.value("istio-injection", std::string());
  const bool ns_has_injection = ns_labels.contains("istio-injection");
  const bool ns_has_rev = ns_labels.contains("istio.io/rev");
  const std::string pod_inject = pod_labels.value("sidecar.istio.io/inject", std::string());
  const bool pod_has_rev = pod_labels.contains("istio.io/rev");
  if (pod_inject == "false") {
    return {};
  }
  std::string rev;
  if (ns_has_rev && !ns_has_injection) {
    rev = ns_labels.value("istio.io/rev", std::string()); // rev.namespace
  } else if (!ns_has_rev && !ns_has_injection && pod_has_rev) {
    rev = pod_labels.value("istio.io/rev", std::string()); // rev.object
  } else if (ns_injection == "enabled") {
    rev = "default"; // namespace (default revision only)
  } else if (!ns_has_rev && !ns_has_injection && pod_inject == "true") {
    rev = "default"; // object (default revision only)
  }
  return installed.contains(rev) ? rev : std::string();
}

} // namespace

void Api::Impl::inject_sidecar(json& pod, const std::string& ns) {
  const json* nso = store.get("namespaces", "", ns);
  if (nso == nullptr) {
    return;
  }
  const auto installed = injectors(store);
  if (installed.empty()) {
    return;
  }
  const json ns_labels = (*nso)["metadata"].value("labels", json::object());
  const json pod_labels = pod.contains("metadata") && pod["metadata"].is_object()
                              ? pod["metadata"].value("labels", json::object())
                              : json::object();
  const std::string revision = injecting_revision(installed, ns_labels, pod_labels);
  if (revision.empty()) {
    return;
  }
  const json* cm = installed.at(revision);
  auto& md = pod["metadata"];
  if (!md.contains("labels") || !md["labels"].is_object()) {
    md["labels"] = json::object();
  }
  if (!md.contains("annotations") || !md["annotations"].is_object()) {
    md["annotations"] = json::object();
  }
  json& spec = pod["spec"];
  if (!spec.is_object() || spec.value("hostNetwork", false) ||
      md["annotations"].contains("sidecar.istio.io/status")) {
    return;
  }
  const json values = json::parse(
      (*cm).value("data", json::object()).value("values", std::string("{}")), nullptr, false);
  const json global = values.is_object() ? values.value("global", json::object()) : json::object();
  const std::string image =
      global.value("hub", std::string("docker.io/istio")) + "/" +
      global.value("proxy", json::object()).value("image", std::string("proxyv2")) + ":" +
      global.value("tag", std::string("1.24.2"));
  const std::string cluster =
      global.value("multiCluster", json::object()).value("clusterName", std::string("Kubernetes"));
  if (md["annotations"].value("inject.istio.io/templates", "") == "gateway") {
    inject_gateway(pod, image, cluster, global, revision);
    return;
  }
  for (const auto& c : spec.value("containers", json::array())) {
    if (c.value("name", "") == "istio-proxy") {
      return; // injected already, or a proxy of its own
    }
  }
  const json proxy_env = json::array(
      {{{"name", "ISTIO_META_CLUSTER_ID"}, {"value", cluster}},
       {{"name", "ISTIO_META_NETWORK"}, {"value", global.value("network", std::string())}},
       {{"name", "ISTIO_META_MESH_ID"}, {"value", global.value("meshID", std::string())}}});
  const std::string app = md["labels"].value("app", md.value("name", std::string()));
  md["labels"]["security.istio.io/tlsMode"] = "istio";
  md["labels"]["service.istio.io/canonical-name"] =
      md["labels"].value("app.kubernetes.io/name", app);
  md["labels"]["service.istio.io/canonical-revision"] =
      md["labels"].value("version", std::string("latest"));
  const json& containers = spec.value("containers", json::array());
  if (!containers.empty()) {
    md["annotations"]["kubectl.kubernetes.io/default-container"] =
        containers[0].value("name", std::string());
  }
  md["annotations"]["istio.io/rev"] = revision;
  md["annotations"]["sidecar.istio.io/status"] =
      R"({"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["workload-socket","credential-socket","workload-certs","istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":")" +
      revision + R"("})";
  spec["initContainers"] = spec.value("initContainers", json::array());
  spec["initContainers"].push_back(
      {{"name", "istio-init"},
       {"image", image},
       {"args",
        {"istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*",
         "-x", "", "-b", "*", "-d", "15090,15021,15020", "--log_output_level=default:info"}}});
  spec["containers"].push_back(
      {{"name", "istio-proxy"},
       {"image", image},
       {"args",
        {"proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local",
         "--proxyLogLevel=warning", "--proxyComponentLogLevel=misc:error",
         "--log_output_level=default:info"}},
       {"ports",
        json::array(
            {{{"containerPort", 15090}, {"name", "http-envoy-prom"}, {"protocol", "TCP"}}})},
       {"env", proxy_env},
       {"readinessProbe",
        {{"httpGet", {{"path", "/healthz/ready"}, {"port", 15021}}},
         {"initialDelaySeconds", 0},
         {"periodSeconds", 15}}},
       {"securityContext", {{"runAsUser", 1337}, {"runAsGroup", 1337}, {"runAsNonRoot", true}}}});
}

// The injector's "gateway" template (gateway-injection-template.yaml), which every Istio installer
// of gateways asks for with annotation inject.istio.io/templates: gateway on a Deployment whose
// istio-proxy container says image: auto (gen-eastwest-gateway.sh + istioctl, the Helm gateway
// chart, meshctl's own). The template is the base and the Pod's istio-proxy is merged over it, as
// Istio does: `auto` becomes the proxy image, env is merged by name (the Pod's own, such as
// ISTIO_META_REQUESTED_NETWORK_VIEW, win), and the proxy runs as a router. No istio-init, and
// no tlsMode label: a gateway terminates nothing on behalf of an application.
void Api::Impl::inject_gateway(json& pod, const std::string& image, const std::string& cluster,
                               const json& global, const std::string& revision) {
  auto& md = pod["metadata"];
  auto& labels = md["labels"];
  const std::string owner = labels.value("app", md.value("name", std::string()));
  labels["service.istio.io/canonical-name"] = labels.value(
      "service.istio.io/canonical-name", labels.value("app.kubernetes.io/name", owner));
  labels["service.istio.io/canonical-revision"] =
      labels.value("service.istio.io/canonical-revision",
                   labels.value("app.kubernetes.io/version", labels.value("version", "latest")));
  labels["istio.io/rev"] = labels.value("istio.io/rev", revision);
  md["annotations"]["istio.io/rev"] = revision;
  md["annotations"]["sidecar.istio.io/status"] =
      R"({"initContainers":null,"containers":["istio-proxy"],"volumes":["workload-socket","credential-socket","workload-certs","istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":")" +
      revision + R"("})";
  json env = json::array({{{"name", "ISTIO_META_CLUSTER_ID"}, {"value", cluster}}});
  if (const std::string net = global.value("network", std::string()); !net.empty()) {
    env.push_back({{"name", "ISTIO_META_NETWORK"}, {"value", net}});
  }
  if (const std::string mesh = global.value("meshID", std::string()); !mesh.empty()) {
    env.push_back({{"name", "ISTIO_META_MESH_ID"}, {"value", mesh}});
  }
  json proxy = {
      {"name", "istio-proxy"},
      {"image", image},
      {"ports",
       json::array({{{"containerPort", 15090}, {"name", "http-envoy-prom"}, {"protocol", "TCP"}}})},
      {"args",
       {"proxy", "router", "--domain", "$(POD_NAMESPACE).svc.cluster.local",
        "--proxyLogLevel=warning", "--proxyComponentLogLevel=misc:error",
        "--log_output_level=default:info"}},
      {"env", env},
      {"readinessProbe",
       {{"httpGet", {{"path", "/healthz/ready"}, {"port", 15021}}},
        {"periodSeconds", 15},
        {"timeoutSeconds", 3}}}};
  json& containers = pod["spec"]["containers"];
  if (!containers.is_array()) {
    containers = json::array();
  }
  for (auto& c : containers) {
    if (c.value("name", "") != "istio-proxy") {
      continue;
    }
    for (const auto& [k, v] : c.items()) {
      if (k == "image" && v == "auto") {
        continue;
      }
      if (k == "env" && v.is_array()) {
        for (const auto& e : v) {
          auto& merged = proxy["env"];
          auto it = std::find_if(merged.begin(), merged.end(), [&](const json& x) {
            return x.value("name", "") == e.value("name", "");
          });
          if (it != merged.end()) {
            *it = e;
          } else {
            merged.push_back(e);
          }
        }
        continue;
      }
      proxy[k] = v;
    }
    c = proxy;
    return;
  }
  containers.push_back(proxy);
}

} // namespace kubesim

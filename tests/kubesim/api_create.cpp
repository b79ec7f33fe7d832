// Create (POST to a collection), for HTTP requests and for objects the system makes itself (seed,
// bootstrap, controllers).

#include "api_impl.hpp"
#include "fields.hpp"
#include "pki.hpp"

namespace kubesim {

const ResourceType* Api::Impl::type_for(const json& obj) {
  const std::string av = obj.value("apiVersion", "");
  const auto slash = av.find('/');
  const std::string group = slash == std::string::npos ? "" : av.substr(0, slash);
  const std::string version = slash == std::string::npos ? av : av.substr(slash + 1);
  return store.find_kind(group, version, obj.value("kind", ""));
}

// Creates as the system would (seed, bootstrap, controllers); throws on failure.
void Api::Impl::create_internal(json obj) {
  const ResourceType* t = type_for(obj);
  if (t == nullptr) {
    throw std::runtime_error("no type " + obj.value("apiVersion", "") + " " +
                             obj.value("kind", ""));
  }
  const std::string ns = t->namespaced ? obj["metadata"].value("namespace", "default") : "";
  if (t->namespaced) {
    obj["metadata"]["namespace"] = ns;
  }
  HttpResponse r = do_create(*t, ns, obj, "kubesim-seed", false, true);
  if (r.status >= 300) {
    throw std::runtime_error(r.body);
  }
}

HttpResponse Api::Impl::do_create(const ResourceType& t, const std::string& ns, json obj,
                                  const std::string& manager, bool dry_run, bool keep_status,
                                  bool strict) {
  auto& md = obj["metadata"];
  if (!md.is_object()) {
    md = json::object();
  }
  if (t.namespaced) {
    if (md.contains("namespace") && md["namespace"] != ns) {
      return bad_request("the namespace of the provided object does not match the namespace "
                         "sent on the request");
    }
    md["namespace"] = ns;
    if (store.get("namespaces", "", ns) == nullptr) {
      return namespace_not_found(ns);
    }
  } else {
    md.erase("namespace");
  }
  if (md.value("name", "").empty() && !md.value("generateName", "").empty()) {
    md["name"] = md["generateName"].get<std::string>() + generate_suffix();
  }
  if (!keep_status) {
    obj.erase("status");
  }
  if (t.group_resource() == "pods" && !keep_status) {
    inject_sidecar(obj, ns); // mutating admission (not for seeded objects, kept as written)
  }
  for (const char* k : {"uid", "resourceVersion", "creationTimestamp", "generation",
                        "managedFields", "deletionTimestamp", "selfLink"}) {
    md.erase(k);
  }
  std::vector<std::string> warnings;
  if (auto fail = admit(t, obj, json(), strict, &warnings)) {
    return *fail;
  }
  const std::string name = md.value("name", "");
  if (store.get(t.group_resource(), ns, name) != nullptr) {
    return already_exists(t, name);
  }
  obj["apiVersion"] = storage_api_version(t);
  obj["kind"] = t.kind;
  obj["metadata"]["uid"] = new_uid();
  obj["metadata"]["creationTimestamp"] = now_rfc3339();
  if (t.tracks_generation) {
    obj["metadata"]["generation"] = 1;
  }
  record_update(obj, json(), manager, t.schema, t.api_version(), "");
  HttpResponse r;
  if (dry_run) {
    r = json_response(201, present(t, obj));
  } else {
    const json stored = store.put(t.group_resource(), obj, true);
    r = json_response(201, present(t, stored));
    after_create(t, stored);
  }
  for (const auto& w : warnings) {
    r.headers.emplace_back("Warning", "299 - \"" + w + "\"");
  }
  return r;
}

} // namespace kubesim

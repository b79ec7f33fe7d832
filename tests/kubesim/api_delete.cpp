// Delete (DELETE on an object) and deletecollection (DELETE on a collection).

#include "api_impl.hpp"
#include "selectors.hpp"

namespace kubesim {

HttpResponse Api::Impl::do_delete(const ResourceType& t, const Target& tg, const HttpRequest& req,
                                  const Query& q) {
  const json* cur = store.get(t.group_resource(), tg.ns, tg.name);
  if (cur == nullptr) {
    return not_found(t, tg.name);
  }
  if (t.kind == "Namespace" &&
      (tg.name == "default" || tg.name == "kube-system" || tg.name == "kube-public")) {
    return status_response(403, "Forbidden",
                           "namespaces \"" + tg.name +
                               "\" is forbidden: this namespace may not be deleted",
                           details_for(t, tg.name));
  }
  std::string err;
  bool dry_run = q_get(q, "dryRun") == "All";
  if (!req.body.empty()) {
    auto opts = parse_body(req.body, err);
    if (opts && opts->is_object()) {
      if (opts->contains("dryRun") && (*opts)["dryRun"].is_array()) {
        for (const auto& d : (*opts)["dryRun"]) {
          dry_run = dry_run || d == "All";
        }
      }
      if (opts->contains("preconditions")) {
        const json& pre = (*opts)["preconditions"];
        const json& md = (*cur)["metadata"];
        if ((pre.contains("uid") && pre["uid"] != md["uid"]) ||
            (pre.contains("resourceVersion") && pre["resourceVersion"] != md["resourceVersion"])) {
          return status_response(
              409, "Conflict",
              "Operation cannot be fulfilled on " + t.group_resource() + " \"" + tg.name +
                  "\": Precondition failed: UID in precondition: " + pre.value("uid", "") +
                  ", UID in object meta: " + md.value("uid", ""),
              details_for(t, tg.name));
        }
      }
    }
  }
  json obj = *cur;
  if (!dry_run) {
    store.erase(t.group_resource(), tg.ns, tg.name);
    after_delete(t, obj);
  }
  if (t.kind == "Namespace") {
    obj["metadata"]["deletionTimestamp"] = now_rfc3339();
    obj["status"]["phase"] = "Terminating";
  }
  if (t.return_deleted_object) {
    return json_response(200, present(t, obj));
  }
  json details = details_for(t, tg.name);
  details["uid"] = obj["metadata"].value("uid", "");
  return json_response(200, {{"kind", "Status"},
                             {"apiVersion", "v1"},
                             {"metadata", json::object()},
                             {"status", "Success"},
                             {"details", details}});
}

HttpResponse Api::Impl::do_delete_collection(const ResourceType& t, const Target& tg,
                                             const HttpRequest& req, const Query& q) {
  std::string err;
  auto lsel = parse_label_selector(q_get(q, "labelSelector"), err);
  if (!lsel) {
    return bad_request(err);
  }
  std::vector<std::pair<std::string, std::string>> keys;
  for (const json* o : store.list(t.group_resource(), tg.ns)) {
    if (lsel->matches((*o)["metadata"].value("labels", json::object()))) {
      keys.emplace_back((*o)["metadata"].value("namespace", ""),
                        (*o)["metadata"].value("name", ""));
    }
  }
  json items = json::array();
  for (const auto& [ns, name] : keys) {
    Target one = tg;
    one.ns = ns;
    one.name = name;
    HttpResponse r = do_delete(t, one, req, q);
    if (r.status == 200) {
      items.push_back(json::parse(r.body));
    }
  }
  return json_response(200,
                       {{"kind", t.list_kind},
                        {"apiVersion", t.api_version()},
                        {"metadata", {{"resourceVersion", std::to_string(store.current_rv())}}},
                        {"items", items}});
}

} // namespace kubesim

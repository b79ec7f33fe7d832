// Update (PUT), patch (JSON, merge and strategic merge patch) and server-side apply (PATCH with
// application/apply-patch+yaml), on the main resource and on /status.

#include "api_impl.hpp"
#include "fields.hpp"
#include "patch.hpp"
#include "pki.hpp"
#include "quantity.hpp"
#include "validate.hpp"

#include <fmt/format.h>

namespace kubesim {

std::string Api::Impl::manager_of(const HttpRequest& req, const Query& q,
                                  const std::string& fallback) {
  std::string m = q_get(q, "fieldManager");
  if (!m.empty()) {
    return m;
  }
  auto it = req.headers.find("user-agent");
  if (it != req.headers.end() && !it->second.empty()) {
    return it->second.substr(0, it->second.find('/'));
  }
  return fallback;
}

// Persists `obj` as the new state of `old` (already validated); no write when nothing changed.
HttpResponse Api::Impl::commit_update(const ResourceType& t, json obj, const json& old,
                                      bool dry_run, int created_status) {
  if (old.is_null() && t.group_resource() == "pods") {
    inject_sidecar(obj, obj["metadata"].value("namespace", "")); // a Pod created by apply
  }
  canonicalize_quantities(t.kind, obj); // status writes skip admit(); see quantity.hpp
  obj["apiVersion"] = storage_api_version(t);
  obj["kind"] = t.kind;
  if (!old.is_null()) {
    obj["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"];
    if (comparable(obj) == comparable(old)) {
      return json_response(200, present(t, old));
    }
  }
  if (dry_run) {
    return json_response(created_status, present(t, obj));
  }
  const json stored = store.put(t.group_resource(), obj, old.is_null());
  if (old.is_null()) {
    after_create(t, stored);
  } else {
    after_update(t, stored, old);
  }
  return json_response(created_status, present(t, stored));
}

HttpResponse Api::Impl::do_update(const ResourceType& t, const Target& tg, const HttpRequest& req,
                                  const Query& q) {
  std::string err;
  auto body = parse_request_body(req, err);
  if (!body) {
    return body_error(req, err);
  }
  json obj = *body;
  if (auto bad = check_type(t, obj)) {
    return *bad;
  }
  const std::string name = obj["metadata"].value("name", "");
  if (name != tg.name) {
    return bad_request("the name of the object (" + name +
                       ") does not match the name on the URL (" + tg.name + ")");
  }
  const json* cur = store.get(t.group_resource(), tg.ns, tg.name);
  if (cur == nullptr) {
    return not_found(t, tg.name);
  }
  const json old = *cur;
  const std::string rv = obj["metadata"].value("resourceVersion", "");
  if (!rv.empty() && rv != old["metadata"].value("resourceVersion", "")) {
    return conflict(t, tg.name);
  }
  if (t.namespaced) {
    obj["metadata"]["namespace"] = tg.ns;
  }
  const bool dry_run = q_get(q, "dryRun") == "All";
  const std::string manager = manager_of(req, q, "unknown");
  if (tg.subresource == "status") {
    json next = old;
    if (obj.contains("status")) {
      next["status"] = obj["status"];
    } else {
      next.erase("status");
    }
    record_update(next, old, manager, t.schema, t.api_version(), "status");
    return commit_update(t, next, old, dry_run);
  }
  keep_server_fields(t, obj, old);
  obj["metadata"]["managedFields"] = old["metadata"].value("managedFields", json::array());
  if (auto fail = admit(t, obj, old, q_get(q, "fieldValidation") == "Strict", nullptr)) {
    return *fail;
  }
  bump_generation(t, obj, old);
  record_update(obj, old, manager, t.schema, t.api_version(), "");
  return commit_update(t, obj, old, dry_run);
}

HttpResponse Api::Impl::do_patch(const ResourceType& t, const Target& tg, const HttpRequest& req,
                                 const Query& q) {
  std::string ctype = req.headers.count("content-type") ? req.headers.at("content-type") : "";
  ctype = ctype.substr(0, ctype.find(';'));
  const bool dry_run = q_get(q, "dryRun") == "All";
  const bool strict = q_get(q, "fieldValidation") == "Strict";
  std::string err;
  if (ctype == "application/apply-patch+yaml" || ctype == "application/apply-patch+cbor") {
    auto body = parse_body(req.body, err);
    if (!body) {
      return bad_request(err);
    }
    json cfg = *body;
    const std::string manager = q_get(q, "fieldManager");
    if (manager.empty()) {
      return status_response(400, "BadRequest",
                             "PATCH " + req.target.substr(0, req.target.find('?')) +
                                 ": fieldManager is required for apply requests");
    }
    if (!cfg.is_object() || cfg.value("apiVersion", "").empty() || cfg.value("kind", "").empty()) {
      return bad_request("invalid object type: /, Kind=");
    }
    if (auto bad = check_type(t, cfg)) {
      return *bad;
    }
    if (!cfg.contains("metadata") || !cfg["metadata"].is_object()) {
      cfg["metadata"] = json::object();
    }
    if (cfg["metadata"].value("name", tg.name) != tg.name) {
      return bad_request("the name of the object (" + cfg["metadata"].value("name", "") +
                         ") does not match the name on the URL (" + tg.name + ")");
    }
    cfg["metadata"]["name"] = tg.name;
    if (t.namespaced) {
      if (cfg["metadata"].contains("namespace") && cfg["metadata"]["namespace"] != tg.ns) {
        return bad_request("the namespace of the provided object does not match the namespace "
                           "sent on the request");
      }
      cfg["metadata"].erase("namespace");
    }
    if (tg.subresource != "status") {
      cfg.erase("status");
    }
    const json* cur = store.get(t.group_resource(), tg.ns, tg.name);
    const json live = cur == nullptr ? json() : *cur;
    if (live.is_null() && t.namespaced && store.get("namespaces", "", tg.ns) == nullptr) {
      return namespace_not_found(tg.ns);
    }
    if (t.from_crd && t.schema.is_object()) {
      const auto pruned = prune_unknown(t.schema, cfg);
      if (!pruned.empty() && strict) {
        std::string msg;
        for (const auto& p : pruned) {
          msg += (msg.empty() ? "" : ", ") + std::string(".") + p.substr(1) +
                 ": field not declared in schema";
        }
        return bad_request(msg);
      }
    }
    std::vector<ApplyConflict> conflicts;
    json merged =
        apply_config(live, cfg, manager, q_true(q, "force"), t.schema, t.api_version(), conflicts);
    if (!conflicts.empty()) {
      json causes = json::array();
      std::string msg;
      if (conflicts.size() == 1) {
        msg = "Apply failed with 1 conflict: conflict with " + conflicts[0].manager + ": " +
              conflicts[0].path;
      } else {
        std::map<std::string, std::vector<std::string>> by;
        for (const auto& c : conflicts) {
          by[c.manager].push_back(c.path);
        }
        std::vector<std::string> lines;
        for (const auto& [m, paths] : by) {
          lines.push_back("conflicts with " + m + ":");
          for (const auto& p : paths) {
            lines.push_back("- " + p);
          }
        }
        msg = fmt::format("Apply failed with {} conflicts: ", conflicts.size());
        for (std::size_t i = 0; i < lines.size(); ++i) {
          msg += (i ? "\n" : "") + lines[i];
        }
      }
      for (const auto& c : conflicts) {
        causes.push_back({{"reason", "FieldManagerConflict"},
                          {"message", "conflict with " + c.manager},
                          {"field", c.path}});
      }
      return status_response(409, "Conflict", msg, {{"causes", causes}});
    }
    if (t.namespaced) {
      merged["metadata"]["namespace"] = tg.ns;
    }
    if (live.is_null()) {
      merged["apiVersion"] = t.api_version();
      merged["kind"] = t.kind;
      if (auto fail = admit(t, merged, json(), false, nullptr)) {
        return *fail;
      }
      merged["metadata"]["uid"] = new_uid();
      merged["metadata"]["creationTimestamp"] = now_rfc3339();
      if (t.tracks_generation) {
        merged["metadata"]["generation"] = 1;
      }
      return commit_update(t, merged, json(), dry_run, 201);
    }
    if (tg.subresource != "status") {
      keep_server_fields(t, merged, live);
    }
    if (auto fail = admit(t, merged, live, false, nullptr)) {
      return *fail;
    }
    bump_generation(t, merged, live);
    return commit_update(t, merged, live, dry_run);
  }
  const json* cur = store.get(t.group_resource(), tg.ns, tg.name);
  if (cur == nullptr) {
    return not_found(t, tg.name);
  }
  const json old = *cur;
  auto patch = parse_body(req.body, err);
  if (!patch) {
    return bad_request(err);
  }
  json next;
  try {
    if (ctype == "application/merge-patch+json") {
      next = merge_patch(old, *patch);
    } else if (ctype == "application/strategic-merge-patch+json") {
      if (t.from_crd) {
        return status_response(415, "UnsupportedMediaType",
                               "the body of the request was in an unknown format - accepted "
                               "media types include: application/json-patch+json, "
                               "application/merge-patch+json, application/apply-patch+yaml",
                               json::object());
      }
      next = strategic_merge_patch(old, *patch);
    } else if (ctype == "application/json-patch+json") {
      next = old.patch(*patch);
    } else {
      return status_response(415, "UnsupportedMediaType",
                             "the body of the request was in an unknown format - accepted media "
                             "types include: application/json-patch+json, "
                             "application/merge-patch+json, application/apply-patch+yaml, "
                             "application/strategic-merge-patch+json",
                             json::object());
    }
  } catch (const std::exception& e) {
    return status_response(422, "Invalid",
                           std::string("the patch could not be applied: ") + e.what());
  }
  const std::string rv = next["metadata"].value("resourceVersion", "");
  if (!rv.empty() && rv != old["metadata"].value("resourceVersion", "")) {
    return conflict(t, tg.name);
  }
  const std::string manager = manager_of(req, q, "unknown");
  if (tg.subresource == "status") {
    json status_only = old;
    if (next.contains("status")) {
      status_only["status"] = next["status"];
    }
    record_update(status_only, old, manager, t.schema, t.api_version(), "status");
    return commit_update(t, status_only, old, dry_run);
  }
  if (next.value("apiVersion", "") != old.value("apiVersion", "") ||
      next.value("kind", "") != old.value("kind", "")) {
    // The patch may only keep them (the stored apiVersion may differ from the URL's for CRDs).
    next["apiVersion"] = old["apiVersion"];
    next["kind"] = old["kind"];
  }
  if (next["metadata"].value("name", "") != tg.name) {
    return bad_request("metadata.name: Invalid value: the name of a patched object may not change");
  }
  keep_server_fields(t, next, old);
  if (auto fail = admit(t, next, old, strict, nullptr)) {
    return *fail;
  }
  bump_generation(t, next, old);
  record_update(next, old, manager, t.schema, t.api_version(), "");
  return commit_update(t, next, old, dry_run);
}

} // namespace kubesim

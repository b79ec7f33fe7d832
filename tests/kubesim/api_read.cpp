// Get and list, as JSON, as a Table (kubectl get) or as PartialObjectMetadata.

#include "api_impl.hpp"
#include "fields.hpp"
#include "selectors.hpp"
#include "table.hpp"

namespace kubesim {

bool Api::Impl::wants_table(const HttpRequest& req) {
  auto it = req.headers.find("accept");
  return it != req.headers.end() && it->second.find("as=Table") != std::string::npos;
}

// Accept: application/json;as=PartialObjectMetadata[List];g=meta.k8s.io;v=v1 (metadata-only
// clients, e.g. controller-runtime's metadata client).
bool Api::Impl::wants_metadata(const HttpRequest& req) {
  auto it = req.headers.find("accept");
  return it != req.headers.end() &&
         it->second.find("as=PartialObjectMetadata") != std::string::npos;
}

json Api::Impl::partial(const json& obj) {
  return {{"kind", "PartialObjectMetadata"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", obj["metadata"]}};
}

HttpResponse Api::Impl::do_get(const ResourceType& t, const Target& tg, const HttpRequest& req,
                               const Query& q) {
  const json* cur = store.get(t.group_resource(), tg.ns, tg.name);
  if (cur == nullptr) {
    return not_found(t, tg.name);
  }
  json obj = present(t, *cur);
  if (wants_metadata(req) && !wants_table(req)) {
    return json_response(200, partial(obj));
  }
  if (wants_table(req)) {
    return json_response(200,
                         make_table(t, {obj}, q_get(q, "includeObject", "Metadata"),
                                    {{"resourceVersion", obj["metadata"]["resourceVersion"]}}));
  }
  return json_response(200, obj);
}

bool Api::Impl::field_matches(const ResourceType& t, const Selector& sel, const json& obj,
                              std::string& error) {
  json fields = json::object();
  fields["metadata.name"] = obj["metadata"].value("name", "");
  if (t.namespaced) {
    fields["metadata.namespace"] = obj["metadata"].value("namespace", "");
  }
  if (t.kind == "Pod") {
    fields["spec.nodeName"] = obj.value("spec", json::object()).value("nodeName", "");
    fields["spec.serviceAccountName"] =
        obj.value("spec", json::object()).value("serviceAccountName", "");
    fields["status.phase"] = obj.value("status", json::object()).value("phase", "");
    fields["status.podIP"] = obj.value("status", json::object()).value("podIP", "");
  } else if (t.kind == "Secret") {
    fields["type"] = obj.value("type", "");
  } else if (t.kind == "Namespace") {
    fields["status.phase"] = obj.value("status", json::object()).value("phase", "");
  }
  for (const auto& r : sel.requirements) {
    if (!fields.contains(r.key)) {
      error = "field label not supported: " + r.key;
      return false;
    }
  }
  return sel.matches(fields);
}

HttpResponse Api::Impl::do_list(const ResourceType& t, const Target& tg, const HttpRequest& req,
                                const Query& q) {
  std::string err;
  auto lsel = parse_label_selector(q_get(q, "labelSelector"), err);
  if (!lsel) {
    return bad_request(err);
  }
  auto fsel = parse_field_selector(q_get(q, "fieldSelector"), err);
  if (!fsel) {
    return bad_request(err);
  }
  long long limit = 0;
  try {
    limit = std::stoll(q_get(q, "limit", "0"));
  } catch (...) {
    return bad_request("invalid limit");
  }
  std::string start_after;
  std::string list_rv = std::to_string(store.current_rv());
  const std::string cont = q_get(q, "continue");
  if (!cont.empty()) {
    auto decoded = base64_decode(cont);
    auto tok = decoded ? json::parse(*decoded, nullptr, false) : json();
    if (!decoded || tok.is_discarded() || !tok.is_object()) {
      return bad_request("continue key is not valid: incorrect encoded start resourceVersion "
                         "(version meta.k8s.io/v1)");
    }
    start_after = tok.value("start", "");
    list_rv = std::to_string(tok.value("rv", 0LL));
  }
  std::vector<json> items;
  bool more = false;
  std::string last_key;
  long long remaining = 0;
  for (const json* o : store.list(t.group_resource(), tg.ns)) {
    const std::string key =
        object_key((*o)["metadata"].value("namespace", ""), (*o)["metadata"].value("name", ""));
    if (!start_after.empty() && key <= start_after) {
      continue;
    }
    if (!lsel->matches((*o)["metadata"].value("labels", json::object()))) {
      continue;
    }
    if (!fsel->requirements.empty()) {
      std::string ferr;
      if (!field_matches(t, *fsel, *o, ferr)) {
        if (!ferr.empty()) {
          return bad_request(ferr);
        }
        continue;
      }
    }
    if (limit > 0 && static_cast<long long>(items.size()) >= limit) {
      more = true;
      ++remaining;
      continue;
    }
    items.push_back(present(t, *o));
    last_key = key;
  }
  json md = {{"resourceVersion", list_rv}};
  if (more) {
    md["continue"] = base64_encode(json{{"rv", std::stoll(list_rv)}, {"start", last_key}}.dump());
    if (lsel->requirements.empty() && fsel->requirements.empty()) {
      md["remainingItemCount"] = remaining;
    }
  }
  if (wants_table(req)) {
    return json_response(200, make_table(t, items, q_get(q, "includeObject", "Metadata"), md));
  }
  if (wants_metadata(req)) {
    json partials = json::array();
    for (const auto& i : items) {
      partials.push_back(partial(i));
    }
    return json_response(200, {{"kind", "PartialObjectMetadataList"},
                               {"apiVersion", "meta.k8s.io/v1"},
                               {"metadata", md},
                               {"items", partials}});
  }
  if (!t.from_crd) {
    // kube-apiserver leaves kind/apiVersion out of built-in list items.
    for (auto& i : items) {
      i.erase("kind");
      i.erase("apiVersion");
    }
  }
  return json_response(
      200,
      {{"kind", t.list_kind}, {"apiVersion", t.api_version()}, {"metadata", md}, {"items", items}});
}

} // namespace kubesim

// Watch (GET with watch=true): the request side; watch.hpp keeps the open watches and their events.

#include "api_impl.hpp"
#include "selectors.hpp"

namespace kubesim {

HttpResponse Api::Impl::do_watch(const ResourceType& t, const Target& tg, const HttpRequest& req,
                                 const Query& q, RequestInfo& info) {
  std::string err;
  auto lsel = parse_label_selector(q_get(q, "labelSelector"), err);
  if (!lsel) {
    return bad_request(err);
  }
  auto fsel = parse_field_selector(q_get(q, "fieldSelector"), err);
  if (!fsel) {
    return bad_request(err);
  }
  if (!fsel->requirements.empty() &&
      !field_matches(t, *fsel, json{{"metadata", json::object()}}, err) && !err.empty()) {
    return bad_request(err);
  }
  WatchParams p;
  p.type = t;
  p.ns = tg.ns;
  p.resource_version = q_get(q, "resourceVersion");
  if (!p.resource_version.empty() &&
      p.resource_version.find_first_not_of("0123456789") != std::string::npos) {
    return status_response(400, "BadRequest",
                           "resourceVersion: Invalid value: \"" + p.resource_version +
                               "\": strconv.ParseUint: parsing \"" + p.resource_version +
                               "\": invalid syntax");
  }
  p.bookmarks = q_true(q, "allowWatchBookmarks");
  try {
    p.timeout = std::chrono::seconds(std::stoll(q_get(q, "timeoutSeconds", "1800")));
  } catch (...) {
    return bad_request("invalid timeoutSeconds");
  }
  p.table = wants_table(req);
  p.include_object = q_get(q, "includeObject", "Metadata");
  p.matches = [this, t, l = *lsel, f = *fsel](const json& o) {
    if (!l.matches(o["metadata"].value("labels", json::object()))) {
      return false;
    }
    std::string ignored;
    return f.requirements.empty() || field_matches(t, f, o, ignored);
  };
  HttpResponse r;
  r.content_type = p.table ? "application/json;as=Table;v=v1;g=meta.k8s.io" : "application/json";
  info.watch = watches.open(store, std::move(p));
  return r;
}

} // namespace kubesim

#include "kube/client.hpp"

#include "core/enum_names.hpp"
#include "core/fanout.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/strings.hpp"
#include "core/try.hpp"
#include "kube/body_log.hpp"
#include "kube/client_impl.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <thread>

namespace meshctl::kube {
namespace {

using Clock = std::chrono::steady_clock;

std::string header_of(const std::vector<std::pair<std::string, std::string>>& headers,
                      std::string_view name) {
  const std::string key = to_lower(std::string(name));
  for (const auto& [k, v] : headers) {
    if (k == key) {
      return v;
    }
  }
  return {};
}

// Requests that store nothing, whatever their method: a dry run (dryRun=All) and the reviews
// (SelfSubjectAccessReview, SelfSubjectRulesReview, SubjectAccessReview, TokenReview), which the
// API server answers without persisting. Repeating them is as safe as repeating a GET.
bool stores_nothing(const Request& r) {
  for (const auto& [k, v] : r.query) {
    if (k == "dryRun" && v == "All") {
      return true;
    }
  }
  if (r.method != Method::k_post) {
    return false;
  }
  const std::string_view path = r.path;
  return (path.starts_with("/apis/authorization.k8s.io/") ||
          path.starts_with("/apis/authentication.k8s.io/")) &&
         path.ends_with("reviews");
}

bool default_idempotent(const Request& r) {
  const Method m = r.method;
  return m == Method::k_get || m == Method::k_head || m == Method::k_put || m == Method::k_delete ||
         stores_nothing(r);
}

ApiResult<std::string> object_name(const nlohmann::json& object) {
  if (object.is_object()) {
    const auto md = object.find("metadata");
    if (md != object.end() && md->is_object()) {
      const auto name = md->find("name");
      if (name != md->end() && name->is_string() && !name->get<std::string>().empty()) {
        return name->get<std::string>();
      }
    }
  }
  return api_fail(Error(ExitCode::k_failed, "the object has no metadata.name"));
}

// `ref`, named after the object when it names none itself.
ApiResult<ResourceRef> with_name(const ResourceRef& ref, const nlohmann::json& object) {
  ResourceRef target = ref;
  if (target.name.empty()) {
    TRY_ASSIGN(target.name, object_name(object));
  }
  return target;
}

} // namespace

std::string_view method_name(Method method) {
  static constexpr EnumName<Method> k_names[] = {
      {Method::k_get, "GET"}, {Method::k_head, "HEAD"},   {Method::k_post, "POST"},
      {Method::k_put, "PUT"}, {Method::k_patch, "PATCH"}, {Method::k_delete, "DELETE"}};
  return name_of(k_names, method, "GET");
}

std::string Response::header(std::string_view name) const {
  return header_of(headers, name);
}

Client::Impl::Impl(config::ResolvedContext ctx, ClientOptions opts, CredentialSource creds,
                   detail::Endpoint ep)
    : context(std::move(ctx)), options(std::move(opts)), credentials(std::move(creds)),
      endpoint(std::move(ep)), transport(options.transport), rng(std::random_device{}()) {
  if (!transport) {
    transport = std::make_shared<detail::CurlTransport>(
        endpoint, detail::CurlSettings{context.name, options.connect_timeout, options.user_agent,
                                       options.max_response});
  }
}

RequestInfo Client::Impl::info_for(std::string_view method, std::string_view path) const {
  RequestInfo info;
  info.context = context.name;
  info.server = context.cluster.server;
  info.method = std::string(method);
  info.path = std::string(path);
  describe_request(info);
  info.auth = credentials.kind;
  info.has_ca = !endpoint.ca_file.empty() || !endpoint.ca_data.empty();
  info.tls_server_name = context.cluster.tls_server_name;
  info.proxy = endpoint.proxy;
  return info;
}

double Client::Impl::random01() {
  std::lock_guard lock(rng_mutex);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

Result<config::Credentials> Client::Impl::current_credentials() {
  if (!credentials.get) {
    return config::Credentials{};
  }
  auto creds = credentials.get();
  if (!creds) {
    creds.error().with_context(fmt::format("getting credentials for context {}", context.name));
    return creds;
  }
  register_secret(creds->bearer_token);
  register_secret(creds->password);
  register_secret(creds->client_key_pem);
  return creds;
}

Result<config::Credentials> Client::Impl::begin_attempt(Attempts& attempts, RequestInfo& info) {
  ++attempts.number;
  info.attempts = attempts.number;
  return current_credentials();
}

bool Client::Impl::refreshed_after(int http_status, Attempts& attempts) {
  if (http_status != 401 || attempts.refreshed || !credentials.refresh) {
    return false;
  }
  attempts.refreshed = true;
  credentials.refresh();
  --attempts.number;
  return true;
}

Client::Client(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::create(config::ResolvedContext context,
                                               ClientOptions options,
                                               CredentialSource credentials) {
  const ProxyEnvironment env = options.proxy_env.value_or(ProxyEnvironment::from_process());
  auto endpoint = detail::make_endpoint(context.cluster, env);
  if (!endpoint) {
    endpoint.error().with_context(fmt::format("context {}", context.name));
    return tl::make_unexpected(endpoint.error());
  }
  if (context.namespace_.empty()) {
    context.namespace_ = "default";
  }
  auto impl = std::make_unique<Impl>(std::move(context), std::move(options), std::move(credentials),
                                     std::move(*endpoint));
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

const config::ResolvedContext& Client::context() const {
  return m_impl->context;
}

const ClientOptions& Client::options() const {
  return m_impl->options;
}

ApiResult<Response> Client::send(const Request& request) {
  Impl& im = *m_impl;
  const std::string_view method = method_name(request.method);
  RequestInfo info = im.info_for(method, request.path);
  const bool idempotent = request.idempotent.value_or(default_idempotent(request));
  const auto timeout = request.timeout.value_or(im.options.request_timeout);
  // The URL only for -vv's lines: the transport builds its own.
  const std::string url =
      log::verbosity() >= 2
          ? im.endpoint.url(request.query.empty()
                                ? request.path
                                : request.path + "?" + encode_query(request.query))
          : std::string();
  const auto start = Clock::now();
  Impl::Attempts attempts;
  while (true) {
    auto creds = im.begin_attempt(attempts, info);
    if (!creds) {
      return api_fail(creds.error());
    }
    const int attempt = attempts.number;
    // Streams (watches) stay open for minutes: they do not occupy a slot of the limiter.
    const bool streaming = static_cast<bool>(request.on_data);
    ConcurrencyLimiter* limiter = streaming ? nullptr : im.options.limiter.get();
    std::optional<LimiterSlot> slot;
    slot.emplace(limiter);
    const auto t0 = Clock::now();
    // The whole request, retries included, stays within the policy's total: an attempt gets at
    // most what is left of it (streams are bounded by their own timeout).
    auto attempt_timeout = timeout;
    if (!streaming) {
      const auto left = im.options.retry.max_total -
                        std::chrono::duration_cast<std::chrono::milliseconds>(t0 - start);
      attempt_timeout = std::max(std::chrono::milliseconds(1), std::min(timeout, left));
    }
    if (log::verbosity() >= 3 && !request.body.empty()) {
      log::trace("{}: {} {} request body: {}", im.context.name, method, request.path,
                 loggable_body(request.body));
    }
    Exchange r = im.transport->round_trip(request, *creds, attempt_timeout);
    slot.reset();
    const auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    AttemptOutcome outcome;
    const bool answered = r.failure == TransportFailure::k_none;
    if (limiter != nullptr && answered) {
      if (r.status == 429) {
        limiter->on_throttled();
        log::debug("{}: throttled (429); at most {} requests in flight now", im.context.name,
                   limiter->limit());
      } else if (r.status >= 200 && r.status < 300) {
        limiter->on_success();
      }
    }
    if (!answered) {
      outcome.failure = r.failure;
      log::debug("{}: {} {}: {} ({} ms)", im.context.name, method, url, r.error, took);
    } else {
      outcome.http_status = r.status;
      outcome.retry_after = parse_retry_after(header_of(r.headers, "retry-after"));
      log::debug("{}: {} {} -> {} ({} ms, HTTP/{})", im.context.name, method, url, r.status, took,
                 r.http_version);
      if (log::verbosity() >= 3 && !streaming) {
        log::trace("{}: {} {} response body: {}", im.context.name, method, request.path,
                   loggable_body(r.body));
      }
      if (r.status >= 200 && r.status < 300) {
        Response resp;
        resp.status = r.status;
        resp.body = std::move(r.body);
        resp.headers = std::move(r.headers);
        resp.http_version = std::move(r.http_version);
        resp.attempts = attempt;
        return resp;
      }
      if (im.refreshed_after(r.status, attempts)) {
        continue; // expired exec-plugin credentials
      }
    }
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    const auto delay =
        next_retry_delay(im.options.retry, outcome, idempotent, attempt, elapsed, im.random01());
    if (!delay) {
      if (!answered) {
        return tl::make_unexpected(error_from_transport(info, outcome.failure, r.error));
      }
      return tl::make_unexpected(error_from_response(info, outcome.http_status, r.body));
    }
    log::debug("{}: retrying {} {} in {} ms (attempt {} of {})", im.context.name, method,
               request.path, delay->count(), attempt + 1, im.options.retry.max_attempts);
    // A cancel (a watch being stopped) ends the wait too, not only a transfer in flight:
    // Retry-After may ask for many seconds. Then the last answer is the result.
    const auto until = Clock::now() + *delay;
    bool cancelled = false;
    while (!cancelled && Clock::now() < until) {
      std::this_thread::sleep_for(
          std::min<Clock::duration>(std::chrono::milliseconds(50), until - Clock::now()));
      cancelled = request.cancel != nullptr && request.cancel->load();
    }
    if (cancelled) {
      if (!answered) {
        return tl::make_unexpected(error_from_transport(info, outcome.failure, r.error));
      }
      return tl::make_unexpected(error_from_response(info, outcome.http_status, r.body));
    }
  }
}

std::future<ApiResult<Response>> Client::send_async(Request request) {
  return std::async(std::launch::async,
                    [this, request = std::move(request)] { return send(request); });
}

namespace {

ApiResult<nlohmann::json> json_of(const RequestInfo& info, ApiResult<Response> r) {
  if (!r) {
    return tl::make_unexpected(std::move(r.error()));
  }
  return parse_json_body(info, r->body);
}

void add_dry_run(Query& q, bool dry_run) {
  if (dry_run) {
    q.emplace_back("dryRun", "All");
  }
}

// A request that writes `body` (of `content_type`) at `path`: dryRun=All when asked.
Request write_request(Method method, std::string path, const nlohmann::json& body,
                      std::string content_type, bool dry_run) {
  Request r;
  r.method = method;
  r.path = std::move(path);
  add_dry_run(r.query, dry_run);
  r.body = body.dump();
  r.content_type = std::move(content_type);
  return r;
}

} // namespace

ApiResult<nlohmann::json> Client::get(const ResourceRef& ref) {
  Request r;
  r.path = resource_path(ref);
  return json_of(m_impl->info_for("GET", r.path), send(r));
}

namespace {

Query list_query(const ListOptions& options, int limit, const std::string& cont) {
  Query q;
  if (!options.label_selector.empty()) {
    q.emplace_back("labelSelector", options.label_selector);
  }
  if (!options.field_selector.empty()) {
    q.emplace_back("fieldSelector", options.field_selector);
  }
  if (limit > 0) {
    q.emplace_back("limit", std::to_string(limit));
  }
  if (!cont.empty()) {
    q.emplace_back("continue", cont);
  }
  return q;
}

std::string continue_of(const nlohmann::json& page) {
  const auto md = page.find("metadata");
  return md != page.end() ? str(*md, "continue") : std::string();
}

} // namespace

ApiResult<std::string>
Client::list_pages(const ResourceRef& ref, const ListOptions& options,
                   const std::function<Result<void>(nlohmann::json&)>& on_page) {
  ResourceRef collection = ref;
  collection.name.clear();
  collection.subresource.clear();
  Request r;
  r.path = resource_path(collection);
  const RequestInfo info = m_impl->info_for("GET", r.path);
  std::string cont;
  while (true) {
    r.query = list_query(options, options.limit, cont);
    auto page = json_of(info, send(r));
    if (!page) {
      return tl::make_unexpected(std::move(page.error()));
    }
    if (!page->is_object()) {
      return api_fail(
          Error(ExitCode::k_failed, fmt::format("GET {} did not answer a List", r.path)));
    }
    cont = continue_of(*page);
    std::string resource_version;
    if (const auto md = page->find("metadata"); md != page->end()) {
      resource_version = str(*md, "resourceVersion");
    }
    if (auto ok = on_page(*page); !ok) {
      return api_fail(ok.error());
    }
    if (cont.empty()) {
      return resource_version;
    }
  }
}

ApiResult<nlohmann::json> Client::list(const ResourceRef& ref, const ListOptions& options) {
  nlohmann::json result;
  auto collect = [&result](nlohmann::json& page) -> Result<void> {
    nlohmann::json items = nlohmann::json::array();
    if (const auto it = page.find("items"); it != page.end() && it->is_array()) {
      items = std::move(*it);
    }
    if (result.is_null()) {
      result = std::move(page);
      result["items"] = std::move(items);
    } else {
      auto& all = result["items"];
      all.get_ref<nlohmann::json::array_t&>().reserve(all.size() + items.size());
      for (auto& item : items) {
        all.push_back(std::move(item));
      }
      if (const auto md = page.find("metadata"); md != page.end()) {
        result["metadata"] = std::move(*md);
      }
    }
    return {};
  };
  auto done = list_pages(ref, options, collect);
  if (!done && done.error().http_status == 410 && options.limit > 0) {
    // The continue token expired between pages: list again in one go (kubectl's pager does).
    log::debug("{}: list continuation expired; listing {} without paging", m_impl->context.name,
               ref.qualified_resource());
    ListOptions unpaged = options;
    unpaged.limit = 0;
    result = nullptr;
    done = list_pages(ref, unpaged, collect);
  }
  if (!done) {
    return tl::make_unexpected(std::move(done.error()));
  }
  if (result.contains("metadata") && result["metadata"].is_object()) {
    result["metadata"].erase("continue");
    result["metadata"].erase("remainingItemCount");
  }
  return result;
}

ApiResult<nlohmann::json> Client::apply(const ResourceRef& ref, const nlohmann::json& object,
                                        const ApplyOptions& options) {
  if (!object.is_object() || str(object, "apiVersion").empty() || str(object, "kind").empty()) {
    return api_fail(
        Error(ExitCode::k_failed, "server-side apply needs an object with apiVersion and kind"));
  }
  TRY_ASSIGN(const auto target, with_name(ref, object));
  Request r;
  r.method = Method::k_patch;
  r.path = resource_path(target);
  r.query.emplace_back("fieldManager", options.field_manager.empty() ? m_impl->options.field_manager
                                                                     : options.field_manager);
  if (options.force) {
    r.query.emplace_back("force", "true");
  }
  add_dry_run(r.query, options.dry_run);
  r.body = object.dump();
  r.content_type = "application/apply-patch+yaml"; // JSON is YAML
  r.idempotent = true;                             // applying the same intent twice is a no-op
  return json_of(m_impl->info_for("PATCH", r.path), send(r));
}

ApiResult<nlohmann::json> Client::apply(const nlohmann::json& object, const ApplyOptions& options) {
  auto ref = ref_for(object);
  if (!ref) {
    return tl::make_unexpected(std::move(ref.error()));
  }
  return apply(*ref, object, options);
}

ApiResult<nlohmann::json> Client::create(const ResourceRef& ref, const nlohmann::json& object,
                                         const WriteOptions& options) {
  ResourceRef collection = ref;
  collection.name.clear();
  collection.subresource.clear();
  const Request r = write_request(Method::k_post, resource_path(collection), object,
                                  "application/json", options.dry_run);
  return json_of(m_impl->info_for("POST", r.path), send(r));
}

ApiResult<nlohmann::json> Client::replace(const ResourceRef& ref, const nlohmann::json& object,
                                          const WriteOptions& options) {
  TRY_ASSIGN(const auto target, with_name(ref, object));
  const Request r = write_request(Method::k_put, resource_path(target), object, "application/json",
                                  options.dry_run);
  return json_of(m_impl->info_for("PUT", r.path), send(r));
}

ApiResult<nlohmann::json> Client::patch(const ResourceRef& ref, PatchType type,
                                        const nlohmann::json& patch, const WriteOptions& options) {
  static constexpr EnumName<PatchType> k_content_types[] = {
      {PatchType::k_merge, "application/merge-patch+json"},
      {PatchType::k_strategic_merge, "application/strategic-merge-patch+json"},
      {PatchType::k_json, "application/json-patch+json"}};
  Request r = write_request(Method::k_patch, resource_path(ref), patch,
                            name_of(k_content_types, type, "application/merge-patch+json"),
                            options.dry_run);
  if (options.idempotent) {
    r.idempotent = true;
  }
  return json_of(m_impl->info_for("PATCH", r.path), send(r));
}

ApiResult<nlohmann::json> Client::remove(const ResourceRef& ref, const DeleteOptions& options) {
  Request r;
  r.method = Method::k_delete;
  r.path = resource_path(ref);
  if (!options.propagation_policy.empty()) {
    r.query.emplace_back("propagationPolicy", options.propagation_policy);
  }
  add_dry_run(r.query, options.dry_run);
  if (!options.uid.empty() || !options.resource_version.empty()) {
    nlohmann::json preconditions = nlohmann::json::object();
    if (!options.uid.empty()) {
      preconditions["uid"] = options.uid;
    }
    if (!options.resource_version.empty()) {
      preconditions["resourceVersion"] = options.resource_version;
    }
    r.body = nlohmann::json{{"kind", "DeleteOptions"},
                            {"apiVersion", "v1"},
                            {"preconditions", preconditions}}
                 .dump();
    r.content_type = "application/json";
  }
  return json_of(m_impl->info_for("DELETE", r.path), send(r));
}

ApiResult<Response> Client::proxy_get(std::string_view namespace_, std::string_view pod, int port,
                                      std::string_view path, const Query& query) {
  Request r;
  r.path = pod_proxy_path(namespace_, pod, port, path);
  r.query = query;
  r.accept = "*/*";
  return send(r);
}

ApiResult<std::shared_ptr<const ResourceMap>> Client::discovery() {
  Impl& im = *m_impl;
  {
    std::lock_guard lock(im.discovery_cache);
    if (im.discovery) {
      return im.discovery;
    }
  }
  std::lock_guard fetch(im.discovery_fetch);
  {
    std::lock_guard lock(im.discovery_cache);
    if (im.discovery) {
      return im.discovery; // another thread fetched it while this one waited
    }
  }
  Request api_req;
  api_req.path = "/api";
  Request apis_req;
  apis_req.path = "/apis";
  auto apis_future = send_async(apis_req);
  auto api = json_of(im.info_for("GET", "/api"), send(api_req));
  auto apis = json_of(im.info_for("GET", "/apis"), apis_future.get());
  if (!api) {
    return tl::make_unexpected(std::move(api.error().with_context("API discovery")));
  }
  if (!apis) {
    return tl::make_unexpected(std::move(apis.error().with_context("API discovery")));
  }
  auto core = parse_core_versions(*api);
  if (!core) {
    return api_fail(core.error());
  }
  auto groups = parse_group_list(*apis);
  if (!groups) {
    return api_fail(groups.error());
  }
  groups->insert(groups->begin(), *core);

  std::vector<std::pair<std::string, std::string>> gvs; // (group/version key, path)
  for (const auto& g : *groups) {
    for (const auto& v : g.versions) {
      gvs.emplace_back(join_api_version(g.group, v),
                       g.group.empty() ? "/api/" + v : "/apis/" + g.group + "/" + v);
    }
  }
  auto results = parallel_map(gvs.size(), im.options.max_parallel, [&](std::size_t i) {
    ResourceMap::GroupVersionResult result;
    Request r;
    r.path = gvs[i].second;
    auto body = json_of(im.info_for("GET", r.path), send(r));
    if (!body) {
      result.error = body.error().error.what();
      return result;
    }
    auto resources = parse_resource_list(*body);
    if (!resources) {
      result.error = resources.error().what();
      return result;
    }
    result.resources = std::move(*resources);
    return result;
  });
  std::map<std::string, ResourceMap::GroupVersionResult> by_gv;
  for (std::size_t i = 0; i < gvs.size(); ++i) {
    if (!results[i].error.empty()) {
      log::debug("{}: discovery of {} failed: {}", im.context.name, gvs[i].first, results[i].error);
    }
    by_gv[gvs[i].first] = std::move(results[i]);
  }
  auto map = std::make_shared<const ResourceMap>(*groups, by_gv);
  std::lock_guard lock(im.discovery_cache);
  im.discovery = map;
  return map;
}

void Client::forget_discovery() {
  std::lock_guard lock(m_impl->discovery_cache);
  m_impl->discovery.reset();
}

ApiResult<ResourceInfo> Client::resource_for(std::string_view api_version, std::string_view kind) {
  auto map = discovery();
  if (!map) {
    return tl::make_unexpected(std::move(map.error()));
  }
  auto info = require_kind(**map, m_impl->context.name, api_version, kind);
  if (!info) {
    return api_fail(info.error());
  }
  return *info;
}

ApiResult<ResourceRef> Client::ref_for(const nlohmann::json& object) {
  const std::string api_version = str(object, "apiVersion");
  const std::string kind = str(object, "kind");
  if (api_version.empty() || kind.empty()) {
    return api_fail(Error(ExitCode::k_failed, "the object has no apiVersion or kind"));
  }
  TRY_ASSIGN(auto name, object_name(object));
  auto info = resource_for(api_version, kind);
  if (!info) {
    return tl::make_unexpected(std::move(info.error()));
  }
  std::string ns;
  if (info->namespaced) {
    ns = str(member(object, "metadata"), "namespace");
    if (ns.empty()) {
      ns = m_impl->context.namespace_;
    }
  }
  return info->ref(ns, name);
}

} // namespace meshctl::kube

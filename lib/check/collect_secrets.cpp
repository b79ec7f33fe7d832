// The collector's reads of remote secrets: each Secret istiod would load (labelled
// istio/multiCluster=true, or named for a cluster of the mesh), decoded to its public parts, and
// each kubeconfig's token tried against the API server it names, as istiod would use it.

#include "check/collect_run.hpp"
#include "config/kubeconfig.hpp"
#include "core/base64.hpp"
#include "core/redact.hpp"
#include "kube/url.hpp"

#include <yaml-cpp/yaml.h>

namespace meshctl::check::detail {

namespace {

RemoteSecretFacts remote_secret(ClusterRun& run, const json& secret) {
  RemoteSecretFacts s;
  const json& meta = member(secret, "metadata");
  s.name = str(meta, "name");
  s.namespace_ = str(meta, "namespace");
  s.type = str(secret, "type");
  for (const char* field : {"labels", "annotations"}) {
    const json& m = member(meta, field);
    if (!m.is_object()) {
      continue;
    }
    for (const auto& [k, v] : m.items()) {
      if (v.is_string()) {
        (std::string_view(field) == "labels" ? s.labels : s.annotations)[k] = v.get<std::string>();
      }
    }
  }
  const json& data = member(secret, "data");
  if (!data.is_object()) {
    return s;
  }
  for (const auto& [key, value] : data.items()) {
    s.keys.push_back(key);
    RemoteKubeconfigFacts k;
    k.key = key;
    const auto text = value.is_string() ? meshctl::base64_decode(value.get<std::string>())
                                        : std::optional<std::string>{};
    if (!text) {
      k.parse_error = "the value is not base64";
      s.kubeconfigs.push_back(std::move(k));
      continue;
    }
    auto kc = config::parse_kubeconfig(*text, "Secret " + s.name + " key " + key);
    if (!kc) {
      k.parse_error = kc.error().what();
      s.kubeconfigs.push_back(std::move(k));
      continue;
    }
    std::string ctx = kc->current_context;
    if (ctx.empty() && !kc->contexts.empty()) {
      ctx = kc->contexts.begin()->first;
    }
    auto resolved = kc->resolve(ctx);
    if (!resolved) {
      k.parse_error = resolved.error().what();
      s.kubeconfigs.push_back(std::move(k));
      continue;
    }
    k.context_name = resolved->name;
    k.cluster_name = kc->contexts.contains(ctx) ? kc->contexts.at(ctx).cluster : "";
    k.user_name = kc->contexts.contains(ctx) ? kc->contexts.at(ctx).user : "";
    k.server = resolved->cluster.server;
    k.tls_server_name = resolved->cluster.tls_server_name;
    k.ca_pem = resolved->cluster.certificate_authority_data;
    if (!resolved->user.token.empty()) {
      register_secret(resolved->user.token);
      k.has_token = true;
      std::lock_guard lock(run.mu);
      run.tokens[{s.name, key}] = resolved->user.token;
    }
    s.kubeconfigs.push_back(std::move(k));
  }
  std::sort(s.keys.begin(), s.keys.end());
  return s;
}

// A question the API server did not answer (it was busy or broken: 5xx, 429, no answer), as
// opposed to one it answered with a verdict (403 for a read).
bool unanswered(const kube::ApiError& e) {
  return e.http_status == 0 || e.http_status == 429 || e.http_status >= 500;
}

AccessCheck not_asked(const char* verb, const std::string& resource, const char* namespace_,
                      bool want, const kube::ApiError& e) {
  AccessCheck a{verb, resource, namespace_, want, false, e.error.message()};
  a.unanswered = true;
  a.http_status = e.http_status;
  return a;
}

// What a token may do: two real reads (they prove it is accepted) and reviews of the rest.
// Reviews store nothing, so the client retries them like reads; one that still fails is recorded
// as unanswered — never as a denial.
void check_access(kube::Client& client, TokenCheck& t) {
  for (const char* path : {"/api/v1/services", "/api/v1/pods"}) {
    kube::Request req;
    req.path = path;
    req.query = {{"limit", "1"}};
    auto r = client.send(req);
    const std::string resource = std::string(path).substr(std::string("/api/v1/").size());
    if (!r) {
      if (r.error().unauthorized() || r.error().http_status == 0) {
        t.error = read_error(r.error());
        return;
      }
      t.access.push_back(unanswered(r.error()) ? not_asked("list", resource, "", true, r.error())
                                               : AccessCheck{"list", resource, "", true, false,
                                                             r.error().error.message()});
      continue;
    }
    t.accepted = true;
    t.access.push_back({"list", resource, "", true, true, ""});
  }
  struct Review {
    const char* verb;
    const char* group;
    const char* resource;
    const char* namespace_;
    bool want;
  };
  static constexpr Review k_reviews[] = {
      {"list", "", "nodes", "", true},
      {"list", "", "namespaces", "", true},
      {"list", "", "endpoints", "", true},
      {"list", "discovery.k8s.io", "endpointslices", "", true},
      {"watch", "", "services", "", true},
      {"list", "networking.istio.io", "gateways", "", true},
      {"create", "", "secrets", "istio-system", false},
  };
  for (const auto& rv : k_reviews) {
    json attrs = {{"verb", rv.verb}, {"group", rv.group}, {"resource", rv.resource}};
    if (*rv.namespace_ != '\0') {
      attrs["namespace"] = rv.namespace_;
    }
    const json body = {{"apiVersion", "authorization.k8s.io/v1"},
                       {"kind", "SelfSubjectAccessReview"},
                       {"spec", {{"resourceAttributes", attrs}}}};
    const std::string resource =
        std::string(rv.resource) + (*rv.group != '\0' ? "." + std::string(rv.group) : "");
    auto r =
        client.create({"authorization.k8s.io", "v1", "selfsubjectaccessreviews", "", "", ""}, body);
    if (!r) {
      if (r.error().unauthorized() || r.error().unreachable()) {
        t.error = read_error(r.error());
        return;
      }
      // A review that failed says nothing about the permission it asked about.
      t.access.push_back(not_asked(rv.verb, resource, rv.namespace_, rv.want, r.error()));
      continue;
    }
    const json& status = member(*r, "status");
    const json& allowed = member(status, "allowed");
    t.access.push_back({rv.verb, resource, rv.namespace_, rv.want,
                        allowed.is_boolean() && allowed.get<bool>(), str(status, "reason")});
  }
}

std::unique_ptr<kube::Client> token_client(config::ResolvedContext ctx, const std::string& token,
                                           std::chrono::milliseconds connect_timeout,
                                           std::chrono::milliseconds timeout) {
  kube::ClientOptions opts;
  opts.connect_timeout = std::min(connect_timeout, timeout);
  opts.request_timeout = timeout;
  opts.retry.max_total = timeout; // --timeout bounds each question, retries included
  config::Credentials creds;
  creds.bearer_token = token;
  ctx.user = {};
  ctx.user.token = token;
  auto c = kube::Client::create(std::move(ctx), opts, kube::static_credentials(creds));
  return c ? std::move(*c) : nullptr;
}

bool worth_fallback(const ReadError& e) {
  return e.unreachable && e.message.find("certificate") == std::string::npos;
}

} // namespace

void read_remote_secrets(ClusterRun& run) {
  kube::ListOptions opts;
  opts.label_selector = "istio/multiCluster=true";
  auto r = run.client.list({"", "v1", "secrets", std::string(k_istio_ns), "", ""}, opts);
  if (!r) {
    run.note("remote-secrets", read_error(r.error()));
    return;
  }
  std::vector<RemoteSecretFacts> out;
  for (const auto& s : member(*r, "items").is_array() ? member(*r, "items") : json::array()) {
    out.push_back(remote_secret(run, s));
  }
  // The expected names, in case one lost its label (istiod would ignore it: the check says so).
  for (const auto* cp : mesh_clusters(run.session)) {
    const auto& c = *cp;
    const std::string name = "istio-remote-secret-" + c.name;
    if (c.name == run.facts.name ||
        std::any_of(out.begin(), out.end(), [&](const auto& s) { return s.name == name; })) {
      continue;
    }
    auto s = run.client.get({"", "v1", "secrets", std::string(k_istio_ns), name, ""});
    if (s) {
      out.push_back(remote_secret(run, *s));
    } else if (!s.error().not_found()) {
      run.note("remote-secrets", read_error(s.error()));
    }
  }
  std::lock_guard lock(run.mu);
  run.facts.remote_secrets = std::move(out);
}

// Asks the API server of cluster `k.key` with the secret's token: first at the secret's own URL
// (what istiod uses), and when that cannot be reached from here, at the address meshctl's
// kubeconfig has for that cluster, still with the secret's CA and presenting the secret's host
// name, so the token, the CA and the certificate's name are all checked.
void check_token(ClusterRun& run, const RemoteSecretFacts& s, RemoteKubeconfigFacts& k) {
  std::string token;
  {
    std::lock_guard lock(run.mu);
    const auto it = run.tokens.find({s.name, k.key});
    if (it == run.tokens.end()) {
      return;
    }
    token = it->second;
  }
  const auto timeout = run.options.timeout;
  config::ResolvedContext direct;
  direct.name = k.key;
  direct.cluster.server = k.server;
  direct.cluster.certificate_authority_data = k.ca_pem;
  direct.cluster.tls_server_name = k.tls_server_name;
  direct.namespace_ = "default";
  TokenCheck t;
  t.via = k.server;
  const bool loopback = kube::is_loopback_url(k.server);
  if (!loopback) {
    if (auto c = token_client(direct, token, run.options.direct_connect_timeout, timeout)) {
      check_access(*c, t);
    } else {
      t.error = ReadError{"the secret's server URL is not usable: " + k.server, "", 0, false};
    }
  }
  const bool retry = loopback || (t.error && worth_fallback(*t.error));
  // The target may be a mesh cluster verify does not check (--context): its kubeconfig entry is
  // still the way to reach it.
  const config::ClusterConfig* target = nullptr;
  for (const auto* c : mesh_clusters(run.session)) {
    if (c->name == k.key) {
      target = c;
    }
  }
  if (retry && target != nullptr) {
    auto ctx = run.session.kubeconfig.resolve(target->context);
    if (ctx) {
      config::ResolvedContext via = *ctx;
      via.name = k.key;
      via.cluster.certificate_authority.clear();
      via.cluster.certificate_authority_data = k.ca_pem;
      via.cluster.tls_server_name = !k.tls_server_name.empty()
                                        ? k.tls_server_name
                                        : (loopback ? "" : kube::url_host(k.server));
      TokenCheck t2;
      t2.via = via.cluster.server +
               (via.cluster.tls_server_name.empty() ? "" : " as " + via.cluster.tls_server_name);
      if (auto c = token_client(via, token, std::chrono::milliseconds(10000), timeout)) {
        check_access(*c, t2);
        t = std::move(t2);
      }
    }
  }
  k.token_check = std::move(t);
}

} // namespace meshctl::check::detail

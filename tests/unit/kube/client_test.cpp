// The client over real sockets, against a scripted server (fake_apiserver.hpp): headers and auth,
// retries and their bounds, paging, apply/create/delete shapes, discovery caching, proxies,
// parallelism and connection reuse, and exec over WebSocket (v5 and v4, TLS, stdin, refusals).

#include "core/redact.hpp"
#include "fake_apiserver.hpp"
#include "kube/client.hpp"

#include <netdb.h>

#include <atomic>
#include <future>
#include <thread>

using namespace meshctl;
using namespace meshctl::kube;
using namespace meshctl::testing::kube;
using nlohmann::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

ClientOptions fast_options() {
  ClientOptions o;
  o.connect_timeout = std::chrono::seconds(5);
  o.request_timeout = std::chrono::seconds(10);
  o.retry.max_attempts = 4;
  o.retry.initial_backoff = milliseconds(10);
  o.retry.max_backoff = milliseconds(40);
  o.retry.max_total = std::chrono::seconds(20);
  o.proxy_env = ProxyEnvironment{};
  return o;
}

std::unique_ptr<Client> client_for(const FakeApiServer& server,
                                   ClientOptions options = fast_options(),
                                   config::Credentials creds = {}) {
  if (creds.bearer_token.empty() && creds.client_key_pem.empty()) {
    creds.bearer_token = "t0ken-for-the-fake-apiserver";
  }
  auto ctx = context_for(server.url());
  ctx.cluster.certificate_authority_data = meshctl::testing::read_file(test_pki().ca_crt);
  auto c = Client::create(ctx, std::move(options), static_credentials(std::move(creds)));
  REQUIRE(c);
  return std::move(*c);
}

json service(const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", name}, {"namespace", "dev"}}}};
}

ResourceRef services(std::string name = {}) {
  return {"", "v1", "services", "dev", std::move(name), ""};
}

// Discovery documents of a small cluster; with or without Istio's networking group.
FakeResponse discovery_answer(const FakeRequest& req, bool istio) {
  if (req.path == "/api") {
    return json_response({{"kind", "APIVersions"}, {"versions", {"v1"}}});
  }
  if (req.path == "/apis") {
    json groups = json::array();
    groups.push_back({{"name", "apps"},
                      {"versions", {{{"groupVersion", "apps/v1"}, {"version", "v1"}}}},
                      {"preferredVersion", {{"groupVersion", "apps/v1"}, {"version", "v1"}}}});
    if (istio) {
      groups.push_back(
          {{"name", "networking.istio.io"},
           {"versions",
            {{{"groupVersion", "networking.istio.io/v1"}, {"version", "v1"}},
             {{"groupVersion", "networking.istio.io/v1beta1"}, {"version", "v1beta1"}}}},
           {"preferredVersion", {{"groupVersion", "networking.istio.io/v1"}, {"version", "v1"}}}});
    }
    return json_response({{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}});
  }
  // Lists are built with json::array: clang reads a one-element braced list `{x}` as a copy of x.
  auto list = [](const std::string& gv, json resources) {
    return json_response(
        {{"kind", "APIResourceList"}, {"groupVersion", gv}, {"resources", resources}});
  };
  auto res = [](const std::string& name, const std::string& kind, bool namespaced) {
    return json{{"name", name},
                {"singularName", ""},
                {"namespaced", namespaced},
                {"kind", kind},
                {"verbs", {"create", "delete", "get", "list", "patch", "update", "watch"}}};
  };
  if (req.path == "/api/v1") {
    return list("v1", {res("namespaces", "Namespace", false), res("services", "Service", true),
                       res("pods", "Pod", true), res("pods/exec", "PodExecOptions", true)});
  }
  if (req.path == "/apis/apps/v1") {
    return list("apps/v1", json::array({res("deployments", "Deployment", true)}));
  }
  if (istio && req.path == "/apis/networking.istio.io/v1") {
    return list("networking.istio.io/v1", json::array({res("gateways", "Gateway", true)}));
  }
  if (istio && req.path == "/apis/networking.istio.io/v1beta1") {
    return list("networking.istio.io/v1beta1", json::array({res("gateways", "Gateway", true)}));
  }
  return status_response(404, "NotFound", "the server could not find the requested resource");
}

} // namespace

TEST_CASE("requests carry the user agent, the bearer token and JSON accept", "[kube]") {
  FakeApiServer server([](const FakeRequest&) { return json_response(service("helloworld")); });
  auto client = client_for(server);
  const auto svc = client->get(services("helloworld"));
  REQUIRE(svc);
  CHECK((*svc)["metadata"]["name"] == "helloworld");
  const auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].method == "GET");
  CHECK(reqs[0].path == "/api/v1/namespaces/dev/services/helloworld");
  CHECK(reqs[0].header("user-agent") == std::string("meshctl/") + MESHCTL_VERSION);
  CHECK(reqs[0].header("authorization") == "Bearer t0ken-for-the-fake-apiserver");
  CHECK(reqs[0].header("accept") == "application/json");
  CHECK(redact("token t0ken-for-the-fake-apiserver") == "token <redacted>");
}

TEST_CASE("basic auth is sent when the context has a username and password", "[kube]") {
  FakeApiServer server([](const FakeRequest&) { return json_response(json::object()); });
  config::Credentials creds;
  creds.username = "admin";
  creds.password = "s3cret-password";
  auto ctx = context_for(server.url());
  auto client = Client::create(ctx, fast_options(), static_credentials(creds)).value();
  REQUIRE(client->get(services("x")));
  CHECK(server.requests().at(0).header("authorization") == "Basic YWRtaW46czNjcmV0LXBhc3N3b3Jk");
  CHECK(redact("s3cret-password") == std::string(k_redacted));
}

TEST_CASE("NotFound is an ApiError callers branch on, and converts to Error", "[kube]") {
  FakeApiServer server([](const FakeRequest&) {
    return status_response(404, "NotFound", "services \"nope\" not found");
  });
  auto client = client_for(server);
  const auto r = client->get(services("nope"));
  REQUIRE_FALSE(r);
  CHECK(r.error().not_found());
  CHECK(r.error().http_status == 404);
  CHECK(server.requests().size() == 1); // a 404 is final
  Result<json> plain = client->get(services("nope"));
  REQUIRE_FALSE(plain);
  CHECK(plain.error().message() == "services \"nope\" not found");
}

TEST_CASE("5xx answers are retried with backoff until one succeeds", "[kube]") {
  std::atomic<int> calls{0};
  FakeApiServer server([&](const FakeRequest&) {
    return ++calls < 3 ? status_response(503, "ServiceUnavailable", "etcd is busy")
                       : json_response(service("a"));
  });
  auto client = client_for(server);
  Request req;
  req.path = "/api/v1/namespaces/dev/services/a";
  const auto r = client->send(req);
  REQUIRE(r);
  CHECK(r->attempts == 3);
  CHECK(calls == 3);
  CHECK(r->http_version == "1.1");
}

TEST_CASE("retries are bounded and the error says how often it tried", "[kube]") {
  FakeApiServer server([](const FakeRequest&) {
    return status_response(503, "ServiceUnavailable",
                           "the server is currently unable to handle "
                           "the request");
  });
  auto options = fast_options();
  options.retry.max_attempts = 3;
  auto client = client_for(server, options);
  const auto r = client->get(services("a"));
  REQUIRE_FALSE(r);
  CHECK(server.requests().size() == 3);
  CHECK(r.error().http_status == 503);
  CHECK(r.error().error.message().find("after 3 attempts") != std::string::npos);

  // The total-time bound stops earlier than the attempt count.
  auto slow = fast_options();
  slow.retry.max_attempts = 100;
  slow.retry.initial_backoff = milliseconds(100);
  slow.retry.max_backoff = milliseconds(100);
  slow.retry.max_total = milliseconds(300);
  FakeApiServer server2(
      [](const FakeRequest&) { return status_response(500, "InternalError", "x"); });
  auto client2 = client_for(server2, slow);
  const auto start = Clock::now();
  REQUIRE_FALSE(client2->get(services("a")));
  CHECK(Clock::now() - start < std::chrono::seconds(2));
  // Full jitter draws each delay from [0, 100 ms]: about six tries fit in 300 ms, ten now and
  // then; thirty would need delays averaging under 10 ms, far from the 100 the count allows.
  CHECK(server2.requests().size() < 30);
}

TEST_CASE("429 waits as long as Retry-After says, even for a create", "[kube]") {
  std::atomic<int> calls{0};
  FakeApiServer server([&](const FakeRequest&) {
    if (++calls == 1) {
      auto r =
          status_response(429, "TooManyRequests", "Too many requests, please try again later.");
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    return json_response(service("created"), 201);
  });
  auto client = client_for(server);
  const auto start = Clock::now();
  const auto r = client->create(services(), service("created"));
  REQUIRE(r);
  CHECK(Clock::now() - start >= milliseconds(1000));
  CHECK(calls == 2);
}

TEST_CASE("a cancel ends the wait for a retry as well as a transfer", "[kube]") {
  // A watch being stopped while the server asked it to come back in 8 s.
  std::atomic<int> calls{0};
  FakeApiServer server([&](const FakeRequest&) {
    ++calls;
    auto r = status_response(429, "TooManyRequests", "Too many requests, please try again later.");
    r.headers.emplace_back("Retry-After", "8");
    return r;
  });
  auto client = client_for(server);
  std::atomic<bool> cancel{false};
  Request req;
  req.path = "/api/v1/namespaces/dev/services";
  req.cancel = &cancel;
  std::thread stopper([&] {
    std::this_thread::sleep_for(milliseconds(300));
    cancel = true;
  });
  const auto start = Clock::now();
  const auto r = client->send(req);
  stopper.join();
  REQUIRE_FALSE(r);
  CHECK(r.error().http_status == 429); // the last answer
  CHECK(Clock::now() - start < std::chrono::seconds(2));
  CHECK(calls == 1);
}

TEST_CASE("a create is not repeated after it may have reached the server", "[kube]") {
  FakeApiServer server([](const FakeRequest&) {
    return status_response(503, "ServiceUnavailable", "upstream went away");
  });
  auto client = client_for(server);
  REQUIRE_FALSE(client->create(services(), service("x")));
  CHECK(server.requests().size() == 1);

  std::atomic<int> calls{0};
  FakeApiServer dropping([&](const FakeRequest&) {
    FakeResponse r = json_response(service("x"));
    r.drop = ++calls == 1;
    return r;
  });
  auto client2 = client_for(dropping);
  const auto created = client2->create(services(), service("x"));
  REQUIRE_FALSE(created);
  CHECK(created.error().failure == TransportFailure::k_reset);
  CHECK(created.error().error.code() == ExitCode::k_unreachable);
  CHECK(dropping.requests().size() == 1);
  // The same broken connection on a GET is retried.
  REQUIRE(client2->get(services("x")));
}

TEST_CASE("a request that takes too long times out", "[kube]") {
  FakeApiServer server([](const FakeRequest&) {
    FakeResponse r = json_response(json::object());
    r.delay = milliseconds(700);
    return r;
  });
  auto options = fast_options();
  options.request_timeout = milliseconds(150);
  options.retry.max_attempts = 1;
  auto client = client_for(server, options);
  const auto r = client->get(services("slow"));
  REQUIRE_FALSE(r);
  CHECK(r.error().failure == TransportFailure::k_timeout);
  CHECK(r.error().error.code() == ExitCode::k_unreachable);
}

TEST_CASE("a 401 refreshes the credentials once and tries again", "[kube]") {
  FakeApiServer server([](const FakeRequest& req) {
    return req.header("authorization") == "Bearer fresh-token-2"
               ? json_response(service("a"))
               : status_response(401, "Unauthorized", "Unauthorized");
  });
  std::atomic<int> refreshes{0};
  CredentialSource source;
  source.kind = "exec plugin";
  source.get = [&]() -> Result<config::Credentials> {
    config::Credentials c;
    c.bearer_token = refreshes == 0 ? "stale-token-1" : "fresh-token-2";
    return c;
  };
  source.refresh = [&] { ++refreshes; };
  auto client = Client::create(context_for(server.url()), fast_options(), source).value();
  REQUIRE(client->get(services("a")));
  CHECK(refreshes == 1);
  CHECK(server.requests().size() == 2);

  // Still rejected after the refresh: an Unauthorized error with the exec-plugin hint.
  FakeApiServer denying(
      [](const FakeRequest&) { return status_response(401, "Unauthorized", "Unauthorized"); });
  refreshes = 0;
  auto client2 = Client::create(context_for(denying.url()), fast_options(), source).value();
  const auto r = client2->get(services("a"));
  REQUIRE_FALSE(r);
  CHECK(r.error().unauthorized());
  CHECK(r.error().error.hint().find("exec plugin") != std::string::npos);
  CHECK(denying.requests().size() == 2);
  CHECK(refreshes == 1);
}

TEST_CASE("credential errors stop the request with the context named", "[kube]") {
  FakeApiServer server([](const FakeRequest&) { return json_response(json::object()); });
  CredentialSource source;
  source.get = []() -> Result<config::Credentials> {
    return usage_error("exec plugin \"aliyun-cli\" not found", "install it");
  };
  auto client = Client::create(context_for(server.url()), fast_options(), source).value();
  const auto r = client->get(services("a"));
  REQUIRE_FALSE(r);
  CHECK(r.error().error.what() ==
        "getting credentials for context wuxi: exec plugin \"aliyun-cli\" not found");
  CHECK(r.error().error.code() == ExitCode::k_usage);
  CHECK(server.requests().empty());
}

TEST_CASE("list follows continue tokens and escapes selectors", "[kube]") {
  FakeApiServer server([](const FakeRequest& req) {
    const std::string cont = req.param("continue");
    json page = {
        {"kind", "ServiceList"}, {"apiVersion", "v1"}, {"metadata", {{"resourceVersion", "42"}}}};
    if (cont.empty()) {
      page["items"] = {service("a"), service("b")};
      page["metadata"]["continue"] = "token-1";
      page["metadata"]["remainingItemCount"] = 3;
    } else if (cont == "token-1") {
      page["items"] = {service("c"), service("d")};
      page["metadata"]["continue"] = "token-2";
    } else {
      page["items"] = json::array({service("e")});
    }
    return json_response(page);
  });
  auto client = client_for(server);
  ListOptions options;
  options.label_selector = "app=helloworld,version in (v1,v2)";
  options.field_selector = "metadata.namespace!=kube-system";
  options.limit = 2;
  const auto list = client->list(services(), options);
  REQUIRE(list);
  REQUIRE((*list)["items"].size() == 5);
  CHECK((*list)["items"][4]["metadata"]["name"] == "e");
  CHECK((*list)["kind"] == "ServiceList");
  CHECK((*list)["metadata"]["resourceVersion"] == "42");
  CHECK_FALSE((*list)["metadata"].contains("continue"));
  const auto reqs = server.requests();
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[0].path == "/api/v1/namespaces/dev/services");
  CHECK(reqs[0].param("labelSelector") == "app=helloworld,version in (v1,v2)");
  CHECK(reqs[0].raw_path + "?" + reqs[0].target.substr(reqs[0].target.find('?') + 1) ==
        "/api/v1/namespaces/dev/"
        "services?labelSelector=app%3Dhelloworld%2Cversion%20in%20%28v1%2Cv2%29"
        "&fieldSelector=metadata.namespace%21%3Dkube-system&limit=2");
  CHECK(reqs[1].param("continue") == "token-1");
  CHECK(reqs[2].param("continue") == "token-2");
  CHECK(reqs[2].param("labelSelector") == "app=helloworld,version in (v1,v2)");

  // Page by page: the callback sees each page, and an error from it stops the list.
  int pages = 0;
  const auto stopped = client->list_pages(services(), options, [&](json& page) -> Result<void> {
    ++pages;
    if (page["items"].size() == 2 && pages == 2) {
      return fail("enough");
    }
    return {};
  });
  REQUIRE_FALSE(stopped);
  CHECK(pages == 2);
}

TEST_CASE("an expired continue token restarts the list without paging", "[kube]") {
  FakeApiServer server([](const FakeRequest& req) {
    if (req.param("continue") == "token-1") {
      return status_response(410, "Expired",
                             "The provided continue parameter is too old to display a consistent "
                             "list result.");
    }
    json page = {{"kind", "ServiceList"}, {"apiVersion", "v1"}, {"metadata", json::object()}};
    if (req.has_param("limit")) {
      page["items"] = json::array({service("a")});
      page["metadata"]["continue"] = "token-1";
    } else {
      page["items"] = {service("a"), service("b"), service("c")};
    }
    return json_response(page);
  });
  auto client = client_for(server);
  const auto list = client->list(services());
  REQUIRE(list);
  CHECK((*list)["items"].size() == 3); // the full list, nothing twice
  CHECK(server.requests().size() == 3);
}

TEST_CASE("server-side apply sends the object as an apply patch", "[kube]") {
  FakeApiServer server([](const FakeRequest& req) { return json_response(json::parse(req.body)); });
  auto client = client_for(server);
  const json obj = service("helloworld");
  ApplyOptions options;
  options.force = true;
  options.dry_run = true;
  const auto r = client->apply(services(), obj, options);
  REQUIRE(r);
  const auto req = server.requests().at(0);
  CHECK(req.method == "PATCH");
  CHECK(req.path == "/api/v1/namespaces/dev/services/helloworld");
  CHECK(req.header("content-type") == "application/apply-patch+yaml");
  CHECK(req.param("fieldManager") == "meshctl");
  CHECK(req.param("force") == "true");
  CHECK(req.param("dryRun") == "All");
  CHECK(json::parse(req.body) == obj);

  // Without force and dry-run, neither parameter is sent.
  REQUIRE(client->apply(services(), obj));
  const auto plain = server.requests().at(1);
  CHECK_FALSE(plain.has_param("force"));
  CHECK_FALSE(plain.has_param("dryRun"));
  // An object without kind cannot be applied.
  CHECK_FALSE(client->apply(services("x"), json{{"metadata", {{"name", "x"}}}}));
}

TEST_CASE("apply is retried: the same intent twice is harmless", "[kube]") {
  std::atomic<int> calls{0};
  FakeApiServer server([&](const FakeRequest& req) {
    return ++calls == 1 ? status_response(502, "InternalError", "bad gateway")
                        : json_response(json::parse(req.body));
  });
  auto client = client_for(server);
  REQUIRE(client->apply(services(), service("a")));
  CHECK(calls == 2);
  // A merge patch is not retried.
  calls = 0;
  REQUIRE_FALSE(
      client->patch(services("a"), PatchType::k_merge, {{"metadata", {{"labels", {{"x", "y"}}}}}}));
  CHECK(calls == 1);
  CHECK(server.requests().back().header("content-type") == "application/merge-patch+json");
}

TEST_CASE("create, replace and delete use their methods and options", "[kube]") {
  FakeApiServer server([](const FakeRequest& req) {
    if (req.method == "DELETE") {
      return json_response({{"kind", "Status"}, {"status", "Success"}});
    }
    return json_response(json::parse(req.body), req.method == "POST" ? 201 : 200);
  });
  auto client = client_for(server);
  WriteOptions dry;
  dry.dry_run = true;
  REQUIRE(client->create(services("ignored"), service("a"), dry));
  REQUIRE(client->replace(services(), service("a")));
  DeleteOptions del;
  del.propagation_policy = "Foreground";
  REQUIRE(client->remove(services("a"), del));
  const auto reqs = server.requests();
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[0].method == "POST");
  CHECK(reqs[0].path == "/api/v1/namespaces/dev/services");
  CHECK(reqs[0].param("dryRun") == "All");
  CHECK(reqs[0].header("content-type") == "application/json");
  CHECK(reqs[1].method == "PUT");
  CHECK(reqs[1].path == "/api/v1/namespaces/dev/services/a");
  CHECK(reqs[2].method == "DELETE");
  CHECK(reqs[2].path == "/api/v1/namespaces/dev/services/a");
  CHECK(reqs[2].param("propagationPolicy") == "Foreground");
  CHECK_FALSE(reqs[2].has_param("dryRun"));
  CHECK(reqs[2].body.empty()); // no preconditions asked: no DeleteOptions body
}

TEST_CASE("a delete with preconditions sends them in a DeleteOptions body", "[kube]") {
  FakeApiServer server([](const FakeRequest&) {
    return json_response({{"kind", "Status"}, {"status", "Success"}});
  });
  auto client = client_for(server);
  DeleteOptions both;
  both.dry_run = true;
  both.uid = "u-1";
  both.resource_version = "7";
  REQUIRE(client->remove(services("a"), both));
  DeleteOptions version_only;
  version_only.resource_version = "8";
  REQUIRE(client->remove(services("b"), version_only));
  const auto reqs = server.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].param("dryRun") == "All");
  CHECK(reqs[0].header("content-type") == "application/json");
  const auto body = json::parse(reqs[0].body);
  CHECK(body["kind"] == "DeleteOptions");
  CHECK(body["apiVersion"] == "v1");
  CHECK(body["preconditions"] == json{{"uid", "u-1"}, {"resourceVersion", "7"}});
  CHECK(json::parse(reqs[1].body)["preconditions"] == json{{"resourceVersion", "8"}});
}

TEST_CASE("pod proxy GET returns the pod's answer as is", "[kube]") {
  FakeApiServer server([](const FakeRequest& req) {
    FakeResponse r;
    r.content_type = "text/plain";
    r.body =
        R"([{"id":"cn-shanghai","secretName":"istio-system/istio-remote-secret-cn-shanghai","syncStatus":"synced"}])";
    if (req.path !=
        "/api/v1/namespaces/istio-system/pods/istiod-5f4d9c7b8-x2x7q:15014/proxy/debug/clusterz") {
      r.status = 404;
    }
    return r;
  });
  auto client = client_for(server);
  const auto r =
      client->proxy_get("istio-system", "istiod-5f4d9c7b8-x2x7q", 15014, "/debug/clusterz");
  REQUIRE(r);
  CHECK(json::parse(r->body)[0]["syncStatus"] == "synced");
  CHECK(r->header("Content-Type") == "text/plain");
}

TEST_CASE("invalid JSON in an answer is an error naming the request", "[kube]") {
  FakeApiServer server([](const FakeRequest&) {
    FakeResponse r;
    r.body = "<html>not the API server</html>";
    return r;
  });
  auto client = client_for(server);
  const auto r = client->get(services("a"));
  REQUIRE_FALSE(r);
  CHECK(r.error().error.message().find("invalid JSON") != std::string::npos);
}

TEST_CASE("discovery is fetched once per client, even from many threads", "[kube]") {
  FakeApiServer server([](const FakeRequest& req) {
    auto r = discovery_answer(req, true);
    r.delay = milliseconds(50);
    return r;
  });
  auto client = client_for(server);
  std::vector<std::future<ApiResult<std::shared_ptr<const ResourceMap>>>> futures;
  for (int i = 0; i < 4; ++i) {
    futures.push_back(std::async(std::launch::async, [&] { return client->discovery(); }));
  }
  std::shared_ptr<const ResourceMap> first;
  for (auto& f : futures) {
    auto map = f.get();
    REQUIRE(map);
    if (!first) {
      first = *map;
    }
    CHECK(map->get() == first.get());
  }
  CHECK(server.count("GET", "/api") == 1);
  CHECK(server.count("GET", "/apis") == 1);
  CHECK(server.count("GET", "/apis/networking.istio.io/v1beta1") == 1);
  CHECK(first->find("networking.istio.io/v1", "Gateway")->resource == "gateways");
  const auto gw = client->resource_for("networking.istio.io/v1", "Gateway");
  REQUIRE(gw);
  CHECK(gw->namespaced);
  CHECK(server.count("GET", "/api") == 1);
  client->forget_discovery();
  REQUIRE(client->discovery());
  CHECK(server.count("GET", "/api") == 2);
}

TEST_CASE("a cluster without Istio says so for Istio kinds", "[kube]") {
  FakeApiServer server([](const FakeRequest& req) { return discovery_answer(req, false); });
  auto client = client_for(server);
  const auto gw = client->resource_for("networking.istio.io/v1", "Gateway");
  REQUIRE_FALSE(gw);
  CHECK(gw.error().error.message() ==
        "Istio is not installed in wuxi (networking.istio.io Gateway unknown)");
}

TEST_CASE("apply of a manifest finds its resource through discovery", "[kube]") {
  FakeApiServer server([](const FakeRequest& req) {
    if (req.method == "PATCH") {
      return json_response(json::parse(req.body));
    }
    return discovery_answer(req, true);
  });
  auto client = client_for(server);
  const json gateway = {
      {"apiVersion", "networking.istio.io/v1"},
      {"kind", "Gateway"},
      {"metadata", {{"name", "cross-network-gateway"}, {"namespace", "istio-system"}}},
      {"spec", {{"selector", {{"istio", "eastwestgateway"}}}}}};
  REQUIRE(client->apply(gateway));
  CHECK(server.count("PATCH", "/apis/networking.istio.io/v1/namespaces/istio-system/gateways/"
                              "cross-network-gateway") == 1);
  // Namespaced without a namespace: the context's namespace, as kubectl does.
  const json ns_less = {{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", {{"name", "s"}}}};
  CHECK(client->ref_for(ns_less)->namespace_ == "default");
  const json cluster_scoped = {{"apiVersion", "v1"},
                               {"kind", "Namespace"},
                               {"metadata", {{"name", "dev"}, {"namespace", "x"}}}};
  CHECK(resource_path(client->ref_for(cluster_scoped).value()) == "/api/v1/namespaces/dev");
}

TEST_CASE("parallel requests run in parallel and connections are reused", "[kube]") {
  FakeApiServer server([](const FakeRequest&) {
    FakeResponse r = json_response(json::object());
    r.delay = milliseconds(300);
    return r;
  });
  auto client = client_for(server);
  const auto start = Clock::now();
  std::vector<std::future<ApiResult<Response>>> futures;
  for (int i = 0; i < 6; ++i) {
    Request r;
    r.path = "/api/v1/namespaces/dev/services/s" + std::to_string(i);
    futures.push_back(client->send_async(r));
  }
  for (auto& f : futures) {
    REQUIRE(f.get());
  }
  const auto took = Clock::now() - start;
  CHECK(took < milliseconds(1200)); // sequential would be 1800 ms

  FakeApiServer quick([](const FakeRequest&) { return json_response(json::object()); });
  auto client2 = client_for(quick);
  for (int i = 0; i < 10; ++i) {
    REQUIRE(client2->get(services("a")));
  }
  CHECK(quick.connections() == 1);
}

TEST_CASE("the same client works over TLS with the kubeconfig's CA", "[kube]") {
  FakeApiServer server([](const FakeRequest&) { return json_response(service("a")); }, true);
  auto client = client_for(server);
  REQUIRE(client->get(services("a")));
  REQUIRE(client->get(services("b")));
  CHECK(server.connections() == 1);
}

TEST_CASE("a server URL with a path prefix keeps it", "[kube]") {
  FakeApiServer server([](const FakeRequest&) { return json_response(json::object()); });
  auto ctx = context_for(server.url() + "/k8s/clusters/c-m7x2p/");
  auto client = Client::create(ctx, fast_options(), static_credentials({})).value();
  REQUIRE(client->get(services("a")));
  CHECK(server.requests().at(0).path == "/k8s/clusters/c-m7x2p/api/v1/namespaces/dev/services/a");
}

TEST_CASE("refused connections and unresolvable hosts are unreachable, without retries", "[kube]") {
  auto ctx = context_for("http://127.0.0.1:" + std::to_string(free_port()));
  auto client = Client::create(ctx, fast_options(), static_credentials({})).value();
  const auto start = Clock::now();
  const auto r = client->get(services("a"));
  REQUIRE_FALSE(r);
  CHECK(r.error().failure == TransportFailure::k_connect);
  CHECK(r.error().error.code() == ExitCode::k_unreachable);
  CHECK(r.error().error.message().find("Connection refused") != std::string::npos);
  CHECK(Clock::now() - start < milliseconds(500));

  auto dns = Client::create(context_for("https://nonexistent.invalid:6443"), fast_options(),
                            static_credentials({}))
                 .value();
  const auto d = dns->get(services("a"));
  REQUIRE_FALSE(d);
  CHECK(d.error().failure == TransportFailure::k_resolve);
  CHECK(d.error().error.code() == ExitCode::k_unreachable);
}

TEST_CASE("a bad server address is a configuration error", "[kube]") {
  const auto none = Client::create(context_for(""), fast_options(), static_credentials({}));
  REQUIRE_FALSE(none);
  CHECK(none.error().code() == ExitCode::k_usage);
  const auto ftp = Client::create(context_for("ftp://x"), fast_options(), static_credentials({}));
  REQUIRE_FALSE(ftp);
  CHECK(ftp.error().what() == "context wuxi: the server address \"ftp://x\" is neither https:// "
                              "nor http://");
}

TEST_CASE("proxy-url sends requests through the proxy", "[kube]") {
  // The fake server doubles as a forward proxy: it sees absolute-form targets.
  FakeApiServer proxy([](const FakeRequest&) { return json_response(service("via-proxy")); });
  auto ctx = context_for("http://kube.test:6443");
  ctx.cluster.proxy_url = proxy.url();
  auto client = Client::create(ctx, fast_options(), static_credentials({})).value();
  const auto r = client->get(services("a"));
  REQUIRE(r);
  const auto req = proxy.requests().at(0);
  CHECK(req.via_proxy);
  CHECK(req.target == "http://kube.test:6443/api/v1/namespaces/dev/services/a");

  // A dead proxy is reported as a proxy problem.
  auto dead = context_for("http://127.0.0.1:6443");
  dead.cluster.proxy_url = "http://127.0.0.1:" + std::to_string(free_port());
  const auto e =
      Client::create(dead, fast_options(), static_credentials({})).value()->get(services("a"));
  REQUIRE_FALSE(e);
  CHECK(e.error().failure == TransportFailure::k_proxy);
  CHECK(e.error().error.hint().find("proxy-url") != std::string::npos);
}

TEST_CASE("https and exec go through the proxy in a CONNECT tunnel", "[kube]") {
  FakeApiServer proxy([](const FakeRequest&) { return status_response(400, "BadRequest", "x"); });
  FakeApiServer target([](const FakeRequest&) { return json_response(service("tunnelled")); },
                       true);
  target.on_exec([](const FakeRequest&) {
    ExecPlan plan;
    plan.accept = true;
    plan.protocol = "v5.channel.k8s.io";
    plan.script = [](ExecIo& io) {
      io.send(1, "through the tunnel");
      io.send(3, R"({"metadata":{},"status":"Success"})");
      io.close(1000);
    };
    return plan;
  });
  auto ctx = context_for(target.url());
  ctx.cluster.certificate_authority_data = meshctl::testing::read_file(test_pki().ca_crt);
  ctx.cluster.proxy_url = proxy.url();
  auto client = Client::create(ctx, fast_options(), static_credentials({})).value();
  const auto r = client->get(services("a"));
  REQUIRE(r);
  CHECK((*r)["metadata"]["name"] == "tunnelled");
  ExecRequest req;
  req.namespace_ = "dev";
  req.pod = "sleep-1";
  req.command = {"echo"};
  const auto e = client->exec(req);
  REQUIRE(e);
  CHECK(e->stdout_data == "through the tunnel");
  const auto seen = proxy.requests();
  REQUIRE(seen.size() == 2);
  for (const auto& s : seen) {
    CHECK(s.method == "CONNECT");
    CHECK(s.target == "127.0.0.1:" + std::to_string(target.port()));
  }
}

TEST_CASE("HTTP_PROXY is used unless NO_PROXY exempts the host", "[kube]") {
  // The machine's own host name resolves to loopback on most machines: a host that is neither
  // "localhost" nor a loopback literal, so only NO_PROXY can exempt it.
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  addrinfo hints{};
  hints.ai_family = AF_INET;
  addrinfo* found = nullptr;
  if (::getaddrinfo(name, nullptr, &hints, &found) != 0) {
    MESHCTL_SKIP("this machine's host name does not resolve");
  }
  const bool loopback =
      (ntohl(reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr.s_addr) >> 24U) == 127;
  ::freeaddrinfo(found);
  if (!loopback) {
    MESHCTL_SKIP("this machine's host name does not resolve to a loopback address");
  }
  FakeApiServer server([](const FakeRequest&) { return json_response(service("direct")); });
  const std::string url = "http://" + std::string(name) + ":" + std::to_string(server.port());
  auto options = fast_options();
  options.proxy_env = ProxyEnvironment{"", "http://127.0.0.1:" + std::to_string(free_port()), ""};
  const auto proxied =
      Client::create(context_for(url), options, static_credentials({})).value()->get(services("a"));
  REQUIRE_FALSE(proxied);
  CHECK(proxied.error().failure == TransportFailure::k_proxy);
  options.proxy_env->no_proxy = "example.com," + std::string(name);
  const auto direct =
      Client::create(context_for(url), options, static_credentials({})).value()->get(services("a"));
  REQUIRE(direct);
  CHECK_FALSE(server.requests().at(0).via_proxy);
}

namespace {

std::string status_json(int exit_code) {
  if (exit_code == 0) {
    return R"({"metadata":{},"status":"Success"})";
  }
  return json{
      {"metadata", json::object()},
      {"status", "Failure"},
      {"message", "command terminated with non-zero exit code"},
      {"reason", "NonZeroExitCode"},
      {"details", {{"causes", {{{"reason", "ExitCode"}, {"message", std::to_string(exit_code)}}}}}}}
      .dump();
}

ExecRequest exec_request() {
  ExecRequest r;
  r.namespace_ = "istio-system";
  r.pod = "istiod-5f4d9c7b8-x2x7q";
  r.container = "discovery";
  r.command = {"pilot-agent", "request", "GET", "debug/clusterz"};
  r.timeout = std::chrono::seconds(10);
  return r;
}

} // namespace

TEST_CASE("exec over WebSocket v5: fragments, pings, both streams and the exit code", "[kube]") {
  FakeApiServer server([](const FakeRequest&) { return json_response(json::object()); });
  std::atomic<bool> clean_close{false};
  server.on_exec([&](const FakeRequest& req) {
    ExecPlan plan;
    plan.accept = true;
    plan.protocol = "v5.channel.k8s.io";
    plan.script = [&](ExecIo& io) {
      io.send(1, "");                                        // channel announcement
      io.send_fragmented(1, std::string(70000, 'o'), 30000); // a 64-bit-length message, split
      io.ping("keepalive");
      io.send(2, "warning: something\n");
      io.send(3, status_json(3));
      io.close(1000);
      clean_close = io.closed_cleanly();
    };
    CHECK(req.header("sec-websocket-protocol") == "v5.channel.k8s.io, v4.channel.k8s.io");
    return plan;
  });
  auto client = client_for(server);
  const auto r = client->exec(exec_request());
  REQUIRE(r);
  CHECK(r->protocol == "v5.channel.k8s.io");
  CHECK(r->exit_code == 3);
  CHECK(r->stdout_data == std::string(70000, 'o'));
  CHECK(r->stderr_data == "warning: something\n");
  // Beast received meshctl's masked close reply (its close() returns once it has).
  const auto until = Clock::now() + std::chrono::seconds(5);
  while (!clean_close && Clock::now() < until) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  CHECK(clean_close.load());
  const auto req = server.requests().at(0);
  CHECK(req.path == "/api/v1/namespaces/istio-system/pods/istiod-5f4d9c7b8-x2x7q/exec");
  CHECK(req.params("command") ==
        std::vector<std::string>{"pilot-agent", "request", "GET", "debug/clusterz"});
  CHECK(req.param("container") == "discovery");
  CHECK(req.param("stdout") == "true");
  CHECK(req.param("stderr") == "true");
  CHECK_FALSE(req.has_param("stdin"));
  CHECK(req.header("authorization") == "Bearer t0ken-for-the-fake-apiserver");
}

TEST_CASE("exec falls back to v4 and a Success status is exit code 0", "[kube]") {
  FakeApiServer server([](const FakeRequest&) { return json_response(json::object()); }, true);
  server.on_exec([](const FakeRequest&) {
    ExecPlan plan;
    plan.accept = true;
    plan.protocol = "v4.channel.k8s.io";
    plan.script = [](ExecIo& io) {
      io.send(1, "hello\n");
      io.send(3, status_json(0));
      io.close(1000);
    };
    return plan;
  });
  auto client = client_for(server); // over TLS this time
  const auto r = client->exec(exec_request());
  REQUIRE(r);
  CHECK(r->protocol == "v4.channel.k8s.io");
  CHECK(r->exit_code == 0);
  CHECK(r->stdout_data == "hello\n");
}

TEST_CASE("exec sends stdin and closes it with v5's close signal", "[kube]") {
  FakeApiServer server([](const FakeRequest&) { return json_response(json::object()); });
  std::string close_signal;
  server.on_exec([&](const FakeRequest&) {
    ExecPlan plan;
    plan.accept = true;
    plan.protocol = "v5.channel.k8s.io";
    plan.script = [&](ExecIo& io) {
      std::string input;
      while (true) {
        const std::string m = io.read(); // Beast refuses unmasked client frames
        if (m.empty() || static_cast<std::uint8_t>(m[0]) == 255) {
          close_signal = m;
          break;
        }
        input += m.substr(1);
      }
      io.send(1, input);
      io.send(3, status_json(0));
      io.close(1000);
    };
    return plan;
  });
  auto client = client_for(server);
  auto req = exec_request();
  req.command = {"cat"};
  req.stdin_data = std::string(100000, 'i') + "end";
  const auto r = client->exec(req);
  REQUIRE(r);
  CHECK(r->stdout_data == *req.stdin_data);
  CHECK(close_signal == std::string("\xff\x00", 2));
  CHECK(server.requests().at(0).param("stdin") == "true");
}

TEST_CASE("exec refusals: 403 names the RBAC permission, 401 refreshes once", "[kube]") {
  FakeApiServer server([](const FakeRequest&) { return json_response(json::object()); });
  server.on_exec([](const FakeRequest&) {
    ExecPlan plan;
    plan.refusal = status_response(
        403, "Forbidden",
        "pods \"istiod-5f4d9c7b8-x2x7q\" is forbidden: User \"system:serviceaccount:istio-system:"
        "istio-reader-service-account\" cannot create resource \"pods/exec\" in API group \"\" in "
        "the namespace \"istio-system\"");
    return plan;
  });
  auto client = client_for(server);
  const auto r = client->exec(exec_request());
  REQUIRE_FALSE(r);
  CHECK(r.error().forbidden());
  CHECK(r.error().error.message().find("cannot create resource \"pods/exec\"") !=
        std::string::npos);
  CHECK(r.error().error.hint().find("may not create pods/exec in namespace istio-system") !=
        std::string::npos);
  CHECK(r.error().error.what().rfind("exec in pod istio-system/istiod-5f4d9c7b8-x2x7q", 0) == 0);
  CHECK(server.requests().size() == 1);

  FakeApiServer auth([](const FakeRequest&) { return json_response(json::object()); });
  auth.on_exec([](const FakeRequest& req) {
    ExecPlan plan;
    if (req.header("authorization") != "Bearer fresh") {
      plan.refusal = status_response(401, "Unauthorized", "Unauthorized");
      return plan;
    }
    plan.accept = true;
    plan.protocol = "v5.channel.k8s.io";
    plan.script = [](ExecIo& io) {
      io.send(3, status_json(0));
      io.close(1000);
    };
    return plan;
  });
  bool refreshed = false;
  CredentialSource source;
  source.kind = "exec plugin";
  source.get = [&]() -> Result<config::Credentials> {
    config::Credentials c;
    c.bearer_token = refreshed ? "fresh" : "stale-credential";
    return c;
  };
  source.refresh = [&] { refreshed = true; };
  auto client2 = Client::create(context_for(auth.url()), fast_options(), source).value();
  const auto ok = client2->exec(exec_request());
  REQUIRE(ok);
  CHECK(ok->exit_code == 0);
  CHECK(auth.requests().size() == 2);
}

TEST_CASE("exec: a command that cannot start is an error — 503 before the upgrade is retried",
          "[kube]") {
  FakeApiServer server([](const FakeRequest&) { return json_response(json::object()); });
  std::atomic<int> calls{0};
  server.on_exec([&](const FakeRequest&) {
    ExecPlan plan;
    if (++calls == 1) {
      plan.refusal = status_response(503, "ServiceUnavailable", "kubelet is restarting");
      return plan;
    }
    plan.accept = true;
    plan.protocol = "v5.channel.k8s.io";
    plan.script = [](ExecIo& io) {
      io.send(3, json{{"metadata", json::object()},
                      {"status", "Failure"},
                      {"message", "Internal error occurred: error executing command in container: "
                                  "failed to exec in container: exec: \"pilot-agent\": executable "
                                  "file not found in $PATH: unknown"},
                      {"reason", "InternalError"},
                      {"code", 500}}
                     .dump());
      io.close(1000);
    };
    return plan;
  });
  auto client = client_for(server);
  const auto r = client->exec(exec_request());
  REQUIRE_FALSE(r);
  CHECK(calls == 2);
  CHECK(r.error().reason == "InternalError");
  CHECK(r.error().error.hint() == "the command does not exist in the container's image");
}

TEST_CASE("exec: a server that does not speak the channel protocols is refused", "[kube]") {
  FakeApiServer server([](const FakeRequest&) { return json_response(json::object()); });
  server.on_exec([](const FakeRequest&) {
    ExecPlan plan;
    plan.accept = true;
    plan.protocol = ""; // upgrades, but agrees to no subprotocol
    plan.script = [](ExecIo& io) { io.close(1000); };
    return plan;
  });
  auto client = client_for(server);
  const auto r = client->exec(exec_request());
  REQUIRE_FALSE(r);
  CHECK(r.error().error.message().find("no streaming protocol") != std::string::npos);
}

TEST_CASE("reviews and dry runs store nothing: retried like reads — other creates are not",
          "[kube]") {
  std::atomic<int> calls{0};
  FakeApiServer server([&](const FakeRequest&) {
    if (++calls % 3 != 0) {
      return status_response(503, "ServiceUnavailable",
                             "the server is currently unable to handle the request");
    }
    return json_response({{"kind", "SelfSubjectAccessReview"}, {"status", {{"allowed", true}}}},
                         201);
  });
  auto client = client_for(server);
  const json review = {
      {"apiVersion", "authorization.k8s.io/v1"},
      {"kind", "SelfSubjectAccessReview"},
      {"spec", {{"resourceAttributes", {{"verb", "list"}, {"resource", "nodes"}}}}}};
  const auto r = client->create(
      {"authorization.k8s.io", "v1", "selfsubjectaccessreviews", "", "", ""}, review);
  REQUIRE(r);
  CHECK(calls == 3);
  // A dry-run create is as safe.
  calls = 0;
  CHECK(client->create(services(), service("x"), {.dry_run = true}));
  CHECK(calls == 3);
  // A real create is not repeated after a 503: it may have been stored.
  calls = 0;
  const auto created = client->create(services(), service("x"));
  REQUIRE_FALSE(created);
  CHECK(created.error().http_status == 503);
  CHECK(calls == 1);
  // Nor is a patch, unless the caller says it is idempotent (a restart annotation).
  calls = 0;
  CHECK_FALSE(client->patch(services("x"), PatchType::k_merge, json::object()));
  CHECK(calls == 1);
  calls = 0;
  CHECK(client->patch(services("x"), PatchType::k_merge, json::object(), {.idempotent = true}));
  CHECK(calls == 3);
}

TEST_CASE("the total bound covers the attempts too: a slow answer cannot outlast it", "[kube]") {
  FakeApiServer server([](const FakeRequest&) {
    std::this_thread::sleep_for(milliseconds(1500));
    return json_response(service("late"));
  });
  auto options = fast_options();
  options.request_timeout = std::chrono::seconds(10); // per attempt: would wait for the answer
  options.retry.max_total = milliseconds(400);        // what --timeout sets
  auto client = client_for(server, options);
  const auto start = Clock::now();
  const auto r = client->get(services("late"));
  REQUIRE_FALSE(r);
  CHECK(Clock::now() - start < milliseconds(1200));
  CHECK(r.error().unreachable());
}

// The Client over the transport seam: retries, the limiter, re-authentication, error mapping and
// paging run above a Transport, so a scripted one (tests/support/fake_transport.hpp) drives them.

#include "kube/client.hpp"
#include "kube/credentials.hpp"
#include "support/fake_transport.hpp"

#include <catch2/catch.hpp>

using namespace meshctl;
using namespace meshctl::kube;
using meshctl::testing::fake_client;
using meshctl::testing::FakeReply;
using meshctl::testing::FakeTransport;
using nlohmann::json;

namespace {

const ResourceRef k_secret{"", "v1", "secrets", "istio-system", "cacerts", ""};
const std::string k_secret_path = "/api/v1/namespaces/istio-system/secrets/cacerts";

} // namespace

TEST_CASE("a 503 is retried above the transport, then the answer is returned", "[kube][seam]") {
  auto fake = std::make_shared<FakeTransport>();
  fake->on(Method::k_get, k_secret_path, FakeReply::json({{"kind", "Secret"}}));
  fake->on(Method::k_get, k_secret_path,
           FakeReply::api_status(503, "ServiceUnavailable", "etcd is catching up"), 2);
  auto client = fake_client("wuxi", fake);
  auto r = client->get(k_secret);
  REQUIRE(r);
  CHECK(r->value("kind", "") == "Secret");
  CHECK(fake->calls(Method::k_get, k_secret_path).size() == 3);
}

TEST_CASE("retries stop at max_attempts and the last Status is the error", "[kube][seam]") {
  auto fake = std::make_shared<FakeTransport>();
  fake->on(Method::k_get, k_secret_path,
           FakeReply::api_status(500, "InternalError", "Internal error occurred: boom"));
  auto client = fake_client("wuxi", fake);
  auto r = client->get(k_secret);
  REQUIRE_FALSE(r);
  CHECK(r.error().http_status == 500);
  CHECK(r.error().error.message().find("boom") != std::string::npos);
  CHECK(fake->calls().size() == static_cast<std::size_t>(client->options().retry.max_attempts));
}

TEST_CASE("a timeout without an answer is retried for GET, never for POST", "[kube][seam]") {
  auto fake = std::make_shared<FakeTransport>();
  fake->on(Method::k_get, k_secret_path, FakeReply::timeout());
  fake->on(Method::k_post, "/api/v1/namespaces/istio-system/secrets", FakeReply::timeout());
  auto client = fake_client("wuxi", fake);
  auto got = client->get(k_secret);
  REQUIRE_FALSE(got);
  CHECK(got.error().unreachable());
  CHECK(got.error().failure == TransportFailure::k_timeout);
  CHECK(got.error().error.code() == ExitCode::k_unreachable);
  CHECK(fake->calls(Method::k_get).size() == 5);

  auto created = client->create(k_secret, {{"apiVersion", "v1"}, {"kind", "Secret"}});
  REQUIRE_FALSE(created);
  CHECK(created.error().unreachable());
  CHECK(fake->calls(Method::k_post).size() == 1); // it may have reached the server
}

TEST_CASE("a 401 asks the credential source once for fresh credentials", "[kube][seam]") {
  auto fake = std::make_shared<FakeTransport>();
  fake->on(Method::k_get, k_secret_path, FakeReply::json({{"kind", "Secret"}}));
  fake->on(Method::k_get, k_secret_path, FakeReply::api_status(401, "Unauthorized", "Unauthorized"),
           1);
  config::ResolvedContext ctx;
  ctx.name = "wuxi";
  ctx.cluster.server = "https://wuxi.fake.test:6443";
  int issued = 0;
  CredentialSource source;
  source.kind = "exec plugin";
  source.get = [&issued]() -> Result<config::Credentials> {
    config::Credentials c;
    c.bearer_token = "token-" + std::to_string(issued);
    return c;
  };
  source.refresh = [&issued] { ++issued; };
  ClientOptions options;
  options.transport = fake;
  options.retry = meshctl::testing::fast_retry();
  auto client = Client::create(ctx, options, source).value();
  REQUIRE(client->get(k_secret));
  const auto calls = fake->calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].bearer_token == "token-0");
  CHECK(calls[1].bearer_token == "token-1");
}

TEST_CASE("the limiter bounds requests in flight above the transport and halves on 429",
          "[kube][seam]") {
  auto fake = std::make_shared<FakeTransport>();
  FakeReply slow = FakeReply::json({{"kind", "Secret"}});
  slow.delay = std::chrono::milliseconds(20);
  fake->on(Method::k_get, "*", slow);
  ClientOptions options;
  options.limiter = std::make_shared<ConcurrencyLimiter>(3);
  auto client = fake_client("wuxi", fake, options);
  std::vector<std::future<ApiResult<Response>>> pending;
  for (int i = 0; i < 12; ++i) {
    Request r;
    r.path = "/api/v1/namespaces/istio-system/secrets/s" + std::to_string(i);
    pending.push_back(client->send_async(r));
  }
  for (auto& p : pending) {
    CHECK(p.get());
  }
  CHECK(fake->max_in_flight() == 3);

  fake->on(Method::k_get, k_secret_path,
           FakeReply::api_status(429, "TooManyRequests", "too many requests"), 1);
  REQUIRE(client->get(k_secret)); // retried after the 429
  CHECK(options.limiter->cuts() == 1);
  CHECK(options.limiter->limit() == 2); // 3 halved to 1, then one slot back for the success
}

TEST_CASE("list follows continue tokens and restarts unpaged after 410", "[kube][seam]") {
  auto fake = std::make_shared<FakeTransport>();
  const std::string path = "/api/v1/namespaces/dev/services";
  auto page = [](const std::string& name, const std::string& cont) {
    return FakeReply::json({{"kind", "ServiceList"},
                            {"metadata", {{"continue", cont}, {"resourceVersion", "7"}}},
                            {"items", {{{"metadata", {{"name", name}}}}}}});
  };
  fake->on(Method::k_get, path, page("a", "t1"), -1,
           [](const Request& r) { return encode_query(r.query) == "limit=2"; });
  fake->on(Method::k_get, path,
           FakeReply::api_status(410, "Expired", "The provided continue parameter is too old"), -1,
           [](const Request& r) { return encode_query(r.query) == "limit=2&continue=t1"; });
  fake->on(Method::k_get, path, page("all", ""), -1,
           [](const Request& r) { return r.query.empty(); });
  auto client = fake_client("wuxi", fake);
  ListOptions opts;
  opts.limit = 2;
  auto list = client->list({"", "v1", "services", "dev", "", ""}, opts);
  REQUIRE(list);
  REQUIRE((*list)["items"].size() == 1);
  CHECK((*list)["items"][0]["metadata"]["name"] == "all");
  CHECK(fake->calls(Method::k_get, path).size() == 3);
}

TEST_CASE("exec goes through the transport — a refusal is retried and mapped", "[kube][seam]") {
  auto fake = std::make_shared<FakeTransport>();
  ExecResult ok;
  ok.stdout_data = "hello";
  ok.protocol = "v5.channel.k8s.io";
  fake->on_exec("dev", "sleep-1", ok);
  auto client = fake_client("wuxi", fake);
  ExecRequest req;
  req.namespace_ = "dev";
  req.pod = "sleep-1";
  req.command = {"echo", "hello"};
  auto r = client->exec(req);
  REQUIRE(r);
  CHECK(r->stdout_data == "hello");

  req.pod = "gone";
  auto missing = client->exec(req);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().not_found());
  CHECK(missing.error().error.what().find("exec in pod dev/gone") != std::string::npos);
}

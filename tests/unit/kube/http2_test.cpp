// HTTP/2 against a real h2 server (nghttpd from nghttp2-server, serving files): the client
// negotiates h2 through ALPN and multiplexes parallel requests on one connection.

#include "kube/client.hpp"
#include "kube_test_support.hpp"

#include <future>
#include <regex>
#include <set>

using namespace meshctl;
using namespace meshctl::kube;
using namespace meshctl::testing::kube;
using meshctl::testing::run;

TEST_CASE("parallel requests share one HTTP/2 connection", "[kube]") {
  if (run({"sh", "-c", "command -v nghttpd"}).exit_code != 0) {
    MESHCTL_SKIP("nghttpd (Debian package nghttp2-server) is not installed");
  }
  const auto& pki = test_pki();
  meshctl::testing::TempDir root;
  for (int i = 0; i < 6; ++i) {
    root.write("docs/api/v1/namespaces/dev/services/s" + std::to_string(i),
               R"({"kind":"Service","metadata":{"name":"s)" + std::to_string(i) + R"("}})");
  }
  const auto log = root.path() / "nghttpd.log";
  const int port = free_port();
  BackgroundProcess server({"sh", "-c",
                            "exec nghttpd -v --address=127.0.0.1 -d " +
                                (root.path() / "docs").string() + " " + std::to_string(port) + " " +
                                pki.server_ip_key.string() + " " + pki.server_ip_crt.string() +
                                " >" + log.string() + " 2>&1"});
  REQUIRE(wait_for_port(port, std::chrono::seconds(10)));

  auto ctx = context_for("https://127.0.0.1:" + std::to_string(port));
  ctx.cluster.certificate_authority_data = meshctl::testing::read_file(pki.ca_crt);
  ClientOptions options;
  options.proxy_env = ProxyEnvironment{};
  auto client = Client::create(ctx, options, static_credentials({})).value();
  std::vector<std::future<ApiResult<Response>>> futures;
  for (int i = 0; i < 6; ++i) {
    Request r;
    r.path = "/api/v1/namespaces/dev/services/s" + std::to_string(i);
    futures.push_back(client->send_async(r));
  }
  for (int i = 0; i < 6; ++i) {
    auto r = futures[static_cast<std::size_t>(i)].get();
    REQUIRE(r);
    CHECK(r->http_version == "2");
    CHECK(nlohmann::json::parse(r->body)["metadata"]["name"] == "s" + std::to_string(i));
  }
  REQUIRE(client->get({"", "v1", "services", "dev", "s0", ""}));

  // nghttpd -v tags every frame with its connection id: all requests came on one connection.
  const std::string text = meshctl::testing::read_file(log);
  const std::regex headers(R"(\[id=(\d+)\][^\n]*recv HEADERS frame)");
  std::set<std::string> connections;
  int requests = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), headers);
       it != std::sregex_iterator(); ++it) {
    connections.insert((*it)[1].str());
    ++requests;
  }
  CHECK(requests == 7);
  CHECK(connections.size() == 1);
}

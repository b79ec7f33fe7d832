// The client against kubesim (tests/kubesim), a small but real API server: discovery with CRDs,
// apply/get/list/delete semantics, paging, fault injection with retries, and exec.
// kubesim is found at $MESHCTL_KUBESIM or where the build put (or was told of) it; where it is
// absent the tests skip.

#include "kube/client.hpp"
#include "kube_test_support.hpp"

#include <cstdlib>
#include <optional>
#include <set>

using namespace meshctl;
using namespace meshctl::kube;
using namespace meshctl::testing::kube;
using nlohmann::json;

namespace {

std::optional<std::filesystem::path> kubesim_binary() {
  std::vector<std::filesystem::path> candidates;
  if (const char* env = std::getenv("MESHCTL_KUBESIM"); env != nullptr && *env != '\0') {
    candidates.emplace_back(env);
  }
  candidates.emplace_back(MESHCTL_KUBESIM_BIN); // this tree's, or the one it was configured with
  for (const auto& c : candidates) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(c, ec) && ::access(c.c_str(), X_OK) == 0) {
      return c;
    }
  }
  return std::nullopt;
}

/// One kubesim on a free port, admin token credentials.
class Kubesim {
public:
  Kubesim(const std::filesystem::path& binary, const std::string& name)
      : m_process({binary.string(), "--name", name, "--port", "0", "--state-dir",
                   m_dir.path().string(), "--token-delay-ms", "10"}) {
    const auto port_file = m_dir.path() / "port";
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!std::filesystem::exists(port_file) && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!std::filesystem::exists(port_file)) {
      throw std::runtime_error("kubesim did not start");
    }
    const int port = std::stoi(meshctl::testing::read_file(port_file));
    if (!wait_for_port(port, std::chrono::seconds(10))) {
      throw std::runtime_error("kubesim does not listen");
    }
    m_context = context_for("https://127.0.0.1:" + std::to_string(port), name);
    m_context.cluster.certificate_authority_data =
        meshctl::testing::read_file(m_dir.path() / "ca.crt");
    std::string token = meshctl::testing::read_file(m_dir.path() / "admin.token");
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) {
      token.pop_back();
    }
    m_token = token;
  }

  [[nodiscard]] std::unique_ptr<Client> client(ClientOptions options = {},
                                               std::string token = {}) const {
    options.proxy_env = ProxyEnvironment{};
    config::Credentials creds;
    creds.bearer_token = token.empty() ? m_token : token;
    return Client::create(m_context, std::move(options), static_credentials(creds)).value();
  }

private:
  meshctl::testing::TempDir m_dir;
  BackgroundProcess m_process;
  config::ResolvedContext m_context;
  std::string m_token;
};

#define REQUIRE_KUBESIM(var)                                                                       \
  const auto var##_bin = kubesim_binary();                                                         \
  if (!var##_bin) {                                                                                \
    MESHCTL_SKIP("kubesim is not built (set MESHCTL_KUBESIM to its path)");                        \
  }                                                                                                \
  Kubesim var(*var##_bin, "wuxi")

json object(const std::string& api_version, const std::string& kind, const std::string& ns,
            const std::string& name) {
  json o = {{"apiVersion", api_version}, {"kind", kind}, {"metadata", {{"name", name}}}};
  if (!ns.empty()) {
    o["metadata"]["namespace"] = ns;
  }
  return o;
}

json gateway_crd() {
  return json::parse(R"({
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "gateways.networking.istio.io"},
    "spec": {"group": "networking.istio.io", "scope": "Namespaced",
      "names": {"plural": "gateways", "singular": "gateway", "kind": "Gateway", "listKind": "GatewayList", "shortNames": ["gw"]},
      "versions": [{"name": "v1", "served": true, "storage": true,
        "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}})");
}

} // namespace

TEST_CASE("kubesim: apply, get, list, delete and NotFound", "[kube][kubesim]") {
  REQUIRE_KUBESIM(sim);
  auto client = sim.client();
  REQUIRE(client->apply(object("v1", "Namespace", "", "dev")));
  json svc = object("v1", "Service", "dev", "helloworld");
  svc["metadata"]["labels"] = {{"app", "helloworld"}};
  svc["spec"] = {{"ports", {{{"name", "http"}, {"port", 5000}}}},
                 {"selector", {{"app", "helloworld"}}}};
  const auto applied = client->apply(svc);
  REQUIRE(applied);
  CHECK((*applied)["metadata"]["name"] == "helloworld");
  const auto ref = client->ref_for(svc).value();
  const auto got = client->get(ref);
  REQUIRE(got);
  CHECK((*got)["spec"]["ports"][0]["port"] == 5000);

  // Re-applying the same intent changes nothing.
  const auto again = client->apply(svc);
  REQUIRE(again);
  CHECK((*again)["metadata"]["resourceVersion"] == (*applied)["metadata"]["resourceVersion"]);

  // A dry run is validated but not stored.
  ApplyOptions dry;
  dry.dry_run = true;
  json other = svc;
  other["metadata"]["name"] = "dry";
  REQUIRE(client->apply(other, dry));
  CHECK(client->get(client->ref_for(other).value()).error().not_found());

  ListOptions by_label;
  by_label.label_selector = "app=helloworld";
  const auto list = client->list({"", "v1", "services", "dev", "", ""}, by_label);
  REQUIRE(list);
  REQUIRE((*list)["items"].size() == 1);

  REQUIRE(client->remove(ref));
  const auto gone = client->get(ref);
  REQUIRE_FALSE(gone);
  CHECK(gone.error().not_found());
}

TEST_CASE("kubesim: paging returns every object once", "[kube][kubesim]") {
  REQUIRE_KUBESIM(sim);
  auto client = sim.client();
  REQUIRE(client->apply(object("v1", "Namespace", "", "paging")));
  for (int i = 0; i < 7; ++i) {
    json cm = object("v1", "ConfigMap", "paging", "cm-" + std::to_string(i));
    cm["data"] = {{"i", std::to_string(i)}};
    REQUIRE(client->create({"", "v1", "configmaps", "paging", "", ""}, cm));
  }
  ListOptions small;
  small.limit = 3;
  int pages = 0;
  int items = 0;
  std::set<std::string> names;
  const auto done = client->list_pages(
      {"", "v1", "configmaps", "paging", "", ""}, small, [&](json& page) -> Result<void> {
        ++pages;
        for (const auto& item : page["items"]) {
          ++items;
          names.insert(item["metadata"]["name"].get<std::string>());
        }
        return {};
      });
  REQUIRE(done);
  CHECK(items == static_cast<int>(names.size())); // no object twice
  for (int i = 0; i < 7; ++i) {
    CHECK(names.contains("cm-" + std::to_string(i))); // none missing
  }
  CHECK(names.size() <= 8); // and nothing else but kube-root-ca.crt
  CHECK(pages >= 3);
  const auto dup = client->create({"", "v1", "configmaps", "paging", "", ""},
                                  object("v1", "ConfigMap", "paging", "cm-0"));
  REQUIRE_FALSE(dup);
  CHECK(dup.error().already_exists());
}

TEST_CASE("kubesim: Istio kinds appear once their CRD is installed", "[kube][kubesim]") {
  REQUIRE_KUBESIM(sim);
  auto client = sim.client();
  const auto missing = client->resource_for("networking.istio.io/v1", "Gateway");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().error.message() ==
        "Istio is not installed in wuxi (networking.istio.io Gateway unknown)");
  REQUIRE(client->apply(gateway_crd()));
  ApiResult<ResourceInfo> found = missing;
  for (int i = 0; i < 100 && !found; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    client->forget_discovery();
    found = client->resource_for("networking.istio.io/v1", "Gateway");
  }
  REQUIRE(found);
  CHECK(found->resource == "gateways");
  REQUIRE(client->apply(object("v1", "Namespace", "", "istio-system")));
  json gw = object("networking.istio.io/v1", "Gateway", "istio-system", "cross-network-gateway");
  gw["spec"] = {{"selector", {{"istio", "eastwestgateway"}}}};
  REQUIRE(client->apply(gw));
}

TEST_CASE("kubesim: requests survive 30% injected 503s and 429s", "[kube][kubesim]") {
  REQUIRE_KUBESIM(sim);
  ClientOptions options;
  options.retry.max_attempts = 10; // a request fails for good with probability 0.3^10
  options.retry.initial_backoff = std::chrono::milliseconds(5);
  options.retry.max_backoff = std::chrono::milliseconds(50);
  options.retry.max_retry_after = std::chrono::seconds(0); // kubesim asks for 1 s; do not wait
  auto client = sim.client(options);
  REQUIRE(client->apply(object("v1", "Namespace", "", "faults")));
  Request faults;
  faults.method = Method::k_post;
  faults.path = "/kubesim/faults";
  faults.content_type = "application/json";
  faults.body = json{{"errorRate", {{"503", 0.15}, {"429", 0.15}}},
                     {"pathPrefix", "/api/v1/namespaces/faults"}}
                    .dump();
  REQUIRE(client->send(faults));
  int attempts = 0;
  for (int i = 0; i < 30; ++i) {
    const std::string name = "cm-" + std::to_string(i);
    REQUIRE(client->apply(object("v1", "ConfigMap", "faults", name)));
    Request get;
    get.path = resource_path({"", "v1", "configmaps", "faults", name, ""});
    const auto r = client->send(get);
    REQUIRE(r);
    attempts += r->attempts;
  }
  CHECK(attempts > 30); // some of the GETs were retried
}

TEST_CASE("kubesim: a rejected token is Unauthorized", "[kube][kubesim]") {
  REQUIRE_KUBESIM(sim);
  auto client = sim.client({}, "not-a-valid-token-at-all");
  const auto r = client->get({"", "v1", "namespaces", "", "default", ""});
  REQUIRE_FALSE(r);
  CHECK(r.error().unauthorized());
}

TEST_CASE("kubesim: exec runs commands and reports their exit codes", "[kube][kubesim]") {
  REQUIRE_KUBESIM(sim);
  auto client = sim.client();
  REQUIRE(client->apply(object("v1", "Namespace", "", "dev")));
  json pod = object("v1", "Pod", "dev", "sleep-1");
  pod["spec"] = {{"containers", {{{"name", "sleep"}, {"image", "curlimages/curl"}}}}};
  REQUIRE(client->apply(pod));
  ExecRequest req;
  req.namespace_ = "dev";
  req.pod = "sleep-1";
  req.container = "sleep";
  req.command = {"echo", "hello", "world"};
  const auto echo = client->exec(req);
  REQUIRE(echo);
  CHECK(echo->stdout_data == "hello world\n");
  CHECK(echo->exit_code == 0);
  CHECK(echo->protocol == "v5.channel.k8s.io");

  req.command = {"sh", "-c", "echo out; echo err >&2; exit 3"};
  const auto three = client->exec(req);
  REQUIRE(three);
  CHECK(three->exit_code == 3);
  CHECK(three->stdout_data == "out\n");
  CHECK(three->stderr_data == "err\n");

  req.command = {"cat"};
  req.stdin_data = "from stdin";
  const auto cat = client->exec(req);
  REQUIRE(cat);
  CHECK(cat->stdout_data == "from stdin");

  req.stdin_data.reset();
  req.command = {"no-such-binary"};
  const auto missing = client->exec(req);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().error.hint() == "the command does not exist in the container's image");
}

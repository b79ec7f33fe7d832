// expose adds to what the east-west gateways expose and removes from it, never replacing it; a
// service named by mistake is caught before anything is written.

#include "mesh/expose.hpp"
#include "mesh/service_check.hpp"

#include <catch2/catch.hpp>

using namespace meshctl;
using namespace meshctl::mesh;
using nlohmann::json;

namespace {
const std::string k_hello = "helloworld.dev.svc.cluster.local";
const std::string k_ratings = "ratings.prod.svc.cluster.local";
} // namespace

TEST_CASE("expose: hosts are added after those exposed, once", "[mesh][expose]") {
  auto r = edit_hosts({k_hello}, {k_ratings}, {}, "wuxi");
  REQUIRE(r);
  CHECK(*r == std::vector<std::string>{k_hello, k_ratings});
  // Again: nothing changes, so nothing is written.
  r = edit_hosts(*r, {k_ratings, k_hello}, {}, "wuxi");
  REQUIRE(r);
  CHECK(*r == std::vector<std::string>{k_hello, k_ratings});
  // --all adds "*.local" and keeps the services named before.
  r = edit_hosts(*r, {"*.local"}, {}, "wuxi");
  REQUIRE(r);
  CHECK(*r == std::vector<std::string>{k_hello, k_ratings, "*.local"});
}

TEST_CASE("expose --remove: hosts are taken away — never the last one", "[mesh][expose]") {
  auto r = edit_hosts({"*.local", k_hello}, {}, {"*.local"}, "wuxi");
  REQUIRE(r);
  CHECK(*r == std::vector<std::string>{k_hello});
  // Removing what is not exposed changes nothing.
  r = edit_hosts({k_hello}, {}, {k_ratings}, "wuxi");
  REQUIRE(r);
  CHECK(*r == std::vector<std::string>{k_hello});
  auto none = edit_hosts({k_hello}, {}, {k_hello}, "wuxi");
  REQUIRE_FALSE(none);
  CHECK(none.error().code() == ExitCode::k_usage);
  CHECK(none.error().message().find("wuxi") != std::string::npos);
}

TEST_CASE("expose: the hosts of a live Gateway's 15443 server", "[mesh][expose]") {
  const json gw = json::parse(R"({"spec":{"servers":[
      {"port":{"number":80,"name":"http","protocol":"HTTP"},"hosts":["web.local"]},
      {"port":{"number":15443,"name":"tls","protocol":"TLS"},"hosts":["*.local","x.dev.svc.cluster.local"]}]}})");
  CHECK(exposed_hosts(gw) == std::vector<std::string>{"*.local", "x.dev.svc.cluster.local"});
  CHECK(exposed_hosts(json::object()).empty());
}

TEST_CASE("a service in no cluster is a usage error with did-you-mean", "[mesh][service]") {
  const ServiceName typo{"helloword", "dev"};
  std::vector<ServiceLookup> lookups = {
      {"cn-shanghai", true, false, {"helloworld.dev", "sleep.dev", "kubernetes.default"}},
      {"wuxi", true, false, {"sleep.dev", "kubernetes.default"}}};
  auto r = require_service(typo, lookups, "check the name");
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == ExitCode::k_usage);
  CHECK(r.error().message() == "Service dev/helloword exists in no cluster (cn-shanghai, wuxi) "
                               "(did you mean \"helloworld.dev\"?)");
  CHECK(r.error().hint() == "check the name");
  // Found anywhere: fine.
  lookups[1].found = true;
  CHECK(require_service(typo, lookups, ""));
  // A cluster that did not answer may have it: nothing is concluded.
  lookups[1] = {"wuxi", false, false, {}};
  CHECK(require_service(typo, lookups, ""));
}

// Which istiod revision meshctl works with in a cluster, and the names Istio gives its objects
// (istio-discovery chart): found by labels, never by the name `istiod`.

#include "mesh/istiod.hpp"
#include "mesh/join.hpp"
#include "support/testing.hpp"

#include <catch2/catch.hpp>

using namespace meshctl::mesh;
using nlohmann::json;

namespace {

// An istiod Deployment as the chart labels it (no istio.io/rev on very old installs).
json deployment(const std::string& name, const std::string& rev) {
  json d = {{"metadata", {{"name", name}, {"namespace", "istio-system"}}}};
  d["metadata"]["labels"]["app"] = "istiod";
  if (!rev.empty()) {
    d["metadata"]["labels"]["istio.io/rev"] = rev;
  }
  return d;
}

} // namespace

TEST_CASE("istiod revision: names of a revision's objects", "[mesh][istiod]") {
  const IstiodRevision def{"default", "istiod"};
  CHECK(def.suffix().empty());
  CHECK(def.mesh_configmap() == "istio");
  CHECK(def.injector_configmap() == "istio-sidecar-injector");
  const IstiodRevision canary{"1-24", "istiod-1-24"};
  CHECK(canary.suffix() == "-1-24");
  CHECK(canary.mesh_configmap() == "istio-1-24");
  CHECK(canary.injector_configmap() == "istio-sidecar-injector-1-24");
  CHECK(canary.pod_selector() == "app=istiod,istio.io/rev=1-24");
  CHECK(revision_of(deployment("istiod", "")) == "default");
  CHECK(revision_of(deployment("istiod-1-24", "1-24")) == "1-24");
}

TEST_CASE("istiod revision: one installed revision is detected", "[mesh][istiod]") {
  SECTION("the default revision") {
    auto r = pick_revision({deployment("istiod", "default")}, std::nullopt, "wuxi");
    REQUIRE(r);
    CHECK(r->revision == "default");
    CHECK(r->deployment == "istiod");
  }
  SECTION("a revision-only install") {
    auto r = pick_revision({deployment("istiod-1-24", "1-24")}, std::nullopt, "wuxi");
    REQUIRE(r);
    CHECK(r->revision == "1-24");
    CHECK(r->deployment == "istiod-1-24");
    CHECK(r->mesh_configmap() == "istio-1-24");
  }
}

TEST_CASE("istiod revision: several revisions need istio.revision", "[mesh][istiod]") {
  const std::vector<json> canary = {deployment("istiod-1-23", "1-23"),
                                    deployment("istiod-1-24", "1-24")};
  auto r = pick_revision(canary, std::nullopt, "cn-shanghai");
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().what(), Catch::Matchers::Contains("several istiod revisions (1-23, 1-24)"));
  CHECK_THAT(r.error().what(), Catch::Matchers::Contains("cn-shanghai"));
  CHECK_THAT(r.error().hint(), Catch::Matchers::Contains("istio.revision"));
  CHECK_THAT(r.error().hint(), Catch::Matchers::Contains("clusters[].istio.revision"));
}

TEST_CASE("istiod revision: the configured revision is picked among several", "[mesh][istiod]") {
  const std::vector<json> canary = {deployment("istiod", "default"),
                                    deployment("istiod-1-24", "1-24")};
  auto r = pick_revision(canary, std::string("1-24"), "wuxi");
  REQUIRE(r);
  CHECK(r->deployment == "istiod-1-24");
  auto d = pick_revision(canary, std::string("default"), "wuxi");
  REQUIRE(d);
  CHECK(d->deployment == "istiod");
  CHECK(d->injector_configmap() == "istio-sidecar-injector");
}

TEST_CASE("istiod revision: a configured revision that is not installed", "[mesh][istiod]") {
  auto r = pick_revision({deployment("istiod", "default")}, std::string("1-24"), "wuxi");
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().what(),
             Catch::Matchers::Contains("istiod revision \"1-24\" (istio.revision in meshctl.yaml) "
                                       "is not installed in wuxi: it runs revision default"));
  CHECK_THAT(r.error().hint(), Catch::Matchers::Contains("istio.revision"));
}

TEST_CASE("istiod revision: none installed says Istio must be installed", "[mesh][istiod]") {
  auto r = pick_revision({}, std::nullopt, "wuxi");
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().what(), Catch::Matchers::Contains("istiod is not installed in wuxi"));
}

namespace {

std::string pem(const std::string& name) {
  return meshctl::testing::read_file(meshctl::testing::source_dir() / "tests/data/check" / name);
}

} // namespace

TEST_CASE("served root: istiod serving cacerts' root is current, any other root stale",
          "[mesh][istiod]") {
  const auto a = pem("root-a.pem");
  const auto b = pem("root-b.pem");
  CHECK_FALSE(compare_served_root(a, a).stale);
  const auto other = compare_served_root(a, b);
  CHECK(other.stale);
  REQUIRE(other.served);
  CHECK(other.describe_served().rfind("root \"", 0) == 0);
  CHECK(other.describe_served().find("SHA-256 ") != std::string::npos);
  const auto garbage = compare_served_root(a, "not a certificate");
  CHECK(garbage.stale);
  CHECK(garbage.describe_served() == "an unreadable certificate");
  // A cacerts root not created yet (a dry run's placeholder) is never what istiod serves.
  CHECK(compare_served_root("<root, created at apply time>", a).stale);
}

TEST_CASE("join restarts istiod by default exactly when it serves another root than cacerts",
          "[mesh][istiod][join]") {
  const auto a = pem("root-a.pem");
  const auto b = pem("root-b.pem");
  const auto stale = decide_istiod_restart(RestartIstiod::k_when_stale, a, b);
  CHECK(stale.restart);
  CHECK(stale.needed);
  CHECK(stale.why.find("cacerts holds SHA-256") != std::string::npos);
  CHECK(stale.why.find("reads cacerts only at start") != std::string::npos);

  const auto current = decide_istiod_restart(RestartIstiod::k_when_stale, a, a);
  CHECK_FALSE(current.restart);
  CHECK_FALSE(current.needed);

  // --no-restart-istiod: never, but the need is known (join says what to run).
  const auto never = decide_istiod_restart(RestartIstiod::k_never, a, b);
  CHECK_FALSE(never.restart);
  CHECK(never.needed);

  // --restart-istiod: always, even when nothing is stale.
  CHECK(decide_istiod_restart(RestartIstiod::k_always, a, a).restart);
  CHECK(decide_istiod_restart(RestartIstiod::k_always, a, std::nullopt).restart);

  // Nothing published: nothing tells what istiod loaded, so no restart by default.
  const auto unknown = decide_istiod_restart(RestartIstiod::k_when_stale, a, std::nullopt);
  CHECK_FALSE(unknown.restart);
  CHECK(unknown.why.find("istio-ca-root-cert is missing") != std::string::npos);

  // A rewritten cacerts (a new intermediate under the same root) needs a restart too.
  const auto rewritten = decide_istiod_restart(RestartIstiod::k_when_stale, a, a, true);
  CHECK(rewritten.restart);
  CHECK(rewritten.why.find("rewrote cacerts") != std::string::npos);
  CHECK_FALSE(decide_istiod_restart(RestartIstiod::k_never, a, a, true).restart);
}

TEST_CASE("istiod version: the tag of the discovery container's image", "[mesh][istiod]") {
  CHECK(image_tag("registry.local:5000/istio/pilot:1.24.2-distroless") == "1.24.2-distroless");
  CHECK(image_tag("registry.local:5000/istio/pilot") == "");
  CHECK(image_tag("docker.io/istio/pilot:1.24.2@sha256:abc") == "1.24.2");
  json d = deployment("istiod-1-25", "1-25");
  d["spec"]["template"]["spec"]["containers"] =
      json::array({{{"name", "sidecar"}, {"image", "busybox:1.36"}},
                   {{"name", "discovery"}, {"image", "docker.io/istio/pilot:1.25.0"}}});
  CHECK(istiod_version(d) == "1.25.0");
  CHECK(istiod_version(deployment("istiod", "")).empty()); // no containers: unknown
}

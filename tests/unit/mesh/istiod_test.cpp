// Which istiod revision meshctl works with in a cluster, and the names Istio gives its objects
// (istio-discovery chart): found by labels, never by the name `istiod`.

#include "mesh/istiod.hpp"

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

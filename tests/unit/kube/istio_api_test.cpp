#include "kube/istio_api.hpp"
#include "support/testing.hpp"

#include <map>

using namespace meshctl;
using namespace meshctl::kube;

namespace {

// A discovery answer in which networking.istio.io serves each kind at the versions given
// (versions in kube's priority order, as kube-apiserver lists a CRD group's versions).
ResourceMap istio_serving(const std::map<std::string, std::vector<std::string>>& kinds) {
  const std::vector<std::string> order = {"v1", "v1beta1", "v1alpha3"};
  std::map<std::string, ResourceMap::GroupVersionResult> by_gv;
  GroupVersions group{"networking.istio.io", {}, ""};
  for (const auto& v : order) {
    std::vector<ResourceInfo> resources;
    for (const auto& [kind, versions] : kinds) {
      if (std::find(versions.begin(), versions.end(), v) == versions.end()) {
        continue;
      }
      std::string plural = kind == "Gateway" ? "gateways" : "destinationrules";
      resources.push_back(ResourceInfo{"networking.istio.io",
                                       v,
                                       plural,
                                       kind,
                                       true,
                                       {"get", "list", "create", "patch", "delete"}});
    }
    if (!resources.empty()) {
      group.versions.push_back(v);
      by_gv["networking.istio.io/" + v].resources = std::move(resources);
    }
  }
  std::vector<GroupVersions> groups{{"", {"v1"}, "v1"}};
  if (!group.versions.empty()) {
    group.preferred = group.versions.front();
    groups.push_back(group);
  }
  return ResourceMap(groups, by_gv);
}

} // namespace

TEST_CASE("the Istio API is v1 where v1 is served", "[kube][istio-api]") {
  const auto api =
      choose_istio_api(istio_serving({{"Gateway", {"v1", "v1beta1", "v1alpha3"}},
                                      {"DestinationRule", {"v1", "v1beta1", "v1alpha3"}}}),
                       "cn-shanghai");
  REQUIRE(api);
  CHECK(api->version == "v1");
  CHECK(api->api_version() == "networking.istio.io/v1");
  CHECK(*api == IstioApi{});
  const auto ref = api->ref("gateways", "istio-system", "cross-network-gateway");
  CHECK(resource_path(ref) ==
        "/apis/networking.istio.io/v1/namespaces/istio-system/gateways/cross-network-gateway");
}

TEST_CASE("the Istio API is v1beta1 where Istio 1.18-1.21 serves only v1beta1 and v1alpha3",
          "[kube][istio-api]") {
  const auto api = choose_istio_api(istio_serving({{"Gateway", {"v1beta1", "v1alpha3"}},
                                                   {"DestinationRule", {"v1beta1", "v1alpha3"}}}),
                                    "wuxi");
  REQUIRE(api);
  CHECK(api->api_version() == "networking.istio.io/v1beta1");
  // One version for both kinds: a Gateway at v1 does not help a DestinationRule without it.
  const auto mixed = choose_istio_api(
      istio_serving({{"Gateway", {"v1", "v1beta1"}}, {"DestinationRule", {"v1beta1"}}}), "wuxi");
  REQUIRE(mixed);
  CHECK(mixed->version == "v1beta1");
}

TEST_CASE("a cluster without a usable Istio API fails with what it serves", "[kube][istio-api]") {
  SECTION("only v1alpha3") {
    const auto api = choose_istio_api(
        istio_serving({{"Gateway", {"v1alpha3"}}, {"DestinationRule", {"v1alpha3"}}}), "wuxi");
    REQUIRE_FALSE(api);
    const std::string msg = api.error().what();
    INFO(msg);
    CHECK(msg.find("wuxi") != std::string::npos);
    CHECK(msg.find("Gateway at v1alpha3") != std::string::npos);
    CHECK(msg.find("DestinationRule at v1alpha3") != std::string::npos);
    CHECK(msg.find("v1 or v1beta1") != std::string::npos);
    CHECK(api.error().hint().find("upgrade Istio in wuxi") != std::string::npos);
  }
  SECTION("no Istio at all") {
    const auto api = choose_istio_api(istio_serving({}), "wuxi");
    REQUIRE_FALSE(api);
    CHECK(api.error().message() ==
          "Istio is not installed in wuxi (networking.istio.io Gateway unknown)");
  }
  SECTION("DestinationRule's CRD missing") {
    const auto api = choose_istio_api(istio_serving({{"Gateway", {"v1", "v1beta1"}}}), "wuxi");
    REQUIRE_FALSE(api);
    CHECK(api.error().message() ==
          "Istio is not installed in wuxi (networking.istio.io DestinationRule unknown)");
  }
}

TEST_CASE("a networking.istio.io version whose discovery failed is no reason to pick another",
          "[kube][istio]") {
  // v1's resource list could not be read (503 after retries); v1beta1's could.
  std::map<std::string, ResourceMap::GroupVersionResult> by_gv;
  by_gv["networking.istio.io/v1"].error = "GET /apis/networking.istio.io/v1: HTTP 503";
  by_gv["networking.istio.io/v1beta1"].resources = {
      ResourceInfo{"networking.istio.io", "v1beta1", "gateways", "Gateway", true, {"get"}},
      ResourceInfo{
          "networking.istio.io", "v1beta1", "destinationrules", "DestinationRule", true, {"get"}}};
  const std::vector<GroupVersions> groups{{"", {"v1"}, "v1"},
                                          {"networking.istio.io", {"v1", "v1beta1"}, "v1"}};
  const auto api = choose_istio_api(ResourceMap(groups, by_gv), "wuxi");
  REQUIRE_FALSE(api);
  CHECK(api.error().message() ==
        "wuxi: could not read the API discovery of networking.istio.io/v1: GET "
        "/apis/networking.istio.io/v1: HTTP 503");
}

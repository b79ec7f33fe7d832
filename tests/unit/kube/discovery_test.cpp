#include "kube/discovery.hpp"
#include "support/testing.hpp"

using namespace meshctl;
using namespace meshctl::kube;
using nlohmann::json;

namespace {

// Shaped like kube-apiserver 1.29 answers (trimmed to a few resources each).
const char* const k_api =
    R"({"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"172.18.0.2:6443"}]})";

const char* const k_core_v1 = R"({"kind":"APIResourceList","groupVersion":"v1","resources":[
 {"name":"namespaces","singularName":"namespace","namespaced":false,"kind":"Namespace","verbs":["create","delete","get","list","patch","update","watch"],"shortNames":["ns"],"storageVersionHash":"Q3oi5N2YM8M="},
 {"name":"namespaces/status","singularName":"","namespaced":false,"kind":"Namespace","verbs":["get","patch","update"]},
 {"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["po"],"categories":["all"],"storageVersionHash":"xPOwRZ+Yhw8="},
 {"name":"pods/exec","singularName":"","namespaced":true,"kind":"PodExecOptions","verbs":["create","get"]},
 {"name":"pods/proxy","singularName":"","namespaced":true,"kind":"PodProxyOptions","verbs":["create","delete","get","patch","update"]},
 {"name":"secrets","singularName":"secret","namespaced":true,"kind":"Secret","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"storageVersionHash":"S6u1pOWzb84="},
 {"name":"services","singularName":"service","namespaced":true,"kind":"Service","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["svc"],"categories":["all"],"storageVersionHash":"0/CO1lhkEBI="}]})";

const char* const k_apis = R"({"kind":"APIGroupList","apiVersion":"v1","groups":[
 {"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}],"preferredVersion":{"groupVersion":"apps/v1","version":"v1"}},
 {"name":"networking.istio.io","versions":[{"groupVersion":"networking.istio.io/v1","version":"v1"},{"groupVersion":"networking.istio.io/v1beta1","version":"v1beta1"},{"groupVersion":"networking.istio.io/v1alpha3","version":"v1alpha3"}],"preferredVersion":{"groupVersion":"networking.istio.io/v1","version":"v1"}},
 {"name":"gateway.networking.k8s.io","versions":[{"groupVersion":"gateway.networking.k8s.io/v1","version":"v1"}],"preferredVersion":{"groupVersion":"gateway.networking.k8s.io/v1","version":"v1"}},
 {"name":"metrics.k8s.io","versions":[{"groupVersion":"metrics.k8s.io/v1beta1","version":"v1beta1"}],"preferredVersion":{"groupVersion":"metrics.k8s.io/v1beta1","version":"v1beta1"}}]})";

const char* const k_apps_v1 =
    R"({"kind":"APIResourceList","apiVersion":"v1","groupVersion":"apps/v1","resources":[
 {"name":"deployments","singularName":"deployment","namespaced":true,"kind":"Deployment","verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["deploy"],"categories":["all"],"storageVersionHash":"8aSe+NMegvE="},
 {"name":"deployments/scale","singularName":"","namespaced":true,"group":"autoscaling","version":"v1","kind":"Scale","verbs":["get","patch","update"]},
 {"name":"deployments/status","singularName":"","namespaced":true,"kind":"Deployment","verbs":["get","patch","update"]}]})";

std::string istio_list(const std::string& version, bool with_gateway) {
  json resources = json::array();
  resources.push_back(
      {{"name", "destinationrules"},
       {"singularName", "destinationrule"},
       {"namespaced", true},
       {"kind", "DestinationRule"},
       {"verbs",
        {"delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"}},
       {"shortNames", {"dr"}},
       {"categories", {"istio-io", "networking-istio-io"}}});
  if (with_gateway) {
    resources.push_back({{"name", "gateways"},
                         {"singularName", "gateway"},
                         {"namespaced", true},
                         {"kind", "Gateway"},
                         {"verbs", {"delete", "get", "list", "patch", "create", "update", "watch"}},
                         {"shortNames", {"gw"}}});
  }
  return json{{"kind", "APIResourceList"},
              {"apiVersion", "v1"},
              {"groupVersion", "networking.istio.io/" + version},
              {"resources", resources}}
      .dump();
}

const char* const k_gateway_api_v1 =
    R"({"kind":"APIResourceList","apiVersion":"v1","groupVersion":"gateway.networking.k8s.io/v1","resources":[
 {"name":"gateways","singularName":"gateway","namespaced":true,"kind":"Gateway","verbs":["delete","deletecollection","get","list","patch","create","update","watch"],"shortNames":["gtw"],"categories":["gateway-api"]}]})";

ResourceMap build(bool v1_gateway) {
  auto core = parse_core_versions(json::parse(k_api)).value();
  auto groups = parse_group_list(json::parse(k_apis)).value();
  groups.insert(groups.begin(), core);
  std::map<std::string, ResourceMap::GroupVersionResult> by_gv;
  by_gv["v1"].resources = parse_resource_list(json::parse(k_core_v1)).value();
  by_gv["apps/v1"].resources = parse_resource_list(json::parse(k_apps_v1)).value();
  by_gv["networking.istio.io/v1"].resources =
      parse_resource_list(json::parse(istio_list("v1", v1_gateway))).value();
  by_gv["networking.istio.io/v1beta1"].resources =
      parse_resource_list(json::parse(istio_list("v1beta1", true))).value();
  by_gv["networking.istio.io/v1alpha3"].resources =
      parse_resource_list(json::parse(istio_list("v1alpha3", true))).value();
  by_gv["gateway.networking.k8s.io/v1"].resources =
      parse_resource_list(json::parse(k_gateway_api_v1)).value();
  by_gv["metrics.k8s.io/v1beta1"].error = "the server is currently unable to handle the request";
  return ResourceMap(groups, by_gv);
}

} // namespace

TEST_CASE("discovery documents parse and subresources are left out", "[kube]") {
  const auto core = parse_core_versions(json::parse(k_api)).value();
  CHECK(core.group.empty());
  CHECK(core.preferred == "v1");
  const auto groups = parse_group_list(json::parse(k_apis)).value();
  REQUIRE(groups.size() == 4);
  CHECK(groups[1].group == "networking.istio.io");
  CHECK(groups[1].versions == std::vector<std::string>{"v1", "v1beta1", "v1alpha3"});
  CHECK(groups[1].preferred == "v1");

  const auto core_resources = parse_resource_list(json::parse(k_core_v1)).value();
  std::vector<std::string> names;
  for (const auto& r : core_resources) {
    names.push_back(r.resource);
  }
  CHECK(names == std::vector<std::string>{"namespaces", "pods", "secrets", "services"});
  CHECK_FALSE(core_resources[0].namespaced);
  CHECK(core_resources[1].namespaced);
  CHECK(core_resources[1].group.empty());
  CHECK(core_resources[1].version == "v1");
  CHECK(core_resources[1].supports("deletecollection"));
  CHECK_FALSE(core_resources[0].supports("deletecollection"));

  const auto apps = parse_resource_list(json::parse(k_apps_v1)).value();
  REQUIRE(apps.size() == 1);
  CHECK(apps[0].group == "apps");
  CHECK(apps[0].api_version() == "apps/v1");
  CHECK(apps[0].ref("istio-system", "istiod").namespace_ == "istio-system");
}

TEST_CASE("discovery rejects documents that are not discovery documents", "[kube]") {
  CHECK_FALSE(parse_core_versions(json::parse(R"({"paths":["/api"]})")));
  CHECK_FALSE(parse_group_list(json::parse(R"([1,2])")));
  CHECK_FALSE(parse_resource_list(json::parse(R"({"resources":[]})")));
  CHECK(parse_group_list(json::parse(R"({"kind":"APIGroupList","groups":null})"))->empty());
  CHECK(parse_resource_list(json::parse(R"({"groupVersion":"example.com/v1","resources":null})"))
            ->empty());
}

TEST_CASE("kinds resolve to the preferred version and keep groups apart", "[kube]") {
  const auto map = build(true);
  const auto svc = map.find("v1", "Service").value();
  CHECK(svc.resource == "services");
  CHECK(svc.namespaced);
  CHECK(map.find("apps/v1", "Deployment")->resource == "deployments");
  // Two kinds called Gateway: the group decides.
  const auto istio = map.find("networking.istio.io", "", "Gateway").value();
  CHECK(istio.version == "v1");
  CHECK(istio.resource == "gateways");
  CHECK(map.find("gateway.networking.k8s.io/v1", "Gateway")->group == "gateway.networking.k8s.io");
  // An explicit older version is served as asked.
  CHECK(map.find("networking.istio.io/v1alpha3", "Gateway")->version == "v1alpha3");
  CHECK(map.versions_of("networking.istio.io", "Gateway") ==
        std::vector<std::string>{"v1", "v1beta1", "v1alpha3"});
  CHECK(map.find_resource("networking.istio.io", "destinationrules")->kind == "DestinationRule");
  CHECK(map.find_resource("", "pods")->kind == "Pod");
  CHECK_FALSE(map.find_resource("", "gateways"));
}

TEST_CASE("a kind only served in other versions falls back to them when no version is asked",
          "[kube]") {
  const auto map = build(false); // networking.istio.io/v1 without Gateway (Istio before 1.22)
  CHECK(map.find("networking.istio.io", "", "Gateway")->version == "v1beta1");
  const auto missing = map.find("networking.istio.io/v1", "Gateway");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message() ==
        "networking.istio.io/v1 Gateway is not served (served versions: v1beta1, v1alpha3)");
}

TEST_CASE("lookups of kinds that are not served say why", "[kube]") {
  const auto map = build(true);
  const auto unknown = map.find("v1", "Sevrice");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message() == "kind Sevrice is not served in API group core");
  const auto no_group = map.find("security.istio.io/v1", "PeerAuthentication");
  REQUIRE_FALSE(no_group);
  CHECK(no_group.error().message() ==
        "API group security.istio.io is not served (kind PeerAuthentication unknown)");
  const auto failed = map.find("metrics.k8s.io/v1beta1", "PodMetrics");
  REQUIRE_FALSE(failed);
  CHECK(failed.error().message().find("discovery of metrics.k8s.io/v1beta1 failed") !=
        std::string::npos);
  CHECK(map.failures().size() == 1);
}

TEST_CASE("missing Istio kinds say Istio is not installed in the cluster", "[kube]") {
  const auto map = build(true);
  const auto pa = require_kind(map, "wuxi", "security.istio.io/v1", "PeerAuthentication");
  REQUIRE_FALSE(pa);
  CHECK(pa.error().message() ==
        "Istio is not installed in wuxi (security.istio.io PeerAuthentication unknown)");
  CHECK(pa.error().hint().find("install Istio") != std::string::npos);

  // No Istio CRDs at all.
  auto core = parse_core_versions(json::parse(k_api)).value();
  std::map<std::string, ResourceMap::GroupVersionResult> by_gv;
  by_gv["v1"].resources = parse_resource_list(json::parse(k_core_v1)).value();
  const ResourceMap bare({core}, by_gv);
  const auto gw = require_kind(bare, "wuxi", "networking.istio.io/v1", "Gateway");
  REQUIRE_FALSE(gw);
  CHECK(gw.error().message() ==
        "Istio is not installed in wuxi (networking.istio.io Gateway unknown)");

  // Istio too old for the asked version.
  const auto old = require_kind(build(false), "cn-shanghai", "networking.istio.io/v1", "Gateway");
  REQUIRE_FALSE(old);
  CHECK(old.error().message() == "Istio in cn-shanghai does not serve networking.istio.io/v1 "
                                 "Gateway (served versions: v1beta1, v1alpha3)");

  // Not Istio: the cluster's name is context, the message is discovery's own.
  const auto other = require_kind(map, "wuxi", "example.com/v1", "Widget");
  REQUIRE_FALSE(other);
  CHECK(other.error().what() == "wuxi: API group example.com is not served (kind Widget unknown)");
  CHECK(require_kind(map, "wuxi", "networking.istio.io/v1", "Gateway")->resource == "gateways");
  CHECK(is_istio_group("networking.istio.io"));
  CHECK(is_istio_group("security.istio.io"));
  CHECK_FALSE(is_istio_group("gateway.networking.k8s.io"));
  CHECK_FALSE(is_istio_group("notistio.io"));
}

// Which east-west gateway join uses: none installed (its own), one installed (that one), several
// (an error that lists them and names the config key), one named in meshctl.yaml (that one, or an
// error with a hint when it is missing, exposes no 15443 or has another network).

#include "mesh/gateway_choice.hpp"
#include "mesh/join.hpp"
#include "render/manifests.hpp"
#include "support/testing.hpp"

#include <catch2/catch.hpp>

using namespace meshctl;
using namespace meshctl::mesh;
using nlohmann::json;

namespace {

config::ClusterConfig cluster(const std::string& name) {
  config::ClusterConfig c;
  c.name = name;
  c.context = name;
  c.network = name;
  return c;
}

// A gateway Service as Istio's installers make it: ports 15021/15443/15012/15017, the network label
// on the Service, and the installer's own labels in its selector.
json gateway_service(const std::string& ns, const std::string& name, const std::string& network,
                     bool managed = false, std::vector<int> ports = {15021, 15443, 15012, 15017}) {
  json svc = {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata",
       {{"name", name},
        {"namespace", ns},
        {"labels",
         {{"app", name}, {"istio", "eastwestgateway"}, {"topology.istio.io/network", network}}}}},
      {"spec",
       {{"type", "LoadBalancer"},
        {"selector",
         {{"app", name}, {"istio", "eastwestgateway"}, {"topology.istio.io/network", network}}},
        {"ports", json::array()}}}};
  for (int p : ports) {
    svc["spec"]["ports"].push_back({{"port", p}, {"targetPort", p}});
  }
  if (managed) {
    svc["metadata"]["labels"]["app.kubernetes.io/managed-by"] = "meshctl";
  }
  return svc;
}

} // namespace

TEST_CASE("no installed gateway: join installs its own in istio-system", "[mesh][gateway]") {
  const auto c = cluster("wuxi");
  // Another network's gateway and a Service without 15443 are no candidates.
  auto g = choose_gateway(c,
                          {gateway_service("istio-system", "other", "cn-shanghai"),
                           gateway_service("istio-gateways", "ingress", "wuxi", false, {80, 443})},
                          json());
  REQUIRE(g);
  CHECK_FALSE(g->existing);
  CHECK(g->service() == "istio-system/istio-eastwestgateway");
  CHECK(g->expose.namespace_ == "istio-system");
  CHECK(g->expose.selector == std::map<std::string, std::string>{{"istio", "eastwestgateway"}});
}

TEST_CASE("meshctl's own gateway already there: join keeps it", "[mesh][gateway]") {
  auto g = choose_gateway(cluster("wuxi"),
                          {gateway_service("istio-system", "istio-eastwestgateway", "wuxi", true)},
                          json());
  REQUIRE(g);
  CHECK_FALSE(g->existing);
}

TEST_CASE("one installed gateway: join uses it and selects its pods beside them",
          "[mesh][gateway]") {
  auto g =
      choose_gateway(cluster("wuxi"),
                     {gateway_service("istio-gateways", "istio-eastwestgateway", "wuxi")}, json());
  REQUIRE(g);
  CHECK(g->existing);
  CHECK(g->service() == "istio-gateways/istio-eastwestgateway");
  CHECK(g->expose.namespace_ == "istio-gateways");
  CHECK(g->expose.selector ==
        std::map<std::string, std::string>{{"app", "istio-eastwestgateway"},
                                           {"istio", "eastwestgateway"},
                                           {"topology.istio.io/network", "wuxi"}});

  // join then renders no gateway workload, and cross-network-gateway beside the pods.
  auto base = render_join_base(cluster("wuxi"), kube::IstioApi{}, {"a", "b", "c", "d"}, *g);
  REQUIRE(base);
  for (const auto& o : base->objects) {
    CHECK(o.object.name() != "istio-eastwestgateway");
    CHECK(o.object.kind() != "Deployment");
    CHECK(o.object.kind() != "Service");
    if (o.object.kind() == "Gateway") {
      CHECK(o.object.namespace_() == "istio-gateways");
      CHECK(o.object.node["spec"]["selector"]["app"].as<std::string>() == "istio-eastwestgateway");
      CHECK(o.object.node["spec"]["selector"]["topology.istio.io/network"].as<std::string>() ==
            "wuxi");
    }
  }
}

TEST_CASE("several installed gateways: an error lists them and names the config key",
          "[mesh][gateway]") {
  auto g = choose_gateway(cluster("wuxi"),
                          {gateway_service("istio-system", "istio-eastwestgateway", "wuxi"),
                           gateway_service("ingress-cluster", "cluster-wuxi", "wuxi")},
                          json());
  REQUIRE_FALSE(g);
  CHECK_THAT(
      g.error().message(),
      Catch::Contains("2 east-west gateways for network wuxi") &&
          Catch::Contains("ingress-cluster/cluster-wuxi, istio-system/istio-eastwestgateway"));
  CHECK_THAT(g.error().hint(), Catch::Contains("clusters[].gateway.existing for wuxi") &&
                                   Catch::Contains("namespace: ingress-cluster"));
}

TEST_CASE("a configured gateway is used, even among several", "[mesh][gateway]") {
  auto c = cluster("wuxi");
  c.gateway.existing = config::ExistingGateway{"cluster-wuxi", "ingress-cluster"};
  const auto chosen = gateway_service("ingress-cluster", "cluster-wuxi", "wuxi");
  auto g = choose_gateway(
      c, {gateway_service("istio-system", "istio-eastwestgateway", "wuxi"), chosen}, chosen);
  REQUIRE(g);
  CHECK(g->existing);
  CHECK(g->service() == "ingress-cluster/cluster-wuxi");
  CHECK(g->expose.namespace_ == "ingress-cluster");
}

TEST_CASE("a configured gateway that is missing, lacks 15443 or has another network is an error",
          "[mesh][gateway]") {
  auto c = cluster("wuxi");
  c.gateway.existing = config::ExistingGateway{"cluster-wuxi", "ingress-cluster"};
  SECTION("missing") {
    auto g = choose_gateway(c, {}, json());
    REQUIRE_FALSE(g);
    CHECK_THAT(g.error().message(), Catch::Contains("ingress-cluster/cluster-wuxi") &&
                                        Catch::Contains("does not exist"));
    CHECK_THAT(g.error().hint(), Catch::Contains("get svc -A -l topology.istio.io/network=wuxi"));
  }
  SECTION("no 15443") {
    auto g = choose_gateway(
        c, {}, gateway_service("ingress-cluster", "cluster-wuxi", "wuxi", false, {80, 443}));
    REQUIRE_FALSE(g);
    CHECK_THAT(g.error().message(), Catch::Contains("does not expose port 15443"));
    CHECK_FALSE(g.error().hint().empty());
  }
  SECTION("another network") {
    auto g =
        choose_gateway(c, {}, gateway_service("ingress-cluster", "cluster-wuxi", "cn-shanghai"));
    REQUIRE_FALSE(g);
    CHECK_THAT(g.error().message(), Catch::Contains("topology.istio.io/network=cn-shanghai"));
    CHECK_THAT(g.error().hint(), Catch::Contains("label service cluster-wuxi "
                                                 "topology.istio.io/network=wuxi --overwrite"));
  }
  SECTION("no selector") {
    auto svc = gateway_service("ingress-cluster", "cluster-wuxi", "wuxi");
    svc["spec"].erase("selector");
    auto g = choose_gateway(c, {}, svc);
    REQUIRE_FALSE(g);
    CHECK_THAT(g.error().message(), Catch::Contains("has no selector"));
  }
}

TEST_CASE("offline, a configured gateway gets a selector placeholder that apply refuses",
          "[mesh][gateway]") {
  auto c = cluster("wuxi");
  c.gateway.existing = config::ExistingGateway{"istio-eastwestgateway", "istio-gateways"};
  const auto g = offline_gateway(c);
  CHECK(g.existing);
  auto objects = render::render_expose_gateway({}, "networking.istio.io/v1", g.expose);
  REQUIRE(objects);
  REQUIRE(objects->size() == 1);
  CHECK(objects->front().namespace_() == "istio-gateways");
  CHECK(render::contains_placeholder(objects->front()));
  CHECK_FALSE(offline_gateway(cluster("wuxi")).existing);
}

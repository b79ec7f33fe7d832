// kubesim's cloud load balancers (--load-balancer): what a cloud's service controller writes into
// status.loadBalancer, and the names the istiod model resolves. Driven in process through Api.

#include "api.hpp"
#include "load_balancer.hpp"

#include <catch2/catch.hpp>

namespace {

using json = nlohmann::json;

struct Cloud {
  explicit Cloud(const std::string& mode)
      : api{[&] {
              kubesim::ApiOptions o;
              o.cluster_name = "wuxi";
              o.load_balancer = mode;
              return o;
            }(),
            [](std::chrono::milliseconds, const std::function<void()>&) {}} {}

  kubesim::Api api;

  json call(const std::string& method, const std::string& target, const json& body = nullptr,
            const std::string& content_type = "application/json") {
    kubesim::HttpRequest r;
    r.method = method;
    r.target = target;
    r.headers["authorization"] = "Bearer " + api.admin_token();
    r.headers["content-type"] = content_type;
    if (!body.is_null()) {
      r.body = body.dump();
    }
    kubesim::RequestInfo info;
    auto resp = api.handle(r, info);
    return json::parse(resp.body);
  }

  json service(const std::string& type) {
    return call("POST", "/api/v1/namespaces/default/services",
                {{"apiVersion", "v1"},
                 {"kind", "Service"},
                 {"metadata", {{"name", "istio-eastwestgateway"}, {"namespace", "default"}}},
                 {"spec", {{"type", type}, {"ports", {{{"name", "tls"}, {"port", 15443}}}}}}});
  }

  json ingress() {
    return call("GET", "/api/v1/namespaces/default/services/istio-eastwestgateway")["status"]
        .value("loadBalancer", json::object())
        .value("ingress", json::array());
  }
};

} // namespace

TEST_CASE("kubesim --load-balancer: names and addresses are fixed functions", "[kubesim][lb]") {
  const std::string host = kubesim::elb_hostname("wuxi", "istio-system", "istio-eastwestgateway");
  CHECK(host.starts_with("istio-eastwestgateway-"));
  CHECK(host.ends_with(".elb.kubesim.local"));
  CHECK(host != kubesim::elb_hostname("cn-shanghai", "istio-system", "istio-eastwestgateway"));
  const auto ip = kubesim::elb_resolve(host);
  REQUIRE(ip);
  CHECK(ip->starts_with("198.1")); // 198.18.0.0/15
  CHECK(kubesim::elb_resolve(host + ".") == ip);
  CHECK(kubesim::elb_resolve(host) == ip);
  CHECK_FALSE(kubesim::elb_resolve("gw.example.com"));
  CHECK_FALSE(kubesim::elb_resolve(".elb.kubesim.local"));
  // Long names keep within a DNS label.
  const std::string long_name(60, 'a');
  CHECK(kubesim::elb_hostname("c", "ns", long_name).find('.') <= 63);
}

TEST_CASE("kubesim --load-balancer: the cloud fills and clears status.loadBalancer",
          "[kubesim][lb]") {
  SECTION("hostname: one ingress entry with a name and no IP (AWS)") {
    Cloud cloud("hostname");
    cloud.service("LoadBalancer");
    const json ing = cloud.ingress();
    REQUIRE(ing.size() == 1);
    CHECK(ing[0]["hostname"] == kubesim::elb_hostname("wuxi", "default", "istio-eastwestgateway"));
    CHECK_FALSE(ing[0].contains("ip"));
    const json svc = cloud.call("GET", "/api/v1/namespaces/default/services/istio-eastwestgateway");
    bool status_manager = false;
    for (const auto& m : svc["metadata"]["managedFields"]) {
      status_manager = status_manager || (m["manager"] == "cloud-controller-manager" &&
                                          m.value("subresource", "") == "status");
    }
    CHECK(status_manager);
    // Turning it into a ClusterIP Service (ports without nodePort, or kube refuses it) releases
    // the load balancer.
    const json patched = cloud.call(
        "PATCH", "/api/v1/namespaces/default/services/istio-eastwestgateway",
        {{"spec", {{"type", "ClusterIP"}, {"ports", {{{"name", "tls"}, {"port", 15443}}}}}}},
        "application/merge-patch+json");
    REQUIRE(patched["spec"]["type"] == "ClusterIP");
    CHECK(cloud.ingress().empty());
  }
  SECTION("ip: the address the name would resolve to, ipMode VIP") {
    Cloud cloud("ip");
    cloud.service("LoadBalancer");
    const json ing = cloud.ingress();
    REQUIRE(ing.size() == 1);
    CHECK(ing[0]["ip"] ==
          *kubesim::elb_resolve(kubesim::elb_hostname("wuxi", "default", "istio-eastwestgateway")));
    CHECK(ing[0]["ipMode"] == "VIP");
  }
  SECTION("pending (the default): no controller, the status stays empty") {
    Cloud cloud("pending");
    cloud.service("LoadBalancer");
    CHECK(cloud.ingress().empty());
  }
  SECTION("other Service types get nothing; a status already there is kept") {
    Cloud cloud("ip");
    cloud.service("NodePort");
    CHECK(cloud.ingress().empty());
    cloud.call("PUT", "/api/v1/namespaces/default/services/istio-eastwestgateway/status", [&] {
      json s = cloud.call("GET", "/api/v1/namespaces/default/services/istio-eastwestgateway");
      s["status"]["loadBalancer"]["ingress"] = {{{"ip", "203.0.113.5"}}};
      return s;
    }());
    cloud.call("PATCH", "/api/v1/namespaces/default/services/istio-eastwestgateway",
               {{"spec", {{"type", "LoadBalancer"}}}}, "application/merge-patch+json");
    const json ing = cloud.ingress();
    REQUIRE(ing.size() == 1);
    CHECK(ing[0]["ip"] == "203.0.113.5");
  }
}

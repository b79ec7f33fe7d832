#include "mesh/join_live.hpp"
#include "mesh/plan.hpp"

#include <catch2/catch.hpp>

using namespace meshctl::mesh;
using nlohmann::json;

namespace {
json service(int node_port) {
  return {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", {{"name", "istio-eastwestgateway"}, {"namespace", "istio-system"}}},
      {"spec",
       {{"type", "NodePort"},
        {"ports", json::array({{{"name", "tls"}, {"port", 15443}, {"nodePort", node_port}}})}}}};
}
} // namespace

TEST_CASE("an object the server has decorated is unchanged", "[mesh][plan]") {
  json live = service(30880);
  live["metadata"]["uid"] = "1234";
  live["metadata"]["resourceVersion"] = "77";
  live["spec"]["ports"][0]["protocol"] = "TCP";
  live["spec"]["clusterIP"] = "10.0.0.1";
  live["status"] = {{"loadBalancer", json::object()}};
  const auto c = plan_object("wuxi", service(30880), live);
  CHECK(c.action == Action::k_unchanged);
  CHECK(c.diff.empty());
}

TEST_CASE("a changed field makes an update with a one-line diff", "[mesh][plan]") {
  const auto c = plan_object("wuxi", service(31000), service(30880));
  REQUIRE(c.action == Action::k_update);
  REQUIRE(c.diff.size() == 1);
  CHECK(describe(c.diff[0]) == "spec.ports[0].nodePort: 30880 -> 31000");
}

TEST_CASE("a diff keeps long values whole and only its text form shortens them",
          "[mesh][plan][json]") {
  const std::string long_value(200, 'x');
  json desired = service(30880);
  desired["metadata"]["annotations"] = {{"note", long_value + "-end"}};
  json live = service(30880);
  live["metadata"]["annotations"] = {{"other", "y"}};
  const auto c = plan_object("wuxi", desired, live);
  REQUIRE(c.diff.size() == 1);
  CHECK(c.diff[0].desired == long_value + "-end");
  CHECK(describe(c.diff[0]) == "metadata.annotations.note: <absent> -> " + long_value + "-end");
  CHECK(describe(c.diff[0], 60) ==
        "metadata.annotations.note: <absent> -> " + long_value.substr(0, 57) + "...");
  JoinReport report;
  report.plans.push_back({"wuxi", {c}});
  const auto j = join_report_json(report, DryRun::k_client, "JoinResult");
  CHECK(j["clusters"][0]["objects"][0]["diff"][0].get<std::string>().ends_with("-end"));
}

TEST_CASE("a missing object is created — list length matters", "[mesh][plan]") {
  CHECK(plan_object("wuxi", service(1), std::nullopt).action == Action::k_create);
  json live = service(30880);
  live["spec"]["ports"].push_back({{"name", "extra"}, {"port", 1}});
  CHECK(plan_object("wuxi", service(30880), live).action == Action::k_update);
}

TEST_CASE("Secret diffs never show values", "[mesh][plan]") {
  json desired = {{"kind", "Secret"}, {"data", {{"token", "bmV3"}}}};
  json live = {{"kind", "Secret"}, {"data", {{"token", "b2xk"}}}};
  const auto c = plan_object("wuxi", desired, live);
  REQUIRE(c.action == Action::k_update);
  REQUIRE(c.diff.size() == 1);
  CHECK(describe(c.diff[0]) == "data.token: <redacted> -> <redacted>");
}

TEST_CASE("empty desired maps are satisfied by absence — summaries count", "[mesh][plan]") {
  json desired = {{"metadata", {{"annotations", json::object()}}}, {"spec", {{"x", 1}}}};
  json live = {{"metadata", {{"name", "a"}}}, {"spec", {{"x", 1.0}}}};
  CHECK(is_subset(desired, live));
  std::vector<Change> changes{plan_object("a", desired, live), plan_object("a", desired, {})};
  const auto s = summarize(changes);
  CHECK(s.unchanged == 1);
  CHECK(s.created == 1);
}

namespace {
// The east-west gateway's container as meshctl renders it, and as kube-apiserver returns it.
json gateway(const json& limits) {
  return {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "istio-eastwestgateway"}, {"namespace", "istio-system"}}},
      {"spec",
       {{"template",
         {{"spec",
           {{"containers", json::array({{{"name", "istio-proxy"},
                                         {"ports", json::array({{{"containerPort", 15090},
                                                                 {"protocol", "TCP"},
                                                                 {"name", "http-envoy-prom"}}})},
                                         {"resources",
                                          {{"requests", {{"cpu", "100m"}, {"memory", "128Mi"}}},
                                           {"limits", limits}}}}})}}}}}}}};
}
} // namespace

TEST_CASE("quantities the server canonicalised are unchanged", "[mesh][plan]") {
  const json desired = gateway({{"cpu", "2000m"}, {"memory", "1024Mi"}});
  const json live = gateway({{"cpu", "2"}, {"memory", "1Gi"}});
  const auto c = plan_object("wuxi", desired, live);
  CHECK(c.action == Action::k_unchanged);
  CHECK(c.diff.empty());
  // Numbers are quantities too: `cpu: 2` in YAML is a JSON number.
  CHECK(is_subset(gateway({{"cpu", 2}, {"memory", "1Gi"}}), live));
  CHECK(is_subset(gateway({{"cpu", 0.5}, {"memory", "1Gi"}}),
                  gateway({{"cpu", "500m"}, {"memory", "1Gi"}})));
}

TEST_CASE("a real quantity change is still an update", "[mesh][plan]") {
  const json desired = gateway({{"cpu", "3"}, {"memory", "1024Mi"}});
  const json live = gateway({{"cpu", "2"}, {"memory", "1Gi"}});
  const auto c = plan_object("wuxi", desired, live);
  REQUIRE(c.action == Action::k_update);
  REQUIRE(c.diff.size() == 1);
  CHECK(describe(c.diff[0]) == "spec.template.spec.containers[0].resources.limits.cpu: 2 -> 3");
  // 1000Mi is not 1Gi.
  CHECK_FALSE(is_subset(gateway({{"cpu", "2"}, {"memory", "1000Mi"}}), live));
}

TEST_CASE("quantities compare by value only where the schema has a Quantity", "[mesh][plan]") {
  // A ConfigMap value that looks like a quantity is a string like any other.
  const json desired = {{"kind", "ConfigMap"}, {"data", {{"cpu", "2000m"}}}};
  const json live = {{"kind", "ConfigMap"}, {"data", {{"cpu", "2"}}}};
  CHECK_FALSE(is_subset(desired, live));
  // ResourceQuota and LimitRange maps are quantities.
  CHECK(is_subset({{"kind", "ResourceQuota"}, {"spec", {{"hard", {{"requests.cpu", "1000m"}}}}}},
                  {{"kind", "ResourceQuota"}, {"spec", {{"hard", {{"requests.cpu", "1"}}}}}}));
  CHECK(is_subset(
      {{"kind", "LimitRange"},
       {"spec",
        {{"limits", json::array({{{"type", "Container"}, {"max", {{"memory", "2048Mi"}}}}})}}}},
      {{"kind", "LimitRange"},
       {"spec",
        {{"limits", json::array({{{"type", "Container"}, {"max", {{"memory", "2Gi"}}}}})}}}}));
  // An unparsable live value never equals a desired quantity.
  CHECK_FALSE(is_subset(gateway({{"cpu", "2"}, {"memory", "1Gi"}}),
                        gateway({{"cpu", "two"}, {"memory", "1Gi"}})));
}

TEST_CASE("a port's protocol TCP holds when the server left the default out", "[mesh][plan]") {
  json desired = service(30880);
  desired["spec"]["ports"][0]["protocol"] = "TCP";
  CHECK(is_subset(desired, service(30880)));
  desired["spec"]["ports"][0]["protocol"] = "UDP";
  CHECK_FALSE(is_subset(desired, service(30880)));
  // Only a port's protocol: another field named protocol must still be there.
  const json gw = {{"kind", "Gateway"}, {"spec", {{"protocol", "TCP"}}}};
  CHECK_FALSE(is_subset(gw, {{"kind", "Gateway"}, {"spec", json::object()}}));
}

TEST_CASE("targetPort 15443 and \"15443\" are the same port", "[mesh][plan]") {
  json desired = service(30880);
  desired["spec"]["ports"][0]["targetPort"] = 15443;
  json live = service(30880);
  live["spec"]["ports"][0]["targetPort"] = "15443";
  CHECK(is_subset(desired, live));
  CHECK(is_subset(live, desired));
  live["spec"]["ports"][0]["targetPort"] = "tls";
  CHECK_FALSE(is_subset(desired, live));
  live["spec"]["ports"][0]["targetPort"] = "15444";
  CHECK_FALSE(is_subset(desired, live));
  // port (not IntOrString on a Service) keeps its type.
  live = service(30880);
  live["spec"]["ports"][0]["port"] = "15443";
  CHECK_FALSE(is_subset(service(30880), live));
}

TEST_CASE("empty maps and lists hold when absent or null", "[mesh][plan]") {
  const json desired = {{"kind", "Service"},
                        {"metadata", {{"labels", json::object()}}},
                        {"spec", {{"externalIPs", json::array()}}}};
  CHECK(is_subset(desired, {{"kind", "Service"}, {"metadata", json::object()}}));
  CHECK(is_subset(desired, {{"kind", "Service"},
                            {"metadata", {{"labels", nullptr}}},
                            {"spec", {{"externalIPs", nullptr}}}}));
  CHECK_FALSE(is_subset({{"spec", {{"externalIPs", json::array({"10.0.0.1"})}}}},
                        {{"spec", json::object()}}));
}

TEST_CASE("zeros of omitempty fields hold when absent — pointer booleans do not", "[mesh][plan]") {
  const json desired = {{"kind", "Pod"}, {"spec", {{"hostNetwork", false}}}};
  CHECK(is_subset(desired, {{"kind", "Pod"}, {"spec", json::object()}}));
  CHECK_FALSE(is_subset({{"kind", "Pod"}, {"spec", {{"hostNetwork", true}}}},
                        {{"kind", "Pod"}, {"spec", json::object()}}));
  // automountServiceAccountToken is a *bool: absent means "default", not false.
  CHECK_FALSE(is_subset({{"kind", "Pod"}, {"spec", {{"automountServiceAccountToken", false}}}},
                        {{"kind", "Pod"}, {"spec", json::object()}}));
  // A label with an empty value is stored: absent is a difference.
  CHECK_FALSE(is_subset({{"metadata", {{"labels", {{"a", ""}}}}}},
                        {{"metadata", {{"labels", json::object()}}}}));
}

TEST_CASE("a Secret's stringData compares as the data the server stores", "[mesh][plan]") {
  const json desired = {{"kind", "Secret"}, {"stringData", {{"token", "new"}}}};
  const json live = {{"kind", "Secret"}, {"data", {{"token", "bmV3"}}}};
  CHECK(plan_object("wuxi", desired, live).action == Action::k_unchanged);
  const json old = {{"kind", "Secret"}, {"data", {{"token", "b2xk"}}}};
  const auto c = plan_object("wuxi", desired, old);
  REQUIRE(c.action == Action::k_update);
  REQUIRE(c.diff.size() == 1);
  CHECK(describe(c.diff[0]) == "data.token: <redacted> -> <redacted>");
  // The plan keeps the object as written: stringData is what gets applied.
  CHECK(c.desired.contains("stringData"));
}

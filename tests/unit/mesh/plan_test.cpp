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
  CHECK(c.diff[0] == "spec.ports[0].nodePort: 30880 -> 31000");
}

TEST_CASE("a missing object is created; list length matters", "[mesh][plan]") {
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
  CHECK(c.diff[0] == "data.token: <redacted> -> <redacted>");
}

TEST_CASE("empty desired maps are satisfied by absence; summaries count", "[mesh][plan]") {
  json desired = {{"metadata", {{"annotations", json::object()}}}, {"spec", {{"x", 1}}}};
  json live = {{"metadata", {{"name", "a"}}}, {"spec", {{"x", 1.0}}}};
  CHECK(is_subset(desired, live));
  std::vector<Change> changes{plan_object("a", desired, live), plan_object("a", desired, {})};
  const auto s = summarize(changes);
  CHECK(s.unchanged == 1);
  CHECK(s.created == 1);
}

// join's preconditions against a scripted API server: every failure of a cluster reported together,
// each with the line a user acts on, and nothing read past a discovery that failed.

#include "mesh/preconditions.hpp"
#include "support/fake_transport.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace meshctl;
using namespace meshctl::mesh;
using meshctl::kube::Method;
using meshctl::testing::fake_client;
using meshctl::testing::FakeReply;
using meshctl::testing::FakeTransport;
using nlohmann::json;

namespace {

const std::string k_istiod_list = "/apis/apps/v1/namespaces/istio-system/deployments";

config::MeshConfig mesh_config() {
  config::MeshConfig cfg;
  cfg.mesh_id = "mesh1";
  return cfg;
}

config::ClusterConfig wuxi() {
  config::ClusterConfig c;
  c.name = "wuxi";
  c.context = "wuxi";
  c.network = "wuxi";
  return c;
}

// istiod as `istioctl install --set values.global.meshID=… --set …clusterName=… --set …network=…`
// leaves it: CLUSTER_ID on the Deployment, meshID and network in the injector's values.
void serve_istiod(FakeTransport& fake, const std::string& cluster_id, const std::string& network) {
  const json deployment = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata",
       {{"name", "istiod"}, {"namespace", "istio-system"}, {"labels", {{"app", "istiod"}}}}},
      {"spec",
       {{"template",
         {{"spec",
           {{"containers",
             {{{"name", "discovery"},
               {"image", "docker.io/istio/pilot:1.24.2"},
               {"env", {{{"name", "CLUSTER_ID"}, {"value", cluster_id}}}}}}}}}}}}}};
  fake.serve_object(deployment);
  const json values = {{"global", {{"meshID", "mesh1"}, {"network", network}}}};
  fake.serve_object(
      {{"apiVersion", "v1"},
       {"kind", "ConfigMap"},
       {"metadata", {{"name", "istio-sidecar-injector"}, {"namespace", "istio-system"}}},
       {"data", {{"values", values.dump()}}}});
}

bool any_says(const std::vector<Error>& errors, const std::string& text) {
  return std::any_of(errors.begin(), errors.end(),
                     [&](const Error& e) { return e.what().find(text) != std::string::npos; });
}

} // namespace

TEST_CASE("a ready cluster passes every precondition", "[mesh][preconditions][seam]") {
  auto fake = std::make_shared<FakeTransport>();
  fake->serve_discovery();
  serve_istiod(*fake, "wuxi", "wuxi");
  auto client = fake_client("wuxi", fake);
  const auto errors = check_join_preconditions(*client, mesh_config(), wuxi(), "", false).errors;
  for (const auto& e : errors) {
    FAIL_CHECK(e.what());
  }
  CHECK(fake->writes().empty());
}

TEST_CASE("no Istio CRDs and no istio-system: both reported, each with what to do",
          "[mesh][preconditions][seam]") {
  auto fake = std::make_shared<FakeTransport>();
  fake->serve_discovery(false); // no networking.istio.io; istio-system absent: every GET is 404
  auto client = fake_client("wuxi", fake);
  const auto errors = check_join_preconditions(*client, mesh_config(), wuxi(), "", false).errors;
  CHECK(any_says(errors, "Istio is not installed in wuxi"));
  CHECK(any_says(errors,
                 "wuxi: istiod is not installed in wuxi (no Deployment labelled app=istiod in "
                 "istio-system)"));
  const auto istiod = std::find_if(errors.begin(), errors.end(), [](const Error& e) {
    return e.what().find("istiod is not installed") != std::string::npos;
  });
  REQUIRE(istiod != errors.end());
  CHECK(istiod->hint().find("install Istio first") != std::string::npos);
  CHECK(fake->writes().empty());
}

TEST_CASE("istiod installed with other values names each and the install flags",
          "[mesh][preconditions][seam]") {
  auto fake = std::make_shared<FakeTransport>();
  fake->serve_discovery();
  serve_istiod(*fake, "Kubernetes", "network1");
  auto client = fake_client("wuxi", fake);
  const auto errors = check_join_preconditions(*client, mesh_config(), wuxi(), "", false).errors;
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].what() == "istiod in wuxi was installed with other values: cluster ID is "
                            "\"Kubernetes\", not \"wuxi\"; network is \"network1\", not \"wuxi\"");
  CHECK(errors[0].hint().find("--set values.global.multiCluster.clusterName=wuxi") !=
        std::string::npos);
}

TEST_CASE("a 403 on discovery is the one error — nothing else is asked",
          "[mesh][preconditions][seam]") {
  auto fake = std::make_shared<FakeTransport>();
  fake->serve_discovery();
  fake->on(
      Method::k_get, "/apis",
      FakeReply::api_status(403, "Forbidden", "forbidden: User \"dev\" cannot get path \"/apis\""));
  auto client = fake_client("wuxi", fake);
  const auto errors = check_join_preconditions(*client, mesh_config(), wuxi(), "", false).errors;
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].what() ==
        "wuxi: API discovery: forbidden: User \"dev\" cannot get path \"/apis\"");
  CHECK(errors[0].hint().find("lacks the RBAC permission") != std::string::npos);
  for (const auto& c : fake->calls()) {
    CHECK((c.path == "/api" || c.path == "/apis")); // no object read after discovery failed
  }
}

TEST_CASE("a timeout reading istiod is reported as unreachable, not as 'not installed'",
          "[mesh][preconditions][seam]") {
  auto fake = std::make_shared<FakeTransport>();
  fake->serve_discovery();
  serve_istiod(*fake, "wuxi", "wuxi");
  fake->on(Method::k_get, k_istiod_list, FakeReply::timeout());
  auto client = fake_client("wuxi", fake);
  const auto errors = check_join_preconditions(*client, mesh_config(), wuxi(), "", false).errors;
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code() == ExitCode::k_unreachable);
  CHECK_FALSE(any_says(errors, "not installed"));
  // Retried like every idempotent read before giving up.
  CHECK(fake->calls(Method::k_get, k_istiod_list).size() == 5);
}

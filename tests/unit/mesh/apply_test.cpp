// plan_cluster and apply_plan against a scripted API server (tests/support/fake_transport.hpp):
// what is read, what is written and in which order, and what a failing write does to the rest.

#include "mesh/apply.hpp"
#include "render/manifests.hpp"
#include "render/object.hpp"
#include "support/fake_transport.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace meshctl;
using namespace meshctl::mesh;
using meshctl::kube::Method;
using meshctl::testing::fake_client;
using meshctl::testing::FakeCall;
using meshctl::testing::FakeReply;
using meshctl::testing::FakeTransport;
using nlohmann::json;

namespace {

const json k_managed = {{"app.kubernetes.io/managed-by", "meshctl"}};

json namespace_object() {
  return {{"apiVersion", "v1"},
          {"kind", "Namespace"},
          {"metadata",
           {{"name", "istio-system"}, {"labels", {{"topology.istio.io/network", "wuxi"}}}}}};
}

json cacerts() {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", "cacerts"}, {"namespace", "istio-system"}, {"labels", k_managed}}},
          {"type", "Opaque"},
          {"data", {{"root-cert.pem", "cm9vdA=="}}}};
}

json gateway_service(int node_port) {
  return {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata",
       {{"name", "istio-eastwestgateway"}, {"namespace", "istio-system"}, {"labels", k_managed}}},
      {"spec",
       {{"type", "NodePort"},
        {"ports", {{{"name", "tls"}, {"port", 15443}, {"nodePort", node_port}}}}}}};
}

json gateway() {
  return {{"apiVersion", "networking.istio.io/v1"},
          {"kind", "Gateway"},
          {"metadata", {{"name", "cross-network-gateway"}, {"namespace", "istio-system"}}},
          {"spec", {{"selector", {{"istio", "eastwestgateway"}}}}}};
}

json token_secret() {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata",
           {{"name", "reader-token"},
            {"namespace", "istio-system"},
            {"labels", k_managed},
            {"annotations", {{"kubernetes.io/service-account.name", "istio-reader"}}}}},
          {"type", "kubernetes.io/service-account-token"}};
}

json deployment(const std::string& cpu) {
  const json container = {{"name", "istio-proxy"}, {"resources", {{"limits", {{"cpu", cpu}}}}}};
  json d = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata",
       {{"name", "istio-eastwestgateway"}, {"namespace", "istio-system"}, {"labels", k_managed}}}};
  d["spec"]["template"]["spec"]["containers"] = json::array({container});
  return d;
}

DesiredObject desired(const json& object, Ownership ownership = Ownership::k_owned) {
  return {render::Object{render::from_json(object)}, ownership};
}

// What join's first phase wants in a cluster, in miniature: every wave and every ownership.
ClusterObjects base_objects(int node_port = 30443) {
  return {"wuxi",
          {desired(namespace_object(), Ownership::k_shared), desired(cacerts()),
           desired(gateway_service(node_port)), desired(gateway(), Ownership::k_create_only),
           desired(token_secret())}};
}

std::string object_path(const std::string& ns, const std::string& resource,
                        const std::string& name) {
  return "/api/v1/namespaces/" + ns + "/" + resource + "/" + name;
}

const std::string k_ns_path = "/api/v1/namespaces/istio-system";
const std::string k_cacerts_path = object_path("istio-system", "secrets", "cacerts");
const std::string k_service_path = object_path("istio-system", "services", "istio-eastwestgateway");
const std::string k_gateway_path =
    "/apis/networking.istio.io/v1/namespaces/istio-system/gateways/cross-network-gateway";
const std::string k_token_path = object_path("istio-system", "secrets", "reader-token");

std::size_t index_of(const std::vector<FakeCall>& calls, const std::string& path) {
  const auto it =
      std::find_if(calls.begin(), calls.end(), [&](const FakeCall& c) { return c.path == path; });
  REQUIRE(it != calls.end());
  return static_cast<std::size_t>(it - calls.begin());
}

std::shared_ptr<FakeTransport> cluster() {
  auto fake = std::make_shared<FakeTransport>();
  fake->serve_discovery();
  fake->accept_applies();
  return fake;
}

} // namespace

TEST_CASE("absent objects are created, in waves, forced only where meshctl owns them",
          "[mesh][apply][seam]") {
  auto fake = cluster();
  auto client = fake_client("wuxi", fake);
  auto plan = plan_cluster(*client, base_objects());
  REQUIRE(plan);
  for (const auto& c : plan->changes) {
    CHECK(c.action == Action::k_create);
  }
  REQUIRE(apply_plan(*client, *plan, false));

  const auto writes = fake->writes();
  REQUIRE(writes.size() == 5);
  for (const auto& w : writes) {
    CHECK(w.method == Method::k_patch);
    CHECK(w.content_type == "application/apply-patch+yaml");
    CHECK(w.query.find("fieldManager=meshctl") != std::string::npos);
  }
  // Namespaces first, the ServiceAccount token Secret last (after the ServiceAccount's wave).
  CHECK(index_of(writes, k_ns_path) == 0);
  CHECK(index_of(writes, k_token_path) == 4);
  // Shared objects never take fields over; owned ones do.
  CHECK(writes[index_of(writes, k_ns_path)].query.find("force=true") == std::string::npos);
  CHECK(writes[index_of(writes, k_cacerts_path)].query.find("force=true") != std::string::npos);
}

TEST_CASE("objects already right are unchanged and nothing is written", "[mesh][apply][seam]") {
  auto fake = cluster();
  for (const auto& o :
       {namespace_object(), cacerts(), gateway_service(30443), gateway(), token_secret()}) {
    fake->serve_object(o);
  }
  auto client = fake_client("wuxi", fake);
  auto plan = plan_cluster(*client, base_objects());
  REQUIRE(plan);
  const auto s = summarize(plan->changes);
  CHECK(s.unchanged == 5);
  REQUIRE(apply_plan(*client, *plan, false));
  CHECK(fake->writes().empty());
}

TEST_CASE("a changed field updates that object only", "[mesh][apply][seam]") {
  auto fake = cluster();
  for (const auto& o : {namespace_object(), cacerts(), gateway_service(30443), token_secret()}) {
    fake->serve_object(o);
  }
  json changed_gateway = gateway();
  changed_gateway["spec"]["selector"]["istio"] = "other"; // create-only: never updated
  fake->serve_object(changed_gateway);
  auto client = fake_client("wuxi", fake);
  auto plan = plan_cluster(*client, base_objects(31000));
  REQUIRE(plan);
  const auto s = summarize(plan->changes);
  CHECK(s.updated == 1);
  CHECK(s.unchanged == 4);
  const auto& service = plan->changes[2];
  REQUIRE(service.action == Action::k_update);
  REQUIRE(service.diff.size() == 1);
  CHECK(describe(service.diff[0]) == "spec.ports[0].nodePort: 30443 -> 31000");
  REQUIRE(apply_plan(*client, *plan, false));
  const auto writes = fake->writes();
  REQUIRE(writes.size() == 1);
  CHECK(writes[0].path == k_service_path);
  CHECK(json::parse(writes[0].body)["spec"]["ports"][0]["nodePort"] == 31000);
}

TEST_CASE("plan against live state: 404 creates, the server's quantity form is unchanged",
          "[mesh][plan][seam]") {
  auto fake = cluster();
  json live = deployment("2"); // kube-apiserver stores 2000m as 2
  fake->serve_object(live);
  auto client = fake_client("wuxi", fake);
  ClusterObjects objects{"wuxi", {desired(deployment("2000m")), desired(cacerts())}};
  auto plan = plan_cluster(*client, objects);
  REQUIRE(plan);
  CHECK(plan->changes[0].action == Action::k_unchanged);
  CHECK(plan->changes[1].action == Action::k_create); // GET answered 404 NotFound
  // A real difference in the same field is still an update.
  ClusterObjects more{"wuxi", {desired(deployment("3"))}};
  auto plan2 = plan_cluster(*client, more);
  REQUIRE(plan2);
  CHECK(plan2->changes[0].action == Action::k_update);
  CHECK(fake->writes().empty()); // planning only reads
}

TEST_CASE("a kind the cluster does not serve fails the plan with the Istio hint",
          "[mesh][plan][seam]") {
  auto fake = std::make_shared<FakeTransport>();
  fake->serve_discovery(false);
  auto client = fake_client("wuxi", fake);
  auto plan = plan_cluster(*client, base_objects());
  REQUIRE_FALSE(plan);
  CHECK(plan.error().what().find("Istio is not installed in wuxi") != std::string::npos);
}

TEST_CASE("a 403 on reading one object fails the plan naming it — nothing is written",
          "[mesh][plan][seam]") {
  auto fake = cluster();
  fake->on(Method::k_get, k_cacerts_path,
           FakeReply::api_status(403, "Forbidden",
                                 "secrets \"cacerts\" is forbidden: User \"dev\" cannot get "
                                 "resource \"secrets\" in API group \"\" in the namespace "
                                 "\"istio-system\""));
  auto client = fake_client("wuxi", fake);
  auto plan = plan_cluster(*client, base_objects());
  REQUIRE_FALSE(plan);
  CHECK(plan.error().what().rfind("wuxi: ", 0) == 0);
  CHECK(plan.error().what().find("secrets \"cacerts\" is forbidden") != std::string::npos);
  CHECK(plan.error().hint().find("kubectl auth can-i get secrets -n istio-system") !=
        std::string::npos);
  CHECK(fake->writes().empty());
  // Every object was still read (in parallel), not only up to the failing one.
  CHECK(fake->calls(Method::k_get, k_token_path).size() == 1);
}

TEST_CASE("a 403 on writing one object fails it clearly — its wave's others are written, the next "
          "wave is not",
          "[mesh][apply][seam]") {
  auto fake = cluster();
  fake->on(Method::k_patch, k_cacerts_path,
           FakeReply::api_status(403, "Forbidden",
                                 "secrets \"cacerts\" is forbidden: User \"dev\" cannot patch "
                                 "resource \"secrets\" in API group \"\" in the namespace "
                                 "\"istio-system\""));
  auto client = fake_client("wuxi", fake);
  auto plan = plan_cluster(*client, base_objects());
  REQUIRE(plan);
  auto applied = apply_plan(*client, *plan, false);
  REQUIRE_FALSE(applied);
  CHECK(applied.error().code() == ExitCode::k_failed);
  CHECK(applied.error().what() ==
        "applying Secret istio-system/cacerts to wuxi: secrets \"cacerts\" is forbidden: User "
        "\"dev\" cannot patch resource \"secrets\" in API group \"\" in the namespace "
        "\"istio-system\"");
  CHECK(applied.error().hint().find("may not patch secrets in namespace istio-system") !=
        std::string::npos);
  // Not retried (403 is final), and the rest of its wave went through.
  CHECK(fake->calls(Method::k_patch, k_cacerts_path).size() == 1);
  CHECK(fake->calls(Method::k_patch, k_service_path).size() == 1);
  CHECK(fake->calls(Method::k_patch, k_gateway_path).size() == 1);
  // The token Secret waits for its wave, which a failed wave does not reach.
  CHECK(fake->calls(Method::k_patch, k_token_path).empty());
}

TEST_CASE("a 409 field-manager conflict on a shared object is reported, not retried or forced",
          "[mesh][apply][seam]") {
  auto fake = cluster();
  fake->on(Method::k_patch, k_ns_path,
           FakeReply::api_status(409, "Conflict",
                                 "Apply failed with 1 conflict: conflict with \"helm\" using v1: "
                                 ".metadata.labels.topology.istio.io/network",
                                 {{"causes",
                                   {{{"reason", "FieldManagerConflict"},
                                     {"message", "conflict with \"helm\" using v1"},
                                     {"field", ".metadata.labels.topology.istio.io/network"}}}}}));
  auto client = fake_client("wuxi", fake);
  auto plan = plan_cluster(*client, base_objects());
  REQUIRE(plan);
  auto applied = apply_plan(*client, *plan, false);
  REQUIRE_FALSE(applied);
  CHECK(applied.error().what().find("applying Namespace istio-system to wuxi: Apply failed with "
                                    "1 conflict: conflict with \"helm\"") == 0);
  CHECK(applied.error().hint().find("another field manager owns these fields") !=
        std::string::npos);
  const auto patches = fake->calls(Method::k_patch, k_ns_path);
  REQUIRE(patches.size() == 1);
  CHECK(patches[0].query.find("force=true") == std::string::npos);
  // The Namespace is wave 0: nothing after it was written.
  CHECK(fake->writes().size() == 1);
}

TEST_CASE("a 409 on an owned object (stale write) is reported once — apply is not a retry loop",
          "[mesh][apply][seam]") {
  auto fake = cluster();
  fake->on(Method::k_patch, k_service_path,
           FakeReply::api_status(409, "Conflict",
                                 "Operation cannot be fulfilled on services "
                                 "\"istio-eastwestgateway\": the object has been modified; please "
                                 "apply your changes to the latest version and try again"));
  auto client = fake_client("wuxi", fake);
  auto plan = plan_cluster(*client, base_objects());
  REQUIRE(plan);
  auto applied = apply_plan(*client, *plan, false);
  REQUIRE_FALSE(applied);
  CHECK(applied.error().what().find("applying Service istio-system/istio-eastwestgateway to wuxi: "
                                    "Operation cannot be fulfilled") == 0);
  CHECK(applied.error().hint() == "the object changed since it was read: read it again and retry");
  CHECK(fake->calls(Method::k_patch, k_service_path).size() == 1);
  CHECK(fake->calls(Method::k_patch, k_service_path)[0].query.find("force=true") !=
        std::string::npos);
}

TEST_CASE("a 503 on server-side apply is retried (apply is idempotent) and succeeds",
          "[mesh][apply][seam]") {
  auto fake = cluster();
  fake->on(Method::k_patch, k_cacerts_path,
           FakeReply::api_status(503, "ServiceUnavailable",
                                 "the server is currently unable to "
                                 "handle the request"),
           1);
  auto client = fake_client("wuxi", fake);
  auto plan = plan_cluster(*client, base_objects());
  REQUIRE(plan);
  REQUIRE(apply_plan(*client, *plan, false));
  CHECK(fake->calls(Method::k_patch, k_cacerts_path).size() == 2);
  CHECK(fake->writes().size() == 6);
}

TEST_CASE("server dry run sends every write with dryRun=All", "[mesh][apply][seam]") {
  auto fake = cluster();
  auto client = fake_client("wuxi", fake);
  auto plan = plan_cluster(*client, base_objects());
  REQUIRE(plan);
  REQUIRE(apply_plan(*client, *plan, true));
  const auto writes = fake->writes();
  REQUIRE(writes.size() == 5);
  for (const auto& w : writes) {
    CHECK(w.query.find("dryRun=All") != std::string::npos);
  }
}

// verify's report (goldens of the table and JSON forms), exit codes, colour, and the bundle round
// trip: a snapshot saved with --save-bundle gives the identical report when read back.

#include "check/bundle.hpp"
#include "check/collect.hpp"
#include "check/report.hpp"
#include "core/output.hpp"
#include "core/redact.hpp"
#include "unit/check/snapshot.hpp"

using namespace meshctl::check;
using namespace meshctl::testing::check;
using meshctl::testing::TempDir;

namespace {

// The seed's trouble all at once: wuxi's gateway relies on nodes without ExternalIP, wuxi lacks
// the remote secret for cn-shanghai and the Service, cn-shanghai's rule has no outlierDetection.
MeshFacts broken_facts() {
  auto facts = healthy_facts();
  auto& s = facts.clusters[0];
  auto& w = facts.clusters[1];
  w.gateway_services[0] = gateway_service("wuxi", {}, std::string("{}"));
  w.remote_secrets.clear();
  w.clusterz->clear();
  w.service = nullptr;
  w.workloads.clear();
  w.gateway_dumps.clear();
  set_client(w, {});
  s.destination_rules[0] = destination_rule(true, false);
  set_client(s, {{"10.10.0.12", 5000, 0, "helloworld-v1;dev;helloworld;v1;cn-shanghai"}});
  digest(facts);
  return facts;
}

} // namespace

TEST_CASE("verify report: table golden of the healthy story", "[check][verify][golden]") {
  const auto report = build_report(healthy_facts());
  CHECK(report.errors == 0);
  CHECK(report.warnings == 0);
  meshctl::testing::check_golden("verify/healthy.txt",
                                 format_report(report, FailOn::k_error, false));
}

TEST_CASE("verify report: table and JSON goldens of a broken mesh", "[check][verify][golden]") {
  const auto report = build_report(broken_facts());
  const auto text = format_report(report, FailOn::k_error, false);
  meshctl::testing::check_golden("verify/broken.txt", text);
  const auto json = report_json(report, FailOn::k_error);
  meshctl::testing::check_golden("verify/broken.json", json.dump(2) + "\n");
  CHECK(json["apiVersion"] == "meshctl.dev/v1alpha1");
  CHECK(json["kind"] == "VerifyReport");
  CHECK(json["schemaVersion"] == 1);
  CHECK(json["summary"]["exitCode"] == 1);
  CHECK(report_exit_code(report, FailOn::k_error) == meshctl::ExitCode::k_failed);
  // No colour unless asked for; colour marks the severities.
  CHECK(text.find('\033') == std::string::npos);
  const auto colored = format_report(report, FailOn::k_error, true);
  CHECK(colored.find("\033[31m✖\033[0m") != std::string::npos);
}

TEST_CASE("verify bundle: save then load gives the identical report", "[check][verify][bundle]") {
  TempDir dir;
  auto subset = healthy_facts(); // verify --context wuxi
  subset.clusters.erase(subset.clusters.begin());
  subset.mesh_clusters = {"cn-shanghai", "wuxi"};
  subset.unchecked_api_servers["cn-shanghai"] = "https://10.0.0.1:6443";
  int n = 0;
  for (const auto& facts : {healthy_facts(), broken_facts(), subset}) {
    const auto before = build_report(facts);
    const auto b = (dir.path() / ("b" + std::to_string(n++))).string(); // nothing left over
    REQUIRE(save_bundle(facts, b));
    auto loaded = load_bundle(b);
    INFO((loaded ? std::string() : loaded.error().what()));
    REQUIRE(loaded);
    const auto after = build_report(*loaded);
    CHECK(format_report(after, FailOn::k_error, false) ==
          format_report(before, FailOn::k_error, false));
    CHECK(report_json(after, FailOn::k_error) == report_json(before, FailOn::k_error));
  }
  // The dumps are files of their own, exactly as the proxy sent them.
  CHECK(std::filesystem::exists(dir.path() / "b0" / "facts.json"));
  CHECK(std::filesystem::exists(dir.path() / "b0" / "dumps" / "cn-shanghai" /
                                "dev.sleep-cn--1.clusters.json"));
}

TEST_CASE("verify bundle: no secret reaches it", "[check][verify][bundle]") {
  auto facts = healthy_facts();
  const std::string token = "eyJhbGciOiJSUzI1NiJ9.secret-token-value";
  meshctl::register_secret(token);
  // Even if a token slipped into an object, redact() scrubs it.
  facts.clusters[0].service["metadata"]["annotations"] = {{"oops", token}};
  TempDir dir;
  REQUIRE(save_bundle(facts, dir.path().string()));
  const auto text = meshctl::testing::read_file(dir.path() / "facts.json");
  CHECK(text.find(token) == std::string::npos);
  CHECK(text.find("\"token\": \"<redacted>\"") != std::string::npos);
  CHECK(text.find("ca-key.pem\"") != std::string::npos); // only as a key name
  CHECK(text.find("PRIVATE KEY") == std::string::npos);
  // A Secret object that is kept loses its values.
  const auto stripped = strip_object({{"kind", "Secret"},
                                      {"metadata", {{"name", "x"}, {"managedFields", {1}}}},
                                      {"data", {{"k", "dmFsdWU="}}}});
  CHECK(stripped["data"]["k"] == "<redacted>");
  CHECK_FALSE(stripped["metadata"].contains("managedFields"));
}

TEST_CASE("verify bundle: damaged or foreign bundles are usage errors", "[check][verify][bundle]") {
  TempDir dir;
  auto missing = load_bundle(dir.path().string());
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == meshctl::ExitCode::k_usage);
  dir.write("facts.json", R"({"kind": "VerifyFacts", "schemaVersion": 99})");
  auto newer = load_bundle(dir.path().string());
  REQUIRE_FALSE(newer);
  CHECK_THAT(newer.error().message(), Catch::Matchers::Contains("schema version 99"));
  dir.write("facts.json",
            R"({"kind": "VerifyFacts", "schemaVersion": 1, "collectedAt": "2025-01-01T00:00:00Z",
    "clusters": [{"name": "a", "client": {"eds": {"file": "../../etc/passwd"}}}]})");
  auto escape = load_bundle(dir.path().string());
  REQUIRE_FALSE(escape);
  CHECK_THAT(escape.error().what(), Catch::Matchers::Contains("outside the bundle"));
}

TEST_CASE("verify collector helpers: identity, DestinationRule hosts, client pick",
          "[check][verify]") {
  IstiodFacts i;
  i.deployment = {{"spec",
                   {{"template",
                     {{"spec",
                       {{"containers",
                         {{{"name", "discovery"},
                           {"env", {{{"name", "CLUSTER_ID"}, {"value", "wuxi"}}}}}}}}}}}}}};
  fill_istiod_identity(i, R"({"global": {"meshID": "mesh1", "network": "wuxi"}})", "");
  CHECK(i.cluster_id == "wuxi");
  CHECK(i.mesh_id == "mesh1");
  CHECK(i.network == "wuxi");
  IstiodFacts bare;
  fill_istiod_identity(bare, "{}", "defaultConfig:\n  meshId: m2\n");
  CHECK(bare.cluster_id == "Kubernetes");
  CHECK(bare.mesh_id == "m2");

  const std::string host = "helloworld.dev.svc.cluster.local";
  CHECK(destination_rule_selects("helloworld", "dev", host));
  CHECK_FALSE(destination_rule_selects("helloworld", "prod", host));
  CHECK(destination_rule_selects(host, "istio-system", host));
  CHECK(destination_rule_selects("*.dev.svc.cluster.local", "x", host));
  CHECK(destination_rule_selects("*.local", "x", host));
  CHECK_FALSE(destination_rule_selects("*.prod.svc.cluster.local", "x", host));

  const auto svc = service("dev", "helloworld", {{"app", "helloworld"}}, json::array());
  const std::vector<json> pods = {
      pod("dev", "helloworld-v1-a", {{"app", "helloworld"}}, "10.0.0.1"),
      pod("dev", "sleep-b", {{"app", "sleep"}}, "10.0.0.2"),
      pod("dev", "noproxy-a", {{"app", "x"}}, "10.0.0.3", true, false),
      pod("dev", "notready-a", {{"app", "y"}}, "10.0.0.4", false, true),
  };
  const json* picked = pick_client(pods, svc);
  REQUIRE(picked != nullptr);
  CHECK((*picked)["metadata"]["name"] == "sleep-b");
  CHECK((*pick_client({pods[0]}, svc))["metadata"]["name"] == "helloworld-v1-a");
  CHECK(pick_client({pods[2], pods[3]}, svc) == nullptr);
}

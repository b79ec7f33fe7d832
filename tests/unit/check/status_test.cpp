// meshctl status from a Facts snapshot: one row per cluster, the problems of the checks that need
// no service (with verify's ids), what --wait still waits for, version skew, and the JSON shape.

#include "check/status.hpp"
#include "unit/check/snapshot.hpp"

#include <algorithm>

using namespace meshctl::check;
using namespace meshctl::testing::check;

namespace {

// The healthy mesh as status collects it: nothing about a service.
MeshFacts mesh_facts() {
  auto facts = healthy_facts();
  facts.service.clear();
  facts.namespace_.clear();
  for (auto& c : facts.clusters) {
    c.service = nullptr;
    c.workloads.clear();
    c.destination_rules.clear();
    c.gateway_dumps.clear();
    c.client.reset();
    c.root_configmap.reset();
  }
  return facts;
}

bool has_problem(const MeshStatus& s, const std::string& id, const std::string& cluster) {
  return std::any_of(s.problems.begin(), s.problems.end(),
                     [&](const Finding& f) { return f.id == id && f.cluster == cluster; });
}

} // namespace

TEST_CASE("status: a healthy mesh is one row per cluster, synced both ways, no problem",
          "[check][status]") {
  const auto status = build_status(mesh_facts());
  INFO(format_status(status, false));
  REQUIRE(status.clusters.size() == 2);
  CHECK(status.problems.empty());
  CHECK(status_exit_code(status) == meshctl::ExitCode::k_ok);
  CHECK(waiting_for(status).empty());
  const auto& wuxi_row = status.clusters[1];
  CHECK(wuxi_row.name == "wuxi");
  CHECK(wuxi_row.istiod_version == "1.24.2");
  CHECK(wuxi_row.istiod_ready == 1);
  REQUIRE(wuxi_row.remotes.size() == 1);
  CHECK(wuxi_row.remotes[0].synced());
  CHECK(status.clusters[0].root.size() == 8);
  CHECK(status.clusters[0].root == wuxi_row.root);
  CHECK_FALSE(wuxi_row.root_differs);
  const auto text = format_status(status, false);
  CHECK(text.rfind("CLUSTER ", 0) == 0);
  CHECK(text.find("1.24.2 (default) 1/1") != std::string::npos);
  CHECK(text.find("1/1 synced") != std::string::npos);
  CHECK(text.find("hint:") == std::string::npos);
}

TEST_CASE("status: a missing remote secret is verify's finding and what --wait waits for",
          "[check][status]") {
  auto facts = mesh_facts();
  wuxi(facts).remote_secrets.clear();
  wuxi(facts).clusterz->clear();
  const auto status = build_status(facts);
  const auto text = format_status(status, false);
  INFO(text);
  CHECK(has_problem(status, "remote-secret.missing", "wuxi"));
  CHECK(status_exit_code(status) == meshctl::ExitCode::k_failed);
  CHECK(text.find("0/1 synced") != std::string::npos);
  CHECK(text.find("[remote-secret.missing]") != std::string::npos);
  CHECK(text.find("hint: meshctl join wuxi cn-shanghai") != std::string::npos);
  const auto missing = waiting_for(status);
  REQUIRE(missing.size() == 1);
  CHECK(missing[0] == "wuxi: no remote secret for cn-shanghai");
}

TEST_CASE("status: an unreachable cluster exits 3 and is waited for", "[check][status]") {
  auto facts = mesh_facts();
  wuxi(facts).reachable = false;
  wuxi(facts).connect_error = ReadError{"connection refused", "", 0, true};
  const auto status = build_status(facts);
  CHECK(status_exit_code(status) == meshctl::ExitCode::k_unreachable);
  CHECK(has_problem(status, "cluster.unreachable", "wuxi"));
  const auto missing = waiting_for(status);
  CHECK(std::find(missing.begin(), missing.end(), "wuxi: not reachable") != missing.end());
}

TEST_CASE("status: istiod versions a minor apart warn, two apart are an error", "[check][status]") {
  auto facts = mesh_facts();
  wuxi(facts).istiod->version = "1.25.0";
  auto status = build_status(facts);
  CHECK(has_problem(status, "istiod.version-skew", ""));
  CHECK(status_exit_code(status) == meshctl::ExitCode::k_ok);
  wuxi(facts).istiod->version = "1.26.1";
  status = build_status(facts);
  CHECK(has_problem(status, "istiod.version-skew-unsupported", ""));
  CHECK(status_exit_code(status) == meshctl::ExitCode::k_failed);
  const auto text = format_status(status, false);
  CHECK(text.find("mesh: istiod versions differ by more than one minor version") !=
        std::string::npos);
  // Patch versions may differ.
  wuxi(facts).istiod->version = "1.24.9";
  status = build_status(facts);
  CHECK_FALSE(has_problem(status, "istiod.version-skew", ""));
  CHECK_FALSE(has_problem(status, "istiod.version-skew-unsupported", ""));
}

TEST_CASE("status: different roots are marked and reported", "[check][status]") {
  auto facts = mesh_facts();
  wuxi(facts).cacerts->root_cert = cert("root-b.pem");
  const auto status = build_status(facts);
  CHECK(status.clusters[0].root_differs);
  CHECK(status.clusters[1].root_differs);
  CHECK(has_problem(status, "cacerts.root-differs", ""));
  CHECK(format_status(status, false).find(status.clusters[1].root + "!") != std::string::npos);
}

TEST_CASE("status: the JSON is a MeshStatus envelope", "[check][status]") {
  auto facts = mesh_facts();
  wuxi(facts).remote_secrets.clear();
  const auto j = status_json(build_status(facts));
  CHECK(j["apiVersion"] == "meshctl.dev/v1alpha1");
  CHECK(j["kind"] == "MeshStatus");
  REQUIRE(j["clusters"].size() == 2);
  const auto& w = j["clusters"][1];
  CHECK(w["name"] == "wuxi");
  CHECK(w["istiod"]["version"] == "1.24.2");
  CHECK(w["root"]["fingerprint"].get<std::string>().size() == 64);
  CHECK(w["remotes"][0]["cluster"] == "cn-shanghai");
  CHECK(w["remotes"][0]["synced"] == false);
  CHECK(w["problems"].is_array());
  REQUIRE_FALSE(j["findings"].empty());
  CHECK(j["findings"][0].contains("hint"));
  CHECK(j["exitCode"] == 1);
}

// meshctl status end to end: before join the clusters are not connected (remote-secret problems,
// and --wait gives up naming what is missing); after join every cluster reports the other synced,
// the roots agree, and --wait returns at once.

#include "clusters.hpp"

#include <nlohmann/json.hpp>

#include <chrono>

using meshctl::e2e::cluster_entry;
using meshctl::e2e::TestClusters;
using nlohmann::json;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("status before join: remote-secret problems, and --wait times out naming them",
          "[e2e][status]") {
  MESHCTL_REQUIRE_SIM();
  TestClusters clusters;
  auto r = clusters.meshctl({"status"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.rfind("CLUSTER ", 0) == 0);
  CHECK(contains(r.out, "cn-shanghai"));
  CHECK(contains(r.out, "0/1 synced"));
  CHECK(contains(r.out, "[remote-secret.missing]"));
  CHECK(contains(r.out, "hint: meshctl join"));

  const auto t0 = std::chrono::steady_clock::now();
  auto w = clusters.meshctl({"status", "--wait", "--timeout", "3s"});
  const auto took = std::chrono::steady_clock::now() - t0;
  INFO(w.out << w.err);
  CHECK(w.exit_code == 1);
  CHECK(contains(w.err, "waiting for:"));
  CHECK(contains(w.err, "timed out after 3s"));
  CHECK(contains(w.err, "wuxi: no remote secret for cn-shanghai"));
  CHECK(contains(w.err, "cn-shanghai: no remote secret for wuxi"));
  CHECK(took < std::chrono::seconds(20));
}

TEST_CASE("status after join: both clusters synced with one root, --wait returns at once",
          "[e2e][status]") {
  MESHCTL_REQUIRE_SIM();
  TestClusters clusters;
  auto j = clusters.meshctl({"join", "cn-shanghai", "wuxi"});
  INFO(j.out << j.err);
  REQUIRE(j.exit_code == 0);

  const auto t0 = std::chrono::steady_clock::now();
  auto w = clusters.meshctl({"status", "--wait", "--timeout", "60s"});
  INFO(w.out << w.err);
  CHECK(w.exit_code == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30));

  auto r = clusters.meshctl({"status"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "1.24.2 (default) 1/1"));
  CHECK_FALSE(contains(r.out, "!"));

  auto o = clusters.meshctl({"status", "-o", "json"});
  INFO(o.out << o.err);
  REQUIRE(o.exit_code == 0);
  const auto doc = json::parse(o.out);
  CHECK(doc["apiVersion"] == "meshctl.dev/v1alpha1");
  CHECK(doc["kind"] == "MeshStatus");
  REQUIRE(doc["clusters"].size() == 2);
  CHECK(doc["findings"].is_array());
  const auto& a = cluster_entry(doc, "cn-shanghai");
  const auto& b = cluster_entry(doc, "wuxi");
  for (const auto* c : {&a, &b}) {
    CHECK((*c)["reachable"] == true);
    REQUIRE((*c)["remotes"].size() == 1);
    CHECK((*c)["remotes"][0]["synced"] == true);
    CHECK((*c)["remotes"][0]["syncStatus"] == "synced");
    CHECK((*c)["gateway"]["address"] != "");
    CHECK((*c)["gateway"]["readyPods"].get<int>() >= 1);
    CHECK((*c)["root"]["differs"] == false);
  }
  CHECK(a["root"]["fingerprint"] == b["root"]["fingerprint"]);
  // Both rows say "1/1 synced" in the table.
  std::size_t synced = 0;
  for (auto at = r.out.find("1/1 synced"); at != std::string::npos;
       at = r.out.find("1/1 synced", at + 1)) {
    ++synced;
  }
  CHECK(synced == 2);
}

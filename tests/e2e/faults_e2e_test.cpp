// meshctl against API servers that fail: fault runs (errors, resets, slow answers, an API server
// killed mid-run) that end finished or clearly failed with nothing half-written and converge
// without faults; two joins at once; verify not turning a busy API server into a verdict; and
// --timeout bounding a slow cluster. scripts/chaos runs many more fault runs (README
// "Reliability").

#include "chaos.hpp"
#include "verify_steps.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <future>

using meshctl::e2e::FaultRunOptions;
using meshctl::e2e::TestClusters;
using nlohmann::json;

namespace {

void require_good(const meshctl::e2e::FaultRunResult& r) {
  for (const auto& v : r.verbs) {
    INFO(v.verb << " exit " << v.exit_code << ": " << v.why);
    CHECK(v.clear);
  }
  for (const auto& h : r.half_written) {
    INFO(h);
    CHECK(false);
  }
  INFO(r.problem);
  CHECK(r.converged);
  CHECK(r.write_free);
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

} // namespace

TEST_CASE("fault runs finish or fail clearly, leave nothing half-written and converge",
          "[e2e][faults]") {
  MESHCTL_REQUIRE_SIM();
  TestClusters clusters;
  meshctl::e2e::prepare_fault_runs(clusters);
  // The clusters start clean and valid.
  REQUIRE(meshctl::e2e::check_invariants(clusters).empty());
  for (int i = 0; i < 1; ++i) {
    INFO("fault run " << i);
    require_good(meshctl::e2e::fault_run(clusters, FaultRunOptions{}));
  }
  // One API server killed part-way through join: the rest fails clearly, one line per cluster.
  FaultRunOptions kill;
  kill.kill = clusters.names()[1];
  kill.kill_after_ms = 300;
  const auto killed = meshctl::e2e::fault_run(clusters, kill);
  require_good(killed);
  // After the kill, the verbs that needed that cluster failed, saying which cluster.
  bool named = false;
  for (const auto& v : killed.verbs) {
    named = named ||
            (v.exit_code != 0 && v.why.find("error: " + kill.kill + ": ") != std::string::npos);
  }
  CHECK(named);
}

TEST_CASE("two joins at once end with one root CA everywhere", "[e2e][faults][join]") {
  MESHCTL_REQUIRE_SIM();
  TestClusters clusters;
  const auto& a = clusters.names()[0];
  const auto& b = clusters.names()[1];
  // No mesh root yet: both joins race to create it.
  std::filesystem::remove_all(clusters.dir().path() / ".config/meshctl/pki/mesh1");
  auto first = std::async(std::launch::async, [&] { return clusters.meshctl({"join", a, b}); });
  auto second = std::async(std::launch::async, [&] { return clusters.meshctl({"join", a, b}); });
  const auto r1 = first.get();
  const auto r2 = second.get();
  INFO(r1.err << "\n---\n" << r2.err);
  // Each finished, or lost the race saying so with exit 1 (not a configuration error).
  for (const auto* r : {&r1, &r2}) {
    const bool finished_or_lost = r->exit_code == 0 || r->exit_code == 1;
    CHECK(finished_or_lost);
    if (r->exit_code == 1) {
      const bool says_race =
          r->err.find("another meshctl join created the mesh's root CA at the same time") !=
              std::string::npos ||
          r->err.find("another meshctl join issued this cluster's intermediate CA") !=
              std::string::npos;
      CHECK(says_race);
      CHECK(r->err.find("run the same command again") != std::string::npos);
    }
  }
  const bool one_finished = r1.exit_code == 0 || r2.exit_code == 0;
  CHECK(one_finished);
  // A re-run finishes, and every cluster holds the one root of the local PKI.
  const auto again = clusters.meshctl({"join", a, b});
  INFO(again.err);
  CHECK(again.exit_code == 0);
  const auto problems = meshctl::e2e::check_invariants(clusters);
  for (const auto& p : problems) {
    INFO(p);
    CHECK(false);
  }
  CHECK(clusters.sim(a).request("GET", "/api/v1/namespaces/istio-system/secrets/cacerts").first ==
        200);
}

TEST_CASE("verify says it could not check a token's permissions when the reviews fail",
          "[e2e][faults][verify]") {
  MESHCTL_REQUIRE_SIM();
  TestClusters clusters;
  const auto& a = clusters.names()[0];
  const auto& b = clusters.names()[1];
  REQUIRE(clusters.meshctl({"join", a, b}).exit_code == 0);
  // Every SelfSubjectAccessReview is answered 503, five times in a row and more.
  for (const auto& n : clusters.names()) {
    clusters.sim(n).set_faults(
        {{"errorRate", {{"503", 1.0}}}, {"pathPrefix", "/apis/authorization.k8s.io/"}});
  }
  const auto report = meshctl::e2e::verify(clusters);
  for (const auto& n : clusters.names()) {
    clusters.sim(n).clear_faults();
  }
  INFO(report.dump(2));
  // No false RBAC verdict: the checks that could not be made say so, with the status.
  CHECK_FALSE(meshctl::e2e::has(report, a, "remote-secret.permissions"));
  const auto unchecked = meshctl::e2e::finding(report, a, "remote-secret.unchecked");
  REQUIRE_FALSE(unchecked.is_null());
  CHECK(unchecked["severity"] == "warning");
  CHECK(unchecked["message"].get<std::string>().find("could not check") != std::string::npos);
  CHECK(unchecked["message"].get<std::string>().find("list nodes (HTTP 503)") != std::string::npos);
  // The reviews were retried as the reads they are.
  std::size_t reviews = 0;
  for (const auto& l : clusters.sim(b).request_log()) {
    reviews += l.value("resource", "") == "selfsubjectaccessreviews" ? 1 : 0;
  }
  CHECK(reviews > 7);
}

TEST_CASE("the timeout flag bounds each request to a slow cluster, retries included",
          "[e2e][faults][timeout]") {
  MESHCTL_REQUIRE_SIM();
  TestClusters clusters;
  const auto& a = clusters.names()[0];
  const auto& b = clusters.names()[1];
  clusters.sim(b).set_faults({{"latencyMs", 2500}});
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = clusters.meshctl({"join", a, b, "--timeout", "1"});
  const double took = seconds_since(t0);
  clusters.sim(b).clear_faults();
  INFO(r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("error: " + b + ": ") != std::string::npos);
  CHECK(took < 4.0);
  // Durations as people write them; a bad one is a usage error on one line.
  const auto bad = clusters.meshctl({"join", a, b, "--timeout", "soon"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.rfind("error: --timeout is not a duration: \"soon\"\n", 0) == 0);
  CHECK(clusters.meshctl({"join", a, b, "--timeout", "1m30s"}).exit_code == 0);
}

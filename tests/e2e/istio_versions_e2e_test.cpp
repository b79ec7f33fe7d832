// Istio's API versions end to end: on Istio 1.21 (variant istio-v1beta1: networking.istio.io
// serves only v1beta1 and v1alpha3) meshctl joins, exposes and localizes at v1beta1 and verify
// ends as on the standard sandbox; after an upgrade to CRDs that serve v1 it switches to v1 and
// finds everything unchanged. And a cluster without a usable Istio API stops join, expose and
// localize before anything is created: no PKI on disk, no write request.

#include "verify_steps.hpp"

#include <filesystem>
#include <set>

using namespace meshctl::e2e;

namespace {

int total(const json& report, const char* field) {
  int n = 0;
  for (const auto& c : report["clusters"]) {
    n += c[field].get<int>();
  }
  return n;
}

json run_json(const TestClusters& clusters, std::vector<std::string> args) {
  args.insert(args.end(), {"-o", "json"});
  auto r = clusters.meshctl(args);
  INFO(args[0] << ": " << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

// join → join again (nothing to write) → expose (and drop *.local) → localize → verify until it
// passes; returns the last verify report.
json story(TestClusters& clusters) {
  run_json(clusters, {"join", "cn-shanghai", "wuxi", "--restart-istiod"});
  const auto mark = clusters.mark();
  const json again = run_json(clusters, {"join", "cn-shanghai", "wuxi"});
  CHECK(total(again, "created") == 0);
  CHECK(total(again, "updated") == 0);
  CHECK(clusters.writes_since(mark).empty());
  run_json(clusters, {"expose", "helloworld.dev"});
  run_json(clusters, {"expose", "--remove", "--all"}); // only helloworld.dev stays exposed
  run_json(clusters, {"localize", "helloworld.dev"});
  return verify_until(clusters, [](const json& j) { return j["exit"] == 0; },
                      {"--fail-on", "warning"});
}

// What a verify report says, without what differs between two installations by design: finding
// messages (they name the API version) and addresses (allocated ports).
json outline(const json& report) {
  json out = {{"exit", report["exit"]},
              {"errors", report["summary"]["errors"]},
              {"warnings", report["summary"]["warnings"]}};
  for (const auto& c : report["clusters"]) {
    std::set<std::string> findings;
    for (const auto& f : c["findings"]) {
      findings.insert(f["severity"].get<std::string>() + " " + f["id"].get<std::string>());
    }
    std::vector<std::string> rows;
    for (const auto& r : c["endpoints"]["rows"]) {
      rows.push_back(r["kind"].get<std::string>() + " " + r["peerCluster"].get<std::string>() +
                     " " + std::to_string(r["priority"].get<int>()));
    }
    std::sort(rows.begin(), rows.end());
    out["clusters"][c["name"].get<std::string>()] = {{"findings", findings}, {"endpoints", rows}};
  }
  return out;
}

// The networking.istio.io versions of the object requests (not discovery) in a request log.
std::set<std::string> istio_versions_used(const std::vector<json>& log) {
  const std::string prefix = "/apis/networking.istio.io/";
  std::set<std::string> out;
  for (const auto& l : log) {
    const std::string path = l.value("path", "");
    if (path.rfind(prefix, 0) != 0) {
      continue;
    }
    const auto rest = path.substr(prefix.size());
    const auto slash = rest.find('/');
    if (slash != std::string::npos) { // /apis/networking.istio.io/V alone is discovery
      out.insert(rest.substr(0, slash));
    }
  }
  return out;
}

std::vector<json> log_since(TestClusters& clusters, const std::vector<std::size_t>& mark) {
  std::vector<json> out;
  for (std::size_t i = 0; i < clusters.names().size(); ++i) {
    for (auto& l : clusters.sim(clusters.names()[i]).request_log_since(mark[i])) {
      out.push_back(std::move(l));
    }
  }
  return out;
}

std::string manager_api_version(const json& obj) {
  for (const auto& m : obj["metadata"].value("managedFields", json::array())) {
    if (m["manager"] == "meshctl") {
      return m.value("apiVersion", "");
    }
  }
  return "";
}

} // namespace

TEST_CASE("Istio 1.21 (v1beta1 only): the story at v1beta1, verify as on current Istio, and an "
          "upgrade to v1 changes nothing",
          "[e2e][variant][istio-v1beta1]") {
  MESHCTL_REQUIRE_SIM();
  json standard;
  {
    TestClusters clusters;
    standard = story(clusters);
    INFO(problems(standard));
    REQUIRE(standard["exit"] == 0);
  }

  kubesim::testing::KubesimOptions variant;
  variant.variant = "istio-v1beta1";
  TestClusters clusters(variant);
  const auto start = clusters.mark();
  const json report = story(clusters);
  INFO(problems(report));
  CHECK(report["exit"] == 0);
  CHECK(outline(report) == outline(standard));
  for (const auto& name : clusters.names()) {
    const json crds = finding(report, name, "istio.crds");
    INFO(cluster_of(report, name)["findings"].dump());
    REQUIRE(crds.is_object());
    CHECK(crds["message"] == "Istio CRDs served (networking.istio.io/v1beta1)");
  }
  // Every object request meshctl made went to v1beta1.
  CHECK(istio_versions_used(log_since(clusters, start)) == std::set<std::string>{"v1beta1"});

  for (const auto& name : clusters.names()) {
    // Written and served at v1beta1 (stored at v1alpha3, Istio 1.21's storage version); v1 is
    // not served at all.
    const json gw = clusters.kubectl_json(name, {"-n", "istio-system", "get",
                                                 "gateways.v1beta1.networking.istio.io",
                                                 "cross-network-gateway", "--show-managed-fields"});
    CHECK(gw["apiVersion"] == "networking.istio.io/v1beta1");
    CHECK(manager_api_version(gw) == "networking.istio.io/v1beta1");
    CHECK(gw["spec"]["servers"][0]["hosts"] == json({"helloworld.dev.svc.cluster.local"}));
    const json dr = clusters.kubectl_json(name, {"-n", "dev", "get",
                                                 "destinationrules.v1beta1.networking.istio.io",
                                                 "helloworld", "--show-managed-fields"});
    CHECK(dr["apiVersion"] == "networking.istio.io/v1beta1");
    CHECK(manager_api_version(dr) == "networking.istio.io/v1beta1");
    CHECK(dr["spec"]["trafficPolicy"].contains("outlierDetection"));
    const json crd =
        clusters.kubectl_json(name, {"get", "crd", "destinationrules.networking.istio.io"});
    CHECK(crd["status"]["storedVersions"] == json({"v1alpha3"}));
    const auto v1 =
        clusters.kubectl(name, {"-n", "dev", "get", "destinationrules.v1.networking.istio.io"});
    CHECK(v1.exit_code != 0);
  }

  // A dry run shows the same choice: the plan is at v1beta1 and has nothing to do.
  {
    const json plan = run_json(clusters, {"localize", "helloworld.dev", "--dry-run=client"});
    for (const auto& c : plan["clusters"]) {
      CHECK(c["objects"][0]["apiVersion"] == "networking.istio.io/v1beta1");
      CHECK(c["objects"][0]["action"] == "unchanged");
    }
  }

  // Istio upgraded to CRDs that serve (and store) v1: the objects are the same, read at v1, and
  // nothing needs writing.
  const auto crds = (kubesim::testing::KubesimProcess::seed_dir() / "istio-crds.yaml").string();
  for (const auto& name : clusters.names()) {
    auto r = clusters.kubectl(name, {"replace", "-f", crds});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  const auto upgraded = clusters.mark();
  for (const auto& verb : std::vector<std::vector<std::string>>{{"join", "cn-shanghai", "wuxi"},
                                                                {"expose", "helloworld.dev"},
                                                                {"localize", "helloworld.dev"}}) {
    const json r = run_json(clusters, verb);
    CHECK(total(r, "created") == 0);
    CHECK(total(r, "updated") == 0);
  }
  CHECK(clusters.writes_since(upgraded).empty());
  CHECK(istio_versions_used(log_since(clusters, upgraded)) == std::set<std::string>{"v1"});

  // unjoin --all finds and removes them at the version the cluster now serves.
  run_json(clusters, {"unjoin", "cn-shanghai", "wuxi", "--all"});
  for (const auto& name : clusters.names()) {
    CHECK(
        clusters.kubectl(name, {"-n", "dev", "get", "destinationrules", "helloworld"}).exit_code !=
        0);
    CHECK(clusters
              .kubectl(name, {"-n", "istio-system", "get", "gateways.networking.istio.io",
                              "cross-network-gateway"})
              .exit_code != 0);
  }
}

TEST_CASE("a cluster without a usable Istio API stops join, expose and localize before anything "
          "is created",
          "[e2e][join][preconditions][pki]") {
  MESHCTL_REQUIRE_SIM();
  TestClusters clusters;
  // No mesh root yet: join would make one, but only after every precondition passed.
  const auto pki = clusters.dir().path() / ".config/meshctl/pki";
  std::filesystem::remove_all(pki);
  // cn-shanghai serves Istio's kinds only at v1alpha3 (v1 and v1beta1 turned off); wuxi has no
  // Istio CRDs at all.
  for (const char* crd : {"gateways.networking.istio.io", "destinationrules.networking.istio.io"}) {
    auto r = clusters.kubectl(
        "cn-shanghai", {"patch", "crd", crd, "--type=json", "-p",
                        R"([{"op":"replace","path":"/spec/versions/0/served","value":false},)"
                        R"({"op":"replace","path":"/spec/versions/1/served","value":false}])"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    REQUIRE(clusters.kubectl("wuxi", {"delete", "crd", crd}).exit_code == 0);
  }
  const auto mark = clusters.mark();
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"join", "cn-shanghai", "wuxi"},
                                             {"join", "cn-shanghai", "wuxi", "--dry-run=server"},
                                             {"expose", "--all"},
                                             {"localize", "helloworld.dev"},
                                             // Listing and removing stop the same way, with
                                             // every cluster's error.
                                             {"expose"},
                                             {"localize"},
                                             {"localize", "--remove", "helloworld.dev"}}) {
    auto r = clusters.meshctl(args);
    INFO(args[0] << ": " << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("Istio in cn-shanghai serves networking.istio.io Gateway at v1alpha3; "
                     "DestinationRule at v1alpha3 only, and meshctl needs v1 or v1beta1") !=
          std::string::npos);
    CHECK(r.err.find("Istio is not installed in wuxi (networking.istio.io Gateway unknown)") !=
          std::string::npos);
    CHECK(r.err.find("precondition(s) failed; nothing was written") != std::string::npos);
  }
  CHECK(clusters.writes_since(mark).empty());
  CHECK_FALSE(std::filesystem::exists(pki));
  // verify says the same about cn-shanghai.
  const json report = verify(clusters);
  CHECK(has(report, "cn-shanghai", "istio.crds-too-old"));
  CHECK(has(report, "wuxi", "istio.crds-missing"));
}

// meshctl version end to end: each cluster's Kubernetes version (GET /version) and istiod
// revisions with their versions, next to meshctl's own; a cluster that cannot be reached is
// reported on its own line while the others still print.

#include "clusters.hpp"

#include <nlohmann/json.hpp>

using meshctl::e2e::cluster_entry;
using meshctl::e2e::TestClusters;
using nlohmann::json;

namespace {

// A second istiod revision, as a canary upgrade installs it (istio-discovery chart labels).
constexpr const char* k_canary = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: istiod-canary
  namespace: istio-system
  labels: {app: istiod, istio.io/rev: canary}
spec:
  replicas: 1
  selector:
    matchLabels: {app: istiod, istio.io/rev: canary}
  template:
    metadata:
      labels: {app: istiod, istio.io/rev: canary}
    spec:
      containers:
      - name: discovery
        image: docker.io/istio/pilot:1.25.0
)";

} // namespace

TEST_CASE("version shows every cluster's Kubernetes and istiod versions", "[e2e][version]") {
  TestClusters clusters;
  auto r = clusters.meshctl({"version"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(r.out.rfind(std::string("meshctl ") + MESHCTL_VERSION + "\nCLUSTER ", 0) == 0);
  auto j = clusters.meshctl({"version", "-o", "json"});
  REQUIRE(j.exit_code == 0);
  const auto doc = json::parse(j.out);
  CHECK(doc["clientVersion"] == MESHCTL_VERSION);
  REQUIRE(doc["clusters"].size() == 2);
  for (const auto& name : clusters.names()) {
    const auto& c = cluster_entry(doc, name);
    CHECK(c["kubernetesVersion"].get<std::string>().rfind('v', 0) == 0);
    CHECK(c["errors"] == json::array());
    REQUIRE(c["istio"].is_array());
    CHECK_FALSE(c["istio"].empty());
  }
  if (TestClusters::real()) {
    return;
  }
  // kubesim reports v1.32.0 (as --version says); the seed runs istiod 1.24.2, revision default.
  CHECK(r.out == std::string("meshctl ") + MESHCTL_VERSION +
                     "\n"
                     "CLUSTER       KUBERNETES   ISTIOD\n"
                     "cn-shanghai   v1.32.0      1.24.2\n"
                     "wuxi          v1.32.0      1.24.2\n");
  CHECK(cluster_entry(doc, "wuxi")["istio"] ==
        json::array({{{"revision", "default"},
                      {"version", "1.24.2"},
                      {"image", "docker.io/istio/pilot:1.24.2"}}}));
  // -o wide: the API server's platform and each istiod's image in full.
  const auto wide = clusters.meshctl({"version", "-o", "wide"});
  CHECK(wide.out ==
        std::string("meshctl ") + MESHCTL_VERSION +
            "\n"
            "CLUSTER       KUBERNETES   PLATFORM      ISTIOD   IMAGES\n"
            "cn-shanghai   v1.32.0      linux/amd64   1.24.2   docker.io/istio/pilot:1.24.2\n"
            "wuxi          v1.32.0      linux/amd64   1.24.2   docker.io/istio/pilot:1.24.2\n");

  // Two revisions in wuxi: both listed, the canary named.
  meshctl::testing::TempDir dir;
  auto created = clusters.kubectl("wuxi", {"create", "-f", dir.write("c.yaml", k_canary).string()});
  INFO(created.err);
  REQUIRE(created.exit_code == 0);
  r = clusters.meshctl({"version", "--context", "wuxi"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == std::string("meshctl ") + MESHCTL_VERSION +
                     "\n"
                     "CLUSTER   KUBERNETES   ISTIOD\n"
                     "wuxi      v1.32.0      1.24.2, 1.25.0 (revision canary)\n");
  j = clusters.meshctl({"version", "--context", "wuxi", "-o", "json"});
  CHECK(json::parse(j.out)["clusters"] ==
        json::array({{{"name", "wuxi"},
                      {"kubernetesVersion", "v1.32.0"},
                      {"platform", "linux/amd64"},
                      {"istio",
                       {{{"revision", "default"},
                         {"version", "1.24.2"},
                         {"image", "docker.io/istio/pilot:1.24.2"}},
                        {{"revision", "canary"},
                         {"version", "1.25.0"},
                         {"image", "docker.io/istio/pilot:1.25.0"}}}},
                      {"errors", json::array()}}}));
}

TEST_CASE("version: a cluster that cannot be reached is an error line, the others still print",
          "[e2e][version]") {
  MESHCTL_REQUIRE_SIM();
  TestClusters clusters;
  clusters.sim("wuxi").stop();
  auto r = clusters.meshctl({"version", "--timeout", "3s"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out == std::string("meshctl ") + MESHCTL_VERSION +
                     "\n"
                     "CLUSTER       KUBERNETES   ISTIOD\n"
                     "cn-shanghai   v1.32.0      1.24.2\n");
  CHECK(r.err.rfind("error: wuxi: ", 0) == 0);
  CHECK(r.err.find("cn-shanghai") == std::string::npos);

  auto j = clusters.meshctl({"version", "--timeout", "3s", "-o", "json"});
  CHECK(j.exit_code == 1);
  const auto doc = json::parse(j.out);
  CHECK(cluster_entry(doc, "cn-shanghai")["kubernetesVersion"] == "v1.32.0");
  const auto& wuxi = cluster_entry(doc, "wuxi");
  REQUIRE(wuxi["errors"].size() == 1);
  CHECK(wuxi["errors"][0]["message"].get<std::string>().rfind("wuxi: ", 0) == 0);
  CHECK_FALSE(wuxi.contains("kubernetesVersion"));
  CHECK_FALSE(wuxi.contains("istio"));

  // --client asks no cluster, so the dead one does not matter.
  auto client = clusters.meshctl({"version", "--client"});
  CHECK(client.exit_code == 0);
  CHECK(client.out == std::string("meshctl ") + MESHCTL_VERSION + "\n");
}

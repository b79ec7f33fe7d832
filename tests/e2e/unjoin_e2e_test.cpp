// unjoin end to end: after join, expose, localize and sync-svc, unjoin removes exactly what meshctl
// made — the links first, everything with --all, cacerts only with --purge-ca — leaves what it did
// not make, and a second run deletes nothing.

#include "clusters.hpp"

#include <nlohmann/json.hpp>

using meshctl::e2e::TestClusters;
using meshctl::testing::TempDir;
using nlohmann::json;

namespace {

json result(const meshctl::testing::RunResult& r) {
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

bool exists(const TestClusters& clusters, const std::string& context,
            const std::vector<std::string>& what) {
  std::vector<std::string> args = what;
  args.insert(args.begin(), "get");
  return clusters.kubectl(context, args).exit_code == 0;
}

int deleted(const json& report) {
  int n = 0;
  for (const auto& c : report["clusters"]) {
    n += c["deleted"].get<int>();
  }
  return n;
}

// Everything meshctl makes, in both clusters.
void mesh_everything(TestClusters& clusters) {
  const auto& a = clusters.names()[0];
  const auto& b = clusters.names()[1];
  result(clusters.meshctl({"join", a, b, "-o", "json"}));
  result(clusters.meshctl({"expose", "--all", "-o", "json"}));
  result(clusters.meshctl({"localize", "helloworld.dev", "-o", "json"}));
  TempDir dir;
  const auto svc =
      dir.write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: only-a\n"
                            "  namespace: dev\nspec:\n  ports:\n  - port: 80\n");
  REQUIRE(clusters.kubectl(a, {"create", "-f", svc.string()}).exit_code == 0);
  result(clusters.meshctl({"sync-svc", "-o", "json"}));
  REQUIRE(exists(clusters, b, {"-n", "dev", "service", "only-a"}));
}

} // namespace

TEST_CASE("unjoin removes the links, --all the rest, --purge-ca the CA — reruns delete nothing",
          "[e2e][unjoin]") {
  TestClusters clusters;
  const auto& a = clusters.names()[0];
  const auto& b = clusters.names()[1];
  mesh_everything(clusters);

  // A dry run lists and deletes nothing.
  auto mark = clusters.mark();
  auto plan = clusters.meshctl({"unjoin", a, b, "--dry-run"});
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 0);
  // Worded as kubectl words a dry run: what would be done, marked "(dry run)".
  CHECK(plan.out.find("deleted    Secret istio-system/istio-remote-secret-" + b) !=
        std::string::npos);
  const auto summary = plan.out.substr(plan.out.find(a + ": "));
  CHECK(summary.substr(0, summary.find('\n')).ends_with(" left alone (dry run)"));
  CHECK(plan.err.find("note: the east-west gateways") != std::string::npos);
  CHECK(plan.out.find("note:") == std::string::npos); // notes are for people: stderr
  if (!TestClusters::real()) {
    CHECK(clusters.writes_since(mark).empty());
  }
  CHECK(exists(clusters, a, {"-n", "istio-system", "secret", "istio-remote-secret-" + b}));

  // The links: remote secrets both ways and the reader tokens nobody else uses.
  auto links = result(clusters.meshctl({"unjoin", a, b, "-o", "json"}));
  CHECK(links["kind"] == "UnjoinResult");
  CHECK(deleted(links) == 4);
  for (const auto& [here, there] : {std::pair{a, b}, std::pair{b, a}}) {
    CHECK_FALSE(
        exists(clusters, here, {"-n", "istio-system", "secret", "istio-remote-secret-" + there}));
    CHECK_FALSE(exists(clusters, here,
                       {"-n", "istio-system", "secret",
                        "istio-reader-service-account-istio-remote-secret-token"}));
    // Istio's own objects stay; so does everything else until --all.
    CHECK(exists(clusters, here,
                 {"-n", "istio-system", "serviceaccount", "istio-reader-service-account"}));
    CHECK(exists(clusters, here, {"clusterrole", "istio-reader-clusterrole-istio-system"}));
    CHECK(exists(clusters, here, {"-n", "istio-system", "deployment", "istio-eastwestgateway"}));
    CHECK(exists(clusters, here, {"-n", "istio-system", "secret", "cacerts"}));
  }

  // Again: nothing to delete, exit 0, no writes.
  mark = clusters.mark();
  auto again = result(clusters.meshctl({"unjoin", a, b, "-o", "json"}));
  CHECK(deleted(again) == 0);
  if (!TestClusters::real()) {
    CHECK(clusters.writes_since(mark).empty());
  }

  // --all: gateway, expose Gateway, DestinationRules, synced copies.
  auto all = result(clusters.meshctl({"unjoin", a, b, "--all", "-o", "json"}));
  CHECK(deleted(all) >= 2 * 7 + 1);
  for (const auto& c : clusters.names()) {
    for (const char* kind : {"deployment", "service", "serviceaccount", "role", "rolebinding"}) {
      CHECK_FALSE(exists(clusters, c, {"-n", "istio-system", kind, "istio-eastwestgateway"}));
    }
    CHECK_FALSE(
        exists(clusters, c,
               {"-n", "istio-system", "gateways.networking.istio.io", "cross-network-gateway"}));
    CHECK_FALSE(
        exists(clusters, c, {"-n", "dev", "destinationrules.networking.istio.io", "helloworld"}));
    CHECK(exists(clusters, c, {"-n", "istio-system", "secret", "cacerts"}));
    CHECK(exists(clusters, c, {"namespace", "istio-system"}));
    CHECK(exists(clusters, c, {"-n", "dev", "service", "helloworld"})); // originals stay
  }
  CHECK_FALSE(exists(clusters, b, {"-n", "dev", "service", "only-a"})); // the copy
  CHECK(exists(clusters, a, {"-n", "dev", "service", "only-a"}));       // its original

  auto purge = result(clusters.meshctl({"unjoin", a, b, "--all", "--purge-ca", "-o", "json"}));
  CHECK(deleted(purge) == 2);
  CHECK_FALSE(exists(clusters, a, {"-n", "istio-system", "secret", "cacerts"}));
  CHECK(purge["notes"].size() == 2); // restart istiod, per cluster

  mark = clusters.mark();
  auto last = clusters.meshctl({"unjoin", a, b, "--all", "--purge-ca"});
  CHECK(last.exit_code == 0);
  CHECK(last.out == "nothing to remove: no object meshctl made is left\n");
  if (!TestClusters::real()) {
    CHECK(clusters.writes_since(mark).empty());
  }
}

TEST_CASE("unjoin leaves objects that do not carry meshctl's label", "[e2e][unjoin]") {
  TestClusters clusters;
  MESHCTL_REQUIRE_SIM();
  const auto& a = clusters.names()[0];
  const auto& b = clusters.names()[1];
  // A remote secret made by istioctl (no managed-by label) and a DestinationRule of the user's.
  TempDir dir;
  const auto secret = dir.write(
      "s.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: istio-remote-secret-" + b +
                    "\n  namespace: istio-system\n  labels:\n    istio/multiCluster: \"true\"\n"
                    "data:\n  " +
                    b + ": a3ViZWNvbmZpZw==\n");
  REQUIRE(clusters.kubectl(a, {"create", "-f", secret.string()}).exit_code == 0);
  const auto dr =
      dir.write("dr.yaml", "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n"
                           "  name: mine\n  namespace: dev\nspec:\n  host: helloworld\n");
  REQUIRE(clusters.kubectl(a, {"create", "-f", dr.string()}).exit_code == 0);

  auto r = clusters.meshctl({"unjoin", a, b, "--all"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("kept       Secret istio-system/istio-remote-secret-" + b) != std::string::npos);
  CHECK(r.out.find("not labelled app.kubernetes.io/managed-by=meshctl") != std::string::npos);
  CHECK(exists(clusters, a, {"-n", "istio-system", "secret", "istio-remote-secret-" + b}));
  CHECK(exists(clusters, a, {"-n", "dev", "destinationrules.networking.istio.io", "mine"}));
  CHECK(clusters.meshctl({"unjoin", a}).exit_code == 2); // links need two clusters
}

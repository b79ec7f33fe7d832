// verify's collector over scripted API servers: a read that fails (403, 503, timeout) becomes a
// "could not read" fact, never a crash and never a verdict about something that was not seen.

#include "check/checks.hpp"
#include "check/collect.hpp"
#include "support/fake_transport.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace meshctl;
using namespace meshctl::check;
using meshctl::kube::Method;
using meshctl::testing::fake_client;
using meshctl::testing::FakeReply;
using meshctl::testing::FakeTransport;
using nlohmann::json;

namespace {

const std::string k_cacerts_path = "/api/v1/namespaces/istio-system/secrets/cacerts";
// istiod is found by its labels: the list of Deployments in istio-system is what is read.
const std::string k_istiod_path = "/apis/apps/v1/namespaces/istio-system/deployments";

std::shared_ptr<FakeTransport> istio_cluster(const std::string& name) {
  auto fake = std::make_shared<FakeTransport>();
  fake->serve_discovery();
  fake->on(Method::k_get, "/version",
           FakeReply::json({{"major", "1"}, {"minor", "30"}, {"gitVersion", "v1.30.2"}}));
  fake->serve_object(
      {{"apiVersion", "apps/v1"},
       {"kind", "Deployment"},
       {"metadata",
        {{"name", "istiod"}, {"namespace", "istio-system"}, {"labels", {{"app", "istiod"}}}}},
       {"spec",
        {{"template",
          {{"spec",
            {{"containers",
              {{{"name", "discovery"},
                {"env", {{{"name", "CLUSTER_ID"}, {"value", name}}}}}}}}}}}}}});
  fake->serve_object(
      {{"apiVersion", "v1"},
       {"kind", "Namespace"},
       {"metadata",
        {{"name", "istio-system"}, {"labels", {{"topology.istio.io/network", name}}}}}});
  return fake;
}

struct Verify {
  mesh::Session session;
  std::vector<std::shared_ptr<FakeTransport>> fakes;
  std::vector<std::unique_ptr<kube::Client>> clients;
  CollectOptions options;

  explicit Verify(const std::vector<std::string>& names) {
    for (const auto& n : names) {
      config::ClusterConfig c;
      c.name = n;
      c.context = n;
      c.network = n;
      session.config.clusters.push_back(c);
      fakes.push_back(istio_cluster(n));
      clients.push_back(fake_client(n, fakes.back()));
    }
    session.clusters = session.config.clusters;
    options.service = {"helloworld", "sample"};
  }
  MeshFacts collect() { return collect_facts(session, clients, options); }
};

const ClusterFacts& cluster(const MeshFacts& facts, const std::string& name) {
  const auto it = std::find_if(facts.clusters.begin(), facts.clusters.end(),
                               [&](const ClusterFacts& c) { return c.name == name; });
  REQUIRE(it != facts.clusters.end());
  return *it;
}

std::vector<Finding> findings(const Findings& all, const std::string& cluster_name,
                              const std::string& id) {
  std::vector<Finding> out;
  std::copy_if(all.begin(), all.end(), std::back_inserter(out),
               [&](const Finding& f) { return f.cluster == cluster_name && f.id == id; });
  return out;
}

} // namespace

TEST_CASE("a 403 on cacerts is 'cannot read cacerts', not 'cacerts is missing'",
          "[check][collect][seam]") {
  Verify v({"wuxi"});
  v.fakes[0]->on(Method::k_get, k_cacerts_path,
                 FakeReply::api_status(403, "Forbidden",
                                       "secrets \"cacerts\" is forbidden: User \"viewer\" cannot "
                                       "get resource \"secrets\" in API group \"\" in the "
                                       "namespace \"istio-system\""));
  const auto facts = v.collect();
  const auto& wuxi = cluster(facts, "wuxi");
  CHECK(wuxi.reachable);
  REQUIRE(wuxi.errors.contains("cacerts"));
  CHECK(wuxi.errors.at("cacerts").forbidden());
  CHECK_FALSE(wuxi.cacerts);
  CHECK(wuxi.istiod); // the other reads went on

  const auto all = run_checks(facts);
  const auto forbidden = findings(all, "wuxi", "cluster.forbidden");
  REQUIRE(forbidden.size() == 1);
  CHECK(forbidden[0].severity == Severity::k_warning);
  CHECK(forbidden[0].message == "cannot read cacerts (forbidden): that part is not verified");
  CHECK(forbidden[0].hint.find("kubectl auth can-i get secrets -n istio-system --context wuxi") !=
        std::string::npos);
  CHECK(findings(all, "wuxi", "cacerts.missing").empty());
  // Reading is all verify does.
  CHECK(v.fakes[0]->writes().size() == 0);
}

TEST_CASE("a 503 that persists is 'cannot read', and is retried first", "[check][collect][seam]") {
  Verify v({"wuxi"});
  v.fakes[0]->on(Method::k_get, k_istiod_path,
                 FakeReply::api_status(503, "ServiceUnavailable",
                                       "the server is currently unable to handle the request"));
  const auto facts = v.collect();
  const auto& wuxi = cluster(facts, "wuxi");
  REQUIRE(wuxi.errors.contains("istiod"));
  CHECK(wuxi.errors.at("istiod").http_status == 503);
  CHECK(v.fakes[0]->calls(Method::k_get, k_istiod_path).size() == 5);

  const auto all = run_checks(facts);
  const auto failed = findings(all, "wuxi", "cluster.read-failed");
  for (const auto& f : failed) {
    UNSCOPED_INFO(f.message);
  }
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].message.rfind("cannot read istiod: the server is currently unable to handle the "
                                "request",
                                0) == 0);
  CHECK(findings(all, "wuxi", "istiod.missing").empty());
}

TEST_CASE("a 503 once is retried and the fact is read", "[check][collect][seam]") {
  Verify v({"wuxi"});
  v.fakes[0]->on(Method::k_get, k_istiod_path,
                 FakeReply::api_status(503, "ServiceUnavailable", "etcd leader changed"), 1);
  const auto facts = v.collect();
  const auto& wuxi = cluster(facts, "wuxi");
  CHECK_FALSE(wuxi.errors.contains("istiod"));
  REQUIRE(wuxi.istiod);
  CHECK(wuxi.istiod->cluster_id == "wuxi");
}

TEST_CASE("a cluster that times out is unreachable — the other is still verified",
          "[check][collect][seam]") {
  Verify v({"cn-shanghai", "wuxi"});
  v.fakes[1]->on(Method::k_get, "/version", FakeReply::timeout());
  const auto facts = v.collect();
  const auto& wuxi = cluster(facts, "wuxi");
  CHECK_FALSE(wuxi.reachable);
  REQUIRE(wuxi.connect_error);
  CHECK(wuxi.connect_error->unreachable);
  // Nothing else was asked of it once /version had no answer.
  for (const auto& c : v.fakes[1]->calls()) {
    CHECK(c.path == "/version");
  }
  CHECK(cluster(facts, "cn-shanghai").reachable);
  CHECK(cluster(facts, "cn-shanghai").istiod);

  const auto all = run_checks(facts);
  const auto unreachable = findings(all, "wuxi", "cluster.unreachable");
  REQUIRE(unreachable.size() == 1);
  CHECK(unreachable[0].message.find("cannot reach wuxi (https://wuxi.fake.test:6443): timed out") ==
        0);
  // An unreachable cluster gets only that finding.
  CHECK(std::count_if(all.begin(), all.end(),
                      [](const Finding& f) { return f.cluster == "wuxi"; }) == 1);
}

TEST_CASE("a 403 on discovery keeps the cluster reachable and says what was not read",
          "[check][collect][seam]") {
  Verify v({"wuxi"});
  v.fakes[0]->on(Method::k_get, "/apis",
                 FakeReply::api_status(403, "Forbidden",
                                       "forbidden: User \"viewer\" cannot get path \"/apis\""));
  const auto facts = v.collect();
  const auto& wuxi = cluster(facts, "wuxi");
  CHECK(wuxi.reachable);
  REQUIRE(wuxi.errors.contains("discovery"));
  CHECK(wuxi.errors.at("discovery").forbidden());
  const auto all = run_checks(facts);
  CHECK(findings(all, "wuxi", "cluster.forbidden").size() >= 1);
  // Kinds discovery could not list are not called missing.
  CHECK(findings(all, "wuxi", "istio.crds-missing").empty());
}

TEST_CASE("verify --from: a pod no cluster has is not found, one a cluster forbids is not absent",
          "[check][collect][seam]") {
  const std::string pod_path = "/api/v1/namespaces/sample/pods/sleep-1";
  SECTION("404 everywhere: endpoints.from-not-found") {
    Verify v({"cn-shanghai", "wuxi"});
    v.options.from = "sleep-1.sample";
    const auto all = run_checks(v.collect());
    const auto f = findings(all, "", "endpoints.from-not-found");
    REQUIRE(f.size() == 1);
    CHECK(f[0].severity == Severity::k_error);
    CHECK(f[0].message == "--from sleep-1.sample: no such pod in any reachable cluster");
    CHECK(v.fakes[0]->calls(Method::k_get, pod_path).size() == 1);
  }
  SECTION("403 in one cluster: endpoints.unavailable there, nothing said missing") {
    Verify v({"cn-shanghai", "wuxi"});
    v.options.from = "sleep-1.sample";
    v.fakes[0]->on(Method::k_get, pod_path,
                   FakeReply::api_status(403, "Forbidden",
                                         "pods \"sleep-1\" is forbidden: User \"viewer\" cannot "
                                         "get resource \"pods\" in the namespace \"sample\""));
    const auto facts = v.collect();
    REQUIRE(cluster(facts, "cn-shanghai").errors.contains("client"));
    const auto all = run_checks(facts);
    CHECK(findings(all, "", "endpoints.from-not-found").empty());
    const auto unavailable = findings(all, "cn-shanghai", "endpoints.unavailable");
    REQUIRE(unavailable.size() == 1);
    CHECK(unavailable[0].severity == Severity::k_warning);
    CHECK(unavailable[0].message.find("forbidden") != std::string::npos);
  }
}

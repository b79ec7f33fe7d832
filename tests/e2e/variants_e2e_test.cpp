// Installation variants (seed/variants/NAME): the real binary on two kubesims installed as users
// meet Istio, each through join → join again (nothing to write) → expose → localize → verify,
// asserting what a real cluster of that kind gives.

#include "verify_steps.hpp"

using namespace meshctl::e2e;

namespace {

kubesim::testing::KubesimOptions variant(const std::string& name) {
  kubesim::testing::KubesimOptions o;
  o.variant = name;
  return o;
}

// Counts of the join summary lines "<cluster>: N created, M updated, K unchanged".
json join_json(const TestClusters& clusters, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"join", "cn-shanghai", "wuxi", "-o", "json"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = clusters.meshctl(args);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

int total(const json& report, const char* field) {
  int n = 0;
  for (const auto& c : report["clusters"]) {
    n += c[field].get<int>();
  }
  return n;
}

// join (restarting istiod), join again (must write nothing), expose, localize.
void join_expose_localize(const TestClusters& clusters) {
  const auto first = join_json(clusters, {"--restart-istiod"});
  CHECK(total(first, "created") > 0);
  const auto mark = clusters.mark();
  const auto second = join_json(clusters);
  CHECK(total(second, "created") == 0);
  CHECK(total(second, "updated") == 0);
  CHECK(clusters.writes_since(mark).empty());
  for (const std::vector<std::string>& step :
       {std::vector<std::string>{"expose", "helloworld.dev"},
        std::vector<std::string>{"localize", "helloworld.dev"}}) {
    auto r = clusters.meshctl(step);
    INFO(step[0] << ": " << r.out << r.err);
    REQUIRE(r.exit_code == 0);
  }
}

} // namespace

TEST_CASE("variant revision: istiod-1-24 only, found by its labels, and the mesh ends green",
          "[e2e][variant][revision]") {
  MESHCTL_REQUIRE_SIM();
  TestClusters clusters(variant("revision"));
  join_expose_localize(clusters);

  for (const auto& c : clusters.names()) {
    // --restart-istiod rolled the revision's Deployment (there is no istiod to roll).
    const auto istiod =
        clusters.kubectl_json(c, {"-n", "istio-system", "get", "deployment", "istiod-1-24"});
    CHECK(istiod["spec"]["template"]["metadata"]
              .value("annotations", json::object())
              .contains("kubectl.kubernetes.io/restartedAt"));
    CHECK(clusters.kubectl(c, {"-n", "istio-system", "get", "deployment", "istiod"}).exit_code !=
          0);
    // The gateway's pods name the revision, so the revision-only injector gave them a proxy.
    const auto gw = clusters.kubectl_json(
        c, {"-n", "istio-system", "get", "pods", "-l", "app=istio-eastwestgateway"});
    REQUIRE(gw["items"].size() == 1);
    const auto& pod = gw["items"][0];
    INFO(pod.dump(1));
    CHECK(pod["metadata"].value("labels", json::object()).value("istio.io/rev", "") == "1-24");
    CHECK(pod["metadata"].value("annotations", json::object()).value("istio.io/rev", "") == "1-24");
    bool proxy = false;
    for (const auto& ct : pod["spec"]["containers"]) {
      proxy = proxy || (ct["name"] == "istio-proxy" && ct["image"] != "auto");
    }
    CHECK(proxy);
  }

  auto r = verify_until(clusters, [](const json& j) { return j["exit"] == 0; },
                        {"--fail-on", "warning"});
  INFO(problems(r));
  CHECK(r["exit"] == 0);
  for (const auto& c : clusters.names()) {
    CHECK(cluster_of(r, c)["istiod"] ==
          json({{"revision", "1-24"}, {"version", "1.24.2"}, {"trustDomain", "cluster.local"}}));
    const auto ready = finding(r, c, "istiod.ready");
    REQUIRE_FALSE(ready.is_null());
    CHECK(ready["message"].get<std::string>().find("revision 1-24, version 1.24.2") !=
          std::string::npos);
    CHECK(has(r, c, "istiod.identity"));
    CHECK(has(r, c, "clusterz.synced"));
  }
  // helloworld-v1 runs in cn-shanghai only: wuxi's client reaches it through cn-shanghai's
  // gateway, whose proxy the revision's injector filled in.
  const auto rows = endpoints(r, "wuxi");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].rfind("remote-gateway cn-shanghai ", 0) == 0);
  CHECK(has(r, "cn-shanghai", "sni.ok"));
  // The text report shows the same.
  auto text = clusters.meshctl({"verify", "helloworld.dev"});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("revision 1-24, version 1.24.2") != std::string::npos);
}

TEST_CASE("variant trust-domain: verify reports wuxi's trust domain with the fix",
          "[e2e][variant][trust-domain]") {
  MESHCTL_REQUIRE_SIM();
  TestClusters clusters(variant("trust-domain"));
  join_expose_localize(clusters);

  // Both istiods serve their proxies; what a real mesh then lacks is mutual acceptance of the
  // workloads' identities, which verify reports.
  auto r = verify_until(clusters, [](const json& j) {
    return has(j, "wuxi", "clusterz.synced") && has(j, "cn-shanghai", "clusterz.synced");
  });
  INFO(problems(r));
  CHECK(r["exit"] == 1);
  const auto f = finding(r, "wuxi", "istiod.trust-domain-differs");
  REQUIRE_FALSE(f.is_null());
  CHECK(f["severity"] == "error");
  CHECK(f["message"].get<std::string>().find("\"wuxi.local\"") != std::string::npos);
  CHECK(f["hint"].get<std::string>().find("--set meshConfig.trustDomain=cluster.local") !=
        std::string::npos);
  CHECK(f["hint"].get<std::string>().find("ConfigMap istio-system/istio, key mesh") !=
        std::string::npos);
  CHECK(has(r, "", "istiod.trust-domain-differs"));
  CHECK_FALSE(has(r, "cn-shanghai", "istiod.trust-domain-differs"));
  CHECK(cluster_of(r, "wuxi")["istiod"]["trustDomain"] == "wuxi.local");
  CHECK(cluster_of(r, "cn-shanghai")["istiod"]["trustDomain"] == "cluster.local");
}

// join, expose and localize end to end: the real binary against two clusters.

#include "clusters.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

using meshctl::e2e::TestClusters;
using meshctl::testing::run;
using meshctl::testing::TempDir;
using nlohmann::json;

namespace {

std::string b64decode(const std::string& s) {
  auto r = run({"sh", "-c", "printf '%s' '" + s + "' | base64 -d"});
  return r.out;
}

json result(const meshctl::testing::RunResult& r) {
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

int count(const json& report, const char* field) {
  int n = 0;
  for (const auto& c : report["clusters"]) {
    n += c[field].get<int>();
  }
  return n;
}

} // namespace

TEST_CASE("join links two clusters — a second run changes nothing", "[e2e][join]") {
  TestClusters clusters;
  const auto& a = clusters.names()[0];
  const auto& b = clusters.names()[1];

  auto first = result(clusters.meshctl({"join", a, b, "-o", "json"}));
  CHECK(first["kind"] == "JoinResult");
  CHECK(count(first, "created") >= 24);

  // What join made, as kubectl sees it.
  for (const auto& [target, source] : {std::pair{a, b}, std::pair{b, a}}) {
    auto secret = clusters.kubectl_json(
        target, {"-n", "istio-system", "get", "secret", "istio-remote-secret-" + source});
    CHECK(secret["metadata"]["labels"]["istio/multiCluster"] == "true");
    CHECK(secret["metadata"]["annotations"]["networking.istio.io/cluster"] == source);
    REQUIRE(secret["data"].contains(source));
    CHECK(secret["data"].size() == 1);
    auto cacerts =
        clusters.kubectl_json(target, {"-n", "istio-system", "get", "secret", "cacerts"});
    CHECK(cacerts["data"].size() == 4);
    auto ns = clusters.kubectl_json(target, {"get", "namespace", "istio-system"});
    CHECK(ns["metadata"]["labels"]["topology.istio.io/network"] == target);
    auto gw =
        clusters.kubectl_json(target, {"-n", "istio-system", "get", "gateways.networking.istio.io",
                                       "cross-network-gateway"});
    CHECK(gw["spec"]["servers"][0]["tls"]["mode"] == "AUTO_PASSTHROUGH");
  }
  // Every cluster holds the same root.
  auto root_a = clusters.kubectl_json(a, {"-n", "istio-system", "get", "secret", "cacerts"});
  auto root_b = clusters.kubectl_json(b, {"-n", "istio-system", "get", "secret", "cacerts"});
  CHECK(root_a["data"]["root-cert.pem"] == root_b["data"]["root-cert.pem"]);
  CHECK(root_a["data"]["ca-cert.pem"] != root_b["data"]["ca-cert.pem"]);

  const auto mark = clusters.mark();
  auto second = result(clusters.meshctl({"join", a, b, "-o", "json"}));
  CHECK(count(second, "created") == 0);
  CHECK(count(second, "updated") == 0);
  CHECK(count(second, "unchanged") ==
        count(first, "created") + count(first, "updated") + count(first, "unchanged"));
  if (!TestClusters::real()) {
    const auto writes = clusters.writes_since(mark);
    CHECK(writes.empty());
    for (const auto& w : writes) {
      UNSCOPED_INFO("unexpected write: " << w.dump());
    }
  }
}

TEST_CASE("join logs its steps at -v and the bodies at -vvv, with secrets redacted, all on stderr",
          "[e2e][join][log]") {
  TestClusters clusters;
  const auto& a = clusters.names()[0];
  const auto& b = clusters.names()[1];

  auto steps = clusters.meshctl({"join", a, b, "-v"});
  INFO(steps.out << steps.err);
  REQUIRE(steps.exit_code == 0);
  CHECK(steps.err.find("join, phase 1 of 3") != std::string::npos);
  CHECK(steps.err.find("join, phase 3 of 3") != std::string::npos);
  CHECK(steps.out.find("phase 1 of 3") == std::string::npos);  // stdout is the result alone
  CHECK(steps.err.find("response body") == std::string::npos); // bodies only at -vvv

  // A re-run reads every Secret join made, cacerts and the remote secrets included.
  auto bodies = clusters.meshctl({"join", a, b, "-vvv"});
  INFO(bodies.err.substr(0, 4000));
  REQUIRE(bodies.exit_code == 0);
  CHECK(bodies.err.find("response body") != std::string::npos);
  CHECK(bodies.err.find("<redacted>") != std::string::npos);
  // Base64 of "-----BEGIN" (a key or kubeconfig certificate) and of a JWT header never show.
  CHECK(bodies.err.find("LS0tLS1CRUdJTi") == std::string::npos);
  CHECK(bodies.err.find("eyJhbGciOi") == std::string::npos);
  CHECK(bodies.out.find("body") == std::string::npos);
}

TEST_CASE("the remote secret's token may read the source cluster and not write secrets",
          "[e2e][join][rbac]") {
  TestClusters clusters;
  const auto& a = clusters.names()[0];
  const auto& b = clusters.names()[1];
  result(clusters.meshctl({"join", a, b, "-o", "json"}));

  // The kubeconfig istiod in b would use to watch a.
  auto secret =
      clusters.kubectl_json(b, {"-n", "istio-system", "get", "secret", "istio-remote-secret-" + a});
  TempDir dir;
  const auto remote = dir.write("remote.yaml", b64decode(secret["data"][a].get<std::string>()));
  auto kubectl = [&](const std::vector<std::string>& args) {
    std::vector<std::string> full{"kubectl", "--kubeconfig", remote.string(), "--context", a};
    if (!TestClusters::real()) {
      // The secret names <cluster>.kubesim.local, which only kubesim's istiod model resolves:
      // connect to the simulator's address and present that name for TLS.
      full.insert(full.end(),
                  {"--server", clusters.sim(a).url(), "--tls-server-name", a + ".kubesim.local"});
    }
    full.insert(full.end(), args.begin(), args.end());
    return run(full);
  };
  auto services = kubectl({"get", "services", "-A"});
  INFO(services.err);
  CHECK(services.exit_code == 0);
  CHECK(services.out.find("helloworld") != std::string::npos);
  CHECK(kubectl({"get", "pods", "-A"}).exit_code == 0);
  auto write = kubectl({"-n", "istio-system", "create", "secret", "generic", "meshctl-probe",
                        "--from-literal=a=b", "--dry-run=server"});
  CHECK(write.exit_code != 0);
  CHECK(write.err.find("forbidden") != std::string::npos);
  CHECK(kubectl({"auth", "can-i", "create", "secrets", "-n", "istio-system"}).out == "no\n");
  CHECK(kubectl({"auth", "can-i", "watch", "services", "-A"}).out == "yes\n");
}

TEST_CASE("expose and localize apply to every cluster and converge", "[e2e][expose][localize]") {
  TestClusters clusters;
  const auto& a = clusters.names()[0];
  const auto& b = clusters.names()[1];
  result(clusters.meshctl({"join", a, b, "-o", "json"}));

  const auto hosts = [&](const std::string& c) {
    return clusters.kubectl_json(c, {"-n", "istio-system", "get", "gateways.networking.istio.io",
                                     "cross-network-gateway"})["spec"]["servers"][0]["hosts"];
  };
  const std::string hello = "helloworld.dev.svc.cluster.local";
  // expose adds to what join exposed ("*.local"); it does not replace it.
  auto exposed = result(clusters.meshctl({"expose", "helloworld.dev", "-o", "json"}));
  CHECK(count(exposed, "updated") == 2);
  for (const auto& c : clusters.names()) {
    CHECK(hosts(c) == json::array({"*.local", hello}));
  }
  // The list's -o wide adds the pods the Gateway selects, as -o json has them.
  const auto listed = result(clusters.meshctl({"expose", "-o", "json"}));
  REQUIRE(listed["clusters"].size() == 2);
  const auto selector = listed["clusters"][0]["selector"];
  REQUIRE_FALSE(selector.empty());
  const auto exposed_wide = clusters.meshctl({"expose", "-o", "wide"});
  CHECK(exposed_wide.out.rfind("CLUSTER", 0) == 0);
  CHECK(exposed_wide.out.find("SELECTOR") != std::string::npos);
  CHECK(exposed_wide.out.find(selector.begin().key() + "=" +
                              selector.begin()->get<std::string>()) != std::string::npos);
  // Narrowed down: --remove --all takes "*.local" away and keeps helloworld.
  auto narrowed = result(clusters.meshctl({"expose", "--remove", "--all", "-o", "json"}));
  CHECK(count(narrowed, "updated") == 2);
  for (const auto& c : clusters.names()) {
    CHECK(hosts(c) == json::array({hello}));
  }
  // A second service is added beside the first, in every cluster.
  result(clusters.meshctl({"expose", "sleep.dev", "-o", "json"}));
  for (const auto& c : clusters.names()) {
    CHECK(hosts(c) == json::array({hello, "sleep.dev.svc.cluster.local"}));
  }
  // Listing: one row per cluster and host.
  auto list = result(clusters.meshctl({"expose", "-o", "json"}));
  CHECK(list["kind"] == "ExposeList");
  REQUIRE(list["clusters"].size() == 2);
  CHECK(list["clusters"][0]["hosts"] == json::array({hello, "sleep.dev.svc.cluster.local"}));
  auto table = clusters.meshctl({"expose"});
  CHECK(table.exit_code == 0);
  CHECK(table.out.rfind("CLUSTER", 0) == 0);
  CHECK(table.out.find("istio-system/cross-network-gateway  " + hello) != std::string::npos);
  // Removing brings it back to helloworld alone; removing the last host is refused.
  result(clusters.meshctl({"expose", "--remove", "sleep.dev", "-o", "json"}));
  for (const auto& c : clusters.names()) {
    CHECK(hosts(c) == json::array({hello}));
  }
  auto last = clusters.meshctl({"expose", "--remove", "helloworld.dev"});
  CHECK(last.exit_code == 2);
  CHECK(last.err.find("no host") != std::string::npos);
  // Re-runs write nothing.
  if (!TestClusters::real()) {
    const auto mark = clusters.mark();
    auto again = result(clusters.meshctl({"expose", "helloworld.dev", "-o", "json"}));
    CHECK(count(again, "unchanged") == 2);
    CHECK(clusters.writes_since(mark).empty());
  }
  // join leaves the hosts expose chose alone.
  auto rejoin = result(clusters.meshctl({"join", a, b, "-o", "json"}));
  CHECK(count(rejoin, "updated") == 0);

  auto localized = result(clusters.meshctl({"localize", "helloworld.dev", "-o", "json"}));
  CHECK(localized["kind"] == "ApplyResult");
  CHECK(count(localized, "created") == 2);
  for (const auto& c : clusters.names()) {
    auto dr = clusters.kubectl_json(
        c, {"-n", "dev", "get", "destinationrules.networking.istio.io", "helloworld"});
    CHECK(dr["spec"]["trafficPolicy"]["loadBalancer"]["localityLbSetting"]["failoverPriority"][0] ==
          "topology.istio.io/cluster");
    CHECK(dr["spec"]["trafficPolicy"].contains("outlierDetection"));
  }
  auto again = result(clusters.meshctl({"localize", "helloworld.dev", "-o", "json"}));
  CHECK(count(again, "unchanged") == 2);
  auto rules = result(clusters.meshctl({"localize", "-o", "json"}));
  CHECK(rules["kind"] == "LocalizeList");
  REQUIRE(rules["clusters"].size() == 2);
  for (const auto& c : rules["clusters"]) {
    REQUIRE(c["rules"].size() == 1);
    CHECK(c["rules"][0]["host"] == hello);
    CHECK(c["rules"][0]["failoverPriority"] == json::array({"topology.istio.io/cluster"}));
    CHECK(c["rules"][0]["outlierDetection"].contains("consecutive5xxErrors"));
  }
  const auto wide = clusters.meshctl({"localize", "-o", "wide"});
  CHECK(wide.out.find("OUTLIER DETECTION") != std::string::npos);
  CHECK(wide.out.find("consecutive5xxErrors=") != std::string::npos);

  // --remove deletes only what meshctl made: a rule of someone else's stays.
  const std::string theirs = R"({"apiVersion":"networking.istio.io/v1","kind":"DestinationRule",
      "metadata":{"name":"sleep","namespace":"dev"},"spec":{"host":"sleep.dev.svc.cluster.local"}})";
  const auto file = clusters.dir().write("theirs.json", theirs);
  REQUIRE(clusters.kubectl(a, {"apply", "-f", file.string()}).exit_code == 0);
  auto kept = clusters.meshctl({"localize", "--remove", "sleep.dev"});
  INFO(kept.out << kept.err);
  CHECK(kept.exit_code == 0);
  CHECK(kept.out.find(a + ": DestinationRule dev/sleep was not made by meshctl: left alone") !=
        std::string::npos);
  CHECK(clusters.kubectl(a, {"-n", "dev", "get", "destinationrules.networking.istio.io", "sleep"})
            .exit_code == 0);
  auto removed = clusters.meshctl({"localize", "--remove", "helloworld.dev"});
  INFO(removed.out << removed.err);
  CHECK(removed.exit_code == 0);
  for (const auto& c : clusters.names()) {
    CHECK(removed.out.find(c + ": DestinationRule dev/helloworld deleted") != std::string::npos);
    CHECK(
        clusters
            .kubectl(c, {"-n", "dev", "get", "destinationrules.networking.istio.io", "helloworld"})
            .exit_code != 0);
  }
  for (const auto& c : result(clusters.meshctl({"localize", "-o", "json"}))["clusters"]) {
    CHECK(c["rules"].empty());
  }
}

TEST_CASE("a service that exists in no cluster is caught before anything is written",
          "[e2e][expose][localize][verify]") {
  TestClusters clusters;
  result(clusters.meshctl({"join", "cn-shanghai", "wuxi", "-o", "json"}));
  const auto mark = clusters.mark();
  for (const std::string verb : {"verify", "expose", "localize"}) {
    auto r = clusters.meshctl({verb, "helloword.dev"});
    INFO(verb << ": " << r.out << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("Service dev/helloword exists in no cluster (cn-shanghai, wuxi) (did you "
                     "mean \"helloworld.dev\"?)") != std::string::npos);
    CHECK(r.out.empty());
  }
  if (!TestClusters::real()) {
    CHECK(clusters.writes_since(mark).empty());
  }
  // --force creates ahead of the Service.
  auto forced = clusters.meshctl({"localize", "nosuch.dev", "--force"});
  INFO(forced.out << forced.err);
  CHECK(forced.exit_code == 0);
  CHECK(clusters
            .kubectl("wuxi", {"-n", "dev", "get", "destinationrules.networking.istio.io", "nosuch"})
            .exit_code == 0);
}

TEST_CASE("dry runs against live clusters write nothing", "[e2e][join][dry-run]") {
  MESHCTL_REQUIRE_SIM();
  TestClusters clusters;
  const auto mark = clusters.mark();
  auto client = clusters.meshctl({"join", "cn-shanghai", "wuxi", "--dry-run=client"});
  INFO(client.err);
  REQUIRE(client.exit_code == 0);
  CHECK(client.out.find("create     Secret istio-system/cacerts") != std::string::npos);
  CHECK(client.out.find("update     Namespace istio-system") != std::string::npos);
  // Said as kubectl says it: "… created (dry run)".
  CHECK(client.out.find("wuxi: ") != std::string::npos);
  CHECK(client.out.find(" unchanged (dry run)\n") != std::string::npos);
  CHECK(clusters.writes_since(mark).empty());

  auto server = clusters.meshctl({"join", "cn-shanghai", "wuxi", "--dry-run=server", "-o", "json"});
  INFO(server.err);
  REQUIRE(server.exit_code == 0);
  CHECK(clusters.writes_since(mark).empty()); // dryRun=All writes are not counted as writes
  bool sent_dry_run = false;
  for (const auto& l : clusters.sim("wuxi").request_log_since(mark[1])) {
    sent_dry_run = sent_dry_run || l.value("path", "").find("dryRun=All") != std::string::npos ||
                   l.value("dryRun", false);
  }
  CHECK(sent_dry_run);
  // Nothing exists afterwards.
  CHECK(clusters.kubectl("wuxi", {"-n", "istio-system", "get", "secret", "cacerts"}).exit_code !=
        0);
}

TEST_CASE("join reports every failed precondition at once and writes nothing",
          "[e2e][join][preconditions]") {
  MESHCTL_REQUIRE_SIM();
  TestClusters clusters;
  // wuxi's istiod was installed for another network, and its gateway relies on nodeSelector
  // although no wuxi node has an ExternalIP (the seed's trap).
  std::ofstream(clusters.config())
      << "mesh: {id: mesh1}\nclusters:\n"
         "  - name: cn-shanghai\n    apiServer: "
      << clusters.sim("cn-shanghai").url()
      << "\n  - name: wuxi\n    network: wuxi-dc\n    apiServer: " << clusters.sim("wuxi").url()
      << "\n    gateway:\n      type: NodePort\n      nodeSelector: {}\n";
  // And Istio's Gateway kind is gone from cn-shanghai.
  REQUIRE(clusters.kubectl("cn-shanghai", {"delete", "crd", "gateways.networking.istio.io"})
              .exit_code == 0);
  const auto mark = clusters.mark();
  auto r = clusters.meshctl({"join", "cn-shanghai", "wuxi"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("Istio is not installed in cn-shanghai (networking.istio.io Gateway unknown)") !=
        std::string::npos);
  CHECK(r.err.find("network is \"wuxi\", not \"wuxi-dc\"") != std::string::npos);
  CHECK(r.err.find("values.global.network=wuxi-dc") != std::string::npos);
  CHECK(r.err.find("has an ExternalIP") != std::string::npos);
  CHECK(r.err.find("externalIPs") != std::string::npos);
  CHECK(r.err.find("3 precondition(s) failed; nothing was written") != std::string::npos);
  CHECK(clusters.writes_since(mark).empty());
}

TEST_CASE("a cacerts of another root is refused unless --force-ca", "[e2e][join][pki]") {
  MESHCTL_REQUIRE_SIM();
  TestClusters clusters;
  // Plant a cacerts made by another mesh (join of a throwaway PKI, then swap the PKI dir).
  result(clusters.meshctl({"join", "cn-shanghai", "wuxi", "-o", "json"}));
  std::filesystem::rename(clusters.dir().path() / ".config/meshctl/pki/mesh1",
                          clusters.dir().path() / "old-pki");
  const auto mark = clusters.mark();
  auto refused = clusters.meshctl({"join", "cn-shanghai", "wuxi"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("not this mesh's root") != std::string::npos);
  CHECK(refused.err.find("--force-ca") != std::string::npos);
  CHECK(clusters.writes_since(mark).empty());

  auto forced = clusters.meshctl({"join", "cn-shanghai", "wuxi", "--force-ca"});
  INFO(forced.err);
  CHECK(forced.exit_code == 0);
  // The new cacerts is not the root istiod serves: join restarts it without being asked.
  CHECK(
      forced.out.find("wuxi: restarted istiod (rolling restart of istio-system/istiod) because") !=
      std::string::npos);
  auto istiod =
      clusters.kubectl_json("wuxi", {"-n", "istio-system", "get", "deployment", "istiod"});
  CHECK(istiod["spec"]["template"]["metadata"]["annotations"].contains(
      "kubectl.kubernetes.io/restartedAt"));
}

TEST_CASE("join survives 30% failing requests and a re-run converges", "[e2e][join][faults]") {
  MESHCTL_REQUIRE_SIM();
  TestClusters clusters;
  for (const auto& n : clusters.names()) {
    clusters.sim(n).set_faults(
        {{"errorRate", {{"503", 0.15}, {"429", 0.15}}}, {"retryAfterSeconds", 0}});
  }
  auto first = clusters.meshctl({"join", "cn-shanghai", "wuxi"});
  INFO(first.err);
  // Either retries carried it through, or it failed with a clear message naming what failed.
  if (first.exit_code != 0) {
    // Warnings (a read that gave up after its retries) may come first; the failure itself is
    // one line that starts with "error: ".
    const bool error_line =
        first.err.rfind("error: ", 0) == 0 || first.err.find("\nerror: ") != std::string::npos;
    CHECK(error_line);
    CHECK(first.err.find("internal error") == std::string::npos);
  }
  for (const auto& n : clusters.names()) {
    clusters.sim(n).clear_faults(); // the reads below must not fail for the faults' sake
  }
  // Never a half-written remote secret: if one exists, its kubeconfig has a real token.
  for (const auto& [target, source] :
       {std::pair<std::string, std::string>{"wuxi", "cn-shanghai"}, {"cn-shanghai", "wuxi"}}) {
    auto got = clusters.kubectl(target, {"-n", "istio-system", "get", "secret",
                                         "istio-remote-secret-" + source, "-o",
                                         "jsonpath={.data." + source + "}"});
    const bool present = got.exit_code == 0 && !got.out.empty();
    if (first.exit_code == 0) {
      CHECK(present); // a join that succeeded wrote both
    }
    if (present) {
      const auto kc = b64decode(got.out);
      CHECK(kc.find("read at apply time") == std::string::npos);
      CHECK(kc.find("token: ") != std::string::npos);
    }
  }
  auto second = clusters.meshctl({"join", "cn-shanghai", "wuxi", "-o", "json"});
  INFO(second.err);
  REQUIRE(second.exit_code == 0);
  auto third = result(clusters.meshctl({"join", "cn-shanghai", "wuxi", "-o", "json"}));
  CHECK(count(third, "created") + count(third, "updated") == 0);
}

TEST_CASE("join settles where the API server stores quantities in canonical form",
          "[e2e][join][quantity]") {
  TestClusters clusters;
  const auto& a = clusters.names()[0];
  const auto& b = clusters.names()[1];
  auto first = result(clusters.meshctl({"join", a, b, "-o", "json"}));
  CHECK(count(first, "created") >= 24);

  // The gateway asks for 2000m and 1024Mi; the server holds them as kube-apiserver does.
  for (const auto& c : clusters.names()) {
    auto gw = clusters.kubectl_json(
        c, {"-n", "istio-system", "get", "deployment", "istio-eastwestgateway"});
    const auto& res = gw["spec"]["template"]["spec"]["containers"][0]["resources"];
    CHECK(res["limits"]["cpu"] == "2");
    CHECK(res["limits"]["memory"] == "1Gi");
    CHECK(res["requests"]["cpu"] == "100m");
    CHECK(res["requests"]["memory"] == "128Mi");
  }

  // The plan of a re-run sees nothing to change...
  const auto mark = clusters.mark();
  auto plan = result(clusters.meshctl({"join", a, b, "--dry-run=client", "-o", "json"}));
  CHECK(plan["dryRun"] == "client");
  CHECK(count(plan, "created") == 0);
  CHECK(count(plan, "updated") == 0);
  for (const auto& c : plan["clusters"]) {
    for (const auto& o : c["objects"]) {
      INFO(c["name"] << ": " << o.dump());
      CHECK(o["action"] == "unchanged");
      CHECK_FALSE(o.contains("diff"));
    }
  }
  // ...and the re-run itself neither updates nor writes.
  auto second = result(clusters.meshctl({"join", a, b, "-o", "json"}));
  CHECK(count(second, "created") == 0);
  CHECK(count(second, "updated") == 0);
  if (!TestClusters::real()) {
    const auto writes = clusters.writes_since(mark);
    CHECK(writes.empty());
    for (const auto& w : writes) {
      UNSCOPED_INFO("unexpected write: " << w.dump());
    }
  }
}

// sync-svc end to end: the real binary against two clusters, for every rule of the issue — copy,
// strip, namespaces, headless and ExternalName, present, conflict, two sources, prune, scope,
// dry run, 429s and the concurrency bound, and --watch following creates, changes and deletes.

#include "clusters.hpp"

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

using meshctl::e2e::TestClusters;
using meshctl::testing::TempDir;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

json result(const meshctl::testing::RunResult& r, int exit_code = 0) {
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == exit_code);
  return json::parse(r.out);
}

const json& pair(const json& report, const std::string& from, const std::string& to) {
  for (const auto& p : report["pairs"]) {
    if (p["from"] == from && p["to"] == to) {
      return p;
    }
  }
  FAIL("no pair " << from << " -> " << to << " in " << report.dump());
  static const json none;
  return none;
}

void create(const TestClusters& clusters, const std::string& context, const std::string& yaml) {
  TempDir dir;
  const auto file = dir.write("obj.yaml", yaml);
  auto r = clusters.kubectl(context, {"create", "-f", file.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

std::string service_yaml(const std::string& ns, const std::string& name,
                         const std::string& port_name = "http", int port = 8080,
                         const std::string& extra_spec = "") {
  return "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + name + "\n  namespace: " + ns +
         "\n  labels:\n    app: " + name + "\nspec:\n  selector:\n    app: " + name +
         "\n  ports:\n  - name: " + port_name + "\n    port: " + std::to_string(port) +
         "\n    targetPort: 9000\n" + extra_spec;
}

bool exists(const TestClusters& clusters, const std::string& context, const std::string& ns,
            const std::string& name) {
  return clusters.kubectl(context, {"-n", ns, "get", "service", name}).exit_code == 0;
}

// meshctl running in the background (--watch) on the test clusters, stopped with SIGTERM.
class Background : public meshctl::testing::BackgroundProcess {
public:
  Background(const TestClusters& clusters, const std::vector<std::string>& args)
      : BackgroundProcess(
            argv(clusters, args),
            {{"KUBECONFIG", clusters.kubeconfig()}, {"HOME", clusters.dir().path().string()}},
            true) {}

private:
  static std::vector<std::string> argv(const TestClusters& clusters,
                                       const std::vector<std::string>& args) {
    std::vector<std::string> full{meshctl::testing::meshctl_bin().string(), "-c",
                                  clusters.config().string()};
    full.insert(full.end(), args.begin(), args.end());
    return full;
  }
};

// Polls `pred` until it holds; returns how long that took, or nothing after `limit`.
template <class Pred>
std::optional<milliseconds> within(Pred pred, milliseconds limit = milliseconds(10000)) {
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < limit) {
    if (pred()) {
      return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t0);
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  return std::nullopt;
}

// A Service as the kubesim of `cluster` holds it (status 404 → null); fast, no kubectl.
json sim_get(TestClusters& clusters, const std::string& cluster, const std::string& ns,
             const std::string& name) {
  auto [status, body] =
      clusters.sim(cluster).request("GET", "/api/v1/namespaces/" + ns + "/services/" + name);
  return status == 200 ? json::parse(body) : json();
}

} // namespace

TEST_CASE("sync-svc copies Services with the copy rules, creates namespaces, and a second run "
          "writes nothing",
          "[e2e][sync]") {
  TestClusters clusters;
  const auto& a = clusters.names()[0];
  const auto& b = clusters.names()[1];
  create(clusters, a, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n");
  create(clusters, a,
         "apiVersion: v1\nkind: Service\nmetadata:\n  name: cart\n  namespace: shop\n"
         "  labels:\n    app: cart\n    team: checkout\n  annotations:\n    note: not-copied\n"
         "spec:\n  type: NodePort\n  externalIPs: [192.0.2.7]\n  selector:\n    app: cart\n"
         "  ports:\n  - name: http\n    port: 80\n    targetPort: web\n    appProtocol: http\n"
         "  - name: grpc\n    port: 9090\n    protocol: TCP\n");
  create(clusters, a, service_yaml("dev", "db", "tcp-postgres", 5432, "  clusterIP: None\n"));
  create(clusters, a,
         "apiVersion: v1\nkind: Service\nmetadata:\n  name: mail\n  namespace: dev\nspec:\n"
         "  type: ExternalName\n  externalName: mail.example.com\n");

  auto first = result(clusters.meshctl({"sync-svc", "-o", "json"}));
  CHECK(first["kind"] == "SyncResult");
  CHECK(first["apiVersion"] == "meshctl.dev/v1alpha1");
  const auto& ab = pair(first, a, b);
  CHECK(ab["created"] == 3);
  CHECK(ab["present"] == 2); // helloworld and sleep exist in both, the same
  CHECK(ab["conflicts"] == 0);
  const auto& ba = pair(first, b, a);
  CHECK(ba["present"] == 2);
  CHECK(ba["created"] == 0);
  REQUIRE(first["clusters"].size() == 2);
  CHECK(first["clusters"][0]["namespaces"].empty());
  CHECK(first["clusters"][1]["name"] == b);
  CHECK(first["clusters"][1]["namespaces"] == json::array({"shop"}));

  // The copy, as kubectl sees it in the target.
  auto cart = clusters.kubectl_json(b, {"-n", "shop", "get", "service", "cart"});
  CHECK(cart["metadata"]["labels"] == json{{"app", "cart"},
                                           {"team", "checkout"},
                                           {"app.kubernetes.io/managed-by", "meshctl"},
                                           {"meshctl.dev/synced-from", a}});
  CHECK(cart["metadata"]["annotations"].contains("meshctl.dev/source-hash"));
  CHECK_FALSE(cart["metadata"]["annotations"].contains("note"));
  CHECK(cart["spec"]["type"] == "ClusterIP");
  CHECK_FALSE(cart["spec"].contains("externalIPs"));
  REQUIRE(cart["spec"]["ports"].size() == 2);
  for (const auto& p : cart["spec"]["ports"]) {
    CHECK_FALSE(p.contains("nodePort"));
  }
  CHECK(cart["spec"]["ports"][0]["name"] == "http");
  CHECK(cart["spec"]["ports"][0]["targetPort"] == "web");
  CHECK(cart["spec"]["ports"][0]["appProtocol"] == "http");
  CHECK(cart["spec"]["ports"][1]["port"] == 9090);
  CHECK(cart["spec"]["selector"] == json{{"app", "cart"}});

  auto db = clusters.kubectl_json(b, {"-n", "dev", "get", "service", "db"});
  CHECK(db["spec"]["clusterIP"] == "None");
  auto mail = clusters.kubectl_json(b, {"-n", "dev", "get", "service", "mail"});
  CHECK(mail["spec"]["type"] == "ExternalName");
  CHECK(mail["spec"]["externalName"] == "mail.example.com");
  auto shop = clusters.kubectl_json(b, {"get", "namespace", "shop"});
  CHECK(shop["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "meshctl");

  // Never copied: the control plane's namespaces and default/kubernetes.
  for (const auto& c : first["changes"]) {
    CHECK(c["namespace"] != "istio-system");
    CHECK(c["name"] != "kubernetes");
  }

  // Nothing changed: nothing written, everything unchanged or present.
  const auto mark = clusters.mark();
  auto second = result(clusters.meshctl({"sync-svc", "-o", "json"}));
  CHECK(pair(second, a, b)["unchanged"] == 3);
  CHECK(pair(second, a, b)["created"] == 0);
  CHECK(pair(second, a, b)["updated"] == 0);
  for (const auto& c : second["clusters"]) {
    CHECK(c["namespaces"].empty());
  }
  if (!TestClusters::real()) {
    CHECK(clusters.writes_since(mark).empty());
  }

  // The table form.
  auto table = clusters.meshctl({"sync-svc"});
  CHECK(table.exit_code == 0);
  CHECK(table.out.rfind("FROM", 0) == 0);
  CHECK(table.out.find("UNCHANGED") != std::string::npos);
}

TEST_CASE("sync-svc updates a copy when its source changes or someone edits it", "[e2e][sync]") {
  TestClusters clusters;
  const auto& a = clusters.names()[0];
  const auto& b = clusters.names()[1];
  create(clusters, a, service_yaml("dev", "web"));
  result(clusters.meshctl({"sync-svc", "-o", "json"}));

  REQUIRE(clusters
              .kubectl(a, {"-n", "dev", "patch", "service", "web", "--type", "merge", "-p",
                           R"({"spec":{"ports":[{"name":"http","port":8081,"targetPort":9000}]}})"})
              .exit_code == 0);
  auto changed = result(clusters.meshctl({"sync-svc", "-n", "dev", "-o", "json"}));
  CHECK(pair(changed, a, b)["updated"] == 1);
  auto copy = clusters.kubectl_json(b, {"-n", "dev", "get", "service", "web"});
  CHECK(copy["spec"]["ports"][0]["port"] == 8081);

  // An edit in the target is put right.
  REQUIRE(
      clusters.kubectl(b, {"-n", "dev", "label", "service", "web", "app=hijacked", "--overwrite"})
          .exit_code == 0);
  auto edited = result(clusters.meshctl({"sync-svc", "-n", "dev", "-o", "json"}));
  CHECK(pair(edited, a, b)["updated"] == 1);
  copy = clusters.kubectl_json(b, {"-n", "dev", "get", "service", "web"});
  CHECK(copy["metadata"]["labels"]["app"] == "web");
}

TEST_CASE("sync-svc never touches a different Service of the same name and exits 1",
          "[e2e][sync][conflict]") {
  TestClusters clusters;
  const auto& a = clusters.names()[0];
  const auto& b = clusters.names()[1];
  create(clusters, a, service_yaml("dev", "api", "http"));
  create(clusters, b, service_yaml("dev", "api", "grpc"));
  const auto before = clusters.kubectl_json(b, {"-n", "dev", "get", "service", "api"});

  auto r = clusters.meshctl({"sync-svc", "-n", "dev"});
  CHECK(r.exit_code == 1);
  INFO(r.out << r.err);
  CHECK(r.out.find("conflict   Service dev/api") != std::string::npos);
  CHECK(r.out.find("port 8080/TCP: name \"http\" in " + a + ", \"grpc\" in " + b) !=
        std::string::npos);
  CHECK(r.err.find("conflict") != std::string::npos);
  const auto after = clusters.kubectl_json(b, {"-n", "dev", "get", "service", "api"});
  CHECK(after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]);
  CHECK(after["spec"]["ports"][0]["name"] == "grpc");

  auto j = result(clusters.meshctl({"sync-svc", "-n", "dev", "-o", "json"}), 1);
  CHECK(pair(j, a, b)["conflicts"] == 1);
  CHECK(pair(j, b, a)["conflicts"] == 1);
}

TEST_CASE("sync-svc prunes copies whose source is gone, and only those", "[e2e][sync][prune]") {
  TestClusters clusters;
  const auto& a = clusters.names()[0];
  const auto& b = clusters.names()[1];
  create(clusters, a, service_yaml("dev", "old"));
  create(clusters, a, service_yaml("dev", "kept"));
  // meshctl's label without synced-from: not a copy, never pruned.
  create(clusters, b,
         "apiVersion: v1\nkind: Service\nmetadata:\n  name: other\n  namespace: dev\n  labels:\n"
         "    app.kubernetes.io/managed-by: meshctl\nspec:\n  ports:\n  - port: 1\n");
  result(clusters.meshctl({"sync-svc", "-o", "json"}));
  REQUIRE(exists(clusters, b, "dev", "old"));

  REQUIRE(clusters.kubectl(a, {"-n", "dev", "delete", "service", "old"}).exit_code == 0);
  auto kept = result(clusters.meshctl({"sync-svc", "--no-prune", "-o", "json"}));
  CHECK(pair(kept, a, b)["pruned"] == 0);
  CHECK(exists(clusters, b, "dev", "old"));

  auto pruned = result(clusters.meshctl({"sync-svc", "-o", "json"}));
  CHECK(pair(pruned, a, b)["pruned"] == 1);
  CHECK_FALSE(exists(clusters, b, "dev", "old"));
  CHECK(exists(clusters, b, "dev", "kept"));
  CHECK(exists(clusters, b, "dev", "other"));
  CHECK(exists(clusters, a, "dev", "other")); // it is an original: copied to a
}

TEST_CASE("sync-svc scope: namespaces, selector, exclusions, --from/--to, --no-create-namespace",
          "[e2e][sync][scope]") {
  TestClusters clusters;
  const auto& a = clusters.names()[0];
  const auto& b = clusters.names()[1];
  create(clusters, a, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n");
  create(clusters, a, service_yaml("shop", "cart"));
  create(clusters, a, service_yaml("dev", "web"));
  create(clusters, a, service_yaml("kube-system", "metrics"));

  auto skipped = result(clusters.meshctl(
      {"sync-svc", "--no-create-namespace", "--from", a, "--to", b, "-o", "json"}));
  CHECK(pair(skipped, a, b)["skipped"] == 1);
  CHECK(skipped["pairs"].size() == 1); // one direction only
  CHECK(clusters.kubectl(b, {"get", "namespace", "shop"}).exit_code != 0);
  CHECK(exists(clusters, b, "dev", "web"));
  CHECK_FALSE(exists(clusters, b, "kube-system", "metrics"));

  auto selected =
      result(clusters.meshctl({"sync-svc", "-n", "shop", "-l", "app=nothing", "-o", "json"}));
  CHECK(pair(selected, a, b)["created"] == 0);
  auto named = result(clusters.meshctl({"sync-svc", "-n", "shop", "-l", "app=cart", "-o", "json"}));
  CHECK(pair(named, a, b)["created"] == 1);
  CHECK(exists(clusters, b, "shop", "cart"));

  // --exclude-namespace replaces the defaults.
  auto system = result(clusters.meshctl(
      {"sync-svc", "--exclude-namespace", "istio-system", "--from", a, "--to", b, "-o", "json"}));
  CHECK(pair(system, a, b)["created"] == 1);
  CHECK(exists(clusters, b, "kube-system", "metrics"));

  CHECK(clusters.meshctl({"sync-svc", "--from", "nowhere"}).exit_code == 2);
  CHECK(clusters.meshctl({"sync-svc", "-n", "dev", "-A"}).exit_code == 2);
  CHECK(clusters.meshctl({"sync-svc", "--from", a, "--to", a}).exit_code == 2);
}

TEST_CASE("sync-svc --dry-run prints the plan and writes nothing", "[e2e][sync]") {
  TestClusters clusters;
  MESHCTL_REQUIRE_SIM();
  const auto& a = clusters.names()[0];
  const auto& b = clusters.names()[1];
  create(clusters, a, service_yaml("dev", "web"));
  const auto mark = clusters.mark();
  auto r = clusters.meshctl({"sync-svc", "--dry-run"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("create     Service dev/web  " + a + " -> " + b) != std::string::npos);
  CHECK(r.out.find("present    Service dev/helloworld") != std::string::npos);
  CHECK(clusters.writes_since(mark).empty());
  CHECK_FALSE(exists(clusters, b, "dev", "web"));

  auto server = result(clusters.meshctl({"sync-svc", "--dry-run=server", "-o", "json"}));
  CHECK(server["dryRun"] == "server");
  CHECK(clusters.writes_since(mark).empty()); // dry-run writes are not writes
  CHECK_FALSE(exists(clusters, b, "dev", "web"));
  // ...but they were sent, for the API server to validate: the create of dev/web with dryRun=All.
  bool sent_dry_run = false;
  for (const auto& l : clusters.sim(b).request_log_since(mark[1])) {
    sent_dry_run = sent_dry_run ||
                   (l.value("path", "").find("/namespaces/dev/services/web") != std::string::npos &&
                    l.value("path", "").find("dryRun=All") != std::string::npos);
  }
  CHECK(sent_dry_run);
}

TEST_CASE("sync-svc -n=dev means namespace dev — a namespace no source has is a warning",
          "[e2e][sync][flags]") {
  TestClusters clusters;
  const auto& a = clusters.names()[0];
  create(clusters, a, service_yaml("dev", "web"));
  // pflag reads -n=dev as "dev" (CLI11 alone read "=dev", matched nothing and exited 0).
  auto r = clusters.meshctl({"sync-svc", "-n=dev", "--dry-run", "-o", "json"});
  const auto j = result(r);
  bool web = false;
  for (const auto& c : j["changes"]) {
    web = web || (c["namespace"] == "dev" && c["name"] == "web" && c["action"] == "create");
  }
  CHECK(web);
  CHECK(r.err.find("warning") == std::string::npos);
  auto text = clusters.meshctl({"sync-svc", "-n=dev", "--dry-run"});
  CHECK(text.out.find("create     Service dev/web  " + a + " -> ") != std::string::npos);
  CHECK(text.out.find(" (dry run)\n") != std::string::npos);

  auto none = clusters.meshctl({"sync-svc", "-n", "nosuch", "--dry-run"});
  INFO(none.err);
  CHECK(none.exit_code == 0);
  CHECK(none.err.find("warning: namespace \"nosuch\" exists in no source cluster") !=
        std::string::npos);
}

TEST_CASE("sync-svc bounds requests in flight and slows down on 429", "[e2e][sync][load]") {
  TestClusters clusters;
  MESHCTL_REQUIRE_SIM();
  const auto& a = clusters.names()[0];
  const auto& b = clusters.names()[1];
  std::string many;
  for (int i = 0; i < 60; ++i) {
    many += "---\n" + service_yaml("dev", "svc-" + std::to_string(i));
  }
  create(clusters, a, many);

  // 30 ms per request in the target: with --concurrency 4 at most 4 overlap.
  clusters.sim(b).set_faults({{"latencyMs", 30}, {"verbs", {"patch"}}});
  const auto mark = clusters.mark();
  auto r = result(clusters.meshctl({"sync-svc", "--to", b, "--concurrency", "4", "-o", "json"}));
  CHECK(pair(r, a, b)["created"] == 60);
  std::vector<std::pair<double, int>> edges; // (time, +1 start / -1 end)
  for (const auto& w : clusters.sim(b).request_log_since(mark[1])) {
    if (w["verb"] != "patch") {
      continue;
    }
    // "2026-11-26T01:37:15.210934Z": seconds of the day are enough here.
    const std::string t = w["time"];
    const double end = std::stod(t.substr(11, 2)) * 3600 + std::stod(t.substr(14, 2)) * 60 +
                       std::stod(t.substr(17, 9));
    edges.emplace_back(end - w["latencyMs"].get<double>() / 1000.0, 1);
    edges.emplace_back(end, -1);
  }
  std::sort(edges.begin(), edges.end());
  int now = 0;
  int peak = 0;
  for (const auto& [t, d] : edges) {
    now += d;
    peak = std::max(peak, now);
  }
  CHECK(peak <= 4);
  CHECK(peak >= 2); // and they did run in parallel

  // Every fourth write is answered 429 with Retry-After: 1 (counted, not drawn: some are throttled
  // for sure, and no request is throttled on all of the client's attempts). All still land;
  // meshctl says it slowed down.
  for (int i = 0; i < 30; ++i) {
    REQUIRE(
        clusters
            .kubectl(a, {"-n", "dev", "label", "service", "svc-" + std::to_string(i), "round=2"})
            .exit_code == 0);
  }
  clusters.sim(b).set_faults({{"errorEvery", {{"429", 4}}}, {"verbs", {"patch"}}});
  const auto mark2 = clusters.mark();
  auto t = clusters.meshctl({"sync-svc", "--to", b});
  INFO(t.out << t.err);
  CHECK(t.exit_code == 0);
  CHECK(t.err.find("note: the API servers answered 429") != std::string::npos);
  CHECK(t.out.find("note:") == std::string::npos); // notes are for people: stderr
  int throttled = 0;
  for (const auto& w : clusters.sim(b).request_log_since(mark2[1])) {
    throttled += w.value("status", 0) == 429 ? 1 : 0;
  }
  CHECK(throttled >= 30 / 4);
  clusters.sim(b).clear_faults();
  auto after = result(clusters.meshctl({"sync-svc", "--to", b, "-o", "json"}));
  CHECK(pair(after, a, b)["updated"] == 0);
  CHECK(pair(after, a, b)["unchanged"] == 60);
}

TEST_CASE("sync-svc with three clusters takes a Service from one source and reports sources "
          "that disagree",
          "[e2e][sync][sources]") {
  TestClusters clusters;
  MESHCTL_REQUIRE_SIM();
  const auto& a = clusters.names()[0];
  const auto& b = clusters.names()[1];
  // A third, empty cluster.
  kubesim::testing::KubesimProcess third;
  third.start("beijing", {kubesim::testing::KubesimProcess::seed_dir() / "istio-crds.yaml"});
  const auto config = clusters.dir().write(
      "three.yaml", meshctl::testing::read_file(clusters.config()) +
                        "  - name: beijing\n    apiServer: " + third.url() + "\n");
  const std::string kubeconfig = clusters.kubeconfig() + ":" + third.kubeconfig_path().string();
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"-c", config.string()});
    return meshctl::testing::run_meshctl(
        args, {{"KUBECONFIG", kubeconfig}, {"HOME", clusters.dir().path().string()}});
  };
  create(clusters, a, service_yaml("dev", "twin", "http"));
  create(clusters, b, service_yaml("dev", "twin", "http"));

  // Same shape in both: no conflict; beijing's copy comes from the first source.
  auto same = result(run({"sync-svc", "-n", "dev", "-o", "json"}));
  CHECK(pair(same, a, "beijing")["created"] >= 1);
  auto [status, body] = third.request("GET", "/api/v1/namespaces/dev/services/twin");
  REQUIRE(status == 200);
  CHECK(json::parse(body)["metadata"]["labels"]["meshctl.dev/synced-from"] == a);
  auto reversed = result(run({"sync-svc", "-n", "dev", "--from", b, "--from", a, "-o", "json"}));
  CHECK(pair(reversed, b, "beijing")["updated"] >= 1);
  std::tie(status, body) = third.request("GET", "/api/v1/namespaces/dev/services/twin");
  CHECK(json::parse(body)["metadata"]["labels"]["meshctl.dev/synced-from"] == b);

  // Different ports in the sources: a conflict (exit 1), the copy still from the first source.
  REQUIRE(clusters
              .kubectl(b, {"-n", "dev", "patch", "service", "twin", "-p",
                           R"({"spec":{"ports":[{"name":"grpc","port":8080,"targetPort":9000}]}})"})
              .exit_code == 0);
  auto differ = run({"sync-svc", "-n", "dev", "--to", "beijing", "-o", "json"});
  auto j = result(differ, 1);
  bool reported = false;
  for (const auto& c : j["changes"]) {
    if (c["action"] == "conflict" && c["name"] == "twin") {
      reported = true;
      CHECK(c["details"][0] == "the sources disagree; copies come from " + a);
    }
  }
  CHECK(reported);
  std::tie(status, body) = third.request("GET", "/api/v1/namespaces/dev/services/twin");
  CHECK(json::parse(body)["metadata"]["labels"]["meshctl.dev/synced-from"] == a);
}

TEST_CASE("sync-svc --watch follows creates, changes and deletes within a second and stops on "
          "SIGTERM",
          "[e2e][sync][watch]") {
  TestClusters clusters;
  MESHCTL_REQUIRE_SIM();
  const auto& a = clusters.names()[0];
  const auto& b = clusters.names()[1];
  Background watch(clusters, {"sync-svc", "--watch", "-n", "dev"});
  // The first full run happens before the loop: helloworld and sleep are present.
  REQUIRE(within([&] { return watch.out().find("PRESENT") != std::string::npos; }));

  auto apply_source = [&](const std::string& yaml) {
    auto [status, body] = clusters.sim(a).request(
        "PATCH", "/api/v1/namespaces/dev/services/live?fieldManager=test&force=true", yaml,
        "application/apply-patch+yaml");
    REQUIRE(status / 100 == 2);
  };
  const json live = {{"apiVersion", "v1"},
                     {"kind", "Service"},
                     {"metadata", {{"name", "live"}, {"namespace", "dev"}}},
                     {"spec", {{"ports", {{{"name", "http"}, {"port", 80}}}}}}};
  apply_source(live.dump());
  auto created = within([&] { return !sim_get(clusters, b, "dev", "live").is_null(); });
  REQUIRE(created);
  CHECK(*created < milliseconds(1000));

  json changed = live;
  changed["spec"]["ports"][0]["port"] = 81;
  apply_source(changed.dump());
  auto updated = within([&] {
    const auto s = sim_get(clusters, b, "dev", "live");
    return !s.is_null() && s["spec"]["ports"][0]["port"] == 81;
  });
  REQUIRE(updated);
  CHECK(*updated < milliseconds(1000));

  REQUIRE(clusters.sim(a).request("DELETE", "/api/v1/namespaces/dev/services/live").first == 200);
  auto pruned = within([&] { return sim_get(clusters, b, "dev", "live").is_null(); });
  REQUIRE(pruned);
  CHECK(*pruned < milliseconds(1000));

  // Its own writes do not make it write again: quiet for a while, no further writes.
  std::this_thread::sleep_for(milliseconds(1500));
  const auto mark = clusters.mark();
  std::this_thread::sleep_for(milliseconds(1500));
  CHECK(clusters.writes_since(mark).empty());

  const int code = watch.stop();
  INFO(watch.out() << watch.err());
  CHECK(code == 0);
  CHECK(watch.err().find("stopped") != std::string::npos);
  const auto out = watch.out();
  CHECK(out.find("created Service dev/live in " + b) != std::string::npos);
  CHECK(out.find("updated Service dev/live in " + b) != std::string::npos);
  CHECK(out.find("pruned Service dev/live in " + b) != std::string::npos);
}

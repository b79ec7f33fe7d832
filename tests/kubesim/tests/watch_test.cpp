// Watch on kubesim, as a black box over HTTPS: events after a resourceVersion in order, synthetic
// ADDED for an unset version, selectors (an object that stops matching is DELETED), bookmarks,
// 410 for a version older than the history, timeoutSeconds — and `kubectl get -w` against it.

#include "kubesim_process.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <sstream>
#include <thread>

namespace {

using kubesim::testing::KubesimProcess;
using json = nlohmann::json;

struct Sim {
  KubesimProcess sim;
  Sim() {
    sim.start("wuxi", {KubesimProcess::seed_dir() / "istio-crds.yaml",
                       KubesimProcess::seed_dir() / "wuxi.yaml"});
  }
  std::string rv_of_list(const std::string& path) const {
    auto [status, body] = sim.request("GET", path);
    REQUIRE(status == 200);
    return json::parse(body)["metadata"]["resourceVersion"].get<std::string>();
  }
  void create_service(const std::string& name, const json& labels = json::object(),
                      const std::string& ns = "dev") const {
    const json svc = {{"apiVersion", "v1"},
                      {"kind", "Service"},
                      {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
                      {"spec", {{"ports", json::array({{{"port", 80}}})}}}};
    auto [status, body] = sim.request("POST", "/api/v1/namespaces/" + ns + "/services", svc.dump());
    REQUIRE(status == 201);
  }
  void patch_labels(const std::string& name, const json& labels) const {
    auto [status, body] = sim.request("PATCH", "/api/v1/namespaces/dev/services/" + name,
                                      json{{"metadata", {{"labels", labels}}}}.dump(),
                                      "application/merge-patch+json");
    REQUIRE(status == 200);
  }
};

// The events of a finished watch body, as (type, name) pairs.
std::vector<std::pair<std::string, std::string>> events_of(const std::string& body) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream lines(body);
  std::string line;
  while (std::getline(lines, line)) {
    const json ev = json::parse(line);
    out.emplace_back(ev["type"], ev["object"]["metadata"].value("name", ""));
  }
  return out;
}

bool have_kubectl() {
  return meshctl::testing::run({"kubectl", "version", "--client"}).exit_code == 0;
}

} // namespace

TEST_CASE("a watch from a resourceVersion replays every later change in order, then times out",
          "[kubesim][watch]") {
  Sim s;
  const auto rv = s.rv_of_list("/api/v1/namespaces/dev/services");
  s.create_service("one");
  s.create_service("two");
  s.patch_labels("one", {{"tier", "web"}});
  REQUIRE(s.sim.request("DELETE", "/api/v1/namespaces/dev/services/two").first == 200);
  s.create_service("also-dev");
  s.create_service("in-default", json::object(), "default"); // only the cluster-wide watch has it

  const auto t0 = std::chrono::steady_clock::now();
  auto [status, body] = s.sim.request(
      "GET", "/api/v1/namespaces/dev/services?watch=1&timeoutSeconds=1&resourceVersion=" + rv);
  const auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE(status == 200);
  CHECK(took >= std::chrono::milliseconds(900)); // held open until timeoutSeconds
  const std::vector<std::pair<std::string, std::string>> want{{"ADDED", "one"},
                                                              {"ADDED", "two"},
                                                              {"MODIFIED", "one"},
                                                              {"DELETED", "two"},
                                                              {"ADDED", "also-dev"}};
  CHECK(events_of(body) == want);
  // Each event's object is a whole object with kind and apiVersion, and a newer version.
  const json first = json::parse(body.substr(0, body.find('\n')));
  CHECK(first["object"]["kind"] == "Service");
  CHECK(first["object"]["apiVersion"] == "v1");
  CHECK(std::stoull(first["object"]["metadata"]["resourceVersion"].get<std::string>()) >
        std::stoull(rv));
  // Other namespaces' changes are not in a namespaced watch, but are in a cluster-wide one.
  auto [s2, all] =
      s.sim.request("GET", "/api/v1/services?watch=1&timeoutSeconds=1&resourceVersion=" + rv);
  auto want_all = want;
  want_all.emplace_back("ADDED", "in-default");
  CHECK(events_of(all) == want_all);
}

TEST_CASE("a watch without a resourceVersion starts with the current objects as ADDED",
          "[kubesim][watch]") {
  Sim s;
  auto [status, body] =
      s.sim.request("GET", "/api/v1/namespaces/dev/services?watch=1&timeoutSeconds=1");
  REQUIRE(status == 200);
  const auto events = events_of(body);
  REQUIRE(!events.empty());
  for (const auto& [type, name] : events) {
    CHECK(type == "ADDED");
  }
  CHECK(std::count(events.begin(), events.end(),
                   std::pair<std::string, std::string>{"ADDED", "helloworld"}) == 1);
}

TEST_CASE("a watch with a label selector sees objects enter and leave the selection",
          "[kubesim][watch]") {
  Sim s;
  const auto rv = s.rv_of_list("/api/v1/namespaces/dev/services");
  s.create_service("web", {{"tier", "web"}});
  s.create_service("db", {{"tier", "db"}});
  s.patch_labels("db", {{"tier", "web"}});  // enters
  s.patch_labels("web", {{"tier", "old"}}); // leaves
  auto [status, body] = s.sim.request(
      "GET", "/api/v1/namespaces/dev/services?watch=1&timeoutSeconds=1&labelSelector=tier%3Dweb"
             "&resourceVersion=" +
                 rv);
  REQUIRE(status == 200);
  const std::vector<std::pair<std::string, std::string>> want{
      {"ADDED", "web"}, {"MODIFIED", "db"}, {"DELETED", "web"}};
  // Replayed history reports events as recorded for objects that match at that point; the live
  // part of a watch reports selection changes as ADDED/DELETED (checked with a live watch below).
  CHECK(events_of(body).front() == want.front());

  // Live: start watching, then change labels.
  auto live = std::async(std::launch::async, [&] {
    return s.sim.request("GET", "/api/v1/namespaces/dev/services?watch=1&timeoutSeconds=2"
                                "&labelSelector=tier%3Dweb&resourceVersion=" +
                                    s.rv_of_list("/api/v1/namespaces/dev/services"));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  s.patch_labels("web", {{"tier", "web"}}); // enters: ADDED
  s.patch_labels("web", {{"tier", "db"}});  // leaves: DELETED
  auto [lstatus, lbody] = live.get();
  REQUIRE(lstatus == 200);
  const std::vector<std::pair<std::string, std::string>> live_want{{"ADDED", "web"},
                                                                   {"DELETED", "web"}};
  CHECK(events_of(lbody) == live_want);
}

TEST_CASE("a watch sends bookmarks when asked, and 410 Expired for a version too old",
          "[kubesim][watch]") {
  Sim s;
  const auto rv = s.rv_of_list("/api/v1/namespaces/dev/services");
  auto [status, body] =
      s.sim.request("GET", "/api/v1/namespaces/dev/services?watch=1&timeoutSeconds=2"
                           "&allowWatchBookmarks=true&resourceVersion=" +
                               rv);
  REQUIRE(status == 200);
  int bookmarks = 0;
  std::istringstream lines(body);
  std::string line;
  while (std::getline(lines, line)) {
    const json ev = json::parse(line);
    REQUIRE(ev["type"] == "BOOKMARK");
    CHECK(ev["object"]["kind"] == "Service");
    CHECK(std::stoull(ev["object"]["metadata"]["resourceVersion"].get<std::string>()) >=
          std::stoull(rv));
    ++bookmarks;
  }
  CHECK(bookmarks >= 1);

  // Without allowWatchBookmarks: none.
  auto [s2, quiet] = s.sim.request(
      "GET", "/api/v1/namespaces/dev/services?watch=1&timeoutSeconds=2&resourceVersion=" + rv);
  CHECK(quiet.empty());

  // A version older than the history: one ERROR event with a Status 410, and the watch ends at
  // once.
  const auto t0 = std::chrono::steady_clock::now();
  auto [s3, gone] = s.sim.request(
      "GET", "/api/v1/namespaces/dev/services?watch=1&timeoutSeconds=30&resourceVersion=1");
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  REQUIRE(s3 == 200);
  const json err = json::parse(gone);
  CHECK(err["type"] == "ERROR");
  CHECK(err["object"]["kind"] == "Status");
  CHECK(err["object"]["code"] == 410);
  CHECK(err["object"]["reason"] == "Expired");

  // Nonsense versions are a 400, like kube-apiserver's.
  CHECK(s.sim.request("GET", "/api/v1/namespaces/dev/services?watch=1&resourceVersion=x").first ==
        400);
  // The request log names the verb.
  bool logged = false;
  for (const auto& l : s.sim.request_log()) {
    logged = logged || (l.value("verb", "") == "watch" && l.value("resource", "") == "services");
  }
  CHECK(logged);
}

TEST_CASE("kubectl get -w follows changes on kubesim", "[kubesim][kubectl][watch]") {
  if (!have_kubectl()) {
    WARN("SKIPPED: kubectl is not installed");
    return;
  }
  Sim s;
  const auto home = s.sim.state_dir() / "home";
  auto watcher = std::async(std::launch::async, [&] {
    return meshctl::testing::run(
        {"timeout", "-s", "INT", "5", "kubectl", "--kubeconfig", s.sim.kubeconfig_path().string(),
         "get", "services", "-n", "dev", "-w"},
        {{"HOME", home.string()}, {"KUBECACHEDIR", (home / "cache").string()}});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  s.create_service("watched");
  auto r = watcher.get();
  INFO(r.out << r.err);
  CHECK(r.err.find("error") == std::string::npos);
  CHECK(r.out.rfind("NAME", 0) == 0);                   // the table header, once
  CHECK(r.out.find("helloworld") != std::string::npos); // the initial list
  CHECK(r.out.find("\nwatched ") != std::string::npos); // the change, as a row
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') >= 3);

  // -o json prints each changed object as JSON.
  auto json_watcher = std::async(std::launch::async, [&] {
    return meshctl::testing::run(
        {"timeout", "-s", "INT", "5", "kubectl", "--kubeconfig", s.sim.kubeconfig_path().string(),
         "get", "services", "-n", "dev", "-w", "--watch-only", "-o", "name"},
        {{"HOME", home.string()}, {"KUBECACHEDIR", (home / "cache").string()}});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  REQUIRE(s.sim.request("DELETE", "/api/v1/namespaces/dev/services/watched").first == 200);
  auto j = json_watcher.get();
  INFO(j.err);
  CHECK(j.out == "service/watched\n");
}

// The real binary: verbs, global flags, exit codes, "did you mean".

#include "support/testing.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

using meshctl::testing::run_meshctl;

TEST_CASE("version without any cluster configured prints meshctl's and says how to add one",
          "[cli][version]") {
  // No meshctl.yaml, no kubeconfig: kubectl would fail on localhost:8080; meshctl exits 0.
  auto r = run_meshctl({"version"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == std::string("meshctl ") + MESHCTL_VERSION + "\n");
  CHECK(r.err.find("meshctl knows no cluster to ask for its versions") != std::string::npos);
  CHECK(r.err.find("hint: list the clusters in meshctl.yaml") != std::string::npos);
  auto j = run_meshctl({"version", "-o", "json"});
  CHECK(j.exit_code == 0);
  const auto doc = nlohmann::json::parse(j.out);
  CHECK(doc["clientVersion"] == MESHCTL_VERSION);
  CHECK(doc["kind"] == "Version");
  CHECK(doc["clusters"] == nlohmann::json::array());
}

TEST_CASE("version --client touches no cluster and reads no configuration", "[cli][version]") {
  // Files that do not exist, and a kubeconfig that is not one: --client reads none of them.
  meshctl::testing::TempDir dir;
  const auto bogus = dir.write("kubeconfig", "this is: [not a kubeconfig\n");
  const std::map<std::string, std::string> env{{"KUBECONFIG", bogus.string()},
                                               {"MESHCTL_CONFIG", "/nonexistent/meshctl.yaml"}};
  auto r = run_meshctl({"version", "--client"}, env);
  CHECK(r.exit_code == 0);
  CHECK(r.out == std::string("meshctl ") + MESHCTL_VERSION + "\n");
  CHECK(r.err.empty());
  auto j = run_meshctl({"--kubeconfig", "/nonexistent", "version", "--client", "-o", "json"}, env);
  CHECK(j.exit_code == 0);
  CHECK(nlohmann::json::parse(j.out) == nlohmann::json{{"apiVersion", "meshctl.dev/v1alpha1"},
                                                       {"kind", "Version"},
                                                       {"clientVersion", MESHCTL_VERSION}});
  // Without --client the same environment is read, and its error reported after the version.
  auto bad = run_meshctl({"version"}, env);
  CHECK(bad.exit_code == 2);
  CHECK(bad.out == std::string("meshctl ") + MESHCTL_VERSION + "\n");
  CHECK(bad.err.rfind("error: ", 0) == 0);
}

TEST_CASE("help documents the exit codes", "[cli]") {
  auto r = run_meshctl({"--help"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("2  usage or configuration error") != std::string::npos);
  CHECK(r.out.find("3  a cluster could not be reached") != std::string::npos);
}

TEST_CASE("unknown verb and flag exit 2 with a suggestion on one line", "[cli]") {
  auto r = run_meshctl({"jion", "a", "b"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("unknown verb \"jion\" (did you mean \"join\"?)") != std::string::npos);
  auto f = run_meshctl({"version", "--kubeconfg", "x"});
  CHECK(f.exit_code == 2);
  CHECK(f.err.find("did you mean \"--kubeconfig\"") != std::string::npos);
  auto o = run_meshctl({"version", "-o", "jsn"});
  CHECK(o.exit_code == 2);
  CHECK(o.err.find("did you mean \"json\"") != std::string::npos);
}

TEST_CASE("no verb is a usage error", "[cli]") {
  auto r = run_meshctl({});
  CHECK(r.exit_code == 2);
}

TEST_CASE("sync-svc refuses dry runs it cannot honour before contacting anything", "[cli]") {
  // No cluster exists at the kubeconfig's server: the refusal comes first, with exit 2.
  auto watch = run_meshctl({"sync-svc", "--watch", "--dry-run"});
  CHECK(watch.exit_code == 2);
  CHECK(watch.err.find("--watch writes as changes happen; it has no dry run") != std::string::npos);
  auto watch_server = run_meshctl({"sync-svc", "--watch", "--dry-run=server"});
  CHECK(watch_server.exit_code == 2);
  auto offline = run_meshctl({"sync-svc", "--dry-run=offline"});
  CHECK(offline.exit_code == 2);
  CHECK(offline.err.find("cannot plan offline") != std::string::npos);
}

TEST_CASE("the timeout flag takes durations — a bad one is exit 2 on one line", "[cli]") {
  for (const char* ok : {"30", "30s", "2m", "1m30s"}) {
    INFO(ok);
    CHECK(run_meshctl({"version", "--timeout", ok}).exit_code == 0);
  }
  for (const char* bad : {"0", "-3", "soon", "3x"}) {
    INFO(bad);
    const auto r = run_meshctl({"version", "--timeout", bad});
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind("error: --timeout ", 0) == 0);
    CHECK(r.err.find("hint: give a duration such as 30s, 2m, 1m30s") != std::string::npos);
  }
}

TEST_CASE("a credential plugin that hangs is killed at --timeout, with what it started",
          "[cli][exec]") {
  meshctl::testing::TempDir dir;
  const auto pid_file = dir.path() / "plugin.pid";
  const auto plugin = dir.write("hang-plugin", "#!/bin/sh\necho $$ > " + pid_file.string() +
                                                   "\nexec >/dev/null 2>&1\nsleep 300\n");
  std::filesystem::permissions(plugin, std::filesystem::perms::owner_all);
  const auto kubeconfig = dir.write(
      "kubeconfig", "apiVersion: v1\nkind: Config\ncurrent-context: a\n"
                    "clusters:\n- name: a\n  cluster: {server: 'https://a.example.invalid:6443'}\n"
                    "- name: b\n  cluster: {server: 'https://b.example.invalid:6443'}\n"
                    "contexts:\n- name: a\n  context: {cluster: a, user: u}\n"
                    "- name: b\n  context: {cluster: b, user: u}\n"
                    "users:\n- name: u\n  user:\n    exec:\n"
                    "      apiVersion: client.authentication.k8s.io/v1\n"
                    "      interactiveMode: Never\n      command: " +
                        plugin.string() + "\n");
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run_meshctl({"join", "a", "b", "--timeout", "2s"},
                             {{"KUBECONFIG", kubeconfig.string()}, {"HOME", dir.path().string()}});
  const auto took = std::chrono::steady_clock::now() - t0;
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("did not finish within 2s (--timeout)") != std::string::npos);
  CHECK(took < std::chrono::seconds(8));
  // The plugin is gone (or a zombie left to init), not left running.
  std::ifstream in(pid_file);
  int pid = 0;
  in >> pid;
  REQUIRE(pid > 0);
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string p, comm, state;
  CHECK((!(stat >> p >> comm >> state) || state == "Z"));
}

TEST_CASE("output: wide is refused with exit 2 where it would add nothing, before any cluster is "
          "contacted",
          "[cli][output]") {
  // No cluster exists at the kubeconfig's server: each refusal comes first, on one line.
  const std::vector<std::vector<std::string>> verbs = {
      {"join", "cn-shanghai", "wuxi"},
      {"join", "cn-shanghai", "wuxi", "--dry-run"},
      {"unjoin", "cn-shanghai", "wuxi"},
      {"expose", "helloworld.dev"},
      {"expose", "--all", "--dry-run"},
      {"localize", "helloworld.dev"},
      {"localize", "--remove", "helloworld.dev"},
      {"sync-svc"},
      {"verify", "helloworld.dev"},
      {"version", "--client"},
      {"config", "view"},
      {"proxy-config", "listener", "-f", "none.json"},
      {"proxy-config", "clusters", "-f", "none.json"},
  };
  for (auto args : verbs) {
    args.insert(args.end(), {"-o", "wide"});
    const auto r = run_meshctl(args);
    INFO(args[0] << " " << args[1] << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.find("-o wide") != std::string::npos);
  }
  const auto r = run_meshctl({"verify", "helloworld.dev", "-o", "wide"});
  CHECK(r.err == "error: -o wide adds nothing to verify: its report is not a table (-o json has "
                 "every field)\nhint: use -o table (the default), -o json or -o yaml\n");
}

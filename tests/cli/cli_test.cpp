// The real binary: verbs, global flags, exit codes, "did you mean".

#include "support/testing.hpp"

using meshctl::testing::run_meshctl;

TEST_CASE("version prints and exits 0", "[cli]") {
  auto r = run_meshctl({"version"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("meshctl ", 0) == 0);
  auto j = run_meshctl({"version", "-o", "json"});
  CHECK(j.exit_code == 0);
  CHECK(j.out.find("\"version\"") != std::string::npos);
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

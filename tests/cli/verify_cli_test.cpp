// meshctl verify through the binary, offline: --from-bundle in every output format gives what the
// library renders, exit codes follow the findings, and usage errors exit 2.

#include "check/bundle.hpp"
#include "check/report.hpp"
#include "core/output.hpp"
#include "unit/check/snapshot.hpp"

using namespace meshctl::check;
using namespace meshctl::testing;
using namespace meshctl::testing::check;

TEST_CASE("verify --from-bundle prints the report in every format", "[cli][verify]") {
  TempDir dir;
  const auto facts = healthy_facts();
  REQUIRE(save_bundle(facts, dir.path().string()));
  const auto report = build_report(facts);

  auto table = run_meshctl({"verify", "--from-bundle", dir.path().string()});
  CHECK(table.exit_code == 0);
  CHECK(table.out == format_report(report, FailOn::k_error, false));

  auto json = run_meshctl({"verify", "--from-bundle", dir.path().string(), "-o", "json"});
  CHECK(json.exit_code == 0);
  CHECK(nlohmann::json::parse(json.out) == report_json(report, FailOn::k_error));

  auto yaml =
      run_meshctl({"verify", "helloworld.dev", "--from-bundle", dir.path().string(), "-o", "yaml"});
  CHECK(yaml.exit_code == 0);
  CHECK(yaml.out == meshctl::to_yaml(report_json(report, FailOn::k_error)));
  CHECK(yaml.out.find("kind: VerifyReport") != std::string::npos);
}

TEST_CASE("verify exit codes: errors, --fail-on warning, unreachable", "[cli][verify]") {
  TempDir dir;
  auto facts = healthy_facts();
  facts.clusters[1].destination_rules.clear(); // wuxi: traffic spread (a warning)
  REQUIRE(save_bundle(facts, (dir.path() / "warn").string()));
  CHECK(run_meshctl({"verify", "--from-bundle", (dir.path() / "warn").string()}).exit_code == 0);
  auto strict = run_meshctl(
      {"verify", "--from-bundle", (dir.path() / "warn").string(), "--fail-on", "warning"});
  CHECK(strict.exit_code == 1);
  CHECK(strict.out.find("⚠ pods of helloworld run in cn-shanghai, wuxi") != std::string::npos);
  CHECK(strict.out.find("hint: meshctl localize helloworld.dev") != std::string::npos);

  facts.clusters[1].reachable = false;
  facts.clusters[1].connect_error = ReadError{"connection refused", "", 0, true};
  REQUIRE(save_bundle(facts, (dir.path() / "down").string()));
  auto down = run_meshctl({"verify", "--from-bundle", (dir.path() / "down").string()});
  CHECK(down.exit_code == 3);
  CHECK(down.out.find("cannot reach wuxi") != std::string::npos);
  CHECK(down.out.find("cn-shanghai  https://cn-shanghai.example:6443") != std::string::npos);
}

TEST_CASE("verify usage errors exit 2", "[cli][verify]") {
  auto none = run_meshctl({"verify"});
  CHECK(none.exit_code == 2);
  CHECK(none.err.find("SERVICE.NAMESPACE") != std::string::npos);
  auto bad = run_meshctl({"verify", "helloworld"});
  CHECK(bad.exit_code == 2);
  auto fail_on = run_meshctl({"verify", "helloworld.dev", "--fail-on", "sometimes"});
  CHECK(fail_on.exit_code == 2);
  CHECK(fail_on.err.find("--fail-on must be error or warning") != std::string::npos);
  TempDir dir;
  auto missing = run_meshctl({"verify", "--from-bundle", dir.path().string()});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("--save-bundle") != std::string::npos);
  REQUIRE(save_bundle(healthy_facts(), dir.path().string()));
  auto other = run_meshctl({"verify", "sleep.dev", "--from-bundle", dir.path().string()});
  CHECK(other.exit_code == 2);
  CHECK(other.err.find("is about helloworld.dev") != std::string::npos);
}

TEST_CASE("verify colours its report on a terminal, not with TERM=dumb or NO_COLOR",
          "[cli][verify][color]") {
  if (!std::filesystem::exists("/usr/bin/script")) {
    MESHCTL_SKIP("script(1) from util-linux is needed to give meshctl a terminal");
  }
  TempDir dir;
  REQUIRE(save_bundle(healthy_facts(), dir.path().string()));
  // script(1) runs the command on a pseudo-terminal and copies what it prints.
  const auto on_tty = [&](const std::map<std::string, std::string>& env) {
    const std::string cmd = meshctl_bin().string() + " verify --from-bundle " + dir.path().string();
    return meshctl::testing::run({"/usr/bin/script", "-qec", cmd, "/dev/null"}, env);
  };
  const auto colour = on_tty({{"TERM", "xterm-256color"}, {"PATH", "/usr/bin:/bin"}});
  INFO(colour.out << colour.err);
  CHECK(colour.out.find("\x1b[") != std::string::npos);
  const auto dumb = on_tty({{"TERM", "dumb"}, {"PATH", "/usr/bin:/bin"}});
  CHECK(dumb.out.find("\x1b[") == std::string::npos);
  const auto no_color =
      on_tty({{"TERM", "xterm-256color"}, {"NO_COLOR", "1"}, {"PATH", "/usr/bin:/bin"}});
  CHECK(no_color.out.find("\x1b[") == std::string::npos);
}

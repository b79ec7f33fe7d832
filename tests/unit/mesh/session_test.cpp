// The names and modes users type: SERVICE.NAMESPACE with or without -n, and --dry-run's modes.

#include "mesh/join.hpp"
#include "mesh/session.hpp"

#include <catch2/catch.hpp>

using namespace meshctl;
using namespace meshctl::mesh;

TEST_CASE("a service name takes its namespace from the name or from -n, never both differently",
          "[mesh][names]") {
  auto plain = parse_service_name("helloworld.dev");
  REQUIRE(plain);
  CHECK(plain->name == "helloworld");
  CHECK(plain->namespace_ == "dev");

  auto flag = parse_service_name("helloworld", "dev");
  REQUIRE(flag);
  CHECK(flag->name == "helloworld");
  CHECK(flag->namespace_ == "dev");

  auto both = parse_service_name("helloworld.dev.svc.cluster.local", "dev");
  REQUIRE(both);
  CHECK(both->namespace_ == "dev");

  auto conflict = parse_service_name("helloworld.dev", "prod");
  REQUIRE_FALSE(conflict);
  CHECK(conflict.error().code() == ExitCode::k_usage);
  CHECK(conflict.error().what() ==
        "\"helloworld.dev\" is in namespace \"dev\" but -n says \"prod\"");

  auto bare = parse_service_name("helloworld");
  REQUIRE_FALSE(bare);
  CHECK(bare.error().hint().find("helloworld -n dev") != std::string::npos);
  CHECK_FALSE(parse_service_name("Hello", "dev"));
  CHECK_FALSE(parse_service_name("helloworld", "Dev"));
}

TEST_CASE("choose_namespace: the name's, else -n's, else the fallback", "[mesh][names]") {
  CHECK(*choose_namespace("sleep.dev", "dev", "", "default") == "dev");
  CHECK(*choose_namespace("sleep", "", "dev", "default") == "dev");
  CHECK(*choose_namespace("sleep", "", "", "default") == "default");
  CHECK(*choose_namespace("sleep.dev", "dev", "dev", "default") == "dev");
  auto conflict = choose_namespace("sleep.dev", "dev", "prod");
  REQUIRE_FALSE(conflict);
  CHECK(conflict.error().code() == ExitCode::k_usage);
}

TEST_CASE("dry-run modes (--dry-run), none included, and how output marks them",
          "[mesh][dry-run]") {
  CHECK(*parse_dry_run("") == DryRun::k_none);
  CHECK(*parse_dry_run("none") == DryRun::k_none); // kubectl's explicit "no dry run"
  CHECK(*parse_dry_run("offline") == DryRun::k_offline);
  CHECK(*parse_dry_run("client") == DryRun::k_client);
  CHECK(*parse_dry_run("server") == DryRun::k_server);
  auto bad = parse_dry_run("true");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code() == ExitCode::k_usage);
  CHECK(bad.error().hint().find("--dry-run=none") != std::string::npos);
  CHECK(std::string(dry_run_suffix(DryRun::k_none)).empty());
  CHECK(std::string(dry_run_suffix(DryRun::k_client)) == " (dry run)");
  CHECK(std::string(dry_run_suffix(DryRun::k_offline)) == " (dry run)");
  CHECK(std::string(dry_run_suffix(DryRun::k_server)) == " (server dry run)");
}

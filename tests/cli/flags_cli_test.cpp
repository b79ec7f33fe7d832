// The command line as kubectl users type it (pflag's rules), through the real binary: -X=VALUE,
// global flags before or after the verb, -n wherever a namespace applies, `help VERB`, istioctl's
// proxy-config subcommands meshctl lacks, and dry runs that say so (--dry-run=none, --output-dir).

#include "check/bundle.hpp"
#include "unit/check/snapshot.hpp"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <fstream>

using namespace meshctl::testing;

namespace {

const std::string k_kubeconfig = (source_dir() / "examples/seed/kubeconfig.yaml").string();
const std::string k_config = (source_dir() / "examples/seed/meshctl.yaml").string();

// The seed's config and kubeconfig before `args` (offline dry runs need nothing else).
RunResult seed(const std::vector<std::string>& args) {
  std::vector<std::string> full{"--kubeconfig", k_kubeconfig, "-c", k_config};
  full.insert(full.end(), args.begin(), args.end());
  return run_meshctl(full);
}

// A verify bundle of helloworld.dev, for verify's flags without a cluster.
struct Bundle {
  TempDir dir;
  Bundle() { REQUIRE(meshctl::check::save_bundle(check::healthy_facts(), dir.path().string())); }
  [[nodiscard]] std::string path() const { return dir.path().string(); }
};

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

} // namespace

TEST_CASE("flags: -X=VALUE is VALUE, as pflag reads it", "[cli][flags]") {
  auto o = run_meshctl({"version", "-o=json"});
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  CHECK(nlohmann::json::parse(o.out).contains("clientVersion"));
  CHECK(run_meshctl({"-o=yaml", "version"}).out.find("\nclientVersion: ") != std::string::npos);
  CHECK(run_meshctl({"version", "--output=json"}).exit_code == 0);

  // -n=dev is namespace "dev" (CLI11 alone reads "=dev").
  Bundle b;
  auto n = run_meshctl({"verify", "helloworld", "-n=dev", "--from-bundle", b.path()});
  INFO(n.err);
  CHECK(n.exit_code == 0);
  auto localize = seed({"localize", "helloworld", "-n=dev", "--dry-run"});
  INFO(localize.err);
  REQUIRE(localize.exit_code == 0);
  CHECK(localize.out.find("host: helloworld.dev.svc.cluster.local\n") != std::string::npos);

  // --context=NAME (CLI11 reads it already; kept working).
  auto ctx = seed({"expose", "--all", "--dry-run", "--context=wuxi"});
  REQUIRE(ctx.exit_code == 0);
  CHECK(ctx.out.find("# cluster: wuxi") != std::string::npos);
  CHECK(ctx.out.find("# cluster: cn-shanghai") == std::string::npos);
  // A context that does not exist is still an error.
  auto missing = seed({"expose", "--all", "--dry-run", "--context=wux"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("did you mean \"wuxi\"") != std::string::npos);
}

TEST_CASE("global flags and a verb's flags are taken before the verb too", "[cli][flags]") {
  // The bug: `meshctl --context wuxi verb` answered `unknown flag "--context" (did you mean
  // "--context"?)`.
  auto before = seed({"--context", "wuxi", "expose", "--all", "--dry-run"});
  INFO(before.err);
  REQUIRE(before.exit_code == 0);
  CHECK(before.out == seed({"expose", "--all", "--dry-run", "--context", "wuxi"}).out);

  // Global flags after the verb, even after its arguments.
  auto after = run_meshctl({"join", "cn-shanghai", "wuxi", "--dry-run", "--kubeconfig",
                            k_kubeconfig, "-c", k_config, "-o", "json"});
  INFO(after.err);
  REQUIRE(after.exit_code == 0);
  const auto manifests = nlohmann::json::parse(after.out);
  CHECK(manifests["kind"] == "ManifestList");
  REQUIRE(manifests["clusters"].size() == 2);
  CHECK(manifests["clusters"][0]["objects"].size() + manifests["clusters"][1]["objects"].size() ==
        26);

  // -n and a bare --dry-run before the verb that takes them.
  auto ns = seed({"-n", "dev", "--dry-run", "localize", "helloworld"});
  INFO(ns.err);
  REQUIRE(ns.exit_code == 0);
  CHECK(ns.out == seed({"localize", "helloworld.dev", "--dry-run"}).out);

  Bundle b;
  auto verify = run_meshctl({"--context", "wuxi", "verify", "--from-bundle", b.path()});
  CHECK(verify.exit_code == 2); // verify got --context: a bundle has its own clusters
  CHECK(verify.err.find("drop --context") != std::string::npos);

  // A flag the verb does not take: where it belongs, never the flag itself as a suggestion.
  auto wrong = seed({"-n", "dev", "join", "cn-shanghai", "wuxi", "--dry-run"});
  CHECK(wrong.exit_code == 2);
  CHECK(first_line(wrong.err).find("unknown flag \"-n\" for \"join\" (a flag of ") !=
        std::string::npos);
  CHECK(first_line(wrong.err).find("verify") != std::string::npos);
  auto after_verb = seed({"join", "cn-shanghai", "wuxi", "--dry-run", "-n", "dev"});
  CHECK(after_verb.exit_code == 2);
  CHECK(after_verb.err.find("unknown flag \"-n\" for \"join\"") != std::string::npos);
  CHECK(after_verb.err.find("hint: run 'meshctl join --help'") != std::string::npos);
  auto typo = seed({"--contxt", "wuxi", "expose", "--all"});
  CHECK(typo.exit_code == 2);
  CHECK(typo.err.find("(did you mean \"--context\"?)") != std::string::npos);
  CHECK(run_meshctl({"--context", "wuxi"}).err.find("did you mean \"--context\"") ==
        std::string::npos);
}

TEST_CASE("flags: -n gives a namespace to names without one — a different one is exit 2",
          "[cli][flags]") {
  Bundle b;
  CHECK(run_meshctl({"verify", "helloworld", "-n", "dev", "--from-bundle", b.path()}).exit_code ==
        0);
  CHECK(
      run_meshctl({"verify", "helloworld.dev", "-n", "dev", "--from-bundle", b.path()}).exit_code ==
      0);
  auto conflict =
      run_meshctl({"verify", "helloworld.dev", "-n", "prod", "--from-bundle", b.path()});
  CHECK(conflict.exit_code == 2);
  CHECK(first_line(conflict.err) ==
        "error: \"helloworld.dev\" is in namespace \"dev\" but -n says \"prod\"");

  auto expose = seed({"expose", "helloworld", "ratings", "-n", "dev", "--dry-run"});
  REQUIRE(expose.exit_code == 0);
  CHECK(expose.out.find("- ratings.dev.svc.cluster.local\n") != std::string::npos);
  CHECK(seed({"expose", "--all", "-n", "dev", "--dry-run"}).exit_code == 2);
  CHECK(seed({"localize", "helloworld.prod", "-n", "dev", "--dry-run"}).exit_code == 2);

  // proxy-config: the pod's namespace, checked before any cluster is contacted.
  auto pc = seed({"pc", "listener", "sleep-1.dev", "-n", "prod", "--context", "wuxi"});
  CHECK(pc.exit_code == 2);
  CHECK(first_line(pc.err).find("\"sleep-1.dev\" is in namespace \"dev\" but -n says \"prod\"") !=
        std::string::npos);
  TempDir dir;
  const auto dump = dir.write("dump.json", "{}");
  auto file = run_meshctl({"pc", "listener", "-f", dump.string(), "-n", "dev"});
  CHECK(file.exit_code == 2);
  CHECK(file.err.find("-n applies to a pod, not to -f") != std::string::npos);
}

TEST_CASE("help VERB, global flags in each verb's help, and istioctl's other proxy-config "
          "subcommands",
          "[cli][flags][help]") {
  auto help = run_meshctl({"help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out == run_meshctl({"--help"}).out);
  CHECK(help.out.find("help") != std::string::npos);

  auto join = run_meshctl({"help", "join"});
  CHECK(join.exit_code == 0);
  CHECK(join.out == run_meshctl({"join", "--help"}).out);
  CHECK(join.out.find("--show-secrets") != std::string::npos);
  // Every verb's help lists the global flags, then its footer.
  const auto globals = join.out.find("Global flags");
  REQUIRE(globals != std::string::npos);
  CHECK(join.out.find("--kubeconfig", globals) != std::string::npos);
  CHECK(join.out.find("--timeout", globals) != std::string::npos);
  CHECK(join.out.find("Examples:", globals) != std::string::npos);

  auto listener = run_meshctl({"help", "pc", "listener"});
  CHECK(listener.exit_code == 0);
  CHECK(listener.out.find("--type") != std::string::npos);
  CHECK(listener.out.find("Global flags") != std::string::npos);

  auto typo = run_meshctl({"help", "jion"});
  CHECK(typo.exit_code == 2);
  CHECK(typo.err.find("unknown verb \"jion\" (did you mean \"join\"?)") != std::string::npos);

  for (const std::string sub : {"routes", "route", "secret", "bootstrap"}) {
    auto r = run_meshctl({"proxy-config", sub, "sleep-1.dev"});
    INFO(sub << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("does not support") != std::string::npos);
    CHECK(r.err.find("listener, endpoints, eds and clusters") != std::string::npos);
    CHECK(r.err.find("A subcommand is required") == std::string::npos);
  }
  auto none = run_meshctl({"pc"});
  CHECK(none.exit_code == 2);
  CHECK(first_line(none.err) ==
        "error: \"proxy-config\" needs a subcommand: listener, endpoints, eds, clusters");
  auto other = run_meshctl({"pc", "listners", "x"});
  CHECK(other.exit_code == 2);
  CHECK(other.err.find("did you mean \"listener\"") != std::string::npos);
  CHECK(run_meshctl({"pc", "--help"}).exit_code == 0);
}

TEST_CASE("flags: --dry-run=none is no dry run — --output-dir writes one file per cluster",
          "[cli][flags][dry-run]") {
  TempDir dir;
  const auto out = dir.path() / "mesh";
  // "none" is accepted as kubectl accepts it: here it is not an offline dry run, so --output-dir
  // is refused (before any cluster is contacted).
  auto none = seed({"expose", "--all", "--dry-run=none", "--output-dir", out.string()});
  CHECK(none.exit_code == 2);
  CHECK(none.err.find("--output-dir holds the manifests of an offline --dry-run") !=
        std::string::npos);
  CHECK(none.err.find("unknown --dry-run mode") == std::string::npos);

  auto r = seed(
      {"join", "cn-shanghai", "wuxi", "--dry-run", "-o", "yaml", "--output-dir", out.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "cn-shanghai: 13 objects written to " + (out / "cn-shanghai.yaml").string() +
                     " (dry run)\nwuxi: 13 objects written to " + (out / "wuxi.yaml").string() +
                     " (dry run)\n");
  const auto stdout_form = seed({"join", "cn-shanghai", "wuxi", "--dry-run", "-o", "yaml"}).out;
  const std::string a = read_file(out / "cn-shanghai.yaml");
  const std::string w = read_file(out / "wuxi.yaml");
  CHECK(a + w == stdout_form);
  CHECK(YAML::LoadAll(w).size() == 13);
  CHECK(w.find("# cluster: cn-shanghai") == std::string::npos);

  auto json = seed({"localize", "helloworld.dev", "--dry-run", "-o", "json", "--output-dir",
                    out.string(), "--context", "wuxi"});
  REQUIRE(json.exit_code == 0);
  const auto list = nlohmann::json::parse(read_file(out / "wuxi.json"));
  CHECK(list["kind"] == "ManifestList");
  REQUIRE(list["clusters"].size() == 1);
  CHECK(list["clusters"][0]["name"] == "wuxi");
  CHECK(list["clusters"][0]["objects"].size() == 1);
  CHECK(seed({"sync-svc", "--dry-run", "--output-dir", out.string()}).exit_code == 2);
}

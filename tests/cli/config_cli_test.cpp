// The real binary: `meshctl config view`, and exit 2 with one clear line for a bad config, a bad
// kubeconfig and an unknown context.

#include "support/testing.hpp"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

using meshctl::testing::run_meshctl;
using meshctl::testing::source_dir;
using meshctl::testing::TempDir;

namespace {

const std::string k_seed = (source_dir() / "examples" / "seed" / "meshctl.yaml").string();
const std::string k_seed_kubeconfig =
    (source_dir() / "examples" / "seed" / "kubeconfig.yaml").string();

// The error output must be one "error: …" line, optionally followed by one "hint: …" line.
void check_one_line_error(const meshctl::testing::RunResult& r, const std::string& needle) {
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  INFO("stderr: " << r.err);
  REQUIRE(r.err.rfind("error: ", 0) == 0);
  const auto first_end = r.err.find('\n');
  const std::string first = r.err.substr(0, first_end);
  CHECK(first.find(needle) != std::string::npos);
  const std::string rest = r.err.substr(first_end + 1);
  if (!rest.empty()) {
    CHECK(rest.rfind("hint: ", 0) == 0);
    CHECK(std::count(rest.begin(), rest.end(), '\n') == 1);
  }
}

} // namespace

TEST_CASE("config view prints the seed config as YAML by default and with -o yaml",
          "[cli][config]") {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"-c", k_seed, "config", "view"},
        std::vector<std::string>{"config", "view", "-c", k_seed, "-o", "yaml"}}) {
    auto r = run_meshctl(args);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.empty());
    const YAML::Node y = YAML::Load(r.out);
    CHECK(y["mesh"]["id"].as<std::string>() == "mesh1");
    CHECK(y["mesh"]["trustDomain"].as<std::string>() == "cluster.local");
    REQUIRE(y["clusters"].size() == 2);
    CHECK(y["clusters"][0]["name"].as<std::string>() == "cn-shanghai");
    CHECK(y["clusters"][0]["gateway"]["type"].as<std::string>() == "NodePort");
    CHECK(y["clusters"][0]["gateway"]["externalIPs"][0].as<std::string>() == "10.0.139.33");
    CHECK(y["clusters"][1]["gateway"]["externalIPs"][0].as<std::string>() == "10.18.10.196");
    CHECK(y["clusters"][1]["gateway"]["nodeSelector"].IsMap());
    CHECK(y["clusters"][1]["gateway"]["nodeSelector"].size() == 0);
    // run_meshctl sets HOME to a fixed fake path: the default pki dir follows it.
    CHECK(y["pki"]["dir"].as<std::string>() ==
          "/nonexistent-meshctl-test-home/.config/meshctl/pki/mesh1");
    // Keys in the file's order (as -o json has them), not sorted: a cluster starts with its name.
    CHECK(r.out.find("mesh:") < r.out.find("clusters:"));
    CHECK(r.out.find("clusters:") < r.out.find("pki:"));
    CHECK(r.out.find("  - name: cn-shanghai\n") != std::string::npos);
  }
}

TEST_CASE("config view -o json has the file's key names", "[cli][config]") {
  auto r = run_meshctl({"config", "view", "-o", "json"}, {{"MESHCTL_CONFIG", k_seed}});
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["clusters"][1]["name"] == "wuxi");
  CHECK(j["clusters"][1]["apiServer"] == "https://10.18.10.10:6443");
  CHECK(j["clusters"][1]["gateway"]["externalIPs"] == nlohmann::json::array({"10.18.10.196"}));
  CHECK(j["mesh"]["id"] == "mesh1");

  // No file at all: the embedded defaults.
  auto d = run_meshctl({"config", "view", "-o", "json"});
  REQUIRE(d.exit_code == 0);
  const auto dj = nlohmann::json::parse(d.out);
  CHECK(dj["clusters"].empty());
  CHECK(dj["mesh"]["trustDomain"] == "cluster.local");
}

TEST_CASE("config view with contexts shows what a verb would use", "[cli][config]") {
  auto r = run_meshctl({"--kubeconfig", k_seed_kubeconfig, "config", "view", "wuxi", "-o", "json"});
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["clusters"].size() == 1);
  CHECK(j["clusters"][0]["name"] == "wuxi");
  CHECK(j["clusters"][0]["network"] == "wuxi");
  CHECK(j["clusters"][0]["gateway"]["type"] == "LoadBalancer");
}

TEST_CASE("a bad config exits 2 with file:line on one line", "[cli][config]") {
  TempDir dir;
  const auto p = dir.write("meshctl.yaml", "clusters:\n  - name: wuxi\n    gateway:\n"
                                           "      type: NodePort\n      externalIPs: 10.0.0.1\n");
  auto r = run_meshctl({"-c", p.string(), "config", "view"});
  check_one_line_error(r, p.string() + ":5:20: clusters[0].gateway.externalIPs must be a list");

  const auto syntax = dir.write("syntax.yaml", "mesh:\n  id: [mesh1\n");
  check_one_line_error(run_meshctl({"-c", syntax.string(), "config", "view"}),
                       syntax.string() + ":");

  const auto trap = dir.write("trap.yaml", "clusters:\n  - name: wuxi\n    gateway:\n"
                                           "      type: NodePort\n");
  auto t = run_meshctl({"-c", trap.string(), "config", "view"});
  check_one_line_error(t, "NodePort but gives no address");
  CHECK(t.err.find("traffic.istio.io/nodeSelector") != std::string::npos);

  check_one_line_error(run_meshctl({"-c", (dir.path() / "absent.yaml").string(), "config", "view"}),
                       "does not exist");
}

TEST_CASE("an unknown config key suggests the right one", "[cli][config]") {
  TempDir dir;
  const auto p = dir.write("meshctl.yaml", "mesh:\n  id: mesh1\n  trustDomian: cluster.local\n");
  auto r = run_meshctl({"config", "view"}, {{"MESHCTL_CONFIG", p.string()}});
  check_one_line_error(r, p.string() + ":3:3: unknown key \"trustDomian\" in mesh (did you mean "
                                       "\"trustDomain\"?)");
}

TEST_CASE("a bad kubeconfig exits 2 with file:line on one line", "[cli][config]") {
  TempDir dir;
  const auto kc = dir.write("kubeconfig", "clusters:\n- name: wuxi\n  cluster:\n"
                                          "    server: https://10.18.10.10:6443\n"
                                          "    certificate-authority-data: '%%%'\n");
  auto r = run_meshctl({"--kubeconfig", kc.string(), "config", "view", "wuxi"});
  check_one_line_error(r, kc.string() + ":5:33: clusters[wuxi].cluster.certificate-authority-data "
                                        "is not valid base64");
  const auto yaml = dir.write("broken", "contexts: [\n");
  check_one_line_error(run_meshctl({"config", "view", "wuxi"}, {{"KUBECONFIG", yaml.string()}}),
                       yaml.string() + ":");
  check_one_line_error(
      run_meshctl({"--kubeconfig", (dir.path() / "absent").string(), "config", "view", "wuxi"}),
      "(from --kubeconfig) does not exist");
}

TEST_CASE("an unknown context exits 2 with a suggestion", "[cli][config]") {
  auto r = run_meshctl({"--kubeconfig", k_seed_kubeconfig, "config", "view", "wux"});
  check_one_line_error(r, "context \"wux\" not found in kubeconfig (did you mean \"wuxi\"?)");

  // A config cluster whose context is missing from the kubeconfig: resolve() reports it.
  TempDir dir;
  const auto cfg = dir.write("m.yaml", "clusters:\n  - name: wuxi\n    context: wuxi-prod\n");
  auto c = run_meshctl(
      {"-c", cfg.string(), "--kubeconfig", k_seed_kubeconfig, "config", "view", "wuxi"});
  check_one_line_error(c, "cluster wuxi: context \"wuxi-prod\" not found in kubeconfig");
  CHECK(c.err.find("kubeconfig files read: " + k_seed_kubeconfig) != std::string::npos);
}

TEST_CASE("config without a subcommand and config view -o wide are usage errors", "[cli][config]") {
  CHECK(run_meshctl({"config"}).exit_code == 2);
  CHECK(run_meshctl({"config", "view", "-o", "wide"}).exit_code == 2);
  auto typo = run_meshctl({"config", "veiw"});
  CHECK(typo.exit_code == 2);
}

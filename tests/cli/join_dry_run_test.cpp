// `meshctl join --dry-run`: offline, every manifest per cluster, goldens for every example config.

#include "support/testing.hpp"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

using namespace meshctl::testing;

namespace {

const std::string k_seed_kubeconfig = (source_dir() / "examples/seed/kubeconfig.yaml").string();

RunResult dry_run(const std::string& config, const std::vector<std::string>& extra,
                  const TempDir& home) {
  std::vector<std::string> args{"--kubeconfig", k_seed_kubeconfig};
  if (!config.empty()) {
    args.insert(args.end(), {"-c", (source_dir() / config).string()});
  }
  args.insert(args.end(), {"join", "cn-shanghai", "wuxi", "--dry-run"});
  args.insert(args.end(), extra.begin(), extra.end());
  return run_meshctl(args, {{"HOME", home.path().string()}});
}

// The kinds and names per cluster, in output order, from the YAML stream.
std::vector<std::string> documents(const std::string& yaml) {
  std::vector<std::string> out;
  for (const auto& doc : YAML::LoadAll(yaml)) {
    out.push_back(doc["kind"].as<std::string>() + " " + doc["metadata"]["name"].as<std::string>());
  }
  return out;
}

} // namespace

TEST_CASE("join --dry-run prints every manifest of the seed scenario per cluster", "[cli][join]") {
  TempDir home;
  auto r = dry_run("examples/seed/meshctl.yaml", {"-o", "yaml"}, home);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  check_golden("join/seed-dry-run.yaml", r.out);

  // Each cluster gets the same base set plus a remote secret for the other one.
  const auto docs = documents(r.out);
  const std::vector<std::string> per_cluster{
      "Namespace istio-system",
      "Secret cacerts",
      "ServiceAccount istio-eastwestgateway",
      "Role istio-eastwestgateway",
      "RoleBinding istio-eastwestgateway",
      "Deployment istio-eastwestgateway",
      "Service istio-eastwestgateway",
      "ServiceAccount istio-reader-service-account",
      "ClusterRole istio-reader-clusterrole-istio-system",
      "ClusterRoleBinding istio-reader-clusterrole-istio-system",
      "Secret istio-reader-service-account-istio-remote-secret-token",
      "Gateway cross-network-gateway"};
  REQUIRE(docs.size() == 2 * (per_cluster.size() + 1));
  for (std::size_t i = 0; i < per_cluster.size(); ++i) {
    CHECK(docs[i] == per_cluster[i]);
    CHECK(docs[per_cluster.size() + 1 + i] == per_cluster[i]);
  }
  CHECK(docs[per_cluster.size()] == "Secret istio-remote-secret-wuxi");
  CHECK(docs.back() == "Secret istio-remote-secret-cn-shanghai");

  // The seed's gateway: NodePort, fixed externalIPs, nodeSelector "{}" as JSON; cacerts has 4 keys.
  const auto all = YAML::LoadAll(r.out);
  const auto& wuxi_svc = all[per_cluster.size() + 1 + 6];
  CHECK(wuxi_svc["spec"]["type"].as<std::string>() == "NodePort");
  CHECK(wuxi_svc["spec"]["externalIPs"][0].as<std::string>() == "10.18.10.196");
  CHECK(wuxi_svc["metadata"]["annotations"]["traffic.istio.io/nodeSelector"].as<std::string>() ==
        "{}");
  bool has_15443 = false;
  for (const auto& p : wuxi_svc["spec"]["ports"]) {
    has_15443 = has_15443 || p["port"].as<int>() == 15443;
  }
  CHECK(has_15443);
  CHECK(all[1]["data"].size() == 4);
  for (const auto& kv : all[1]["data"]) {
    CHECK(kv.second.as<std::string>() == "<redacted>");
  }
  // Offline: nothing written to the PKI dir.
  CHECK_FALSE(std::filesystem::exists(home.path() / ".config"));
}

TEST_CASE("join --dry-run -o json is a ManifestList: the objects per cluster", "[cli][join]") {
  TempDir home;
  auto r = dry_run("examples/seed/meshctl.yaml", {"-o", "json"}, home);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["apiVersion"] == "meshctl.dev/v1alpha1");
  CHECK(j["kind"] == "ManifestList");
  CHECK(j["dryRun"] == "offline");
  const auto& clusters = j["clusters"];
  REQUIRE(clusters.size() == 2);
  CHECK(clusters[0]["name"] == "cn-shanghai");
  CHECK(clusters[1]["name"] == "wuxi");
  CHECK(clusters[0]["objects"].size() + clusters[1]["objects"].size() == 26);
  CHECK(clusters[0]["objects"][0]["kind"] == "Namespace");
  CHECK(clusters[1]["objects"].back()["data"]["cn-shanghai"] == "<redacted>");
  // Typed as the API wants: ports are numbers, label values strings.
  CHECK(clusters[0]["objects"][6]["spec"]["ports"][1]["port"] == 15443);
}

TEST_CASE("join --dry-run --show-secrets shows placeholders for what only a cluster knows",
          "[cli][join]") {
  TempDir home;
  auto r = dry_run("examples/seed/meshctl.yaml", {"--show-secrets"}, home);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("<ca-cert.pem of a new intermediate CA for wuxi, read at apply time>") !=
        std::string::npos);
  const auto all = YAML::LoadAll(r.out);
  const auto kubeconfig_b64 = all.back()["data"]["cn-shanghai"].as<std::string>();
  CHECK(kubeconfig_b64 != "<redacted>");
  auto decoded = run({"sh", "-c", "echo '" + kubeconfig_b64 + "' | base64 -d"});
  CHECK(decoded.out.find("https://cn-shanghai.example.internal:6443") != std::string::npos);
  CHECK(decoded.out.find("token of istio-reader-service-account in cn-shanghai") !=
        std::string::npos);
}

TEST_CASE("join --dry-run for the LoadBalancer example", "[cli][join]") {
  TempDir home;
  auto r = dry_run("examples/loadbalancer/meshctl.yaml", {}, home);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  check_golden("join/loadbalancer-dry-run.yaml", r.out);
  CHECK(r.out.find("type: LoadBalancer") != std::string::npos);
  CHECK(r.out.find("traffic.istio.io/nodeSelector") == std::string::npos);
}

TEST_CASE("join --dry-run with no config takes every default from the kubeconfig", "[cli][join]") {
  TempDir home;
  auto r = dry_run("", {}, home);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  check_golden("join/no-config-dry-run.yaml", r.out);
  CHECK(r.out.find("topology.istio.io/network: wuxi") != std::string::npos);
}

TEST_CASE("join refuses bad input with exit 2 and one clear line", "[cli][join]") {
  TempDir home;
  SECTION("unknown context") {
    auto r =
        run_meshctl({"--kubeconfig", k_seed_kubeconfig, "join", "cn-shanghai", "wux", "--dry-run"},
                    {{"HOME", home.path().string()}});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("did you mean \"wuxi\"") != std::string::npos);
    CHECK(r.out.empty());
  }
  SECTION("bad config") {
    const auto cfg =
        home.write("bad.yaml", "mesh:\n  id: mesh1\nclusters:\n  - name: wuxi\n    netwrok: x\n");
    auto r = run_meshctl({"--kubeconfig", k_seed_kubeconfig, "-c", cfg.string(), "join",
                          "cn-shanghai", "wuxi", "--dry-run"},
                         {{"HOME", home.path().string()}});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("bad.yaml:5") != std::string::npos);
    CHECK(r.err.find("did you mean \"network\"") != std::string::npos);
    CHECK(r.out.empty());
  }
  SECTION("bad kubeconfig") {
    const auto kc = home.write("kc.yaml", "apiVersion: v1\nclusters: [\n");
    auto r = run_meshctl({"--kubeconfig", kc.string(), "join", "a", "b", "--dry-run"},
                         {{"HOME", home.path().string()}});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("kc.yaml") != std::string::npos);
    CHECK(r.out.empty());
  }
  SECTION("one cluster") {
    auto r = run_meshctl({"--kubeconfig", k_seed_kubeconfig, "join", "wuxi", "--dry-run"},
                         {{"HOME", home.path().string()}});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("at least two clusters") != std::string::npos);
  }
  SECTION("loopback API server from the kubeconfig") {
    const auto kc = home.write(
        "kc.yaml", "apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster: {server: "
                   "https://127.0.0.1:6443}\n- name: b\n  cluster: {server: https://b:6443}\n"
                   "users:\n- name: u\n  user: {token: abcdefgh}\ncontexts:\n- name: a\n  context: "
                   "{cluster: a, user: u}\n- name: b\n  context: {cluster: b, user: u}\n");
    auto r = run_meshctl({"--kubeconfig", kc.string(), "join", "a", "b", "--dry-run"},
                         {{"HOME", home.path().string()}});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("loopback") != std::string::npos);
    CHECK(r.err.find("hint: set clusters[].apiServer") != std::string::npos);
  }
}

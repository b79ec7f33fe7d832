// Fidelity of kubesim proven with the real kubectl: each test starts a kubesim (seeded like the
// sandbox's cn-shanghai) and runs kubectl against it, checking what kubectl prints and exits with.

#include "kubesim_process.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

namespace {

using kubesim::testing::KubesimProcess;
using meshctl::testing::RunResult;
using json = nlohmann::json;
namespace fs = std::filesystem;

bool have_kubectl() {
  return meshctl::testing::run({"kubectl", "version", "--client"}).exit_code == 0;
}

#define REQUIRE_KUBECTL()                                                                          \
  do {                                                                                             \
    if (!have_kubectl()) {                                                                         \
      WARN("SKIPPED: kubectl is not installed");                                                   \
      return;                                                                                      \
    }                                                                                              \
  } while (false)

// A kubesim seeded like a sandbox cluster, with pod data for exec/proxy, and a kubectl for it.
struct Cluster {
  KubesimProcess sim;
  fs::path home;

  explicit Cluster(const std::string& name = "cn-shanghai",
                   const kubesim::testing::KubesimOptions& o = {}) {
    kubesim::testing::KubesimOptions opts = o;
    if (opts.pod_data.empty()) {
      opts.pod_data = KubesimProcess::seed_dir(); // no pod data there: only the files tests write
    }
    // A variant's own seed replaces the standard one (seed/variants/README.md).
    const fs::path variant =
        KubesimProcess::seed_dir() / "variants" / opts.variant / (name + ".yaml");
    sim.start(name,
              {KubesimProcess::seed_dir() / "istio-crds.yaml",
               !opts.variant.empty() && fs::exists(variant)
                   ? variant
                   : KubesimProcess::seed_dir() / (name + ".yaml")},
              opts);
    home = sim.state_dir() / "home";
    fs::create_directories(home);
  }

  RunResult kubectl(std::vector<std::string> args, const std::string& input = "") const {
    args.insert(args.begin(), {"kubectl", "--kubeconfig", sim.kubeconfig_path().string()});
    return meshctl::testing::run(
        args, {{"HOME", home.string()}, {"KUBECACHEDIR", (home / "cache").string()}}, input);
  }

  fs::path write(const std::string& name, const std::string& content) const {
    const fs::path p = sim.state_dir() / name;
    std::ofstream(p) << content;
    return p;
  }
};

std::string first_line(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

} // namespace

TEST_CASE("kubectl get works against kubesim: tables, -A, -o json, -l", "[kubesim][kubectl]") {
  REQUIRE_KUBECTL();
  Cluster c;
  auto r = c.kubectl({"get", "namespaces"});
  REQUIRE(r.exit_code == 0);
  CHECK(first_line(r.out) == "NAME              STATUS   AGE");
  CHECK(r.out.find("istio-system      Active") != std::string::npos);

  r = c.kubectl({"get", "pods", "-A"});
  REQUIRE(r.exit_code == 0);
  CHECK(first_line(r.out).rfind(
            "NAMESPACE      NAME                             READY   STATUS    RESTARTS   AGE",
            0) == 0);
  CHECK(r.out.find("istiod-7d4f8b9c6d-x2k4p          1/1     Running") != std::string::npos);

  r = c.kubectl({"get", "pods", "-n", "dev", "-l", "app=helloworld", "-o", "json"});
  REQUIRE(r.exit_code == 0);
  const json list = json::parse(r.out);
  CHECK(list["kind"] == "List");
  REQUIRE(list["items"].size() == 1);
  CHECK(list["items"][0]["kind"] == "Pod");
  CHECK(list["items"][0]["metadata"]["labels"]["version"] == "v1");

  r = c.kubectl({"get", "pods", "-A", "-l", "app notin (helloworld,sleep)", "-o", "name"});
  CHECK(r.out == "pod/istiod-7d4f8b9c6d-x2k4p\n");

  r = c.kubectl({"get", "nodes", "-o", "wide"});
  CHECK(r.out.find("INTERNAL-IP") != std::string::npos);
  CHECK(r.out.find("192.168.0.11   <none>") != std::string::npos);

  r = c.kubectl({"get", "pod", "nope", "-n", "dev"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "Error from server (NotFound): pods \"nope\" not found\n");
}

TEST_CASE(
    "kubectl create, apply --server-side (idempotent, conflicts) and delete work against kubesim",
    "[kubesim][kubectl]") {
  REQUIRE_KUBECTL();
  Cluster c;
  const auto cm = c.write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "
                                     "settings\n  namespace: dev\ndata:\n  mode: one\n");
  auto r = c.kubectl({"create", "-f", cm.string()});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "configmap/settings created\n");
  r = c.kubectl({"create", "-f", cm.string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("(AlreadyExists)") != std::string::npos);

  const auto gw = c.write("gw.yaml", R"(apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: cross-network-gateway
  namespace: istio-system
spec:
  selector:
    istio: eastwestgateway
  servers:
  - port:
      number: 15443
      name: tls
      protocol: TLS
    tls:
      mode: AUTO_PASSTHROUGH
    hosts:
    - "*.local"
)");
  r = c.kubectl({"apply", "--server-side", "-f", gw.string()});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "gateway.networking.istio.io/cross-network-gateway serverside-applied\n");
  const auto rv = [&] {
    return c
        .kubectl({"get", "gateway", "-n", "istio-system", "cross-network-gateway", "-o",
                  "jsonpath={.metadata.resourceVersion}"})
        .out;
  };
  const std::string rv1 = rv();
  REQUIRE(c.kubectl({"apply", "--server-side", "-f", gw.string()}).exit_code == 0);
  CHECK(rv() == rv1);

  // Another manager changing an owned field conflicts; --force-conflicts takes it over.
  const auto gw2 = c.write("gw2.yaml", R"(apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: cross-network-gateway
  namespace: istio-system
spec:
  selector:
    istio: other
)");
  r = c.kubectl({"apply", "--server-side", "--field-manager", "meshctl", "-f", gw2.string()});
  CHECK(r.exit_code == 1);
  CHECK(
      r.err.find("Apply failed with 1 conflict: conflict with \"kubectl\": .spec.selector.istio") !=
      std::string::npos);
  CHECK(rv() == rv1);
  r = c.kubectl({"apply", "--server-side", "--field-manager", "meshctl", "--force-conflicts", "-f",
                 gw2.string()});
  CHECK(r.exit_code == 0);
  CHECK(c.kubectl({"get", "gw", "-n", "istio-system", "cross-network-gateway", "-o",
                   "jsonpath={.spec.selector.istio}"})
            .out == "other");

  // Invalid against the CRD's schema: 422 from the server (kubectl validates on the server side).
  const auto bad =
      c.write("bad.yaml", "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  "
                          "name: x\n  namespace: dev\nspec:\n  trafficPolicy: {}\n");
  r = c.kubectl({"apply", "--server-side", "-f", bad.string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("spec.host: Required value") != std::string::npos);

  r = c.kubectl({"delete", "-f", cm.string()});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "configmap \"settings\" deleted\n");
  r = c.kubectl({"delete", "configmap", "settings", "-n", "dev"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "Error from server (NotFound): configmaps \"settings\" not found\n");
}

TEST_CASE("kubectl apply of a kind: List validates against /openapi/v2 and applies each item",
          "[kubesim][kubectl]") {
  REQUIRE_KUBECTL();
  Cluster c;
  const auto list = c.write("list.yaml", R"(apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: one, namespace: dev}
  data: {mode: one}
- apiVersion: networking.istio.io/v1
  kind: Gateway
  metadata: {name: listed, namespace: istio-system}
  spec:
    selector: {istio: eastwestgateway}
)");
  auto r = c.kubectl({"apply", "-f", list.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "configmap/one created\ngateway.networking.istio.io/listed created\n");
  r = c.kubectl({"apply", "-f", list.string()});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "configmap/one unchanged\ngateway.networking.istio.io/listed unchanged\n");
  // The document itself, in both encodings.
  r = c.kubectl({"get", "--raw", "/openapi/v2"});
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["swagger"] == "2.0");
}

TEST_CASE("kubectl create deployment, expose and run work against kubesim's controllers",
          "[kubesim][kubectl]") {
  REQUIRE_KUBECTL();
  Cluster c;
  REQUIRE(c.kubectl({"create", "deployment", "web", "--image=nginx", "--replicas=2", "--port=8080",
                     "-n", "dev"})
              .exit_code == 0);
  REQUIRE(c.kubectl({"expose", "deployment", "web", "--port=80", "--target-port=8080", "-n", "dev"})
              .exit_code == 0);
  std::string ready;
  for (int i = 0; i < 50 && ready != "2"; ++i) {
    ready =
        c.kubectl({"get", "deploy", "web", "-n", "dev", "-o", "jsonpath={.status.readyReplicas}"})
            .out;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(ready == "2");
  auto r = c.kubectl({"get", "endpoints", "web", "-n", "dev", "-o",
                      "jsonpath={.subsets[0].ports[0].port} {.subsets[0].addresses[*].ip}"});
  CHECK(r.out.rfind("8080 ", 0) == 0);
  CHECK(std::count(r.out.begin(), r.out.end(), '.') == 6); // two IPv4 addresses
  r = c.kubectl({"get", "service", "web", "-n", "dev", "-o", "jsonpath={.spec.clusterIP}"});
  CHECK(r.out.rfind("10.96.", 0) == 0);
}

TEST_CASE("pods in an istio-injection=enabled namespace get istiod's sidecar",
          "[kubesim][kubectl]") {
  REQUIRE_KUBECTL();
  Cluster c{"wuxi"};
  auto containers = [&](const std::string& ns, const std::string& selector) {
    std::string out;
    for (int i = 0; i < 100; ++i) {
      out = c.kubectl({"get", "pods", "-n", ns, "-l", selector, "-o",
                       "jsonpath={.items[*].spec.initContainers[*].name}/"
                       "{.items[*].spec.containers[*].name}/{.items[*].status.phase}"})
                .out;
      if (out.ends_with("Running")) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return out;
  };
  // Istio's helloworld-v2 sample, no sidecar in it: dev is labelled istio-injection=enabled.
  auto r = c.kubectl({"apply", "-f", (KubesimProcess::seed_dir() / "helloworld-v2.yaml").string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(containers("dev", "version=v2") == "istio-init/helloworld istio-proxy/Running");
  const auto pod = nlohmann::json::parse(
      c.kubectl({"get", "pods", "-n", "dev", "-l", "version=v2", "-o", "json"}).out)["items"][0];
  CHECK(pod["metadata"]["labels"]["security.istio.io/tlsMode"] == "istio");
  CHECK(pod["metadata"]["labels"]["service.istio.io/canonical-name"] == "helloworld");
  CHECK(pod["metadata"]["labels"]["service.istio.io/canonical-revision"] == "v2");
  CHECK(pod["metadata"]["annotations"].contains("sidecar.istio.io/status"));
  CHECK(pod["spec"]["containers"][1]["image"] == "docker.io/istio/proxyv2:1.24.2");
  CHECK(pod["spec"]["containers"][1]["env"][0] ==
        nlohmann::json({{"name", "ISTIO_META_CLUSTER_ID"}, {"value", "wuxi"}}));

  // A restarted seeded Deployment keeps its sidecar (its template has none, as in a cluster).
  REQUIRE(c.kubectl({"-n", "dev", "rollout", "restart", "deployment/sleep"}).exit_code == 0);
  std::string sleep;
  for (int i = 0; i < 100 && sleep.find("sleep-7656cf8794-k3m9r") == std::string::npos; ++i) {
    sleep = c.kubectl({"get", "pods", "-n", "dev", "-l", "app=sleep", "-o", "name"}).out;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (int i = 0; i < 100 && sleep.find("sleep-7656cf8794-k3m9r") != std::string::npos; ++i) {
    sleep = c.kubectl({"get", "pods", "-n", "dev", "-l", "app=sleep", "-o", "name"}).out;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(containers("dev", "app=sleep") == "istio-init/sleep istio-proxy/Running");

  // Not injected: a namespace without the label, a Pod that opts out.
  REQUIRE(c.kubectl({"create", "namespace", "plain"}).exit_code == 0);
  REQUIRE(c.kubectl({"-n", "plain", "run", "one", "--image=nginx"}).exit_code == 0);
  CHECK(containers("plain", "run=one") == "/one/Running");
  REQUIRE(c.kubectl({"-n", "dev", "run", "two", "--image=nginx",
                     "--labels=run=two,sidecar.istio.io/inject=false"})
              .exit_code == 0);
  CHECK(containers("dev", "run=two") == "/two/Running");
  // And a Pod that opts in where the namespace says nothing.
  REQUIRE(c.kubectl({"-n", "plain", "run", "three", "--image=nginx",
                     "--labels=run=three,sidecar.istio.io/inject=true"})
              .exit_code == 0);
  CHECK(containers("plain", "run=three") == "istio-init/three istio-proxy/Running");
}

TEST_CASE("a revision-only istiod injects by istio.io/rev, not istio-injection",
          "[kubesim][kubectl][revision]") {
  REQUIRE_KUBECTL();
  kubesim::testing::KubesimOptions opts;
  opts.variant = "revision";
  Cluster c{"wuxi", opts};
  auto pod_json = [&](const std::string& ns, const std::string& selector) {
    nlohmann::json items;
    for (int i = 0; i < 100; ++i) {
      items = nlohmann::json::parse(
          c.kubectl({"get", "pods", "-n", ns, "-l", selector, "-o", "json"}).out)["items"];
      if (!items.empty() && items[0]["status"].value("phase", "") == "Running") {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE(items.size() == 1);
    return items[0];
  };
  auto injected_by = [](const nlohmann::json& pod) -> std::string {
    for (const auto& ct : pod["spec"]["containers"]) {
      if (ct["name"] == "istio-proxy") {
        return pod["metadata"]["annotations"].value("istio.io/rev", "?");
      }
    }
    return "";
  };
  // dev is labelled istio.io/rev=1-24: the revision's injector takes it (rev.namespace).
  auto r = c.kubectl({"apply", "-f", (KubesimProcess::seed_dir() / "helloworld-v2.yaml").string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto v2 = pod_json("dev", "version=v2");
  CHECK(injected_by(v2) == "1-24");
  CHECK(v2["metadata"]["annotations"]["sidecar.istio.io/status"].get<std::string>().find(
            "\"revision\":\"1-24\"") != std::string::npos);
  // istio-injection=enabled has no injector in a revision-only install.
  REQUIRE(c.kubectl({"create", "namespace", "legacy"}).exit_code == 0);
  REQUIRE(c.kubectl({"label", "namespace", "legacy", "istio-injection=enabled"}).exit_code == 0);
  REQUIRE(c.kubectl({"-n", "legacy", "run", "one", "--image=nginx"}).exit_code == 0);
  CHECK(injected_by(pod_json("legacy", "run=one")).empty());
  // Neither does sidecar.istio.io/inject=true alone (the default revision's object webhook)...
  REQUIRE(c.kubectl({"create", "namespace", "plain"}).exit_code == 0);
  REQUIRE(c.kubectl({"-n", "plain", "run", "two", "--image=nginx",
                     "--labels=run=two,sidecar.istio.io/inject=true"})
              .exit_code == 0);
  CHECK(injected_by(pod_json("plain", "run=two")).empty());
  // ...but a Pod labelled istio.io/rev=1-24 is (rev.object), as the east-west gateway's pods.
  REQUIRE(c.kubectl({"-n", "plain", "run", "three", "--image=nginx",
                     "--labels=run=three,sidecar.istio.io/inject=true,istio.io/rev=1-24"})
              .exit_code == 0);
  CHECK(injected_by(pod_json("plain", "run=three")) == "1-24");
  // A Pod naming a revision that is not installed, and one opting out, are left alone.
  REQUIRE(c.kubectl({"-n", "plain", "run", "four", "--image=nginx",
                     "--labels=run=four,istio.io/rev=1-23"})
              .exit_code == 0);
  CHECK(injected_by(pod_json("plain", "run=four")).empty());
  REQUIRE(c.kubectl({"-n", "dev", "run", "five", "--image=nginx",
                     "--labels=run=five,sidecar.istio.io/inject=false"})
              .exit_code == 0);
  CHECK(injected_by(pod_json("dev", "run=five")).empty());
}

TEST_CASE("kubectl exec runs kubesim's built-in commands over WebSocket", "[kubesim][kubectl]") {
  REQUIRE_KUBECTL();
  Cluster c;
  const std::string pod = "sleep-7656cf8794-9v2xz";
  auto r = c.kubectl({"exec", "-n", "dev", pod, "-c", "sleep", "--", "echo", "hi"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "hi\n");

  r = c.kubectl(
      {"exec", "-n", "dev", pod, "-c", "sleep", "--", "sh", "-c", "echo oops >&2; exit 3"});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("oops\n") != std::string::npos);
  CHECK(r.err.find("command terminated with exit code 3") != std::string::npos);

  r = c.kubectl({"exec", "-i", "-n", "dev", pod, "-c", "sleep", "--", "cat"}, "from stdin\n");
  CHECK(r.exit_code == 0);
  CHECK(r.out == "from stdin\n");

  // Without -c kubectl picks the annotated default container, as with a real cluster.
  r = c.kubectl({"exec", "-n", "dev", pod, "--", "false"});
  CHECK(r.exit_code == 1);

  r = c.kubectl({"exec", "-n", "dev", "nope", "--", "echo"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("pods \"nope\" not found") != std::string::npos);
}

TEST_CASE("kubesim refuses exec subprotocols it is told not to speak", "[kubesim][kubectl]") {
  REQUIRE_KUBECTL();
  kubesim::testing::KubesimOptions o;
  o.extra_args = {"--exec-protocols", "v4.channel.k8s.io"};
  Cluster c("wuxi", o);
  // kubectl offers only v5 over WebSocket; the upgrade fails (kubectl then tries SPDY, which
  // kubesim does not speak either).
  auto r =
      c.kubectl({"exec", "-n", "dev", "sleep-7656cf8794-k3m9r", "-c", "sleep", "--", "echo", "hi"});
  CHECK(r.exit_code != 0);
  CHECK(r.out.empty());
}

TEST_CASE("kubectl exec pilot-agent and pod proxy GETs are answered from --pod-data",
          "[kubesim][kubectl]") {
  REQUIRE_KUBECTL();
  const fs::path data =
      fs::temp_directory_path() / ("kubesim-pod-data-" + std::to_string(::getpid()));
  fs::create_directories(data / "dev" / "sleep-7656cf8794-9v2xz" / "15000");
  fs::create_directories(data / "istio-system" / "istiod-7d4f8b9c6d-x2k4p" / "15014");
  std::ofstream(data / "dev" / "sleep-7656cf8794-9v2xz" / "15000" / "clusters_format_json.json")
      << R"({"cluster_statuses":[]})";
  std::ofstream(data / "istio-system" / "istiod-7d4f8b9c6d-x2k4p" / "15014" / "debug_clusterz.json")
      << R"([{"id":"wuxi","secretName":"istio-system/istio-remote-secret-wuxi","syncStatus":"synced"}])";
  kubesim::testing::KubesimOptions o;
  o.pod_data = data;
  Cluster c("cn-shanghai", o);
  auto r = c.kubectl({"exec", "-n", "dev", "sleep-7656cf8794-9v2xz", "-c", "istio-proxy", "--",
                      "pilot-agent", "request", "GET", "clusters?format=json"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == R"({"cluster_statuses":[]})");
  r = c.kubectl(
      {"get", "--raw",
       "/api/v1/namespaces/istio-system/pods/istiod-7d4f8b9c6d-x2k4p:15014/proxy/debug/clusterz"});
  CHECK(r.exit_code == 0);
  CHECK(json::parse(r.out)[0]["syncStatus"] == "synced");
  fs::remove_all(data);
}

TEST_CASE("kubectl auth can-i --as follows kubesim's RBAC", "[kubesim][kubectl]") {
  REQUIRE_KUBECTL();
  Cluster c;
  const std::string sa = "system:serviceaccount:istio-system:istio-reader-service-account";
  auto r = c.kubectl({"auth", "can-i", "list", "pods", "--as", sa});
  CHECK(r.exit_code == 1);
  CHECK(r.out == "no\n");
  const auto rbac = c.write("rbac.yaml", R"(apiVersion: v1
kind: ServiceAccount
metadata:
  name: istio-reader-service-account
  namespace: istio-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: istio-reader-clusterrole-istio-system
rules:
- apiGroups: [""]
  resources: [endpoints, pods, services, nodes, replicationcontrollers, namespaces, secrets]
  verbs: [get, list, watch]
- apiGroups: [networking.istio.io]
  resources: ["*"]
  verbs: [get, watch, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: istio-reader-clusterrole-istio-system
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: istio-reader-clusterrole-istio-system
subjects:
- kind: ServiceAccount
  name: istio-reader-service-account
  namespace: istio-system
)");
  REQUIRE(c.kubectl({"apply", "--server-side", "-f", rbac.string()}).exit_code == 0);
  r = c.kubectl({"auth", "can-i", "list", "pods", "--as", sa});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "yes\n");
  CHECK(c.kubectl({"auth", "can-i", "create", "secrets", "-n", "istio-system", "--as", sa}).out ==
        "no\n");
  CHECK(c.kubectl({"auth", "can-i", "list", "gateways.networking.istio.io", "--as", sa}).out ==
        "yes\n");
  CHECK(c.kubectl({"auth", "can-i", "create", "pods/exec", "-n", "dev", "--as", sa}).out == "no\n");
}

TEST_CASE("a ServiceAccount token from kubesim's token controller works in kubectl within its RBAC",
          "[kubesim][kubectl]") {
  REQUIRE_KUBECTL();
  Cluster c;
  const auto objs = c.write("reader.yaml", R"(apiVersion: v1
kind: ServiceAccount
metadata:
  name: reader
  namespace: istio-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: reader
rules:
- apiGroups: [""]
  resources: [services, pods]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: reader
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader}
subjects:
- {kind: ServiceAccount, name: reader, namespace: istio-system}
---
apiVersion: v1
kind: Secret
metadata:
  name: reader-token
  namespace: istio-system
  annotations:
    kubernetes.io/service-account.name: reader
type: kubernetes.io/service-account-token
)");
  REQUIRE(c.kubectl({"apply", "--server-side", "-f", objs.string()}).exit_code == 0);
  std::string token;
  for (int i = 0; i < 50 && token.empty(); ++i) {
    token = c.kubectl({"get", "secret", "-n", "istio-system", "reader-token", "-o",
                       "jsonpath={.data.token}"})
                .out;
    if (token.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  REQUIRE_FALSE(token.empty());
  const RunResult decoded = meshctl::testing::run({"base64", "-d"}, {}, token);
  const std::string ca = c.sim.ca_path().string();
  auto as_reader = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"kubectl", "--kubeconfig", "/dev/null", "--server", c.sim.url(),
                               "--certificate-authority", ca, "--token", decoded.out});
    return meshctl::testing::run(args, {{"HOME", c.home.string()}});
  };
  auto r = as_reader({"get", "services", "-A", "-o", "name"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("service/helloworld") != std::string::npos);
  r = as_reader({"create", "secret", "generic", "x", "-n", "istio-system", "--from-literal=a=b"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find(
            "secrets is forbidden: User \"system:serviceaccount:istio-system:reader\" cannot "
            "create resource \"secrets\" in API group \"\" in the namespace \"istio-system\"") !=
        std::string::npos);
  r = as_reader({"get", "secrets", "-n", "istio-system"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("(Forbidden)") != std::string::npos);
}

TEST_CASE("kubectl api-resources shows a CRD's kinds once it is applied", "[kubesim][kubectl]") {
  REQUIRE_KUBECTL();
  KubesimProcess sim;
  sim.start("plain");
  const fs::path home = sim.state_dir() / "home";
  auto kubectl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"kubectl", "--kubeconfig", sim.kubeconfig_path().string()});
    return meshctl::testing::run(args, {{"HOME", home.string()}});
  };
  auto r = kubectl({"api-resources", "--api-group=networking.istio.io", "-o", "name"});
  CHECK(r.out.empty());
  REQUIRE(kubectl({"apply", "--server-side", "-f",
                   (KubesimProcess::seed_dir() / "istio-crds.yaml").string()})
              .exit_code == 0);
  r = kubectl({"api-resources", "--api-group=networking.istio.io", "-o", "name"});
  CHECK(r.out == "destinationrules.networking.istio.io\ngateways.networking.istio.io\n"
                 "serviceentries.networking.istio.io\nvirtualservices.networking.istio.io\n");
  r = kubectl({"get", "virtualservices.v1beta1.networking.istio.io", "-A"});
  CHECK(r.exit_code == 0);
}

TEST_CASE("kubesim's fault injection makes kubectl fail and slows it down", "[kubesim][kubectl]") {
  REQUIRE_KUBECTL();
  Cluster c;
  REQUIRE(c.kubectl({"get", "ns"}).exit_code == 0); // discovery cached for the timing below
  c.sim.set_faults({{"errorRate", {{"503", 1.0}}}, {"verbs", {"list"}}});
  auto r = c.kubectl({"get", "services", "-A"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("the server is currently unable to handle the request") != std::string::npos);
  CHECK(c.kubectl({"get", "service", "-n", "dev", "helloworld"}).exit_code ==
        0); // a get, not a list

  // Latency: a kubectl get (one request; discovery is cached) takes at least the added second.
  c.sim.set_faults({{"latencyMs", 1000}});
  const double slow = c.kubectl({"get", "service", "-n", "dev", "helloworld"}).seconds;
  c.sim.clear_faults();
  const double fast = c.kubectl({"get", "service", "-n", "dev", "helloworld"}).seconds;
  CHECK(slow >= 1.0);
  CHECK(slow - fast >= 0.6);

  // A 50% 503 rate: some of 40 requests fail, some succeed.
  c.sim.set_faults({{"errorRate", {{"503", 0.5}}}});
  int failed = 0;
  for (int i = 0; i < 40; ++i) {
    failed +=
        c.sim.request("GET", "/api/v1/namespaces/dev/services/helloworld").first == 503 ? 1 : 0;
  }
  CHECK(failed > 5);
  CHECK(failed < 35);
  // errorEvery counts instead of drawing: every third matching request, from the setting on.
  c.sim.set_faults({{"errorEvery", {{"429", 3}}}, {"verbs", {"get"}}});
  std::vector<int> statuses;
  for (int i = 0; i < 7; ++i) {
    statuses.push_back(c.sim.request("GET", "/api/v1/namespaces/dev/services/helloworld").first);
    CHECK(c.sim.request("GET", "/api/v1/namespaces/dev/services").first == 200); // a list
  }
  CHECK(statuses == std::vector<int>{200, 200, 429, 200, 200, 429, 200});
  c.sim.set_faults({{"errorRate", {{"429", 1.0}}}, {"retryAfterSeconds", 2}});
  auto [status, body] = c.sim.request("GET", "/api/v1/namespaces");
  CHECK(status == 429);
  CHECK(json::parse(body)["details"]["retryAfterSeconds"] == 2);
  // Dropped connections: the client sees no answer at all.
  c.sim.set_faults({{"dropRate", 1.0}});
  CHECK_THROWS(c.sim.request("GET", "/api/v1/namespaces"));
  // Reset connections (a load balancer whose backend is gone), and its 502 page, not a Status.
  c.sim.set_faults({{"resetRate", 1.0}});
  CHECK_THROWS(c.sim.request("GET", "/api/v1/namespaces"));
  c.sim.set_faults({{"errorRate", {{"502", 1.0}}}});
  auto [lb_status, lb_body] = c.sim.request("GET", "/api/v1/namespaces");
  CHECK(lb_status == 502);
  CHECK(lb_body.find("502 Bad Gateway") != std::string::npos);
  // Slow answers: the work is done, the answer comes slowMs later.
  c.sim.set_faults({{"slowRate", 1.0}, {"slowMs", 700}, {"verbs", {"create"}}});
  const json slow_cm = {
      {"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "slow"}}}};
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(c.sim.request("POST", "/api/v1/namespaces/default/configmaps", slow_cm.dump()).first ==
        201);
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(700));
  c.sim.clear_faults();
  // The control endpoint itself is never faulted.
  CHECK(c.sim.request("GET", "/kubesim/faults").first == 200);
  const auto log = c.sim.request_log();
  bool saw_drop = false;
  bool saw_reset = false;
  bool saw_slow = false;
  for (const auto& l : log) {
    saw_drop = saw_drop || (l.value("fault", "") == "drop" && l["status"] == 0);
    saw_reset = saw_reset || (l.value("fault", "") == "reset" && l["status"] == 0);
    saw_slow = saw_slow || (l.value("fault", "") == "slow" && l["status"] == 201);
  }
  CHECK(saw_drop);
  CHECK(saw_reset);
  CHECK(saw_slow);

  // Faults from the command line, and dropAfterRate: the write happens, the answer is lost.
  kubesim::testing::KubesimOptions o;
  o.faults = {{"dropAfterRate", 1.0}, {"verbs", {"create"}}};
  KubesimProcess faulty;
  faulty.start("faulty", {}, o);
  const json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "lost"}}}};
  CHECK_THROWS(faulty.request("POST", "/api/v1/namespaces/default/configmaps", cm.dump()));
  CHECK(faulty.request("GET", "/api/v1/namespaces/default/configmaps/lost").first == 200);
}

TEST_CASE("kubesim's request log records every request, so tests can count writes",
          "[kubesim][kubectl]") {
  REQUIRE_KUBECTL();
  Cluster c;
  const std::size_t mark = c.sim.request_log().size();
  const auto cm = c.write(
      "cm.yaml",
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n  namespace: dev\ndata:\n  a: b\n");
  REQUIRE(c.kubectl({"apply", "--server-side", "-f", cm.string()}).exit_code == 0);
  REQUIRE(c.kubectl({"get", "cm", "-n", "dev", "one"}).exit_code == 0);
  const auto log = c.sim.request_log_since(mark);
  const auto writes = KubesimProcess::writes(log);
  REQUIRE(writes.size() == 1);
  CHECK(writes[0]["verb"] == "patch");
  CHECK(writes[0]["method"] == "PATCH");
  CHECK(writes[0]["resource"] == "configmaps");
  CHECK(writes[0]["namespace"] == "dev");
  CHECK(writes[0]["name"] == "one");
  CHECK(writes[0]["status"] == 201);
  CHECK(writes[0]["user"] == "kubernetes-admin");
  CHECK(writes[0]["path"].get<std::string>().rfind("/api/v1/namespaces/dev/configmaps/one?", 0) ==
        0);
  CHECK(writes[0]["latencyMs"].is_number());
  CHECK(writes[0]["time"].get<std::string>().size() == 27);
  bool saw_get = false;
  for (const auto& l : log) {
    saw_get = saw_get || (l["verb"] == "get" && l.value("name", "") == "one");
  }
  CHECK(saw_get);
}

TEST_CASE("kubesim serves many concurrent connections", "[kubesim]") {
  KubesimProcess sim;
  sim.start("busy");
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const json cm = {
            {"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"metadata", {{"name", "c-" + std::to_string(t) + "-" + std::to_string(i)}}}};
        if (sim.request("POST", "/api/v1/namespaces/default/configmaps", cm.dump()).first == 201) {
          ++ok;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  CHECK(ok == 160);
  auto [status, body] = sim.request("GET", "/api/v1/namespaces/default/configmaps?limit=500");
  CHECK(json::parse(body)["items"].size() == 161);
}

TEST_CASE("kubesim loads Istio's real CRDs and accepts Istio's multicluster sample",
          "[kubesim][kubectl]") {
  REQUIRE_KUBECTL();
  const fs::path shared = KUBESIM_SHARED_ISTIO_DIR;
  if (!fs::exists(shared / "crds" / "crd-all.gen.yaml")) {
    WARN("SKIPPED: Istio reference data (../shared/istio) is absent on this machine");
    return;
  }
  KubesimProcess sim;
  sim.start("real-crds", {shared / "crds" / "crd-all.gen.yaml"});
  const fs::path home = sim.state_dir() / "home";
  auto kubectl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"kubectl", "--kubeconfig", sim.kubeconfig_path().string()});
    return meshctl::testing::run(args, {{"HOME", home.string()}});
  };
  REQUIRE(kubectl({"create", "namespace", "istio-system"}).exit_code == 0);
  // The sample names no namespace; the runbook applies it with -n istio-system.
  auto r = kubectl({"apply", "--server-side", "-n", "istio-system", "-f",
                    (shared / "samples" / "multicluster" / "expose-services.yaml").string()});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "gateway.networking.istio.io/cross-network-gateway serverside-applied\n");
  r = kubectl({"get", "gateway", "-n", "istio-system", "cross-network-gateway", "-o",
               "jsonpath={.spec.servers[0].tls.mode}"});
  CHECK(r.out == "AUTO_PASSTHROUGH");
}

TEST_CASE("scripts/sandbox starts cn-shanghai and wuxi with one kubeconfig and stops them",
          "[kubesim][kubectl][sandbox]") {
  REQUIRE_KUBECTL();
  const fs::path dir =
      fs::temp_directory_path() / ("kubesim-sandbox-" + std::to_string(::getpid()));
  const std::string script = (fs::path(KUBESIM_SOURCE_DIR) / "scripts" / "sandbox").string();
  const std::map<std::string, std::string> env = {{"KUBESIM", KubesimProcess::binary().string()},
                                                  {"HOME", dir.string()}};
  auto r = meshctl::testing::run({script, "up", "--dir", dir.string()}, env);
  REQUIRE(r.exit_code == 0);
  // Idempotent: a second up keeps the running clusters.
  const std::string port = meshctl::testing::run({"cat", (dir / "wuxi" / "port").string()}).out;
  REQUIRE(meshctl::testing::run({script, "up", "--dir", dir.string()}, env).exit_code == 0);
  CHECK(meshctl::testing::run({"cat", (dir / "wuxi" / "port").string()}).out == port);
  r = meshctl::testing::run({script, "env", "--dir", dir.string()}, env);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("export KUBECONFIG=" + (dir / "kubeconfig").string()) != std::string::npos);
  r = meshctl::testing::run(
      {"kubectl", "--context", "wuxi", "get", "pods", "-A", "-o", "name"},
      {{"KUBECONFIG", (dir / "kubeconfig").string()}, {"HOME", dir.string()}});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "pod/sleep-7656cf8794-k3m9r\npod/istiod-7d4f8b9c6d-q8w7n\n");
  r = meshctl::testing::run(
      {"kubectl", "--context", "cn-shanghai", "get", "deploy", "-n", "dev", "-o", "name"},
      {{"KUBECONFIG", (dir / "kubeconfig").string()}, {"HOME", dir.string()}});
  CHECK(r.out == "deployment.apps/helloworld-v1\ndeployment.apps/sleep\n");
  const std::string pid = meshctl::testing::run({"cat", (dir / "wuxi" / "pid").string()}).out;
  REQUIRE(meshctl::testing::run({script, "down", "--dir", dir.string()}, env).exit_code == 0);
  CHECK_FALSE(fs::exists(dir));
  CHECK(meshctl::testing::run({"kill", "-0", pid.substr(0, pid.find('\n'))}).exit_code != 0);
}

TEST_CASE("quantities read back in kube-apiserver's canonical form through kubectl",
          "[kubesim][kubectl][quantity]") {
  REQUIRE_KUBECTL();
  Cluster c;
  const std::string deployment = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: sized
  namespace: dev
spec:
  selector:
    matchLabels: {app: sized}
  template:
    metadata:
      labels: {app: sized}
    spec:
      containers:
        - name: app
          image: nginx
          resources:
            requests: {cpu: 100m, memory: 128Mi, ephemeral-storage: "1.5Gi"}
            limits: {cpu: 2000m, memory: 1024Mi}
      volumes:
        - name: scratch
          emptyDir: {sizeLimit: 1000M}
)";
  const auto file = c.write("sized.yaml", deployment);
  auto r = c.kubectl({"apply", "-f", file.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto get = [&c](const std::vector<std::string>& what) {
    auto g = c.kubectl(what);
    INFO(g.err);
    REQUIRE(g.exit_code == 0);
    return json::parse(g.out);
  };
  json d = get({"-n", "dev", "get", "deployment", "sized", "-o", "json"});
  const auto& res = d["spec"]["template"]["spec"]["containers"][0]["resources"];
  CHECK(res["limits"]["cpu"] == "2");
  CHECK(res["limits"]["memory"] == "1Gi");
  CHECK(res["requests"]["cpu"] == "100m");
  CHECK(res["requests"]["memory"] == "128Mi");
  CHECK(res["requests"]["ephemeral-storage"] == "1536Mi");
  CHECK(d["spec"]["template"]["spec"]["volumes"][0]["emptyDir"]["sizeLimit"] == "1G");

  // Applying the same file again sends kubectl's three-way patch (its strings differ from the
  // stored ones) but stores nothing new: the resourceVersion stays.
  const auto rv = d["metadata"]["resourceVersion"];
  r = c.kubectl({"apply", "-f", file.string()});
  CHECK(r.exit_code == 0);
  CHECK(get({"-n", "dev", "get", "deployment", "sized", "-o",
             "json"})["metadata"]["resourceVersion"] == rv);

  // Server-side apply and patches canonicalise too; an unchanged value is no write.
  r = c.kubectl({"apply", "--server-side", "--force-conflicts", "-f", file.string()});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  r = c.kubectl(
      {"-n", "dev", "patch", "deployment", "sized", "--type=json", "-p",
       R"([{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/cpu","value":0.5}])"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  d = get({"-n", "dev", "get", "deployment", "sized", "-o", "json"});
  CHECK(d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] == "500m");

  // What the real decoder refuses, kubesim refuses with its message.
  r = c.kubectl(
      {"-n", "dev", "patch", "deployment", "sized", "--type=json", "-p",
       R"([{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/cpu","value":"2 cores"}])"});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("quantities must match the regular expression") != std::string::npos);
}

TEST_CASE("kubectl version reads kubesim's /version as kube-apiserver's", "[kubesim][kubectl]") {
  REQUIRE_KUBECTL();
  kubesim::testing::KubesimOptions opts;
  opts.extra_args = {"--version", "v1.31.4"};
  Cluster c("wuxi", opts);
  auto r = c.kubectl({"version", "-o", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json server = json::parse(r.out)["serverVersion"];
  CHECK(server["gitVersion"] == "v1.31.4");
  CHECK(server["major"] == "1");
  CHECK(server["minor"] == "31");
  for (const char* key :
       {"gitCommit", "gitTreeState", "buildDate", "goVersion", "compiler", "platform"}) {
    INFO(key);
    CHECK(server[key].is_string());
  }
  r = c.kubectl({"version"});
  CHECK(r.out.find("Server Version: v1.31.4\n") != std::string::npos);
}

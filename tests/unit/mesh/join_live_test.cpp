// The live join over two scripted API servers: its three phases, and what a failure in the middle
// of one leaves behind — join_live's contract is that remote Secrets (phase 3) are written only
// after every cluster's base objects and reader token are in place, each in one request with a
// real token and CA, so a timeout never leaves a half-joined mesh or a half-written Secret.

#include "core/base64.hpp"
#include "mesh/join_live.hpp"
#include "render/manifests.hpp"
#include "support/fake_transport.hpp"
#include "support/testing.hpp"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

using namespace meshctl;
using namespace meshctl::mesh;
using meshctl::kube::Method;
using meshctl::testing::fake_client;
using meshctl::testing::FakeCall;
using meshctl::testing::FakeReply;
using meshctl::testing::FakeTransport;
using nlohmann::json;

namespace {

const std::string k_token_path =
    "/api/v1/namespaces/istio-system/secrets/" + std::string(render::k_reader_token_secret);
const std::string k_ca_pem = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";

std::string remote_secret_path(const std::string& source) {
  return "/api/v1/namespaces/istio-system/secrets/istio-remote-secret-" + source;
}

config::ClusterConfig cluster_config(const std::string& name) {
  config::ClusterConfig c;
  c.name = name;
  c.context = name;
  c.network = name;
  c.api_server = "https://" + name + ".example.internal:6443";
  return c;
}

// One joinable cluster: Istio installed with the right identity, a token controller that fills the
// reader token Secret once it has been applied, and server-side apply accepted everywhere.
std::shared_ptr<FakeTransport> joinable(const std::string& name) {
  auto fake = std::make_shared<FakeTransport>();
  fake->serve_discovery();
  fake->accept_applies();
  fake->serve_object(
      {{"apiVersion", "apps/v1"},
       {"kind", "Deployment"},
       {"metadata",
        {{"name", "istiod"}, {"namespace", "istio-system"}, {"labels", {{"app", "istiod"}}}}},
       {"spec",
        {{"template",
          {{"spec",
            {{"containers",
              {{{"name", "discovery"},
                {"env", {{{"name", "CLUSTER_ID"}, {"value", name}}}}}}}}}}}}}});
  const json values = {{"global", {{"meshID", "mesh1"}, {"network", name}}}};
  fake->serve_object(
      {{"apiVersion", "v1"},
       {"kind", "ConfigMap"},
       {"metadata", {{"name", "istio-sidecar-injector"}, {"namespace", "istio-system"}}},
       {"data", {{"values", values.dump()}}}});
  // join rolls istiod after writing cacerts (the rollout-restart PATCH).
  fake->on(Method::k_patch, "/apis/apps/v1/namespaces/istio-system/deployments/istiod",
           [](const kube::Request& r) { return FakeReply::json(json::parse(r.body)); });
  auto applied = std::make_shared<std::atomic<bool>>(false);
  fake->on(Method::k_patch, k_token_path, [applied](const kube::Request& r) {
    applied->store(true);
    return FakeReply::json(json::parse(r.body));
  });
  fake->on(Method::k_get, k_token_path, [applied, name](const kube::Request&) {
    if (!applied->load()) {
      return FakeReply::api_status(404, "NotFound",
                                   "secrets \"" + std::string(render::k_reader_token_secret) +
                                       "\" not found");
    }
    json secret = {
        {"apiVersion", "v1"},
        {"kind", "Secret"},
        {"metadata",
         {{"name", std::string(render::k_reader_token_secret)}, {"namespace", "istio-system"}}},
        {"type", "kubernetes.io/service-account-token"},
        {"data",
         {{"token", base64_encode("reader-token-of-" + name)},
          {"ca.crt", base64_encode(k_ca_pem)}}}};
    return FakeReply::json(secret);
  });
  return fake;
}

struct Mesh {
  meshctl::testing::TempDir pki;
  Session session;
  std::vector<std::shared_ptr<FakeTransport>> fakes;
  std::vector<std::unique_ptr<kube::Client>> clients;

  Mesh() {
    session.config.mesh_id = "mesh1";
    session.config.pki_dir = pki.path().string();
    for (const char* name : {"cn-shanghai", "wuxi"}) {
      session.config.clusters.push_back(cluster_config(name));
      fakes.push_back(joinable(name));
      clients.push_back(fake_client(name, fakes.back()));
    }
    session.clusters = session.config.clusters;
  }
};

GlobalOptions global() {
  GlobalOptions g;
  g.timeout = std::chrono::seconds(5);
  return g;
}

// Captures what meshctl logs to stderr while it lives.
class StderrCapture {
public:
  StderrCapture() : m_file(std::tmpfile()) {
    std::fflush(stderr);
    m_saved = ::dup(2);
    ::dup2(::fileno(m_file), 2);
  }
  ~StderrCapture() {
    restore();
    std::fclose(m_file);
  }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;
  std::string text() {
    restore();
    std::string out;
    std::rewind(m_file);
    char buf[4096];
    while (const std::size_t n = std::fread(buf, 1, sizeof buf, m_file)) {
      out.append(buf, n);
    }
    return out;
  }

private:
  void restore() {
    if (m_saved >= 0) {
      std::fflush(stderr);
      ::dup2(m_saved, 2);
      ::close(m_saved);
      m_saved = -1;
    }
  }
  std::FILE* m_file;
  int m_saved = -1;
};

std::vector<FakeCall> remote_secret_writes(const FakeTransport& fake) {
  std::vector<FakeCall> out;
  for (const auto& w : fake.writes()) {
    if (w.path.find("/secrets/istio-remote-secret-") != std::string::npos) {
      out.push_back(w);
    }
  }
  return out;
}

} // namespace

TEST_CASE("join_live joins two clusters: base objects, tokens, then complete remote Secrets",
          "[mesh][join][seam]") {
  Mesh mesh;
  auto report = join_live(mesh.session, {}, mesh.clients, global());
  INFO((report ? std::string() : report.error().what()));
  REQUIRE(report);
  CHECK(report->precondition_errors.empty());
  REQUIRE(report->plans.size() == 2);
  const std::string summary = format_join_report(*report, 0);
  CHECK(summary.find("cn-shanghai: ") == 0);
  CHECK(summary.find("\nwuxi: ") != std::string::npos);
  // cacerts was created, so istiod, which reads it only at start, was restarted in both.
  REQUIRE(report->istiod_restarts.size() == 2);
  CHECK(report->istiod_restarts[0].why.find("rewrote cacerts") != std::string::npos);
  CHECK(summary.find("dry run") == std::string::npos);
  // A dry run says so on each cluster's line, as kubectl does ("… created (dry run)").
  CHECK(format_join_report(*report, 0, DryRun::k_client).find(" unchanged (dry run)\n") !=
        std::string::npos);
  CHECK(format_join_report(*report, 0, DryRun::k_server).find(" unchanged (server dry run)\n") !=
        std::string::npos);

  // Each cluster holds the other's remote Secret, written once, with the real token and CA.
  const auto in_wuxi = remote_secret_writes(*mesh.fakes[1]);
  REQUIRE(in_wuxi.size() == 1);
  CHECK(in_wuxi[0].path == remote_secret_path("cn-shanghai"));
  const json secret = json::parse(in_wuxi[0].body);
  const auto kubeconfig = base64_decode(secret["data"]["cn-shanghai"].get<std::string>());
  REQUIRE(kubeconfig);
  CHECK(kubeconfig->find("reader-token-of-cn-shanghai") != std::string::npos);
  CHECK(kubeconfig->find("https://cn-shanghai.example.internal:6443") != std::string::npos);
  CHECK(remote_secret_writes(*mesh.fakes[0]).size() == 1);
}

TEST_CASE("a timeout while writing base objects stops join before any remote Secret",
          "[mesh][join][seam]") {
  Mesh mesh;
  // wuxi's API server stops answering the east-west gateway's Service in the middle of the wave.
  mesh.fakes[1]->on(Method::k_patch,
                    "/api/v1/namespaces/istio-system/services/" +
                        std::string(render::k_gateway_name),
                    FakeReply::timeout());
  auto report = join_live(mesh.session, {}, mesh.clients, global());
  REQUIRE(report);
  REQUIRE(report->errors.size() == 1);
  CHECK(report->errors[0].code() == ExitCode::k_unreachable);
  CHECK(report->errors[0].what().rfind(
            "wuxi: applying Service istio-system/istio-eastwestgateway to wuxi: ", 0) == 0);
  // What was written before the failure is in the report: cn-shanghai's whole base, and wuxi's
  // Namespace wave and whatever of the second wave got through.
  const auto partial = format_partial_report(*report);
  CHECK(partial.find("cn-shanghai: ") == 0);
  CHECK(partial.find("\nwuxi: ") != std::string::npos);
  CHECK(summarize_written(report->plans[0].changes).created > 0);
  // Server-side apply is idempotent: retried before giving up.
  CHECK(mesh.fakes[1]
            ->calls(Method::k_patch, "/api/v1/namespaces/istio-system/services/" +
                                         std::string(render::k_gateway_name))
            .size() == 5);
  // The barrier held: neither cluster got a remote Secret, so no cluster trusts a half-joined
  // peer; cn-shanghai's base objects are in place and a re-run completes the join.
  CHECK(remote_secret_writes(*mesh.fakes[0]).empty());
  CHECK(remote_secret_writes(*mesh.fakes[1]).empty());
  CHECK_FALSE(mesh.fakes[0]->calls(Method::k_patch, k_token_path).empty());
}

TEST_CASE("a timeout writing a remote Secret is one clear line per failing cluster",
          "[mesh][join][seam]") {
  Mesh mesh;
  mesh.fakes[0]->on(Method::k_patch, remote_secret_path("wuxi"), FakeReply::timeout());
  mesh.fakes[1]->on(Method::k_patch, remote_secret_path("cn-shanghai"), FakeReply::timeout());
  StderrCapture stderr_text;
  auto report = join_live(mesh.session, {}, mesh.clients, global());
  const std::string logged = stderr_text.text();
  REQUIRE(report);
  // Every cluster's failure, each one line starting with its cluster; nothing only logged.
  REQUIRE(report->errors.size() == 2);
  CHECK(report->errors[0].what().rfind(
            "cn-shanghai: applying Secret istio-system/istio-remote-secret-wuxi to cn-shanghai: ",
            0) == 0);
  CHECK(report->errors[0].hint().find("--timeout") != std::string::npos);
  CHECK(report->errors[1].what() ==
        "wuxi: applying Secret istio-system/istio-remote-secret-cn-shanghai to wuxi: "
        "timed out talking to the API server at https://wuxi.fake.test:6443: Operation "
        "timed out after 30000 milliseconds with 0 bytes received (after 5 attempts)");
  CHECK(logged.empty());
  // Every attempt carried the whole Secret: a complete kubeconfig with the real token, never a
  // placeholder, so whatever the server may have stored is whole.
  for (const auto& w : remote_secret_writes(*mesh.fakes[1])) {
    const json secret = json::parse(w.body);
    const auto kubeconfig = base64_decode(secret["data"]["cn-shanghai"].get<std::string>());
    REQUIRE(kubeconfig);
    CHECK(kubeconfig->find("reader-token-of-cn-shanghai") != std::string::npos);
    CHECK(kubeconfig->find("certificate-authority-data") != std::string::npos);
  }
}

TEST_CASE("a failed precondition anywhere means nothing is written anywhere",
          "[mesh][join][seam]") {
  Mesh mesh;
  mesh.fakes[1]->on(Method::k_get, "/apis/apps/v1/namespaces/istio-system/deployments",
                    FakeReply::json({{"kind", "DeploymentList"},
                                     {"apiVersion", "apps/v1"},
                                     {"metadata", {{"resourceVersion", "1"}}},
                                     {"items", json::array()}}));
  auto report = join_live(mesh.session, {}, mesh.clients, global());
  REQUIRE(report);
  REQUIRE(report->precondition_errors.size() == 1);
  CHECK(report->precondition_errors[0].what() ==
        "wuxi: istiod is not installed in wuxi (no Deployment labelled app=istiod in "
        "istio-system)");
  CHECK(mesh.fakes[0]->writes().empty());
  CHECK(mesh.fakes[1]->writes().empty());
}

TEST_CASE("join --restart-istiod retries the restart and restarts every cluster, reporting each "
          "failure",
          "[mesh][join][seam]") {
  Mesh mesh;
  const std::string istiod = "/apis/apps/v1/namespaces/istio-system/deployments/istiod";
  auto is_restart = [](const kube::Request& r) {
    return r.content_type == "application/strategic-merge-patch+json";
  };
  // cn-shanghai's API server is busy twice, then restarts istiod; wuxi's never manages to.
  mesh.fakes[0]->on(Method::k_patch, istiod, FakeReply::json({{"kind", "Deployment"}}), -1,
                    is_restart);
  mesh.fakes[0]->on(Method::k_patch, istiod,
                    FakeReply::api_status(503, "ServiceUnavailable", "busy"), 2, is_restart);
  mesh.fakes[1]->on(Method::k_patch, istiod,
                    FakeReply::api_status(500, "InternalError", "etcd is sad"), -1, is_restart);
  JoinOptions options;
  options.restart_istiod = RestartIstiod::k_always;
  auto report = join_live(mesh.session, options, mesh.clients, global());
  REQUIRE(report);
  CHECK(mesh.fakes[0]->calls(Method::k_patch, istiod).size() == 3);
  CHECK(mesh.fakes[1]->calls(Method::k_patch, istiod).size() == 5);
  REQUIRE(report->errors.size() == 1);
  CHECK(report->errors[0].what().rfind("wuxi: restarting istio-system/istiod: ", 0) == 0);
  REQUIRE(report->istiod_restarts.size() == 1);
  CHECK(report->istiod_restarts[0].cluster == "cn-shanghai");
  // The restart came after everything else: both remote Secrets are in place.
  CHECK(remote_secret_writes(*mesh.fakes[0]).size() == 1);
  CHECK(remote_secret_writes(*mesh.fakes[1]).size() == 1);
}

TEST_CASE("a failed read of istiod's injector values is reported as the read, not as wrong values",
          "[mesh][join][seam]") {
  Mesh mesh;
  mesh.fakes[1]->on(Method::k_get,
                    "/api/v1/namespaces/istio-system/configmaps/"
                    "istio-sidecar-injector",
                    FakeReply::api_status(503, "ServiceUnavailable", "busy"));
  auto report = join_live(mesh.session, {}, mesh.clients, global());
  REQUIRE(report);
  REQUIRE(report->precondition_errors.size() == 1);
  const std::string what = report->precondition_errors[0].what();
  CHECK(what.find("reading ConfigMap istio-system/istio-sidecar-injector") != std::string::npos);
  CHECK(what.find("503") != std::string::npos);
  CHECK(what.find("network is") == std::string::npos);
  CHECK(mesh.fakes[1]->writes().empty());
}

// istiod's istio-ca-root-cert publisher, driven in process through Api: the root istiod loaded at
// start goes into every namespace; cacerts takes effect only when the istiod pod is replaced.

#include "api.hpp"
#include "pki.hpp"

#include <catch2/catch.hpp>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <vector>

namespace {

using kubesim::Api;
using kubesim::HttpRequest;
using kubesim::RequestInfo;
using json = nlohmann::json;

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

kubesim::ApiOptions wuxi_options() {
  kubesim::ApiOptions o;
  o.cluster_name = "wuxi";
  return o;
}

// wuxi's seed (istiod Deployment and Pod); scheduled work runs when the test says so.
struct Cluster {
  std::vector<std::function<void()>> pending;
  Api api{wuxi_options(), [this](std::chrono::milliseconds, std::function<void()> fn) {
            pending.push_back(std::move(fn));
          }};

  Cluster() {
    const std::filesystem::path seeds = KUBESIM_SEED_DIR;
    api.load_seed(read_text(seeds / "istio-crds.yaml"), "istio-crds.yaml");
    api.load_seed(read_text(seeds / "wuxi.yaml"), "wuxi.yaml");
  }

  void settle() {
    for (int i = 0; i < 4; ++i) {
      auto jobs = std::move(pending);
      pending.clear();
      for (auto& j : jobs) {
        j();
      }
    }
  }

  std::pair<int, json> call(const std::string& method, const std::string& target,
                            const json& body = nullptr,
                            const std::string& content_type = "application/json") {
    HttpRequest r;
    r.method = method;
    r.target = target;
    r.headers["authorization"] = "Bearer " + api.admin_token();
    r.headers["content-type"] = content_type;
    if (!body.is_null()) {
      r.body = body.dump();
    }
    RequestInfo info;
    const auto resp = api.handle(r, info);
    return {resp.status, json::parse(resp.body)};
  }

  // root-cert.pem of istio-ca-root-cert in `ns` ("" when the ConfigMap is missing).
  std::string root_in(const std::string& ns) {
    auto [status, cm] = call("GET", "/api/v1/namespaces/" + ns + "/configmaps/istio-ca-root-cert");
    return status == 200 ? cm["data"].value("root-cert.pem", "") : "";
  }

  std::vector<std::string> namespaces() {
    std::vector<std::string> out;
    const json list = call("GET", "/api/v1/namespaces").second; // items must not outlive it
    for (const auto& n : list["items"]) {
      out.push_back(n["metadata"]["name"]);
    }
    return out;
  }
};

// True when `pem` is one self-signed CA certificate whose subject is O=cluster.local.
bool is_self_signed_cluster_local_root(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), int(pem.size())),
                                                BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cert) {
    return false;
  }
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_organizationName, buf,
                            sizeof buf);
  return std::string(buf) == "cluster.local" && X509_check_ca(cert.get()) != 0 &&
         X509_check_issued(cert.get(), cert.get()) == X509_V_OK;
}

} // namespace

TEST_CASE("kubesim's istiod publishes the root it loaded at start in every namespace",
          "[kubesim][rootcert]") {
  Cluster c;
  c.settle();

  // Seeded istiod without cacerts: its own self-signed root, everywhere, written by "istiod".
  const std::string self_signed = c.root_in("istio-system");
  CHECK(is_self_signed_cluster_local_root(self_signed));
  for (const auto& ns : c.namespaces()) {
    INFO(ns);
    CHECK(c.root_in(ns) == self_signed);
  }
  auto [status, cm] = c.call("GET", "/api/v1/namespaces/dev/configmaps/istio-ca-root-cert");
  REQUIRE(status == 200);
  CHECK(cm["metadata"]["labels"]["istio.io/config"] == "true");
  REQUIRE(cm["metadata"]["managedFields"].size() == 1);
  CHECK(cm["metadata"]["managedFields"][0]["manager"] == "istiod");

  // cacerts alone changes nothing: istiod read its CA at start.
  const std::string plugged =
      read_text(std::filesystem::path(KUBESIM_SOURCE_DIR) / "tests/data/check/root-b.pem");
  REQUIRE(plugged != self_signed);
  const json cacerts = {{"apiVersion", "v1"},
                        {"kind", "Secret"},
                        {"metadata", {{"name", "cacerts"}, {"namespace", "istio-system"}}},
                        {"data", {{"root-cert.pem", kubesim::base64_encode(plugged)}}}};
  REQUIRE(c.call("POST", "/api/v1/namespaces/istio-system/secrets", cacerts).first == 201);
  c.settle();
  CHECK(c.root_in("dev") == self_signed);
  CHECK(c.root_in("istio-system") == self_signed);

  // kubectl rollout restart deployment/istiod: the new pod loads cacerts' root.
  const json restart = {
      {"spec",
       {{"template",
         {{"metadata", {{"annotations", {{"kubectl.kubernetes.io/restartedAt", "now"}}}}}}}}}};
  REQUIRE(c.call("PATCH", "/apis/apps/v1/namespaces/istio-system/deployments/istiod", restart,
                 "application/strategic-merge-patch+json")
              .first == 200);
  c.settle();
  for (const auto& ns : c.namespaces()) {
    INFO(ns);
    CHECK(c.root_in(ns) == plugged);
  }

  // A namespace created later gets the current root.
  const json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "late"}}}};
  REQUIRE(c.call("POST", "/api/v1/namespaces", ns).first == 201);
  CHECK(c.root_in("late") == plugged);
}

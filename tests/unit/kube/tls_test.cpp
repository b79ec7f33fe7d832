// TLS exactly as the kubeconfig says, against a real TLS peer (openssl s_server -www answers any
// GET with a status page): CA data and files, tls-server-name, client certificates, and the
// errors when they do not fit.

#include "core/redact.hpp"
#include "kube/client.hpp"
#include "kube_test_support.hpp"

using namespace meshctl;
using namespace meshctl::kube;
using namespace meshctl::testing::kube;
using meshctl::testing::read_file;

namespace {

class TlsPeer {
public:
  TlsPeer(const std::filesystem::path& crt, const std::filesystem::path& key,
          const std::filesystem::path& client_ca = {})
      : m_port(free_port()), m_process(argv(m_port, crt, key, client_ca)) {
    if (!wait_for_port(m_port, std::chrono::seconds(10))) {
      throw std::runtime_error("openssl s_server did not start");
    }
  }
  [[nodiscard]] std::string url() const { return "https://127.0.0.1:" + std::to_string(m_port); }

private:
  static std::vector<std::string> argv(int port, const std::filesystem::path& crt,
                                       const std::filesystem::path& key,
                                       const std::filesystem::path& client_ca) {
    std::vector<std::string> a{"openssl",   "s_server",   "-quiet",
                               "-www",      "-accept",    "127.0.0.1:" + std::to_string(port),
                               "-cert",     crt.string(), "-key",
                               key.string()};
    if (!client_ca.empty()) {
      a.insert(a.end(), {"-Verify", "1", "-CAfile", client_ca.string()});
    }
    return a;
  }
  int m_port;
  BackgroundProcess m_process;
};

ClientOptions quick() {
  ClientOptions o;
  o.connect_timeout = std::chrono::seconds(5);
  o.request_timeout = std::chrono::seconds(5);
  o.retry.max_attempts = 1;
  o.proxy_env = ProxyEnvironment{};
  return o;
}

ApiResult<Response> get_root(const config::ResolvedContext& ctx, config::Credentials creds = {}) {
  auto client = Client::create(ctx, quick(), static_credentials(std::move(creds)));
  REQUIRE(client);
  Request r;
  r.path = "/";
  r.accept = "*/*";
  return (*client)->send(r);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("tls-server-name is verified while connecting to the server's address", "[kube]") {
  const auto& pki = test_pki();
  TlsPeer peer(pki.server_name_crt, pki.server_name_key); // valid for kube.test only
  auto ctx = context_for(peer.url());
  ctx.cluster.certificate_authority_data = read_file(pki.ca_crt);
  ctx.cluster.tls_server_name = "kube.test"; // does not resolve: only CONNECT_TO can reach it
  const auto ok = get_root(ctx);
  REQUIRE(ok);
  CHECK(ok->status == 200);

  ctx.cluster.tls_server_name.clear();
  const auto no_name = get_root(ctx);
  REQUIRE_FALSE(no_name);
  CHECK(no_name.error().failure == TransportFailure::k_tls_verify);
  CHECK(no_name.error().error.code() == ExitCode::k_unreachable);
  CHECK(contains(no_name.error().error.message(), "not valid for the address it is reached by"));
  CHECK(contains(no_name.error().error.hint(), "set tls-server-name"));

  ctx.cluster.tls_server_name = "wrong.test";
  const auto wrong = get_root(ctx);
  REQUIRE_FALSE(wrong);
  CHECK(contains(wrong.error().error.message(), "not valid for tls-server-name wrong.test"));
  CHECK(contains(wrong.error().error.hint(),
                 "tls-server-name of context wuxi is not a name in the server's certificate"));
}

TEST_CASE("a CA that did not sign the server's certificate is a CA mismatch", "[kube]") {
  const auto& pki = test_pki();
  TlsPeer peer(pki.server_ip_crt, pki.server_ip_key);
  auto ctx = context_for(peer.url());
  ctx.cluster.certificate_authority_data = read_file(pki.other_ca_crt);
  const auto r = get_root(ctx);
  REQUIRE_FALSE(r);
  CHECK(r.error().unreachable());
  CHECK(r.error().error.code() == ExitCode::k_unreachable);
  CHECK(contains(r.error().error.message(), "CA mismatch"));
  CHECK(contains(r.error().error.hint(), "certificate-authority"));

  // No CA in the kubeconfig: the system's roots do not know the test CA either.
  ctx.cluster.certificate_authority_data.clear();
  const auto system = get_root(ctx);
  REQUIRE_FALSE(system);
  CHECK(contains(system.error().error.hint(), "names no certificate-authority"));

  // The right CA, as a file this time.
  ctx.cluster.certificate_authority = pki.ca_crt.string();
  const auto ok = get_root(ctx);
  REQUIRE(ok);
  CHECK(ok->status == 200);
}

TEST_CASE("verification is skipped only with insecure-skip-tls-verify", "[kube]") {
  const auto& pki = test_pki();
  TlsPeer peer(pki.server_name_crt, pki.server_name_key);
  auto ctx = context_for(peer.url());
  ctx.cluster.certificate_authority_data = read_file(pki.other_ca_crt);
  REQUIRE_FALSE(get_root(ctx)); // wrong CA and wrong name
  ctx.cluster.insecure_skip_tls_verify = true;
  const auto r = get_root(ctx);
  REQUIRE(r);
  CHECK(r->status == 200);
}

TEST_CASE("client certificates are presented and their absence is explained", "[kube]") {
  const auto& pki = test_pki();
  TlsPeer peer(pki.server_ip_crt, pki.server_ip_key, pki.client_ca_crt);
  auto ctx = context_for(peer.url());
  ctx.cluster.certificate_authority_data = read_file(pki.ca_crt);

  const auto without = get_root(ctx);
  REQUIRE_FALSE(without);
  CHECK(without.error().failure == TransportFailure::k_tls_handshake);
  CHECK(contains(without.error().error.hint(), "wants a client certificate"));

  config::Credentials creds;
  creds.client_certificate_pem = read_file(pki.client_crt);
  creds.client_key_pem = read_file(pki.client_key);
  const auto with = get_root(ctx, creds);
  REQUIRE(with);
  CHECK(with->status == 200);
  // The key was registered as a secret.
  CHECK(redact(creds.client_key_pem) == std::string(k_redacted));
}

TEST_CASE("an unusable client key is a configuration error", "[kube]") {
  const auto& pki = test_pki();
  TlsPeer peer(pki.server_ip_crt, pki.server_ip_key, pki.client_ca_crt);
  auto ctx = context_for(peer.url());
  ctx.cluster.certificate_authority_data = read_file(pki.ca_crt);
  config::Credentials creds;
  creds.client_certificate_pem = read_file(pki.client_crt);
  creds.client_key_pem = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n";
  const auto r = get_root(ctx, creds);
  REQUIRE_FALSE(r);
  CHECK(r.error().failure == TransportFailure::k_tls_config);
  CHECK(r.error().error.code() == ExitCode::k_usage);
}

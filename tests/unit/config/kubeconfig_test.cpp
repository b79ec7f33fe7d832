// kubeconfig as kubectl reads it: file selection, merging, paths, malformed files, contexts,
// and every kind of credential including exec plugins (real shell-script plugins in a TempDir).

#include "config/kubeconfig.hpp"
#include "core/redact.hpp"
#include "support/testing.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdlib>
#include <thread>

using namespace meshctl;
using namespace meshctl::config;
using meshctl::testing::read_file;
using meshctl::testing::source_dir;
using meshctl::testing::TempDir;
namespace fs = std::filesystem;

namespace {

class EnvGuard {
public:
  EnvGuard(std::string name, const std::optional<std::string>& value) : m_name(std::move(name)) {
    if (const char* old = std::getenv(m_name.c_str())) {
      m_old = old;
    }
    if (value) {
      setenv(m_name.c_str(), value->c_str(), 1);
    } else {
      unsetenv(m_name.c_str());
    }
  }
  ~EnvGuard() {
    if (m_old) {
      setenv(m_name.c_str(), m_old->c_str(), 1);
    } else {
      unsetenv(m_name.c_str());
    }
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

private:
  std::string m_name;
  std::optional<std::string> m_old;
};

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

// A kubeconfig with one context `name` whose cluster and user are named after it.
std::string one_context(const std::string& name, const std::string& server,
                        const std::string& user_body = "token: tok-" + std::string("abcdef")) {
  return "clusters:\n- name: " + name + "\n  cluster:\n    server: " + server +
         "\nusers:\n- name: " + name + "\n  user:\n    " + user_body +
         "\ncontexts:\n- name: " + name + "\n  context:\n    cluster: " + name +
         "\n    user: " + name + "\n";
}

// Writes an executable shell script.
fs::path write_script(const TempDir& dir, const std::string& name, const std::string& body) {
  auto p = dir.write(name, "#!/bin/sh\n" + body);
  fs::permissions(p, fs::perms::owner_all, fs::perm_options::add);
  return p;
}

// A resolved context whose user runs `command` as an exec plugin.
ResolvedContext exec_context(const std::string& name, const std::string& command,
                             const std::string& api = "client.authentication.k8s.io/v1") {
  ResolvedContext ctx;
  ctx.name = name;
  ctx.cluster.server = "https://10.18.10.10:6443";
  ExecConfig e;
  e.api_version = api;
  e.command = command;
  e.interactive_mode = "Never";
  ctx.user.exec = e;
  return ctx;
}

std::string exec_credential(const std::string& api, const std::string& status) {
  return "cat <<'EOF'\n{\"apiVersion\":\"" + api +
         "\",\"kind\":\"ExecCredential\",\"status\":" + status + "}\nEOF\n";
}

// "cn-shanghai-ca" etc. as base64, for *-data fields.
const std::string k_ca_pem = "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n";
const std::string k_ca_b64 =
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tClEwRT0KLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=";

} // namespace

TEST_CASE("a kubeconfig file is parsed field by field", "[kubeconfig]") {
  const std::string text = R"(apiVersion: v1
kind: Config
clusters:
- name: wuxi
  cluster:
    server: https://10.18.10.10:6443
    certificate-authority-data: )" +
                           k_ca_b64 + R"(
    tls-server-name: kubernetes.default
    proxy-url: socks5://proxy:1080
    insecure-skip-tls-verify: true
    extensions: [{name: x, extension: {}}]
users:
- name: admin
  user:
    client-certificate-data: )" +
                           k_ca_b64 + R"(
    client-key-data: )" + k_ca_b64 +
                           R"(
    username: bob
    password: s3cret-pass
contexts:
- name: wuxi
  context: {cluster: wuxi, user: admin, namespace: dev}
current-context: wuxi
preferences: {}
)";
  auto kc = parse_kubeconfig(text, "/k/config");
  REQUIRE(kc);
  const auto& c = kc->clusters.at("wuxi");
  CHECK(c.server == "https://10.18.10.10:6443");
  CHECK(c.certificate_authority_data == k_ca_pem);
  CHECK(c.tls_server_name == "kubernetes.default");
  CHECK(c.proxy_url == "socks5://proxy:1080");
  CHECK(c.insecure_skip_tls_verify);
  const auto& u = kc->users.at("admin");
  CHECK(u.client_certificate_data == k_ca_pem);
  CHECK(u.username == "bob");
  CHECK(u.password == "s3cret-pass");
  CHECK(kc->contexts.at("wuxi").namespace_ == "dev");
  CHECK(kc->current_context == "wuxi");
  CHECK(kc->context_names() == std::vector<std::string>{"wuxi"});
  CHECK(redact("pw s3cret-pass") == "pw <redacted>"); // the password was registered
}

TEST_CASE("relative paths resolve against the directory of the file naming them", "[kubeconfig]") {
  const std::string text = R"(
clusters:
- name: c
  cluster: {server: "https://x", certificate-authority: certs/ca.pem}
users:
- name: u
  user:
    client-certificate: ../tls/cert.pem
    client-key: /abs/key.pem
    tokenFile: token
    exec: {command: ./bin/plugin, apiVersion: client.authentication.k8s.io/v1beta1}
- name: path-lookup
  user:
    exec: {command: aws, args: [eks, get-token]}
contexts: []
)";
  auto kc = parse_kubeconfig(text, "/home/u/.kube/config");
  REQUIRE(kc);
  CHECK(kc->clusters.at("c").certificate_authority == "/home/u/.kube/certs/ca.pem");
  const auto& u = kc->users.at("u");
  CHECK(u.client_certificate == "/home/u/tls/cert.pem");
  CHECK(u.client_key == "/abs/key.pem");
  CHECK(u.token_file == "/home/u/.kube/token");
  CHECK(u.exec->command == "/home/u/.kube/bin/plugin");
  // A bare command is looked up in PATH, not next to the file.
  CHECK(kc->users.at("path-lookup").exec->command == "aws");
  CHECK(kc->users.at("path-lookup").exec->args == std::vector<std::string>{"eks", "get-token"});

  // A relative origin is made absolute against the working directory.
  auto rel = parse_kubeconfig(text, "conf/kc.yaml");
  REQUIRE(rel);
  CHECK(rel->clusters.at("c").certificate_authority ==
        (fs::current_path() / "conf/certs/ca.pem").lexically_normal().string());
}

TEST_CASE("bad base64 names the file, line and field", "[kubeconfig]") {
  auto r = parse_kubeconfig("clusters:\n- name: wuxi\n  cluster:\n    server: https://x\n"
                            "    certificate-authority-data: not*base64\n",
                            "/k/config");
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == ExitCode::k_usage);
  CHECK(r.error().what() == "/k/config:5:33: clusters[wuxi].cluster.certificate-authority-data is "
                            "not valid base64: illegal character at offset 3");
  auto pad = parse_kubeconfig("users:\n- name: u\n  user: {client-key-data: QUJD}\n"
                              "- name: v\n  user: {client-key-data: QUJDRA}\n",
                              "/k/config");
  REQUIRE_FALSE(pad);
  CHECK(contains(pad.error().what(), "users[v].user.client-key-data is not valid base64"));
  CHECK(contains(pad.error().what(), "/k/config:5:"));
  // Go's decoder ignores line breaks inside the value; so does ours.
  auto wrapped = parse_kubeconfig("users:\n- name: u\n  user:\n    client-key-data: |\n"
                                  "      QUJD\n      REVG\n",
                                  "k");
  REQUIRE(wrapped);
  CHECK(wrapped->users.at("u").client_key_data == "ABCDEF");
}

TEST_CASE("malformed kubeconfigs fail with file:line", "[kubeconfig]") {
  auto yaml = parse_kubeconfig("clusters:\n- name: a\n  cluster: {server: [\n", "/k/bad");
  REQUIRE_FALSE(yaml);
  CHECK(yaml.error().code() == ExitCode::k_usage);
  CHECK(yaml.error().what().rfind("/k/bad:", 0) == 0);
  CHECK(contains(yaml.error().what(), "invalid YAML"));

  auto list = parse_kubeconfig("clusters: {a: b}\n", "/k/c");
  REQUIRE_FALSE(list);
  CHECK(list.error().what() == "/k/c:1:11: clusters must be a list (got a map)");

  auto boolean = parse_kubeconfig(
      "clusters:\n- name: a\n  cluster: {server: s, insecure-skip-tls-verify: maybe}\n", "/k/c");
  REQUIRE_FALSE(boolean);
  CHECK(contains(boolean.error().what(), "/k/c:3:"));
  CHECK(contains(boolean.error().what(), "insecure-skip-tls-verify must be true or false"));

  auto args =
      parse_kubeconfig("users:\n- name: u\n  user:\n    exec: {command: x, args: x}\n", "/k/c");
  REQUIRE_FALSE(args);
  CHECK(contains(args.error().what(), "users[u].user.exec.args must be a list"));

  auto env =
      parse_kubeconfig("users:\n- name: u\n  user:\n    exec: {command: x, env: [A=b]}\n", "/k/c");
  REQUIRE_FALSE(env);
  CHECK(contains(env.error().what(), "exec.env[0] must be a map with name and value"));

  auto dup = parse_kubeconfig("contexts:\n- name: a\n  context: {cluster: a}\n"
                              "- name: a\n  context: {cluster: b}\n",
                              "/k/c");
  REQUIRE_FALSE(dup);
  CHECK(dup.error().what() == "/k/c:4:9: duplicate name \"a\" in contexts (first at /k/c:2:9)");

  auto top = parse_kubeconfig("just a string\n", "/k/c");
  REQUIRE_FALSE(top);
  CHECK(contains(top.error().what(), "a kubeconfig must be a map"));

  // An empty file is an empty kubeconfig, as in client-go.
  auto empty = parse_kubeconfig("", "/k/empty");
  REQUIRE(empty);
  CHECK(empty->contexts.empty());
}

TEST_CASE("an explicit --kubeconfig file is used alone, and must exist", "[kubeconfig]") {
  TempDir dir;
  const auto a = dir.write("a", one_context("wuxi", "https://a"));
  const auto b = dir.write("b", one_context("cn-shanghai", "https://b"));
  EnvGuard env("KUBECONFIG", b.string());
  auto kc = load_kubeconfig(a.string());
  REQUIRE(kc);
  CHECK(kc->context_names() == std::vector<std::string>{"wuxi"});
  CHECK(kc->files == std::vector<std::string>{a.string()});

  auto missing = load_kubeconfig((dir.path() / "nope").string());
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == ExitCode::k_usage);
  CHECK(contains(missing.error().what(), "(from --kubeconfig) does not exist"));
}

TEST_CASE("KUBECONFIG files merge first-wins — missing, empty and repeated entries are skipped",
          "[kubeconfig]") {
  TempDir dir;
  const auto first = dir.write("one/first", R"(
clusters:
- name: shared
  cluster: {server: "https://first", certificate-authority: ca.pem}
users:
- name: admin
  user: {token: first-token-123}
contexts:
- name: wuxi
  context: {cluster: shared, user: admin}
)");
  const auto second = dir.write("two/second", R"(
clusters:
- name: shared
  cluster: {server: "https://second", tls-server-name: only-in-second}
- name: sh
  cluster: {server: "https://sh", certificate-authority: ca.pem}
users:
- name: admin
  user: {token: second-token-123, username: only-in-second}
contexts:
- name: wuxi
  context: {cluster: sh, user: admin}
- name: cn-shanghai
  context: {cluster: sh, user: admin}
current-context: cn-shanghai
)");
  const auto third = dir.write("third", "current-context: wuxi\n");
  const std::string missing = (dir.path() / "missing").string();
  EnvGuard env("KUBECONFIG", first.string() + "::" + missing + ":" + second.string() + ":" +
                                 first.string() + ":" + third.string());
  auto kc = load_kubeconfig(std::nullopt);
  REQUIRE(kc);
  CHECK(kc->files == std::vector<std::string>{first.string(), second.string(), third.string()});
  CHECK(kc->missing_files == std::vector<std::string>{missing});
  // Whole entries from the first file: the second file's extra fields do not leak in.
  CHECK(kc->clusters.at("shared").server == "https://first");
  CHECK(kc->clusters.at("shared").tls_server_name.empty());
  CHECK(kc->users.at("admin").token == "first-token-123");
  CHECK(kc->users.at("admin").username.empty());
  CHECK(kc->contexts.at("wuxi").cluster == "shared");
  CHECK(kc->contexts.count("cn-shanghai") == 1);
  // current-context from the first file that sets it (the second), not the last.
  CHECK(kc->current_context == "cn-shanghai");
  // Each file's relative paths resolve against its own directory.
  CHECK(kc->clusters.at("shared").certificate_authority == (dir.path() / "one/ca.pem").string());
  CHECK(kc->clusters.at("sh").certificate_authority == (dir.path() / "two/ca.pem").string());
}

TEST_CASE("without --kubeconfig or KUBECONFIG, ~/.kube/config is read — none is no error",
          "[kubeconfig]") {
  TempDir home;
  EnvGuard env("KUBECONFIG", std::nullopt);
  EnvGuard h("HOME", home.path().string());
  auto none = load_kubeconfig(std::nullopt);
  REQUIRE(none);
  CHECK(none->files.empty());
  CHECK(none->contexts.empty());
  const auto p = home.write(".kube/config", one_context("wuxi", "https://w"));
  auto kc = load_kubeconfig(std::nullopt);
  REQUIRE(kc);
  CHECK(kc->files == std::vector<std::string>{p.string()});
  CHECK(kc->context_names() == std::vector<std::string>{"wuxi"});
  // An empty KUBECONFIG counts as unset.
  EnvGuard empty("KUBECONFIG", "");
  CHECK(load_kubeconfig(std::nullopt)->files.size() == 1);
}

TEST_CASE("a malformed file in KUBECONFIG is an error naming it", "[kubeconfig]") {
  TempDir dir;
  const auto good = dir.write("good", one_context("wuxi", "https://w"));
  const auto bad = dir.write("bad", "contexts:\n- name: x\n  context: [\n");
  EnvGuard env("KUBECONFIG", good.string() + ":" + bad.string());
  auto kc = load_kubeconfig(std::nullopt);
  REQUIRE_FALSE(kc);
  CHECK(kc.error().code() == ExitCode::k_usage);
  CHECK(kc.error().what().rfind(bad.string() + ":", 0) == 0);
}

TEST_CASE("the seed example kubeconfig names both seed contexts", "[kubeconfig]") {
  auto kc = load_kubeconfig((source_dir() / "examples" / "seed" / "kubeconfig.yaml").string());
  REQUIRE(kc);
  CHECK(kc->context_names() == std::vector<std::string>{"cn-shanghai", "wuxi"});
  CHECK(kc->resolve("cn-shanghai")->cluster.server == "https://cn-shanghai.example.internal:6443");
  CHECK(kc->resolve("wuxi")->cluster.server == "https://10.18.10.10:6443");
}

TEST_CASE("resolve: unknown contexts suggest, broken references are clear", "[kubeconfig]") {
  auto kc = parse_kubeconfig(R"(
clusters:
- name: wuxi-cluster
  cluster: {server: "https://w"}
- name: noserver
  cluster: {}
users:
- name: wuxi-user
  user: {token: abcdefgh}
contexts:
- name: wuxi
  context: {cluster: wuxi-cluster, user: wuxi-user}
- name: cn-shanghai
  context: {cluster: wuxi-cluster}
- name: lost-cluster
  context: {cluster: wuxi-clustr, user: wuxi-user}
- name: lost-user
  context: {cluster: wuxi-cluster, user: nobody}
- name: no-server
  context: {cluster: noserver}
- name: no-cluster
  context: {user: wuxi-user}
)",
                             "/k/config");
  REQUIRE(kc);
  auto ok = kc->resolve("wuxi");
  REQUIRE(ok);
  CHECK(ok->name == "wuxi");
  CHECK(ok->cluster.server == "https://w");
  CHECK(ok->user.token == "abcdefgh");
  CHECK(ok->namespace_ == "default");
  // No user is anonymous, as with kubectl.
  CHECK(kc->resolve("cn-shanghai"));

  auto wux = kc->resolve("wux");
  REQUIRE_FALSE(wux);
  CHECK(wux.error().code() == ExitCode::k_usage);
  CHECK(wux.error().what() == "context \"wux\" not found in kubeconfig (did you mean \"wuxi\"?)");
  CHECK(contains(wux.error().hint(), "kubeconfig files read: /k/config"));

  auto lost = kc->resolve("lost-cluster");
  REQUIRE_FALSE(lost);
  CHECK(lost.error().what() == "context \"lost-cluster\" refers to cluster \"wuxi-clustr\", which "
                               "is not in the kubeconfig (did you mean \"wuxi-cluster\"?)");
  auto user = kc->resolve("lost-user");
  REQUIRE_FALSE(user);
  CHECK(contains(user.error().what(), "refers to user \"nobody\", which is not in the kubeconfig"));
  CHECK(contains(kc->resolve("no-server").error().what(), "has no server"));
  CHECK(contains(kc->resolve("no-cluster").error().what(), "names no cluster"));
  auto current = kc->resolve("");
  REQUIRE_FALSE(current);
  CHECK(contains(current.error().what(), "no current-context"));

  Kubeconfig empty;
  empty.missing_files = {"/gone/config"};
  auto none = empty.resolve("wuxi");
  REQUIRE_FALSE(none);
  CHECK(contains(none.error().hint(), "no kubeconfig file was read"));
  CHECK(contains(none.error().hint(), "missing: /gone/config"));
}

TEST_CASE("resolve with an empty name uses current-context", "[kubeconfig]") {
  auto kc = parse_kubeconfig(one_context("wuxi", "https://w") + "current-context: wuxi\n", "k");
  REQUIRE(kc);
  auto r = kc->resolve("");
  REQUIRE(r);
  CHECK(r->name == "wuxi");
}

TEST_CASE("static credentials: token, tokenFile re-read, certificates, basic auth",
          "[kubeconfig]") {
  TempDir dir;
  ResolvedContext ctx;
  ctx.name = "static";
  ctx.user.token = "inline-token-xyz";
  auto tok = get_credentials(ctx);
  REQUIRE(tok);
  CHECK(tok->bearer_token == "inline-token-xyz");
  CHECK(redact("Authorization: inline-token-xyz") == "Authorization: <redacted>");

  const auto token_file = dir.write("token", "rotating-token-1\n");
  ctx.user.token_file = token_file.string();
  CHECK(get_credentials(ctx)->bearer_token == "rotating-token-1");
  dir.write("token", "rotating-token-2");
  CHECK(get_credentials(ctx)->bearer_token == "rotating-token-2");
  CHECK(redact("rotating-token-2") == "<redacted>");
  fs::remove(token_file); // unreadable file: the inline token is the fallback, as client-go has it
  CHECK(get_credentials(ctx)->bearer_token == "inline-token-xyz");
  ctx.user.token.clear();
  auto gone = get_credentials(ctx);
  REQUIRE_FALSE(gone);
  CHECK(contains(gone.error().what(), "tokenFile"));

  ResolvedContext tls;
  tls.name = "tls";
  tls.user.client_certificate = dir.write("cert.pem", "CERT-PEM").string();
  tls.user.client_key = dir.write("key.pem", "KEY-PEM-secret").string();
  auto files = get_credentials(tls);
  REQUIRE(files);
  CHECK(files->client_certificate_pem == "CERT-PEM");
  CHECK(files->client_key_pem == "KEY-PEM-secret");
  CHECK(redact("KEY-PEM-secret") == "<redacted>");
  tls.user.client_certificate_data = "CERT-DATA"; // data overrides the file
  CHECK(get_credentials(tls)->client_certificate_pem == "CERT-DATA");
  tls.user.client_key.clear();
  auto half = get_credentials(tls);
  REQUIRE_FALSE(half);
  CHECK(half.error().code() == ExitCode::k_usage);
  CHECK(contains(half.error().what(), "client certificate but no key"));
  tls.user.client_key = (dir.path() / "missing-key.pem").string();
  REQUIRE_FALSE(get_credentials(tls));

  ResolvedContext basic;
  basic.name = "basic";
  basic.user.username = "admin";
  basic.user.password = "basic-pass-123";
  auto b = get_credentials(basic);
  REQUIRE(b);
  CHECK(b->username == "admin");
  CHECK(b->password == "basic-pass-123");

  ResolvedContext anon;
  anon.name = "anon";
  auto a = get_credentials(anon);
  REQUIRE(a);
  CHECK(a->bearer_token.empty());
  CHECK_FALSE(a->expiry.has_value());

  ResolvedContext provider;
  provider.name = "gcp";
  provider.user.auth_provider = "gcp";
  auto p = get_credentials(provider);
  REQUIRE_FALSE(p);
  CHECK(contains(p.error().hint(), "exec credential plugin"));
}

TEST_CASE("exec plugin: a v1 ExecCredential with token and expiry", "[kubeconfig][exec]") {
  TempDir dir;
  const auto plugin = write_script(
      dir, "plugin",
      exec_credential(
          "client.authentication.k8s.io/v1",
          R"({"token":"exec-token-v1-abcdef","expirationTimestamp":"2099-01-02T03:04:05Z"})"));
  auto creds = get_credentials(exec_context("exec-v1", plugin.string()));
  REQUIRE(creds);
  CHECK(creds->bearer_token == "exec-token-v1-abcdef");
  REQUIRE(creds->expiry.has_value());
  CHECK(*creds->expiry == *parse_rfc3339("2099-01-02T03:04:05Z"));
  CHECK(redact("exec-token-v1-abcdef") == "<redacted>");

  const auto certs = write_script(
      dir, "certs",
      exec_credential("client.authentication.k8s.io/v1beta1",
                      R"({"clientCertificateData":"CERT","clientKeyData":"exec-key-data-123"})"));
  auto c = get_credentials(
      exec_context("exec-certs", certs.string(), "client.authentication.k8s.io/v1beta1"));
  REQUIRE(c);
  CHECK(c->client_certificate_pem == "CERT");
  CHECK(c->client_key_pem == "exec-key-data-123");
  CHECK_FALSE(c->expiry.has_value());
}

TEST_CASE("exec plugin: args, env and KUBERNETES_EXEC_INFO reach the plugin",
          "[kubeconfig][exec]") {
  TempDir dir;
  const auto out = dir.path() / "seen";
  const auto plugin = write_script(
      dir, "plugin",
      "printf '%s' \"$KUBERNETES_EXEC_INFO\" > '" + out.string() + ".info'\n" +
          "printf '%s|%s|%s' \"$1\" \"$2\" \"$PLUGIN_REGION\" > '" + out.string() + ".args'\n" +
          exec_credential("client.authentication.k8s.io/v1beta1", R"({"token":"info-token-1"})"));
  ResolvedContext ctx =
      exec_context("exec-info", plugin.string(), "client.authentication.k8s.io/v1beta1");
  ctx.user.exec->args = {"--region", "cn shanghai"};
  ctx.user.exec->env = {{"PLUGIN_REGION", "cn-shanghai"}};
  ctx.user.exec->provide_cluster_info = true;
  ctx.user.exec->interactive_mode.clear(); // v1beta1 defaults to IfAvailable
  ctx.cluster.tls_server_name = "kubernetes.default";
  ctx.cluster.proxy_url = "http://proxy:3128";
  ctx.cluster.certificate_authority_data = k_ca_pem;
  EnvGuard inherited("PLUGIN_REGION", "overridden-by-kubeconfig");
  auto creds = get_credentials(ctx);
  REQUIRE(creds);
  CHECK(creds->bearer_token == "info-token-1");
  CHECK(read_file(out.string() + ".args") == "--region|cn shanghai|cn-shanghai");
  const auto info = nlohmann::json::parse(read_file(out.string() + ".info"));
  CHECK(info["apiVersion"] == "client.authentication.k8s.io/v1beta1");
  CHECK(info["kind"] == "ExecCredential");
  CHECK(info["spec"]["interactive"] == false);
  CHECK(info["spec"]["cluster"]["server"] == "https://10.18.10.10:6443");
  CHECK(info["spec"]["cluster"]["tls-server-name"] == "kubernetes.default");
  CHECK(info["spec"]["cluster"]["proxy-url"] == "http://proxy:3128");
  CHECK(info["spec"]["cluster"]["certificate-authority-data"] == k_ca_b64);
  CHECK_FALSE(info["spec"]["cluster"].contains("insecure-skip-tls-verify"));

  // Without provideClusterInfo the plugin learns nothing about the cluster.
  ctx.user.exec->provide_cluster_info = false;
  const auto plain = nlohmann::json::parse(exec_info_json(ctx));
  CHECK_FALSE(plain["spec"].contains("cluster"));
  CHECK(plain["spec"]["interactive"] == false);
}

TEST_CASE("exec plugin: credentials are cached until they expire, and on invalidate",
          "[kubeconfig][exec]") {
  TempDir dir;
  const auto count = dir.path() / "count";
  const auto counting = [&](const std::string& name, const std::string& expiry) {
    return write_script(dir, name,
                        "echo x >> '" + count.string() + "'\n" +
                            exec_credential("client.authentication.k8s.io/v1",
                                            R"({"token":"cached-token-1","expirationTimestamp":")" +
                                                expiry + "\"}"));
  };
  auto calls = [&]() -> long {
    std::error_code ec;
    if (!fs::exists(count, ec)) {
      return 0;
    }
    const std::string text = read_file(count);
    return static_cast<long>(std::count(text.begin(), text.end(), '\n'));
  };
  const auto fresh =
      exec_context("cache-fresh", counting("fresh", "2099-01-01T00:00:00Z").string());
  REQUIRE(get_credentials(fresh));
  REQUIRE(get_credentials(fresh));
  CHECK(calls() == 1);
  invalidate_credentials("cache-fresh");
  REQUIRE(get_credentials(fresh));
  CHECK(calls() == 2);

  // Many threads at once (clusters are reached in parallel) still run the plugin once.
  invalidate_credentials("cache-fresh");
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (get_credentials(fresh)) {
        ++ok;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  CHECK(ok == 8);
  CHECK(calls() == 3);

  // An expired credential is fetched again on every call.
  const auto stale =
      exec_context("cache-stale", counting("stale", "2000-01-01T00:00:00Z").string());
  REQUIRE(get_credentials(stale));
  REQUIRE(get_credentials(stale));
  CHECK(calls() == 5);
}

TEST_CASE("exec plugin: a missing command shows the installHint", "[kubeconfig][exec]") {
  TempDir dir;
  auto ctx = exec_context("missing", "meshctl-test-no-such-plugin");
  ctx.user.exec->install_hint = "install it with: apt-get install fancy-auth";
  auto r = get_credentials(ctx);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == ExitCode::k_usage);
  CHECK(r.error().what() == "credentials for context \"missing\": exec plugin "
                            "\"meshctl-test-no-such-plugin\" not found in PATH");
  CHECK(r.error().hint() == "install it with: apt-get install fancy-auth");

  auto path = exec_context("missing-path", (dir.path() / "bin/plugin").string());
  auto p = get_credentials(path);
  REQUIRE_FALSE(p);
  CHECK(contains(p.error().what(), "not found"));
  CHECK(contains(p.error().hint(), "client-go-credential-plugins")); // the generic hint
}

TEST_CASE("exec plugin: failures are clear errors", "[kubeconfig][exec]") {
  TempDir dir;
  const auto failing =
      write_script(dir, "failing",
                   "echo 'token expired: leaked-token-999999' >&2\necho 'run: aliyun login' >&2\n"
                   "exit 1\n");
  register_secret("leaked-token-999999");
  auto r = get_credentials(exec_context("fails", failing.string()));
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == ExitCode::k_failed);
  CHECK(contains(r.error().what(), "exited with status 1: token expired: <redacted> run: aliyun "
                                   "login"));
  CHECK(r.error().what().find('\n') == std::string::npos);

  const auto wrong_api = write_script(
      dir, "wrong",
      exec_credential("client.authentication.k8s.io/v1beta1", R"({"token":"t1234567"})"));
  auto w = get_credentials(exec_context("wrong-api", wrong_api.string()));
  REQUIRE_FALSE(w);
  CHECK(contains(w.error().what(),
                 "is configured to use API version client.authentication.k8s.io/"
                 "v1, plugin returned version client.authentication.k8s.io/v1beta1"));

  const auto garbage = write_script(dir, "garbage", "echo 'not json'\n");
  CHECK(contains(get_credentials(exec_context("garbage", garbage.string())).error().what(),
                 "no valid ExecCredential JSON"));
  const auto half = write_script(
      dir, "half", exec_credential("client.authentication.k8s.io/v1", R"({"clientKeyData":"k"})"));
  CHECK(contains(get_credentials(exec_context("half", half.string())).error().what(),
                 "only certificate or key"));
  const auto empty =
      write_script(dir, "empty", exec_credential("client.authentication.k8s.io/v1", "{}"));
  CHECK(contains(get_credentials(exec_context("empty", empty.string())).error().what(),
                 "didn't return a token or cert/key pair"));
  const auto bad_time =
      write_script(dir, "badtime",
                   exec_credential("client.authentication.k8s.io/v1",
                                   R"({"token":"t1234567","expirationTimestamp":"tomorrow"})"));
  CHECK(contains(get_credentials(exec_context("badtime", bad_time.string())).error().what(),
                 "invalid expirationTimestamp"));
  const auto typed = write_script(
      dir, "typed", exec_credential("client.authentication.k8s.io/v1", R"({"token":42})"));
  CHECK(contains(get_credentials(exec_context("typed", typed.string())).error().what(),
                 "malformed ExecCredential"));
  // The wrong kind gets a hint about the plugin's output, not one about something else.
  const auto wrong_kind = write_script(
      dir, "kind",
      "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"Status\"}'\n");
  auto k = get_credentials(exec_context("kind", wrong_kind.string()));
  REQUIRE_FALSE(k);
  CHECK(contains(k.error().what(), "returned kind \"Status\", not ExecCredential"));
  CHECK(contains(k.error().hint(), "one ExecCredential object"));
  // null reads as absent, as Go's JSON decoding has it.
  const auto nulls =
      write_script(dir, "nulls",
                   exec_credential("client.authentication.k8s.io/v1",
                                   R"({"token":"null-expiry-token","expirationTimestamp":null})"));
  auto n = get_credentials(exec_context("nulls", nulls.string()));
  INFO((n ? std::string() : n.error().what()));
  REQUIRE(n.has_value());
  CHECK_FALSE(n->expiry.has_value());
  const auto not_exec = dir.write("not-executable", "#!/bin/sh\n");
  CHECK(contains(get_credentials(exec_context("noexec", not_exec.string())).error().what(),
                 "could not be started"));

  // A failed run is not repeated for every request (each would wait for it again): its error
  // stands until the credentials are invalidated (after a 401).
  const auto runs = dir.path() / "runs";
  const auto counted = write_script(dir, "counted", "echo x >> '" + runs.string() + "'\nexit 1\n");
  const auto ctx = exec_context("fails-once", counted.string());
  CHECK_FALSE(get_credentials(ctx));
  CHECK_FALSE(get_credentials(ctx));
  CHECK(read_file(runs) == "x\n");
  invalidate_credentials("fails-once");
  CHECK_FALSE(get_credentials(ctx));
  CHECK(read_file(runs) == "x\nx\n");
}

TEST_CASE("exec plugin: apiVersion and interactiveMode are checked before running",
          "[kubeconfig][exec]") {
  TempDir dir;
  const auto marker = dir.path() / "ran";
  const auto plugin = write_script(dir, "p", "touch '" + marker.string() + "'\n");
  auto v1 = exec_context("no-mode", plugin.string());
  v1.user.exec->interactive_mode.clear();
  auto r = get_credentials(v1);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == ExitCode::k_usage);
  CHECK(contains(r.error().what(), "interactiveMode must be specified"));

  auto always = exec_context("always", plugin.string());
  always.user.exec->interactive_mode = "Always";
  CHECK(contains(get_credentials(always).error().what(), "never prompts"));

  auto alpha = exec_context("alpha", plugin.string(), "client.authentication.k8s.io/v1alpha1");
  CHECK(contains(get_credentials(alpha).error().what(), "unsupported apiVersion"));
  CHECK_FALSE(fs::exists(marker));

  // Static credentials win: the plugin is not run at all.
  auto both = exec_context("both", plugin.string());
  both.user.token = "static-token-wins";
  CHECK(get_credentials(both)->bearer_token == "static-token-wins");
  CHECK_FALSE(fs::exists(marker));
}

TEST_CASE("RFC 3339 timestamps", "[kubeconfig]") {
  using namespace std::chrono;
  const auto epoch = parse_rfc3339("1970-01-01T00:00:00Z");
  REQUIRE(epoch);
  CHECK(epoch->time_since_epoch() == system_clock::duration::zero());
  CHECK(*parse_rfc3339("2024-05-01T10:00:00+08:00") == *parse_rfc3339("2024-05-01T02:00:00Z"));
  CHECK(*parse_rfc3339("2024-05-01T02:00:00.5Z") - *parse_rfc3339("2024-05-01T02:00:00Z") ==
        milliseconds(500));
  for (const char* bad :
       {"", "2024-05-01", "2024-05-01 02:00:00Z", "2024-05-01T02:00:00", "2024-13-01T00:00:00Z",
        "2024-05-01T02:00:00+0800", "2024-05-01T02:00:00.Z", "2024-05-01T02:00:00Zjunk"}) {
    CHECK_FALSE(parse_rfc3339(bad).has_value());
  }
  // Years system_clock cannot hold (the fuzzer found 1015 overflowing from_time_t) stay in order.
  CHECK(*parse_rfc3339("1015-01-02T03:04:05.123+08:00") == system_clock::time_point::min());
  CHECK(*parse_rfc3339("9999-12-31T23:59:59Z") == system_clock::time_point::max());
  CHECK(*parse_rfc3339("2200-01-01T00:00:00Z") > system_clock::now());
}

TEST_CASE("invalid UTF-8 in a kubeconfig is refused, as kubectl does", "[kubeconfig]") {
  auto r = parse_kubeconfig("contexts:\n- name: \xc3\x28\n", "/k/c");
  REQUIRE_FALSE(r);
  CHECK(r.error().what() == "/k/c:2:9: invalid UTF-8");
}

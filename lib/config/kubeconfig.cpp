// kubeconfig loading and credentials, following client-go's clientcmd and exec plugin code.
//
// Loading (clientcmd/loader.go): --kubeconfig alone if given (a missing explicit file is an
// error); else every file of $KUBECONFIG, split on ':', empty entries ignored, duplicates read
// once, missing files skipped; else ~/.kube/config. Merging is "first file wins" per map key and
// per whole entry: if two files define user "admin", only the first file's admin is used, even for
// fields the first one lacks. current-context comes from the first file that sets it. Relative
// paths (certificate-authority, client-certificate, client-key, tokenFile, and an exec command
// containing '/') are resolved against the directory of the file that names them, which is why
// they are resolved here at parse time, while the origin is still known.
//
// Credentials (rest config + plugin/pkg/client/auth/exec/exec.go): static credentials (token or
// tokenFile, basic auth, client certificate) win; an exec plugin runs only when none is set. The
// plugin gets the parent's environment plus the kubeconfig's env entries and KUBERNETES_EXEC_INFO
// (an ExecCredential with spec.interactive=false: meshctl never prompts, so stdin is /dev/null and
// interactiveMode Always is refused). Its stdout must be an ExecCredential of the same apiVersion.
// Results are cached per context and plugin configuration until expirationTimestamp; the cache is
// shared by the threads that reach clusters in parallel, and one entry's plugin runs at most once
// at a time (the others wait for its result), as client-go's Authenticator mutex does.

#include "config/kubeconfig.hpp"

#include "config/yaml_reader.hpp"
#include "core/base64.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/suggest.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>

extern char** environ;

namespace meshctl::config {

namespace {

namespace fs = std::filesystem;
using detail::Reader;

constexpr std::string_view k_exec_v1 = "client.authentication.k8s.io/v1";
constexpr std::string_view k_exec_v1beta1 = "client.authentication.k8s.io/v1beta1";
// A plugin that hangs (waiting for a browser login, a dead metadata service) must not hang meshctl.
constexpr std::chrono::seconds k_plugin_timeout{120};
constexpr std::size_t k_plugin_output_limit = 4 << 20;

// ---------------------------------------------------------------------------------------------
// base64 as Go's encoding/json decodes []byte fields: standard alphabet, padding required,
// '\r' and '\n' ignored.

std::optional<std::string> base64_decode(std::string_view in, std::string& why) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') {
      return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
      return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
      return c - '0' + 52;
    }
    if (c == '+') {
      return 62;
    }
    if (c == '/') {
      return 63;
    }
    return -1;
  };
  std::string clean;
  clean.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '\r' || c == '\n') {
      continue;
    }
    if (c != '=' && value(c) < 0) {
      why = "illegal character at offset " + std::to_string(i);
      return std::nullopt;
    }
    clean += c;
  }
  if (clean.size() % 4 != 0) {
    why = "length " + std::to_string(clean.size()) + " is not a multiple of 4 (missing padding?)";
    return std::nullopt;
  }
  std::string out;
  out.reserve(clean.size() / 4 * 3);
  for (std::size_t i = 0; i < clean.size(); i += 4) {
    const bool last = i + 4 == clean.size();
    int pad = 0;
    std::array<int, 4> v{};
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = clean[i + j];
      if (c == '=') {
        // '=' only at the very end, at most two, and nothing but '=' after the first one.
        if (!last || j < 2) {
          why = "misplaced padding at offset " + std::to_string(i + j);
          return std::nullopt;
        }
        ++pad;
        v[j] = 0;
      } else {
        if (pad > 0) {
          why = "data after padding at offset " + std::to_string(i + j);
          return std::nullopt;
        }
        v[j] = value(c);
      }
    }
    const unsigned triple = (static_cast<unsigned>(v[0]) << 18) |
                            (static_cast<unsigned>(v[1]) << 12) |
                            (static_cast<unsigned>(v[2]) << 6) | static_cast<unsigned>(v[3]);
    out += static_cast<char>((triple >> 16) & 0xff);
    if (pad < 2) {
      out += static_cast<char>((triple >> 8) & 0xff);
    }
    if (pad < 1) {
      out += static_cast<char>(triple & 0xff);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parsing one file.

std::string absolute_dir_of(const std::string& origin) {
  std::error_code ec;
  fs::path dir = fs::absolute(fs::path(origin).parent_path(), ec);
  if (ec) {
    return fs::path(origin).parent_path().string();
  }
  return dir.lexically_normal().string();
}

std::string resolve_path(const std::string& p, const std::string& base) {
  if (p.empty() || fs::path(p).is_absolute()) {
    return p;
  }
  return (fs::path(base) / p).lexically_normal().string();
}

// Reads `<key>` (a path) and `<key>-data` (base64), resolving and decoding both.
Result<void> read_file_and_data(const Reader& r, const YAML::Node& node, const std::string& key,
                                const std::string& path, const std::string& base,
                                std::string& file_out, std::string& data_out) {
  auto file = r.string(node, key, path + "." + key);
  if (!file) {
    return tl::make_unexpected(file.error());
  }
  file_out = resolve_path(file->value_or(""), base);
  auto data = r.string(node, key + "-data", path + "." + key + "-data");
  if (!data) {
    return tl::make_unexpected(data.error());
  }
  if (*data) {
    std::string why;
    auto decoded = base64_decode(**data, why);
    if (!decoded) {
      return r.error_at(Reader::get(node, key + "-data"),
                        path + "." + key + "-data is not valid base64: " + why,
                        "the *-data fields hold base64 of the PEM file (base64 -w0 < file.pem)");
    }
    data_out = std::move(*decoded);
  }
  return {};
}

Result<KubeCluster> read_cluster(const Reader& r, const YAML::Node& node, const std::string& path,
                                 const std::string& base) {
  KubeCluster c;
  if (auto ok = r.check_map(node, path, {}); !ok) {
    return tl::make_unexpected(ok.error());
  }
  auto server = r.string(node, "server", path + ".server");
  if (!server) {
    return tl::make_unexpected(server.error());
  }
  c.server = server->value_or("");
  if (auto ok = read_file_and_data(r, node, "certificate-authority", path, base,
                                   c.certificate_authority, c.certificate_authority_data);
      !ok) {
    return tl::make_unexpected(ok.error());
  }
  auto insecure = r.boolean(node, "insecure-skip-tls-verify", path + ".insecure-skip-tls-verify");
  if (!insecure) {
    return tl::make_unexpected(insecure.error());
  }
  c.insecure_skip_tls_verify = insecure->value_or(false);
  auto tls = r.string(node, "tls-server-name", path + ".tls-server-name");
  if (!tls) {
    return tl::make_unexpected(tls.error());
  }
  c.tls_server_name = tls->value_or("");
  auto proxy = r.string(node, "proxy-url", path + ".proxy-url");
  if (!proxy) {
    return tl::make_unexpected(proxy.error());
  }
  c.proxy_url = proxy->value_or("");
  return c;
}

Result<ExecConfig> read_exec(const Reader& r, const YAML::Node& node, const std::string& path,
                             const std::string& base) {
  ExecConfig e;
  if (auto ok = r.check_map(node, path, {}); !ok) {
    return tl::make_unexpected(ok.error());
  }
  auto field = [&](const char* key, std::string& out) -> Result<void> {
    auto v = r.string(node, key, path + "." + key);
    if (!v) {
      return tl::make_unexpected(v.error());
    }
    out = v->value_or("");
    return {};
  };
  for (auto [key, out] : std::initializer_list<std::pair<const char*, std::string*>>{
           {"apiVersion", &e.api_version},
           {"command", &e.command},
           {"installHint", &e.install_hint},
           {"interactiveMode", &e.interactive_mode}}) {
    if (auto ok = field(key, *out); !ok) {
      return tl::make_unexpected(ok.error());
    }
  }
  // Only a command with a slash is a path; a bare name is looked up in PATH (clientcmd does same).
  if (e.command.find('/') != std::string::npos) {
    e.command = resolve_path(e.command, base);
  }
  auto args = r.string_list(node, "args", path + ".args");
  if (!args) {
    return tl::make_unexpected(args.error());
  }
  e.args = args->value_or(std::vector<std::string>{});
  auto env = r.list(node, "env", path + ".env");
  if (!env) {
    return tl::make_unexpected(env.error());
  }
  std::size_t i = 0;
  for (const auto& item : *env) {
    const std::string ipath = path + ".env[" + std::to_string(i++) + "]";
    if (!item.IsMap()) {
      return r.error_at(item, ipath + " must be a map with name and value (got " +
                                  detail::describe(item) + ")");
    }
    if (auto ok = r.check_map(item, ipath, {}); !ok) {
      return tl::make_unexpected(ok.error());
    }
    auto name = r.string(item, "name", ipath + ".name");
    if (!name) {
      return tl::make_unexpected(name.error());
    }
    auto value = r.string(item, "value", ipath + ".value");
    if (!value) {
      return tl::make_unexpected(value.error());
    }
    if (!*name || (*name)->empty()) {
      return r.error_at(item, ipath + " has no name");
    }
    e.env.emplace_back(**name, value->value_or(""));
  }
  auto provide = r.boolean(node, "provideClusterInfo", path + ".provideClusterInfo");
  if (!provide) {
    return tl::make_unexpected(provide.error());
  }
  e.provide_cluster_info = provide->value_or(false);
  return e;
}

Result<KubeUser> read_user(const Reader& r, const YAML::Node& node, const std::string& path,
                           const std::string& base) {
  KubeUser u;
  if (auto ok = r.check_map(node, path, {}); !ok) {
    return tl::make_unexpected(ok.error());
  }
  for (auto [key, out] :
       std::initializer_list<std::pair<const char*, std::string*>>{{"token", &u.token},
                                                                   {"tokenFile", &u.token_file},
                                                                   {"username", &u.username},
                                                                   {"password", &u.password}}) {
    auto v = r.string(node, key, path + "." + key);
    if (!v) {
      return tl::make_unexpected(v.error());
    }
    *out = v->value_or("");
  }
  u.token_file = resolve_path(u.token_file, base);
  if (auto ok = read_file_and_data(r, node, "client-certificate", path, base, u.client_certificate,
                                   u.client_certificate_data);
      !ok) {
    return tl::make_unexpected(ok.error());
  }
  if (auto ok =
          read_file_and_data(r, node, "client-key", path, base, u.client_key, u.client_key_data);
      !ok) {
    return tl::make_unexpected(ok.error());
  }
  register_secret(u.token);
  register_secret(u.password);
  register_secret(u.client_key_data);

  const YAML::Node exec = Reader::get(node, "exec");
  if (exec.IsDefined() && !exec.IsNull()) {
    auto e = read_exec(r, exec, path + ".exec", base);
    if (!e) {
      return tl::make_unexpected(e.error());
    }
    u.exec = std::move(*e);
  }
  const YAML::Node provider = Reader::get(node, "auth-provider");
  if (provider.IsDefined() && !provider.IsNull()) {
    if (auto ok = r.check_map(provider, path + ".auth-provider", {}); !ok) {
      return tl::make_unexpected(ok.error());
    }
    auto name = r.string(provider, "name", path + ".auth-provider.name");
    if (!name) {
      return tl::make_unexpected(name.error());
    }
    u.auth_provider = name->value_or("unnamed");
  }
  return u;
}

Result<KubeContext> read_context(const Reader& r, const YAML::Node& node, const std::string& path) {
  KubeContext c;
  if (auto ok = r.check_map(node, path, {}); !ok) {
    return tl::make_unexpected(ok.error());
  }
  for (auto [key, out] : std::initializer_list<std::pair<const char*, std::string*>>{
           {"cluster", &c.cluster}, {"user", &c.user}, {"namespace", &c.namespace_}}) {
    auto v = r.string(node, key, path + "." + key);
    if (!v) {
      return tl::make_unexpected(v.error());
    }
    *out = v->value_or("");
  }
  return c;
}

// Reads one of the named lists (clusters, users, contexts): [{name, <inner>: {...}}].
template <class T, class ReadFn>
Result<void> read_named_list(const Reader& r, const YAML::Node& root, const char* list_key,
                             const char* inner_key, std::map<std::string, T>& out, ReadFn read) {
  auto list = r.list(root, list_key, list_key);
  if (!list) {
    return tl::make_unexpected(list.error());
  }
  std::map<std::string, YAML::Node> first_seen;
  std::size_t i = 0;
  for (const auto& item : *list) {
    std::string path = std::string(list_key) + "[" + std::to_string(i++) + "]";
    if (!item.IsMap()) {
      return r.error_at(item, path + " must be a map with name and " + inner_key + " (got " +
                                  detail::describe(item) + ")");
    }
    if (auto ok = r.check_map(item, path, {}); !ok) {
      return ok;
    }
    auto name = r.string(item, "name", path + ".name");
    if (!name) {
      return tl::make_unexpected(name.error());
    }
    if (!*name || (*name)->empty()) {
      return r.error_at(item, path + " has no name");
    }
    if (auto [it, fresh] = first_seen.emplace(**name, Reader::get(item, "name")); !fresh) {
      return r.error_at(Reader::get(item, "name"),
                        std::string("duplicate name \"") + **name + "\" in " + list_key +
                            " (first at " + r.where(it->second) + ")",
                        "kubectl refuses this file too; rename or remove one entry");
    }
    path = std::string(list_key) + "[" + **name + "]";
    auto value = read(r, Reader::get(item, inner_key), path + "." + inner_key);
    if (!value) {
      return tl::make_unexpected(value.error());
    }
    out.emplace(**name, std::move(*value));
  }
  return {};
}

Result<Kubeconfig> parse_checked(const std::string& text, const std::string& origin) {
  auto doc = detail::parse_yaml(text, origin);
  if (!doc) {
    return tl::make_unexpected(doc.error().with_hint("the kubeconfig is YAML (or JSON)"));
  }
  const Reader r(origin);
  Kubeconfig kc;
  kc.files.push_back(origin);
  const YAML::Node& root = *doc;
  if (!root.IsDefined() || root.IsNull()) {
    return kc; // an empty file is an empty config, as client-go has it
  }
  if (!root.IsMap()) {
    return r.error_at(root, "a kubeconfig must be a map with clusters, users and contexts (got " +
                                detail::describe(root) + ")");
  }
  if (auto ok = r.check_map(root, "the kubeconfig", {}); !ok) {
    return tl::make_unexpected(ok.error());
  }
  const std::string base = absolute_dir_of(origin);
  if (auto ok = read_named_list(r, root, "clusters", "cluster", kc.clusters,
                                [&](const Reader& rr, const YAML::Node& n, const std::string& p) {
                                  return read_cluster(rr, n, p, base);
                                });
      !ok) {
    return tl::make_unexpected(ok.error());
  }
  if (auto ok = read_named_list(r, root, "users", "user", kc.users,
                                [&](const Reader& rr, const YAML::Node& n, const std::string& p) {
                                  return read_user(rr, n, p, base);
                                });
      !ok) {
    return tl::make_unexpected(ok.error());
  }
  if (auto ok = read_named_list(r, root, "contexts", "context", kc.contexts, &read_context); !ok) {
    return tl::make_unexpected(ok.error());
  }
  auto current = r.string(root, "current-context", "current-context");
  if (!current) {
    return tl::make_unexpected(current.error());
  }
  kc.current_context = current->value_or("");
  return kc;
}

Result<std::string> read_whole_file(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return usage_error(path + " is a directory, not a file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return usage_error("cannot read " + path + ": " + std::strerror(errno),
                       "check the file's permissions");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& i : items) {
    out += (out.empty() ? "" : sep) + i;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Running exec plugins.

struct PluginRun {
  int spawn_error = 0; ///< errno of a failed spawn (ENOENT: command missing)
  bool timed_out = false;
  int exit_status = -1; ///< exit code, or -1 when killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
};

// Looks a bare command up in PATH as Go's exec.LookPath does; a command with '/' is used as is.
std::optional<std::string> look_path(const std::string& command) {
  if (command.find('/') != std::string::npos) {
    return command;
  }
  const char* path_env = std::getenv("PATH");
  std::string path = path_env != nullptr ? path_env : "";
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find(':', start);
    if (end == std::string::npos) {
      end = path.size();
    }
    std::string dir = path.substr(start, end - start);
    if (dir.empty()) {
      dir = ".";
    }
    const std::string candidate = fmt::format("{}/{}", dir, command);
    std::error_code ec;
    if (access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate, ec)) {
      return candidate;
    }
    start = end + 1;
  }
  return std::nullopt;
}

// posix_spawn, not fork: meshctl reaches clusters from several threads, and posix_spawn is the
// thread-safe way to fork/exec. No shell is involved; the pipes are O_CLOEXEC so a plugin started
// by one thread never inherits another plugin's pipe (which would delay that one's EOF).
PluginRun run_plugin(const std::string& path, const std::vector<std::string>& args,
                     const std::vector<std::string>& env) {
  PluginRun r;
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    r.spawn_error = errno;
    return r;
  }
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    r.spawn_error = errno;
    close(out_pipe[0]);
    close(out_pipe[1]);
    return r;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Own process group, so a timeout can kill the plugin and whatever it started.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);

  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const auto& a : args) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (const auto& e : env) {
    envp.push_back(const_cast<char*>(e.c_str()));
  }
  envp.push_back(nullptr);

  pid_t pid = 0;
  const int rc = posix_spawn(&pid, path.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    r.spawn_error = rc;
    return r;
  }

  const auto deadline = std::chrono::steady_clock::now() + k_plugin_timeout;
  std::array<pollfd, 2> fds{{{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}}};
  int open_fds = 2;
  std::array<char, 16384> buf{};
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      kill(-pid, SIGKILL);
      break;
    }
    const int n = poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        const ssize_t got = read(fds[i].fd, buf.data(), buf.size());
        if (got < 0 && errno == EINTR) {
          continue;
        }
        if (got <= 0) {
          close(fds[i].fd);
          fds[i].fd = -1;
          --open_fds;
          continue;
        }
        std::string& sink = i == 0 ? r.out : r.err;
        if (sink.size() < k_plugin_output_limit) {
          sink.append(buf.data(), static_cast<std::size_t>(got));
        }
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) {
      close(f.fd);
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    r.exit_status = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
  }
  return r;
}

// The plugin's stderr, redacted and folded onto one line for an error message.
std::string one_line(const std::string& text) {
  std::string s = redact(text);
  std::string out;
  bool space = false;
  for (const char c : s) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) {
      out += ' ';
      space = false;
    }
    out += c;
  }
  constexpr std::size_t k_max = 600;
  if (out.size() > k_max) {
    out = out.substr(0, k_max) + "...";
  }
  return out;
}

std::vector<std::string> plugin_environment(const ExecConfig& exec, const std::string& exec_info) {
  std::vector<std::string> env;
  std::set<std::string> overridden;
  for (const auto& [k, v] : exec.env) {
    overridden.insert(k);
  }
  overridden.insert("KUBERNETES_EXEC_INFO");
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry(*e);
    const std::string key = entry.substr(0, entry.find('='));
    if (overridden.count(key) == 0) {
      env.push_back(entry);
    }
  }
  for (const auto& [k, v] : exec.env) {
    env.push_back(fmt::format("{}={}", k, v));
  }
  env.push_back("KUBERNETES_EXEC_INFO=" + exec_info);
  return env;
}

// A string member of an ExecCredential: absent or null reads as empty (Go's JSON decoding does the
// same); any other type throws nlohmann's type_error, reported as a malformed ExecCredential.
std::string string_field(const nlohmann::json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return {};
  }
  return it->get<std::string>();
}

Result<Credentials> run_exec_plugin(const ResolvedContext& ctx, const ExecConfig& exec) {
  const std::string who = "exec plugin \"" + exec.command + "\"";
  if (exec.api_version != k_exec_v1 && exec.api_version != k_exec_v1beta1) {
    return usage_error(
        who + ": unsupported apiVersion \"" + exec.api_version + "\"",
        "use client.authentication.k8s.io/v1 or v1beta1 (v1alpha1 was removed in Kubernetes "
        "1.24); regenerate the kubeconfig with the cloud's CLI");
  }
  if (exec.command.empty()) {
    return usage_error("exec plugin of user in context \"" + ctx.name + "\" has no command",
                       "set users[].user.exec.command in the kubeconfig");
  }
  if (exec.api_version == k_exec_v1 && exec.interactive_mode.empty()) {
    return usage_error(who + ": interactiveMode must be specified for " + std::string(k_exec_v1),
                       "add interactiveMode: Never (or IfAvailable) under users[].user.exec, as "
                       "kubectl requires");
  }
  if (exec.interactive_mode == "Always") {
    return usage_error(who + " requires an interactive terminal (interactiveMode: Always), but "
                             "meshctl never prompts",
                       "log in with the plugin once by hand, or set interactiveMode: IfAvailable");
  }
  if (!exec.interactive_mode.empty() && exec.interactive_mode != "Never" &&
      exec.interactive_mode != "IfAvailable") {
    return usage_error(who + ": unknown interactiveMode \"" + exec.interactive_mode + "\"",
                       "use Never, IfAvailable or Always");
  }

  const std::string generic_hint =
      "install the credential plugin named in the kubeconfig (users[].user.exec.command) or fix "
      "its path; kubectl needs it too. See "
      "https://kubernetes.io/docs/reference/access-authn-authz/authentication/"
      "#client-go-credential-plugins";
  const auto path = look_path(exec.command);
  if (!path) {
    return usage_error(who + " not found in PATH",
                       exec.install_hint.empty() ? generic_hint : exec.install_hint);
  }
  const PluginRun run = run_plugin(*path, exec.args, plugin_environment(exec, exec_info_json(ctx)));
  if (run.spawn_error == ENOENT) {
    return usage_error(who + " not found (" + *path + ")",
                       exec.install_hint.empty() ? generic_hint : exec.install_hint);
  }
  if (run.spawn_error != 0) {
    return fail(who + " could not be started: " + std::strerror(run.spawn_error),
                "check that " + *path + " is an executable file");
  }
  const std::string err = one_line(run.err);
  if (run.timed_out) {
    return fail(who + " did not finish within " + std::to_string(k_plugin_timeout.count()) + "s" +
                    (err.empty() ? "" : ": " + err),
                "run the command by hand; meshctl gives plugins no terminal, so one that waits "
                "for input never finishes");
  }
  if (run.exit_status != 0) {
    const std::string how = run.signal != 0
                                ? "was killed by signal " + std::to_string(run.signal)
                                : "exited with status " + std::to_string(run.exit_status);
    return fail(who + " " + how + (err.empty() ? "" : ": " + err),
                "run the command by hand to see what it needs (often a fresh login with the "
                "cloud's CLI)");
  }
  if (!run.err.empty()) {
    log::debug("{} (context {}) wrote on stderr: {}", who, ctx.name, err);
  }

  nlohmann::json out;
  try {
    out = nlohmann::json::parse(run.out);
  } catch (const nlohmann::json::exception& e) {
    return fail(who + " printed no valid ExecCredential JSON on stdout: " + e.what(),
                "run the command by hand and check its output");
  }
  try {
    if (!out.is_object()) {
      return fail(who + " printed JSON that is not an ExecCredential object");
    }
    const std::string api = string_field(out, "apiVersion");
    if (api != exec.api_version) {
      return fail(who + " is configured to use API version " + exec.api_version +
                      ", plugin returned version " + (api.empty() ? "(none)" : api),
                  "set users[].user.exec.apiVersion to what the plugin speaks");
    }
    if (string_field(out, "kind") != "ExecCredential") {
      return fail(who + " returned kind \"" + string_field(out, "kind") + "\", not ExecCredential");
    }
    if (!out.contains("status") || !out["status"].is_object()) {
      return fail(who + " didn't return a status field");
    }
    const auto& status = out["status"];
    Credentials creds;
    creds.bearer_token = string_field(status, "token");
    creds.client_certificate_pem = string_field(status, "clientCertificateData");
    creds.client_key_pem = string_field(status, "clientKeyData");
    register_secret(creds.bearer_token);
    register_secret(creds.client_key_pem);
    if (creds.bearer_token.empty() && creds.client_certificate_pem.empty() &&
        creds.client_key_pem.empty()) {
      return fail(who + " didn't return a token or cert/key pair");
    }
    if (creds.client_certificate_pem.empty() != creds.client_key_pem.empty()) {
      return fail(who + " returned only certificate or key, not both");
    }
    const std::string expiry = string_field(status, "expirationTimestamp");
    if (!expiry.empty()) {
      creds.expiry = parse_rfc3339(expiry);
      if (!creds.expiry) {
        return fail(who + " returned an invalid expirationTimestamp \"" + expiry + "\"",
                    "expected RFC 3339, e.g. 2024-05-01T10:00:00Z");
      }
    }
    return creds;
  } catch (const nlohmann::json::exception& e) {
    return fail(who + " returned a malformed ExecCredential: " + std::string(e.what()));
  }
}

// One cache entry per (context, plugin configuration): its mutex also serialises plugin runs, so
// parallel callers for the same context wait for one run instead of starting several.
struct CacheEntry {
  std::string context;
  std::mutex mutex;
  std::optional<Credentials> creds;
};

std::mutex g_cache_mutex;
std::map<std::string, std::shared_ptr<CacheEntry>>& cache() {
  static std::map<std::string, std::shared_ptr<CacheEntry>> m;
  return m;
}

std::string cache_key(const ResolvedContext& ctx, const ExecConfig& e) {
  std::string key = ctx.name + '\0' + e.api_version + '\0' + e.command + '\0';
  for (const auto& a : e.args) {
    key += a + '\x01';
  }
  key += '\0';
  for (const auto& [k, v] : e.env) {
    key.append(k).append(1, '=').append(v).append(1, '\x01');
  }
  key += '\0' + e.interactive_mode + '\0';
  if (e.provide_cluster_info) {
    key += ctx.cluster.server + '\0' + ctx.cluster.tls_server_name + '\0' +
           ctx.cluster.certificate_authority + '\0' + ctx.cluster.certificate_authority_data +
           '\0' + ctx.cluster.proxy_url + (ctx.cluster.insecure_skip_tls_verify ? "1" : "0");
  }
  return key;
}

Result<Credentials> cached_exec_credentials(const ResolvedContext& ctx, const ExecConfig& exec) {
  std::shared_ptr<CacheEntry> entry;
  {
    std::lock_guard lock(g_cache_mutex);
    auto& slot = cache()[cache_key(ctx, exec)];
    if (!slot) {
      slot = std::make_shared<CacheEntry>();
      slot->context = ctx.name;
    }
    entry = slot;
  }
  std::lock_guard lock(entry->mutex);
  if (entry->creds &&
      (!entry->creds->expiry || std::chrono::system_clock::now() < *entry->creds->expiry)) {
    return *entry->creds;
  }
  auto fresh = run_exec_plugin(ctx, exec);
  if (!fresh) {
    entry->creds.reset();
    return fresh;
  }
  entry->creds = *fresh;
  return fresh;
}

Result<std::string> read_secret_file(const std::string& path, const std::string& what) {
  auto text = read_whole_file(path);
  if (!text) {
    return tl::make_unexpected(text.error().with_context("reading " + what));
  }
  return std::move(*text);
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) {
    return {};
  }
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

} // namespace

// -----------------------------------------------------------------------------------------------

std::vector<std::string> Kubeconfig::context_names() const {
  std::vector<std::string> out;
  out.reserve(contexts.size());
  for (const auto& [name, ctx] : contexts) {
    out.push_back(name);
  }
  return out;
}

namespace {

std::string files_hint(const Kubeconfig& kc) {
  std::string hint;
  if (kc.files.empty()) {
    hint = "no kubeconfig file was read (none given with --kubeconfig, none in $KUBECONFIG, no "
           "~/.kube/config)";
  } else {
    hint = "kubeconfig files read: " + join(kc.files, ", ");
  }
  if (!kc.missing_files.empty()) {
    hint += "; missing: " + join(kc.missing_files, ", ");
  }
  return hint + "; list contexts with 'kubectl config get-contexts'";
}

} // namespace

Result<ResolvedContext> Kubeconfig::resolve(const std::string& context) const {
  const std::string name = context.empty() ? current_context : context;
  if (name.empty()) {
    return usage_error("no context given and the kubeconfig has no current-context",
                       "name a context (e.g. --context wuxi); " + files_hint(*this));
  }
  const auto ctx = contexts.find(name);
  if (ctx == contexts.end()) {
    return usage_error("context \"" + name + "\" not found in kubeconfig" +
                           did_you_mean_suffix(name, context_names()),
                       files_hint(*this));
  }
  ResolvedContext out;
  out.name = name;
  out.namespace_ = ctx->second.namespace_.empty() ? "default" : ctx->second.namespace_;
  if (ctx->second.cluster.empty()) {
    return usage_error("context \"" + name + "\" names no cluster",
                       "set contexts[" + name + "].context.cluster in the kubeconfig; " +
                           files_hint(*this));
  }
  const auto cluster = clusters.find(ctx->second.cluster);
  if (cluster == clusters.end()) {
    std::vector<std::string> names;
    for (const auto& [n, c] : clusters) {
      names.push_back(n);
    }
    return usage_error("context \"" + name + "\" refers to cluster \"" + ctx->second.cluster +
                           "\", which is not in the kubeconfig" +
                           did_you_mean_suffix(ctx->second.cluster, names),
                       files_hint(*this));
  }
  if (cluster->second.server.empty()) {
    return usage_error(
        "cluster \"" + ctx->second.cluster + "\" of context \"" + name + "\" has no server",
        "set clusters[" + ctx->second.cluster + "].cluster.server; " + files_hint(*this));
  }
  out.cluster = cluster->second;
  if (!ctx->second.user.empty()) {
    const auto user = users.find(ctx->second.user);
    if (user == users.end()) {
      std::vector<std::string> names;
      for (const auto& [n, u] : users) {
        names.push_back(n);
      }
      return usage_error("context \"" + name + "\" refers to user \"" + ctx->second.user +
                             "\", which is not in the kubeconfig" +
                             did_you_mean_suffix(ctx->second.user, names),
                         files_hint(*this));
    }
    out.user = user->second;
  }
  return out;
}

Result<Kubeconfig> parse_kubeconfig(const std::string& text, const std::string& origin) {
  try {
    return parse_checked(text, origin);
  } catch (const std::exception& e) {
    return usage_error(origin + ": cannot read the kubeconfig: " + std::string(e.what()));
  }
}

Result<Kubeconfig> load_kubeconfig(const std::optional<std::string>& explicit_path) {
  std::vector<std::string> candidates;
  bool explicit_file = false;
  if (explicit_path && !explicit_path->empty()) {
    explicit_file = true;
    candidates.push_back(*explicit_path);
  } else if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    std::set<std::string> seen;
    std::string list = env;
    std::size_t start = 0;
    while (start <= list.size()) {
      std::size_t end = list.find(':', start);
      if (end == std::string::npos) {
        end = list.size();
      }
      std::string item = list.substr(start, end - start);
      if (!item.empty() && seen.insert(item).second) {
        candidates.push_back(item);
      }
      start = end + 1;
    }
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    candidates.push_back((fs::path(home) / ".kube" / "config").string());
  }

  Kubeconfig merged;
  for (const auto& path : candidates) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      if (explicit_file) {
        return usage_error("kubeconfig " + path + " (from --kubeconfig) does not exist",
                           "check the path given to --kubeconfig");
      }
      merged.missing_files.push_back(path);
      continue;
    }
    auto text = read_whole_file(path);
    if (!text) {
      return tl::make_unexpected(text.error().with_context("kubeconfig"));
    }
    auto one = parse_kubeconfig(*text, path);
    if (!one) {
      return tl::make_unexpected(one.error());
    }
    merged.files.push_back(path);
    // First file wins, for every key and for the whole entry.
    merged.clusters.insert(one->clusters.begin(), one->clusters.end());
    merged.users.insert(one->users.begin(), one->users.end());
    merged.contexts.insert(one->contexts.begin(), one->contexts.end());
    if (merged.current_context.empty()) {
      merged.current_context = one->current_context;
    }
  }
  if (merged.files.empty() && !merged.missing_files.empty()) {
    log::info("none of the kubeconfig files exist: {}", join(merged.missing_files, ", "));
  }
  return merged;
}

std::string exec_info_json(const ResolvedContext& ctx) {
  const ExecConfig empty;
  const ExecConfig& exec = ctx.user.exec ? *ctx.user.exec : empty;
  nlohmann::ordered_json j;
  j["apiVersion"] = exec.api_version.empty() ? std::string(k_exec_v1) : exec.api_version;
  j["kind"] = "ExecCredential";
  nlohmann::ordered_json spec;
  if (exec.provide_cluster_info) {
    nlohmann::ordered_json cluster;
    cluster["server"] = ctx.cluster.server;
    if (!ctx.cluster.tls_server_name.empty()) {
      cluster["tls-server-name"] = ctx.cluster.tls_server_name;
    }
    if (ctx.cluster.insecure_skip_tls_verify) {
      cluster["insecure-skip-tls-verify"] = true;
    }
    std::string ca = ctx.cluster.certificate_authority_data;
    if (ca.empty() && !ctx.cluster.certificate_authority.empty()) {
      // client-go's ConfigToExecCluster reads the CA file too; an unreadable one is reported
      // when the connection is made, so it is simply left out here.
      if (auto text = read_whole_file(ctx.cluster.certificate_authority)) {
        ca = *text;
      }
    }
    if (!ca.empty()) {
      cluster["certificate-authority-data"] = base64_encode(ca);
    }
    if (!ctx.cluster.proxy_url.empty()) {
      cluster["proxy-url"] = ctx.cluster.proxy_url;
    }
    spec["cluster"] = std::move(cluster);
  }
  spec["interactive"] = false;
  j["spec"] = std::move(spec);
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
  auto digits = [&](std::size_t pos, std::size_t n) -> std::optional<int> {
    if (pos + n > text.size()) {
      return std::nullopt;
    }
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') {
        return std::nullopt;
      }
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  auto at = [&](std::size_t pos, char c) { return pos < text.size() && text[pos] == c; };
  const auto year = digits(0, 4);
  const auto month = digits(5, 2);
  const auto day = digits(8, 2);
  const auto hour = digits(11, 2);
  const auto minute = digits(14, 2);
  const auto second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || !at(4, '-') || !at(7, '-') ||
      !(at(10, 'T') || at(10, 't')) || !at(13, ':') || !at(16, ':')) {
    return std::nullopt;
  }
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 ||
      *second > 60) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  std::chrono::nanoseconds frac{0};
  if (at(pos, '.')) {
    ++pos;
    long long scale = 100000000;
    const std::size_t first = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      frac += std::chrono::nanoseconds((text[pos] - '0') * scale);
      scale /= 10;
      ++pos;
    }
    if (pos == first) {
      return std::nullopt;
    }
  }
  int offset_seconds = 0;
  if (at(pos, 'Z') || at(pos, 'z')) {
    ++pos;
  } else if (at(pos, '+') || at(pos, '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    const auto oh = digits(pos + 1, 2);
    const auto om = digits(pos + 4, 2);
    if (!oh || !om || !at(pos + 3, ':') || *oh > 23 || *om > 59) {
      return std::nullopt;
    }
    offset_seconds = sign * (*oh * 3600 + *om * 60);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  const std::time_t t = timegm(&tm);
  return std::chrono::system_clock::from_time_t(t - offset_seconds) +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(frac);
}

Result<Credentials> get_credentials(const ResolvedContext& ctx) {
  const KubeUser& u = ctx.user;
  const std::string where = "credentials for context \"" + ctx.name + "\"";
  Credentials c;

  if (!u.token_file.empty()) {
    // Re-read every time: projected and rotated tokens change under a running process.
    auto text = read_secret_file(u.token_file, "tokenFile");
    if (text) {
      c.bearer_token = trim(*text);
    } else if (!u.token.empty()) {
      log::warn("{}: {}; using the kubeconfig's token instead", where, text.error().what());
      c.bearer_token = u.token;
    } else {
      return tl::make_unexpected(text.error().with_context(where));
    }
  } else {
    c.bearer_token = u.token;
  }
  register_secret(c.bearer_token);

  if (!u.username.empty() || !u.password.empty()) {
    c.username = u.username;
    c.password = u.password;
  }

  std::string cert = u.client_certificate_data;
  if (cert.empty() && !u.client_certificate.empty()) {
    auto text = read_secret_file(u.client_certificate, "client-certificate");
    if (!text) {
      return tl::make_unexpected(text.error().with_context(where));
    }
    cert = std::move(*text);
  }
  std::string key = u.client_key_data;
  if (key.empty() && !u.client_key.empty()) {
    auto text = read_secret_file(u.client_key, "client-key");
    if (!text) {
      return tl::make_unexpected(text.error().with_context(where));
    }
    key = std::move(*text);
  }
  register_secret(key);
  if (cert.empty() != key.empty()) {
    return usage_error(where + ": the user has a client " +
                           (cert.empty() ? std::string("key but no certificate")
                                         : std::string("certificate but no key")),
                       "set both client-certificate(-data) and client-key(-data) in the "
                       "kubeconfig user");
  }
  c.client_certificate_pem = std::move(cert);
  c.client_key_pem = std::move(key);

  const bool has_static = !c.bearer_token.empty() || !c.password.empty() || !c.username.empty() ||
                          !c.client_certificate_pem.empty();
  if (has_static) {
    return c; // as client-go: static credentials make the exec plugin unused
  }
  if (u.exec) {
    auto creds = cached_exec_credentials(ctx, *u.exec);
    if (!creds) {
      return tl::make_unexpected(creds.error().with_context(where));
    }
    return creds;
  }
  if (!u.auth_provider.empty()) {
    return usage_error(where + ": auth-provider \"" + u.auth_provider +
                           "\" is not supported (kubectl removed it too)",
                       "switch the kubeconfig user to an exec credential plugin (e.g. "
                       "gke-gcloud-auth-plugin or kubelogin)");
  }
  return c; // anonymous
}

void invalidate_credentials(const std::string& context_name) {
  std::vector<std::shared_ptr<CacheEntry>> entries;
  {
    std::lock_guard lock(g_cache_mutex);
    for (auto it = cache().begin(); it != cache().end();) {
      if (it->second->context == context_name) {
        entries.push_back(it->second);
        it = cache().erase(it);
      } else {
        ++it;
      }
    }
  }
  // A caller still holding an entry must not reuse its credentials either.
  for (const auto& e : entries) {
    std::lock_guard lock(e->mutex);
    e->creds.reset();
  }
}

} // namespace meshctl::config

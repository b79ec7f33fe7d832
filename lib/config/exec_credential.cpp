// Exec credential plugins, following client-go's plugin/pkg/client/auth/exec/exec.go.
//
// The plugin gets the parent's environment plus the kubeconfig's env entries and
// KUBERNETES_EXEC_INFO (an ExecCredential with spec.interactive=false: meshctl never prompts, so
// stdin is /dev/null and interactiveMode Always is refused). Its stdout must be an ExecCredential
// of the same apiVersion. Results are cached per context and plugin configuration until
// expirationTimestamp; the cache is shared by the threads that reach clusters in parallel, and one
// entry's plugin runs at most once at a time (the others wait for its result), as client-go's
// Authenticator mutex does.

#include "config/exec_credential.hpp"

#include "config/exec_plugin.hpp"
#include "config/files.hpp"
#include "core/base64.hpp"
#include "core/duration.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/shown.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <set>

extern char** environ;

namespace meshctl::config {

namespace {

using detail::look_path;
using detail::PluginRun;
using detail::run_plugin;

constexpr std::string_view k_exec_v1 = "client.authentication.k8s.io/v1";
constexpr std::string_view k_exec_v1beta1 = "client.authentication.k8s.io/v1beta1";
constexpr std::size_t k_plugin_output_limit = 4 << 20;

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
  return shown(out, k_max);
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
    env.push_back(k + "=" + v);
  }
  env.push_back("KUBERNETES_EXEC_INFO=" + exec_info);
  return env;
}

// A string member of an ExecCredential: absent or null reads as empty (Go's JSON decoding does the
// same); any other type throws nlohmann's type_error, reported as a malformed ExecCredential.
std::string string_field(const nlohmann::json& obj, const char* key) {
  const nlohmann::json& v = member(obj, key);
  return v.is_null() ? std::string() : v.get<std::string>();
}

// What to do about a plugin whose output is not the ExecCredential meshctl asked for.
constexpr const char* k_output_hint =
    "run the command by hand and check its stdout: one ExecCredential object with "
    "status.token or status.clientCertificateData and status.clientKeyData";

Result<Credentials> run_exec_plugin(const ResolvedContext& ctx, const ExecConfig& exec,
                                    std::chrono::milliseconds timeout) {
  const std::string who = "exec plugin " + shown_quoted(exec.command);
  if (exec.api_version != k_exec_v1 && exec.api_version != k_exec_v1beta1) {
    return usage_error(
        who + ": unsupported apiVersion " + shown_quoted(exec.api_version),
        "use client.authentication.k8s.io/v1 or v1beta1 (v1alpha1 was removed in Kubernetes "
        "1.24); regenerate the kubeconfig with the cloud's CLI");
  }
  if (exec.command.empty()) {
    return usage_error("exec plugin of user in context " + shown_quoted(ctx.name) +
                           " has no command",
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
    return usage_error(who + ": unknown interactiveMode " + shown_quoted(exec.interactive_mode),
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
  const PluginRun run = run_plugin(*path, exec.args, plugin_environment(exec, exec_info_json(ctx)),
                                   timeout, k_plugin_output_limit);
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
    return fail(who + " did not finish within " + format_duration(timeout) + " (--timeout)" +
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

  auto creds = detail::parse_exec_credential(run.out, exec.api_version, who);
  if (creds) {
    register_secret(creds->bearer_token);
    register_secret(creds->client_key_pem);
  }
  return creds;
}

// One cache entry per (context, plugin configuration): its mutex also serialises plugin runs, so
// parallel callers for the same context wait for one run instead of starting several. A run that
// failed (a plugin that hung until --timeout, exited non-zero, printed garbage) is not repeated
// for every request of the process — each would wait the whole bound again: its error stands until
// the entry is invalidated.
struct CacheEntry {
  std::string context;
  std::mutex mutex;
  std::optional<Credentials> creds;
  std::optional<Error> failure;
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

} // namespace

namespace detail {

Result<Credentials> exec_credentials(const ResolvedContext& ctx, const ExecConfig& exec,
                                     std::chrono::milliseconds timeout) {
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
  if (entry->failure) {
    return tl::make_unexpected(*entry->failure);
  }
  auto fresh = run_exec_plugin(ctx, exec, timeout);
  if (!fresh) {
    entry->creds.reset();
    entry->failure = fresh.error();
    return fresh;
  }
  entry->creds = *fresh;
  return fresh;
}

Result<Credentials> parse_exec_credential(std::string_view stdout_text,
                                          const std::string& api_version, const std::string& who) {
  nlohmann::json out;
  try {
    out = nlohmann::json::parse(stdout_text);
  } catch (const nlohmann::json::exception& e) {
    return fail(who + " printed no valid ExecCredential JSON on stdout: " + shown(e.what(), 300),
                "run the command by hand and check its output");
  }
  try {
    if (!out.is_object()) {
      return fail(who + " printed JSON that is not an ExecCredential object", k_output_hint);
    }
    const std::string api = string_field(out, "apiVersion");
    if (api != api_version) {
      return fail(who + " is configured to use API version " + shown(api_version) +
                      ", plugin returned version " + (api.empty() ? "(none)" : shown(api)),
                  "set users[].user.exec.apiVersion to what the plugin speaks");
    }
    if (string_field(out, "kind") != "ExecCredential") {
      return fail(who + " returned kind " + shown_quoted(string_field(out, "kind")) +
                      ", not ExecCredential",
                  "the command is not a client-go credential plugin, or prints something else "
                  "first; run it by hand: its stdout must be one ExecCredential object");
    }
    const nlohmann::json& status = member(out, "status");
    if (!status.is_object()) {
      return fail(who + " didn't return a status field", k_output_hint);
    }
    Credentials creds;
    creds.bearer_token = string_field(status, "token");
    creds.client_certificate_pem = string_field(status, "clientCertificateData");
    creds.client_key_pem = string_field(status, "clientKeyData");
    if (creds.bearer_token.empty() && creds.client_certificate_pem.empty() &&
        creds.client_key_pem.empty()) {
      return fail(who + " didn't return a token or cert/key pair", k_output_hint);
    }
    if (creds.client_certificate_pem.empty() != creds.client_key_pem.empty()) {
      return fail(who + " returned only certificate or key, not both", k_output_hint);
    }
    const std::string expiry = string_field(status, "expirationTimestamp");
    if (!expiry.empty()) {
      creds.expiry = parse_rfc3339(expiry);
      if (!creds.expiry) {
        return fail(who + " returned an invalid expirationTimestamp " + shown_quoted(expiry),
                    "expected RFC 3339, e.g. 2024-05-01T10:00:00Z");
      }
    }
    return creds;
  } catch (const nlohmann::json::exception& e) {
    return fail(who + " returned a malformed ExecCredential: " + shown(e.what(), 300),
                k_output_hint);
  }
}

} // namespace detail

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
      if (auto text = detail::read_file(ctx.cluster.certificate_authority)) {
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
  const std::time_t t = timegm(&tm) - offset_seconds;
  // system_clock counts nanoseconds in 64 bits, about the years 1678 to 2261; from_time_t of a
  // time outside overflows. Such a time keeps its place in order: an earlier one is the earliest
  // time there is (long expired), a later one the latest (never expires).
  using clock = std::chrono::system_clock;
  const auto limit = std::chrono::duration_cast<std::chrono::seconds>(clock::duration::max());
  if (t <= -limit.count() + 1) {
    return clock::time_point::min();
  }
  if (t >= limit.count() - 1) {
    return clock::time_point::max();
  }
  return clock::from_time_t(t) + std::chrono::duration_cast<clock::duration>(frac);
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

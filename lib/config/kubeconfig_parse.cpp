// Parsing one kubeconfig file (client-go's clientcmd/api/v1 types as clientcmd decodes them).
//
// Relative paths (certificate-authority, client-certificate, client-key, tokenFile, and an exec
// command containing '/') are resolved against the directory of the file that names them, which is
// why they are resolved here at parse time, while the origin is still known. *-data fields are
// base64 as Go's encoding/json decodes []byte: padding required, line breaks ignored.

#include "config/files.hpp"
#include "config/kubeconfig.hpp"
#include "config/yaml_reader.hpp"
#include "core/base64.hpp"
#include "core/redact.hpp"
#include "core/shown.hpp"
#include "core/try.hpp"

#include <initializer_list>

namespace meshctl::config {

namespace {

using detail::Reader;
using detail::resolve_path;

// A string field; absent or null reads as "".
Result<std::string> string_or_empty(const Reader& r, const YAML::Node& node, const char* key,
                                    const std::string& path) {
  TRY_ASSIGN(auto v, r.string(node, key, path + "." + key));
  return v.value_or("");
}

// Reads `<key>` (a path) and `<key>-data` (base64), resolving and decoding both.
Result<void> read_file_and_data(const Reader& r, const YAML::Node& node, const std::string& key,
                                const std::string& path, const std::string& base,
                                std::string& file_out, std::string& data_out) {
  TRY_ASSIGN(auto file, r.string(node, key, path + "." + key));
  file_out = resolve_path(file.value_or(""), base);
  const std::string data_key = key + "-data";
  TRY_ASSIGN(auto data, r.string(node, data_key, path + "." + data_key));
  if (data) {
    auto decoded = base64_decode_lines(*data, Base64Breaks::k_skip);
    if (!decoded) {
      return r.error_at(Reader::get(node, data_key),
                        path + "." + data_key + " is not valid base64: " + decoded.error(),
                        "the *-data fields hold base64 of the PEM file (base64 -w0 < file.pem)");
    }
    data_out = std::move(*decoded);
  }
  return {};
}

Result<KubeCluster> read_cluster(const Reader& r, const YAML::Node& node, const std::string& path,
                                 const std::string& base) {
  KubeCluster c;
  TRY(r.check_map(node, path, {}));
  TRY_ASSIGN(c.server, string_or_empty(r, node, "server", path));
  TRY(read_file_and_data(r, node, "certificate-authority", path, base, c.certificate_authority,
                         c.certificate_authority_data));
  TRY_ASSIGN(auto insecure,
             r.boolean(node, "insecure-skip-tls-verify", path + ".insecure-skip-tls-verify"));
  c.insecure_skip_tls_verify = insecure.value_or(false);
  TRY_ASSIGN(c.tls_server_name, string_or_empty(r, node, "tls-server-name", path));
  TRY_ASSIGN(c.proxy_url, string_or_empty(r, node, "proxy-url", path));
  return c;
}

Result<ExecConfig> read_exec(const Reader& r, const YAML::Node& node, const std::string& path,
                             const std::string& base) {
  ExecConfig e;
  TRY(r.check_map(node, path, {}));
  for (auto [key, out] : std::initializer_list<std::pair<const char*, std::string*>>{
           {"apiVersion", &e.api_version},
           {"command", &e.command},
           {"installHint", &e.install_hint},
           {"interactiveMode", &e.interactive_mode}}) {
    TRY_ASSIGN(*out, string_or_empty(r, node, key, path));
  }
  // Only a command with a slash is a path; a bare name is looked up in PATH (clientcmd does same).
  if (e.command.find('/') != std::string::npos) {
    e.command = resolve_path(e.command, base);
  }
  TRY_ASSIGN(auto args, r.string_list(node, "args", path + ".args"));
  e.args = args.value_or(std::vector<std::string>{});
  TRY_ASSIGN(auto env, r.list(node, "env", path + ".env"));
  std::size_t i = 0;
  for (const auto& item : env) {
    const std::string ipath = path + ".env[" + std::to_string(i++) + "]";
    if (!item.IsMap()) {
      return r.error_at(item, ipath + " must be a map with name and value (got " +
                                  detail::describe(item) + ")");
    }
    TRY(r.check_map(item, ipath, {}));
    TRY_ASSIGN(auto name, r.string(item, "name", ipath + ".name"));
    TRY_ASSIGN(auto value, string_or_empty(r, item, "value", ipath));
    if (!name || name->empty()) {
      return r.error_at(item, ipath + " has no name");
    }
    e.env.emplace_back(*name, std::move(value));
  }
  TRY_ASSIGN(auto provide, r.boolean(node, "provideClusterInfo", path + ".provideClusterInfo"));
  e.provide_cluster_info = provide.value_or(false);
  return e;
}

bool is_set(const YAML::Node& node) {
  return node.IsDefined() && !node.IsNull();
}

Result<KubeUser> read_user(const Reader& r, const YAML::Node& node, const std::string& path,
                           const std::string& base) {
  KubeUser u;
  TRY(r.check_map(node, path, {}));
  for (auto [key, out] :
       std::initializer_list<std::pair<const char*, std::string*>>{{"token", &u.token},
                                                                   {"tokenFile", &u.token_file},
                                                                   {"username", &u.username},
                                                                   {"password", &u.password}}) {
    TRY_ASSIGN(*out, string_or_empty(r, node, key, path));
  }
  u.token_file = resolve_path(u.token_file, base);
  TRY(read_file_and_data(r, node, "client-certificate", path, base, u.client_certificate,
                         u.client_certificate_data));
  TRY(read_file_and_data(r, node, "client-key", path, base, u.client_key, u.client_key_data));
  register_secret(u.token);
  register_secret(u.password);
  register_secret(u.client_key_data);

  if (const YAML::Node exec = Reader::get(node, "exec"); is_set(exec)) {
    TRY_ASSIGN(u.exec, read_exec(r, exec, path + ".exec", base));
  }
  if (const YAML::Node provider = Reader::get(node, "auth-provider"); is_set(provider)) {
    TRY(r.check_map(provider, path + ".auth-provider", {}));
    TRY_ASSIGN(auto name, r.string(provider, "name", path + ".auth-provider.name"));
    u.auth_provider = name.value_or("unnamed");
  }
  return u;
}

Result<KubeContext> read_context(const Reader& r, const YAML::Node& node, const std::string& path) {
  KubeContext c;
  TRY(r.check_map(node, path, {}));
  for (auto [key, out] : std::initializer_list<std::pair<const char*, std::string*>>{
           {"cluster", &c.cluster}, {"user", &c.user}, {"namespace", &c.namespace_}}) {
    TRY_ASSIGN(*out, string_or_empty(r, node, key, path));
  }
  return c;
}

// Reads one of the named lists (clusters, users, contexts): [{name, <inner>: {...}}].
template <class T, class ReadFn>
Result<void> read_named_list(const Reader& r, const YAML::Node& root, const char* list_key,
                             const char* inner_key, std::map<std::string, T>& out, ReadFn read) {
  TRY_ASSIGN(auto list, r.list(root, list_key, list_key));
  std::map<std::string, YAML::Node> first_seen;
  std::size_t i = 0;
  for (const auto& item : list) {
    std::string path = std::string(list_key) + "[" + std::to_string(i++) + "]";
    if (!item.IsMap()) {
      return r.error_at(item, path + " must be a map with name and " + inner_key + " (got " +
                                  detail::describe(item) + ")");
    }
    TRY(r.check_map(item, path, {}));
    TRY_ASSIGN(auto name, r.string(item, "name", path + ".name"));
    if (!name || name->empty()) {
      return r.error_at(item, path + " has no name");
    }
    if (auto [it, fresh] = first_seen.emplace(*name, Reader::get(item, "name")); !fresh) {
      return r.error_at(Reader::get(item, "name"),
                        "duplicate name " + shown_quoted(*name) + " in " + list_key +
                            " (first at " + r.where(it->second) + ")",
                        "kubectl refuses this file too; rename or remove one entry");
    }
    path = std::string(list_key) + "[" + shown(*name) + "]";
    TRY_ASSIGN(auto value, read(r, Reader::get(item, inner_key), path + "." + inner_key));
    out.emplace(*name, std::move(value));
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
  if (!is_set(root)) {
    return kc; // an empty file is an empty config, as client-go has it
  }
  if (!root.IsMap()) {
    return r.error_at(root, "a kubeconfig must be a map with clusters, users and contexts (got " +
                                detail::describe(root) + ")");
  }
  TRY(r.check_map(root, "the kubeconfig", {}));
  const std::string base = detail::absolute_dir_of(origin);
  TRY(read_named_list(r, root, "clusters", "cluster", kc.clusters,
                      [&](const Reader& rr, const YAML::Node& n, const std::string& p) {
                        return read_cluster(rr, n, p, base);
                      }));
  TRY(read_named_list(r, root, "users", "user", kc.users,
                      [&](const Reader& rr, const YAML::Node& n, const std::string& p) {
                        return read_user(rr, n, p, base);
                      }));
  TRY(read_named_list(r, root, "contexts", "context", kc.contexts, &read_context));
  TRY_ASSIGN(auto current, r.string(root, "current-context", "current-context"));
  kc.current_context = current.value_or("");
  return kc;
}

} // namespace

Result<Kubeconfig> parse_kubeconfig(const std::string& text, const std::string& origin) {
  try {
    return parse_checked(text, origin);
  } catch (const std::exception& e) {
    return usage_error(origin + ": cannot read the kubeconfig: " + std::string(e.what()));
  }
}

} // namespace meshctl::config

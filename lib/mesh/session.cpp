#include "mesh/session.hpp"

#include "core/log.hpp"
#include "core/shown.hpp"
#include "core/strings.hpp"
#include "core/try.hpp"

#include <regex>

namespace meshctl::mesh {

Result<Session> open_session(const GlobalOptions& global, const std::vector<std::string>& names) {
  Session s;
  TRY_ASSIGN(auto cfg, config::load_config(global.config_file));
  s.config = std::move(cfg);
  auto kubeconfig = config::load_kubeconfig(global.kubeconfig);
  if (!kubeconfig) {
    return tl::make_unexpected(kubeconfig.error());
  }
  s.kubeconfig = std::move(*kubeconfig);
  auto clusters = config::select_clusters(s.config, names, s.kubeconfig.context_names());
  if (!clusters) {
    return tl::make_unexpected(clusters.error());
  }
  s.clusters = std::move(*clusters);
  log::info("config: {}; kubeconfig: {}",
            s.config.source.empty() ? std::string("none (defaults)") : s.config.source,
            s.kubeconfig.files.empty() ? std::string("none") : join(s.kubeconfig.files, ", "));
  for (const auto& c : s.clusters) {
    auto r = s.kubeconfig.resolve(c.context);
    if (!r) {
      return tl::make_unexpected(r.error().with_context("cluster " + c.name));
    }
    log::info("{}: context {}, API server {}", c.name, c.context, r->cluster.server);
  }
  return s;
}

Result<ReadTargets> read_targets(const GlobalOptions& global,
                                 const std::vector<std::string>& names) {
  ReadTargets t;
  TRY_ASSIGN(const auto cfg, config::load_config(global.config_file));
  TRY_ASSIGN(t.kubeconfig, config::load_kubeconfig(global.kubeconfig));
  if (!names.empty() || !cfg.clusters.empty()) {
    TRY_ASSIGN(t.clusters, config::select_clusters(cfg, names, t.kubeconfig.context_names()));
  } else if (!t.kubeconfig.current_context.empty()) {
    // The current context, whatever its name: no Istio cluster ID is made of it here, so it need
    // not be a DNS label.
    config::ClusterConfig c;
    c.name = t.kubeconfig.current_context;
    c.context = c.name;
    c.network = c.name;
    t.clusters.push_back(std::move(c));
  }
  return t;
}

Result<std::string> choose_namespace(const std::string& what, const std::string& named,
                                     const std::string& flag, const std::string& fallback) {
  if (!named.empty() && !flag.empty() && named != flag) {
    return usage_error("\"" + what + "\" is in namespace \"" + named + "\" but -n says \"" + flag +
                           "\"",
                       "give the namespace once: in the name (NAME.NAMESPACE) or with -n");
  }
  if (!named.empty()) {
    return named;
  }
  return flag.empty() ? fallback : flag;
}

Result<ServiceName> parse_service_name(const std::string& text, const std::string& namespace_flag) {
  static const std::regex k_label("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  std::string t = text;
  static constexpr std::string_view k_suffix = ".svc.cluster.local";
  if (t.ends_with(k_suffix)) {
    t.resize(t.size() - k_suffix.size());
  }
  const auto dot = t.find('.');
  if (dot == std::string::npos && !namespace_flag.empty()) {
    t += "." + namespace_flag;
  } else if (dot != std::string::npos && t.find('.', dot + 1) == std::string::npos) {
    TRY(choose_namespace(text, t.substr(dot + 1), namespace_flag));
  }
  const auto sep = t.find('.');
  if (sep != std::string::npos && t.find('.', sep + 1) == std::string::npos) {
    ServiceName s{t.substr(0, sep), t.substr(sep + 1)};
    if (std::regex_match(s.name, k_label) && std::regex_match(s.namespace_, k_label)) {
      return s;
    }
  }
  return usage_error(shown_quoted(text) + " is not a service name of the form SERVICE.NAMESPACE",
                     "for example: helloworld.dev (or helloworld.dev.svc.cluster.local, or "
                     "helloworld -n dev)");
}

} // namespace meshctl::mesh

// meshctl.yaml: loading, defaults and validation.
//
// The file is small and hand-written, so the loader is strict where a typo would otherwise be
// silently ignored: unknown keys are errors (with "did you mean"), types are checked, and every
// error points at file:line:col. Validation also encodes the pitfalls of MISSION.md that Istio does
// not report: a NodePort gateway needs an address source (Istio only uses NodePort addresses of
// nodes picked by the traffic.istio.io/nodeSelector annotation *that have an ExternalIP*), and that
// selector must be a map (a "key=value" string is silently ignored by Istio).
//
// Defaults are applied after reading, so `to_json_text()` shows exactly what the verbs will use.

#include "config/config.hpp"

#include "config/files.hpp"
#include "config/values.hpp"
#include "config/yaml_reader.hpp"
#include "core/shown.hpp"
#include "core/suggest.hpp"
#include "core/try.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <set>

namespace meshctl::config {

namespace {

namespace fs = std::filesystem;
using detail::home_dir;
using detail::is_dns_name;
using detail::is_ip_address;
using detail::is_label_value;
using detail::is_trust_domain;
using detail::Reader;
using detail::url_host;

// meshctl.yaml is written by hand: a mesh of a hundred clusters with every option takes about
// 40 KB. yaml-cpp needs some 60 bytes of memory per byte of YAML (a 50 MB file took 3.3 GB), so a
// bound far above any real file also bounds memory, and refuses a wrong file (-c some.log) at once.
constexpr std::size_t k_max_config_bytes = std::size_t{1} * 1024 * 1024;

constexpr int k_min_node_port = 30000;
constexpr int k_max_node_port = 32767;

const std::vector<std::string> k_top_keys{"mesh", "istio", "clusters", "pki"};
const std::vector<std::string> k_istio_keys{"revision"};
const std::vector<std::string> k_mesh_keys{"id", "trustDomain"};
const std::vector<std::string> k_cluster_keys{"name",          "context", "network", "apiServer",
                                              "tlsServerName", "gateway", "istio"};
const std::vector<std::string> k_gateway_keys{"type",     "externalIPs", "nodeSelector", "nodePort",
                                              "existing", "addresses",   "port"};
const std::vector<std::string> k_existing_keys{"name", "namespace"};
const std::vector<std::string> k_pki_keys{"dir"};

// Expands "~/" and makes a relative path absolute against the config file's directory, as
// kubectl does for paths inside a kubeconfig. Empty result = HOME needed but unset.
std::string resolve_dir(const std::string& dir, const std::string& origin) {
  if (dir == "~" || dir.rfind("~/", 0) == 0) {
    const auto home = home_dir();
    if (!home) {
      return {};
    }
    return (fs::path(*home) / dir.substr(std::min<std::size_t>(dir.size(), 2))).lexically_normal();
  }
  if (fs::path(dir).is_absolute()) {
    return fs::path(dir).lexically_normal();
  }
  return detail::resolve_path(dir, detail::absolute_dir_of(origin));
}

// The string at `key`, nullopt when absent; one that `valid` refuses is an error at it saying
// "<path> <value> is <not_what>", with `hint`.
Result<std::optional<std::string>> checked_string(const Reader& r, const YAML::Node& map,
                                                  std::string_view key, const std::string& path,
                                                  bool (*valid)(std::string_view),
                                                  std::string_view not_what,
                                                  const std::string& hint) {
  TRY_ASSIGN(auto value, r.string(map, key, path));
  if (value && !valid(*value)) {
    return r.error_at(Reader::get(map, key),
                      path + " " + shown_quoted(*value) + " is " + std::string(not_what), hint);
  }
  return value;
}

// The list of strings at `key`, nullopt when absent. Each must pass `valid`, else an error at it
// says "<path>[i] <value> is <not_what>", with `hint`; none may come twice.
Result<std::optional<std::vector<std::string>>>
checked_set(const Reader& r, const YAML::Node& map, std::string_view key, const std::string& path,
            bool (*valid)(const std::string&), std::string_view not_what, const std::string& hint) {
  TRY_ASSIGN(auto items, r.string_list(map, key, path));
  if (items) {
    const YAML::Node list = Reader::get(map, key);
    std::set<std::string> seen;
    for (std::size_t i = 0; i < items->size(); ++i) {
      const std::string& item = (*items)[i];
      if (!valid(item)) {
        return r.error_at(
            list[i], fmt::format("{}[{}] {} is {}", path, i, shown_quoted(item), not_what), hint);
      }
      if (!seen.insert(item).second) {
        return r.error_at(list[i], fmt::format("{} lists {} twice", path, shown(item)));
      }
    }
  }
  return items;
}

Result<void> read_mesh(const Reader& r, const YAML::Node& root, MeshConfig& cfg) {
  const YAML::Node mesh = Reader::get(root, "mesh");
  TRY(r.check_map(mesh, "mesh", k_mesh_keys));
  TRY_ASSIGN(const auto id,
             checked_string(r, mesh, "id", "mesh.id", is_label_value, "not a valid Istio mesh ID",
                            "use letters, digits, '-', '_' or '.', at most 63 characters, "
                            "starting and ending with a letter or digit (e.g. mesh1)"));
  if (id) {
    cfg.mesh_id = *id;
  }
  TRY_ASSIGN(const auto td,
             checked_string(r, mesh, "trustDomain", "mesh.trustDomain", is_trust_domain,
                            "not a valid trust domain",
                            "use lower-case letters, digits, '.', '-' or '_' (e.g. cluster.local); "
                            "it must match istiod's meshConfig.trustDomain"));
  if (td) {
    cfg.trust_domain = *td;
  }
  return {};
}

// istio.revision (top level, or a cluster's istio:): the value of istiod's istio.io/rev label.
// Istio names objects after it (istiod-<rev>), so it must be a DNS-1123 label.
Result<std::optional<std::string>> read_istio(const Reader& r, const YAML::Node& parent,
                                              const std::string& path) {
  const YAML::Node istio = Reader::get(parent, "istio");
  TRY(r.check_map(istio, path, k_istio_keys));
  return checked_string(r, istio, "revision", path + ".revision", detail::is_dns1123_label,
                        "not an Istio revision",
                        "use the value of istiod's istio.io/rev label (lower-case letters, digits "
                        "and '-', e.g. 1-24; kubectl -n istio-system get deploy -l app=istiod "
                        "-L istio.io/rev lists them)");
}

Result<std::optional<ExistingGateway>> read_existing(const Reader& r, const YAML::Node& gateway,
                                                     const std::string& path) {
  const YAML::Node node = Reader::get(gateway, "existing");
  if (!node.IsDefined() || node.IsNull()) {
    return std::optional<ExistingGateway>();
  }
  if (!node.IsMap()) {
    return r.error_at(
        node, path + " must be a map {name, namespace} (got " + detail::describe(node) + ")",
        "write existing: {name: istio-eastwestgateway, namespace: istio-system}, "
        "the gateway's Service");
  }
  TRY(r.check_map(node, path, k_existing_keys));
  ExistingGateway e;
  for (const auto& [key, field] :
       {std::pair<const char*, std::string*>{"name", &e.name}, {"namespace", &e.namespace_}}) {
    TRY_ASSIGN(const auto v, r.string(node, key, path + "." + key));
    if (!v || v->empty()) {
      return r.error_at(node, path + "." + key + " is missing",
                        "name the gateway's Service: existing: {name: istio-eastwestgateway, "
                        "namespace: istio-system}");
    }
    if (!detail::is_dns1123_label(*v)) {
      return r.error_at(Reader::get(node, key),
                        path + "." + key + " " + shown_quoted(*v) + " is not a valid " +
                            (std::string(key) == "name" ? "Service" : "namespace") + " name",
                        "use lower-case letters, digits and '-', as kubectl get svc -A shows it");
    }
    *field = *v;
  }
  return std::optional<ExistingGateway>(std::move(e));
}

Result<GatewayConfig> read_gateway(const Reader& r, const YAML::Node& cluster_node,
                                   const std::string& path) {
  GatewayConfig gw;
  const YAML::Node node = Reader::get(cluster_node, "gateway");
  TRY(r.check_map(node, path, k_gateway_keys));
  TRY_ASSIGN(const auto type, r.string(node, "type", path + ".type"));
  if (type) {
    if (*type == "LoadBalancer") {
      gw.type = GatewayType::k_load_balancer;
    } else if (*type == "NodePort") {
      gw.type = GatewayType::k_node_port;
    } else {
      return r.error_at(Reader::get(node, "type"),
                        path + ".type " + shown_quoted(*type) + " is not a gateway type" +
                            did_you_mean_suffix(*type, {"LoadBalancer", "NodePort"}),
                        "use LoadBalancer (the cloud gives the address) or NodePort (with "
                        "externalIPs and/or nodeSelector)");
    }
  }

  TRY_ASSIGN(const auto ips,
             checked_set(r, node, "externalIPs", path + ".externalIPs", is_ip_address,
                         "not an IP address",
                         "list the IPv4 or IPv6 addresses of the nodes the other clusters can "
                         "reach, e.g. [10.0.139.33]"));
  if (ips) {
    gw.external_ips = *ips;
  }

  const YAML::Node selector = Reader::get(node, "nodeSelector");
  if (selector.IsDefined() && selector.IsScalar()) {
    return r.error_at(selector,
                      path + ".nodeSelector must be a map of node labels (got " +
                          detail::describe(selector) + ")",
                      "write nodeSelector: {} for all nodes, or nodeSelector: {kubernetes.io/"
                      "hostname: node1}; Istio silently ignores a \"key=value\" string");
  }
  TRY_ASSIGN(const auto sel, r.string_map(node, "nodeSelector", path + ".nodeSelector"));
  gw.node_selector = sel;

  TRY_ASSIGN(const auto port, r.integer(node, "nodePort", path + ".nodePort"));
  if (port) {
    if (*port < k_min_node_port || *port > k_max_node_port) {
      return r.error_at(Reader::get(node, "nodePort"),
                        path + ".nodePort " + std::to_string(*port) +
                            " is outside the NodePort range 30000-32767",
                        "pick a free port in 30000-32767, or leave nodePort out and let "
                        "Kubernetes allocate one");
    }
    gw.node_port = static_cast<int>(*port);
  }

  TRY_ASSIGN(const auto addresses,
             checked_set(
                 r, node, "addresses", path + ".addresses",
                 [](const std::string& a) { return is_ip_address(a) || is_dns_name(a); },
                 "neither an IP address nor a DNS name",
                 "list the IPs or DNS names the other clusters reach the gateway at, without a "
                 "port (gateway.port sets it), e.g. [203.0.113.7, eastwest.example.com]"));
  if (addresses) {
    gw.addresses = *addresses;
  }
  TRY_ASSIGN(const auto gw_port, r.integer(node, "port", path + ".port"));
  if (gw_port) {
    if (gw.addresses.empty()) {
      return r.error_at(Reader::key_node(node, "port"),
                        path + ".port is the port of gateway.addresses, which lists none",
                        "list the addresses the other clusters use (gateway.addresses), or "
                        "remove port");
    }
    if (*gw_port < 1 || *gw_port > 65535) {
      return r.error_at(Reader::get(node, "port"),
                        path + ".port " + std::to_string(*gw_port) + " is not a port number",
                        "use the port the other clusters reach the addresses on (1-65535, "
                        "default 15443)");
    }
    gw.port = static_cast<int>(*gw_port);
  }

  TRY_ASSIGN(gw.existing, read_existing(r, node, path + ".existing"));
  if (gw.existing) {
    // meshctl renders no gateway of its own then: its type and addresses are the installed one's
    // (gateway.addresses, for a NAT in front of it, still apply: they go into meshNetworks).
    for (const char* key : {"type", "externalIPs", "nodeSelector", "nodePort"}) {
      if (Reader::get(node, key).IsDefined()) {
        return r.error_at(Reader::key_node(node, key),
                          path + "." + key + " does not apply with " + path +
                              ".existing: join makes no gateway of its own then",
                          "remove " + std::string(key) +
                              ", or remove existing to let join install one");
      }
    }
    return gw;
  }
  if (!gw.addresses.empty() && (!gw.external_ips.empty() || gw.node_selector)) {
    return r.error_at(
        Reader::key_node(node, "addresses"),
        path + ".addresses cannot be combined with externalIPs or nodeSelector",
        "istiod prefers the addresses it finds on the gateway Service (externalIPs, the "
        "nodeSelector's nodes) for this cluster's workloads and would ignore gateway.addresses: "
        "keep one of the two");
  }

  if (gw.type == GatewayType::k_load_balancer) {
    if (gw.node_selector) {
      return r.error_at(Reader::key_node(node, "nodeSelector"),
                        path + ".nodeSelector only applies to NodePort gateways",
                        "set " + path + ".type: NodePort, or remove nodeSelector");
    }
    if (gw.node_port) {
      return r.error_at(Reader::key_node(node, "nodePort"),
                        path + ".nodePort only applies to NodePort gateways",
                        "set " + path + ".type: NodePort, or remove nodePort");
    }
  } else if (gw.external_ips.empty() && !gw.node_selector && gw.addresses.empty()) {
    return r.error_at(
        node.IsDefined() ? node : cluster_node,
        path + " is NodePort but gives no address the other clusters can use",
        "set externalIPs to node IPs the other clusters can reach (e.g. "
        "externalIPs: [10.0.139.33]) and nodeSelector: {}, or the addresses a NAT in front of "
        "the nodes gives it in addresses; without externalIPs, "
        "Istio only uses a NodePort gateway through the traffic.istio.io/nodeSelector "
        "annotation, and only on selected nodes that have an ExternalIP address, "
        "which self-managed nodes usually lack");
  }
  return gw;
}

Result<void> read_clusters(const Reader& r, const YAML::Node& root, MeshConfig& cfg) {
  TRY_ASSIGN(const auto list, r.list(root, "clusters", "clusters"));
  std::map<std::string, YAML::Node> names;
  std::map<std::string, YAML::Node> contexts;
  std::size_t i = 0;
  for (const auto& item : list) {
    const std::string path = "clusters[" + std::to_string(i) + "]";
    ++i;
    if (!item.IsMap()) {
      return r.error_at(
          item, path + " must be a map with at least a name (got " + detail::describe(item) + ")",
          "write: clusters: [{name: wuxi}]");
    }
    TRY(r.check_map(item, path, k_cluster_keys));
    ClusterConfig c;
    TRY_ASSIGN(const auto name, r.string(item, "name", path + ".name"));
    if (!name) {
      return r.error_at(item, path + " has no name",
                        "every cluster needs name: <Istio cluster ID>, e.g. name: wuxi");
    }
    c.name = *name;
    if (!detail::is_dns1123_label(c.name)) {
      return r.error_at(Reader::get(item, "name"),
                        path + ".name " + shown_quoted(c.name) + " is not a DNS-1123 label",
                        "use lower-case letters, digits and '-', at most 63 characters, starting "
                        "and ending with a letter or digit; keep an unusual kubeconfig context "
                        "name in context:");
    }
    if (auto [it, fresh] = names.emplace(c.name, Reader::get(item, "name")); !fresh) {
      return r.error_at(Reader::get(item, "name"),
                        "duplicate cluster name " + shown_quoted(c.name) + " (first at " +
                            r.where(it->second) + ")",
                        "each cluster appears once; cluster names are Istio cluster IDs and must "
                        "be unique in the mesh");
    }

    TRY_ASSIGN(const auto ctx, r.string(item, "context", path + ".context"));
    c.context = ctx.value_or(c.name);
    if (c.context.empty()) {
      return r.error_at(Reader::get(item, "context"), path + ".context must not be empty");
    }
    const YAML::Node ctx_pos = Reader::get(item, "context").IsDefined()
                                   ? Reader::get(item, "context")
                                   : Reader::get(item, "name");
    if (auto [it, fresh] = contexts.emplace(c.context, ctx_pos); !fresh) {
      return r.error_at(ctx_pos,
                        path + " uses kubeconfig context " + shown_quoted(c.context) +
                            ", already used at " + r.where(it->second),
                        "two clusters cannot share one kubeconfig context; set context: on each");
    }

    TRY_ASSIGN(const auto net, r.string(item, "network", path + ".network"));
    c.network = net.value_or(c.name);
    if (!detail::is_dns1123_label(c.network)) {
      return r.error_at(Reader::get(item, "network"),
                        path + ".network " + shown_quoted(c.network) + " is not a DNS-1123 label",
                        "use lower-case letters, digits and '-', at most 63 characters, starting "
                        "and ending with a letter or digit");
    }

    TRY_ASSIGN(const auto api, r.string(item, "apiServer", path + ".apiServer"));
    if (api) {
      const auto host = url_host(*api);
      if (!host) {
        return r.error_at(Reader::get(item, "apiServer"),
                          path + ".apiServer " + shown_quoted(*api) + " is not an https:// URL",
                          "write the API server URL the other clusters reach, e.g. "
                          "https://10.18.10.10:6443");
      }
      // A loopback apiServer set here is used as given (a local test rig, or a tunnel every
      // istiod reaches at the same address); only one taken from the kubeconfig is refused.
      c.api_server = *api;
    }
    TRY_ASSIGN(const auto tls, r.string(item, "tlsServerName", path + ".tlsServerName"));
    if (tls) {
      if (tls.value().empty()) {
        return r.error_at(Reader::get(item, "tlsServerName"),
                          path + ".tlsServerName must not be empty");
      }
      c.tls_server_name = *tls;
    }

    TRY_ASSIGN(c.gateway, read_gateway(r, item, path + ".gateway"));
    TRY_ASSIGN(c.istio_revision, read_istio(r, item, path + ".istio"));
    cfg.clusters.push_back(std::move(c));
  }
  return {};
}

Result<void> read_pki(const Reader& r, const YAML::Node& root, MeshConfig& cfg) {
  const YAML::Node pki = Reader::get(root, "pki");
  TRY(r.check_map(pki, "pki", k_pki_keys));
  TRY_ASSIGN(const auto dir, r.string(pki, "dir", "pki.dir"));
  if (dir) {
    if (dir->empty()) {
      return r.error_at(Reader::get(pki, "dir"), "pki.dir must not be empty");
    }
    cfg.pki_dir = resolve_dir(*dir, r.origin());
  }
  return {};
}

void apply_default_pki_dir(MeshConfig& cfg) {
  if (cfg.pki_dir.empty()) {
    if (const auto home = home_dir()) {
      cfg.pki_dir = (fs::path(*home) / ".config" / "meshctl" / "pki" / cfg.mesh_id).string();
    }
  }
}

Result<MeshConfig> parse_checked(const std::string& text, const std::string& origin) {
  TRY_ASSIGN(const YAML::Node root,
             detail::parse_yaml(text, origin, detail::Documents::k_only_one));
  const Reader r(origin);
  MeshConfig cfg;
  cfg.source = origin;
  if (root.IsDefined() && !root.IsNull()) {
    if (!root.IsMap()) {
      return r.error_at(root, "the config must be a map with mesh, clusters and pki (got " +
                                  detail::describe(root) + ")");
    }
    TRY(r.check_map(root, "the config", k_top_keys));
    for (auto* step : {&read_mesh, &read_clusters, &read_pki}) {
      TRY(step(r, root, cfg));
    }
    TRY_ASSIGN(cfg.istio_revision, read_istio(r, root, "istio"));
  }
  apply_default_pki_dir(cfg);
  return cfg;
}

} // namespace

const ClusterConfig* MeshConfig::find(const std::string& name) const {
  for (const auto& c : clusters) {
    if (c.name == name) {
      return &c;
    }
  }
  return nullptr;
}

std::optional<std::string> MeshConfig::revision_for(const ClusterConfig& cluster) const {
  if (cluster.istio_revision) {
    return cluster.istio_revision;
  }
  if (const ClusterConfig* own = find(cluster.name); own != nullptr && own->istio_revision) {
    return own->istio_revision;
  }
  return istio_revision;
}

std::optional<std::string> config_path(const std::optional<std::string>& flag) {
  if (flag && !flag->empty()) {
    return flag;
  }
  if (const char* env = std::getenv("MESHCTL_CONFIG"); env != nullptr && *env != '\0') {
    return std::string(env);
  }
  if (const auto home = home_dir()) {
    const fs::path p = fs::path(*home) / ".config" / "meshctl" / "config.yaml";
    std::error_code ec;
    if (fs::exists(p, ec)) {
      return p.string();
    }
  }
  return std::nullopt;
}

Result<MeshConfig> parse_config(const std::string& text, const std::string& origin) {
  try {
    return parse_checked(text, origin);
  } catch (const std::exception& e) {
    // yaml-cpp can still throw from accessors on odd documents; never let that escape.
    return usage_error(origin + ": cannot read the config: " + std::string(e.what()));
  }
}

Result<MeshConfig> load_config(const std::optional<std::string>& flag) {
  const auto path = config_path(flag);
  if (!path) {
    MeshConfig cfg;
    apply_default_pki_dir(cfg);
    return cfg;
  }
  const std::string from = (flag && !flag->empty()) ? "-c" : "$MESHCTL_CONFIG";
  std::error_code ec;
  if (!fs::exists(*path, ec)) {
    return usage_error("config file " + shown(*path) + " (from " + from + ") does not exist",
                       "check the path, or drop " + from +
                           " to use the defaults (cluster = context = network name)");
  }
  if (fs::is_directory(*path, ec)) {
    return usage_error("config file " + shown(*path) + " is a directory",
                       "name the YAML file itself");
  }
  TRY_ASSIGN(const auto text, detail::read_file(*path, "config file", k_max_config_bytes));
  return parse_config(text, *path);
}

Result<std::string> require_pki_dir(const MeshConfig& cfg) {
  if (!cfg.pki_dir.empty()) {
    std::error_code ec;
    if (fs::exists(cfg.pki_dir, ec) && !fs::is_directory(cfg.pki_dir, ec)) {
      return usage_error("pki.dir " + shown(cfg.pki_dir) + " is a file, not a directory",
                         "set pki.dir in meshctl.yaml to the directory that holds (or will hold) "
                         "the mesh's root CA");
    }
    return cfg.pki_dir;
  }
  return usage_error("cannot tell where the mesh's root CA lives: HOME is not set",
                     "set HOME, or set pki.dir in meshctl.yaml (-c FILE or $MESHCTL_CONFIG)");
}

Result<std::vector<ClusterConfig>> select_clusters(const MeshConfig& cfg,
                                                   const std::vector<std::string>& names,
                                                   const std::vector<std::string>& known_contexts) {
  if (names.empty()) {
    if (cfg.clusters.empty()) {
      return usage_error("no clusters to work on",
                         "name the kubeconfig contexts (e.g. meshctl join cn-shanghai wuxi) or "
                         "list clusters in meshctl.yaml");
    }
    return cfg.clusters;
  }
  std::vector<ClusterConfig> out;
  std::set<std::string> seen;
  for (const auto& n : names) {
    const ClusterConfig* found = cfg.find(n);
    if (found == nullptr) {
      // A kubeconfig context name given where the config names the cluster differently.
      for (const auto& c : cfg.clusters) {
        if (c.context == n) {
          found = &c;
          break;
        }
      }
    }
    ClusterConfig c;
    if (found != nullptr) {
      c = *found;
    } else {
      if (std::find(known_contexts.begin(), known_contexts.end(), n) == known_contexts.end()) {
        std::vector<std::string> candidates = known_contexts;
        for (const auto& k : cfg.clusters) {
          candidates.push_back(k.name);
        }
        const std::string where =
            cfg.clusters.empty()
                ? std::string("not found in kubeconfig")
                : "is neither a cluster in " +
                      (cfg.source.empty() ? std::string("the config") : cfg.source) +
                      " nor a kubeconfig context";
        return usage_error(fmt::format("context {} {}{}", shown_quoted(n), where,
                                       did_you_mean_suffix(n, candidates)),
                           "list contexts with 'kubectl config get-contexts', or add the cluster "
                           "to meshctl.yaml");
      }
      if (!detail::is_dns1123_label(n)) {
        return usage_error("kubeconfig context " + shown_quoted(n) +
                               " cannot be used as an Istio cluster name (not a DNS-1123 label)",
                           "add it to meshctl.yaml: clusters: [{name: <short-name>, context: " +
                               shown_quoted(n) + "}]");
      }
      c.name = n;
      c.context = n;
      c.network = n;
    }
    if (!seen.insert(c.name).second) {
      return usage_error("cluster " + shown_quoted(c.name) + " is named twice",
                         "name each cluster once");
    }
    out.push_back(std::move(c));
  }
  return out;
}

namespace {

nlohmann::ordered_json gateway_json(const GatewayConfig& g) {
  nlohmann::ordered_json gw;
  gw["type"] = g.type == GatewayType::k_node_port ? "NodePort" : "LoadBalancer";
  gw["externalIPs"] = g.external_ips;
  if (g.node_selector) {
    gw["nodeSelector"] = nlohmann::ordered_json::object();
    for (const auto& [k, v] : *g.node_selector) {
      gw["nodeSelector"][k] = v;
    }
  }
  if (g.node_port) {
    gw["nodePort"] = *g.node_port;
  }
  return gw;
}

} // namespace

std::string to_json_text(const MeshConfig& cfg) {
  nlohmann::ordered_json clusters = nlohmann::ordered_json::array();
  for (const auto& c : cfg.clusters) {
    nlohmann::ordered_json gw;
    if (c.gateway.existing) {
      gw["existing"] = {{"name", c.gateway.existing->name},
                        {"namespace", c.gateway.existing->namespace_}};
    } else {
      gw = gateway_json(c.gateway);
    }
    if (!c.gateway.addresses.empty()) {
      gw["addresses"] = c.gateway.addresses;
      gw["port"] = c.gateway.port;
    }
    nlohmann::ordered_json j;
    j["name"] = c.name;
    j["context"] = c.context;
    j["network"] = c.network;
    if (c.api_server) {
      j["apiServer"] = *c.api_server;
    }
    if (c.tls_server_name) {
      j["tlsServerName"] = *c.tls_server_name;
    }
    j["gateway"] = std::move(gw);
    if (c.istio_revision) {
      j["istio"] = {{"revision", *c.istio_revision}};
    }
    clusters.push_back(std::move(j));
  }
  nlohmann::ordered_json out;
  out["mesh"] = {{"id", cfg.mesh_id}, {"trustDomain", cfg.trust_domain}};
  out["istio"] = {{"revision", cfg.istio_revision ? nlohmann::ordered_json(*cfg.istio_revision)
                                                  : nlohmann::ordered_json(nullptr)}};
  out["clusters"] = std::move(clusters);
  out["pki"] = {{"dir", cfg.pki_dir.empty() ? nlohmann::ordered_json(nullptr)
                                            : nlohmann::ordered_json(cfg.pki_dir)}};
  return out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

} // namespace meshctl::config

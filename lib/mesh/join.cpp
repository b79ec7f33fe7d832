#include "mesh/join.hpp"

#include "core/enum_names.hpp"
#include "kube/url.hpp"
#include "mesh/istiod.hpp"
#include "pki/pki.hpp"

namespace meshctl::mesh {

namespace {

// The modes' names, read both ways: --dry-run's values and the dryRun field of a live report.
constexpr EnumName<DryRun> k_dry_run_names[] = {{DryRun::k_none, "none"},
                                                {DryRun::k_offline, "offline"},
                                                {DryRun::k_client, "client"},
                                                {DryRun::k_server, "server"}};

} // namespace

const char* report_dry_run(DryRun d) {
  // An offline dry run reaches no cluster, so no live report can say so: "none".
  return d == DryRun::k_offline ? "none" : name_of(k_dry_run_names, d, "none");
}

const char* dry_run_suffix(DryRun d) {
  static constexpr EnumName<DryRun> k_suffixes[] = {{DryRun::k_offline, " (dry run)"},
                                                    {DryRun::k_client, " (dry run)"},
                                                    {DryRun::k_server, " (server dry run)"}};
  return name_of(k_suffixes, d, "");
}

std::vector<std::string> dry_run_names() {
  return names_of(k_dry_run_names);
}

Result<DryRun> parse_dry_run(const std::string& text) {
  if (text.empty()) {
    return DryRun::k_none;
  }
  if (const auto mode = value_of(k_dry_run_names, text)) {
    return *mode;
  }
  return usage_error(
      "unknown --dry-run mode \"" + text + "\"",
      "use --dry-run (offline: render only), --dry-run=client (plan against the "
      "clusters, write nothing), --dry-run=server (also validated by the API server) or "
      "--dry-run=none (no dry run)");
}

RestartDecision decide_istiod_restart(RestartIstiod mode, const std::string& cacerts_root_pem,
                                      const std::optional<std::string>& served_pem,
                                      bool cacerts_rewritten) {
  const auto decided = [mode](bool needed, std::string why) {
    const bool restart =
        mode == RestartIstiod::k_always || (needed && mode == RestartIstiod::k_when_stale);
    return RestartDecision{restart, needed, std::move(why)};
  };
  if (served_pem) {
    const auto served = compare_served_root(cacerts_root_pem, *served_pem);
    if (served.stale) {
      const std::string wanted =
          served.wanted ? "SHA-256 " + short_fingerprint(served.wanted->sha256_fingerprint)
                        : std::string("the mesh root (not created yet)");
      return decided(true, "it serves " + served.describe_served() + " but cacerts holds " +
                               wanted + ", and istiod reads cacerts only at start");
    }
  }
  if (cacerts_rewritten) {
    return decided(true, "this join rewrote cacerts (a new intermediate) and istiod reads "
                         "cacerts only at start");
  }
  if (mode == RestartIstiod::k_always) {
    return decided(false, "of --restart-istiod");
  }
  if (!served_pem) {
    // Nothing tells which root istiod loaded: it has not run since the ConfigMap went missing.
    return decided(false, "it publishes no root (ConfigMap istio-system/" +
                              std::string(k_root_configmap) + " is missing): is it running?");
  }
  return decided(false, "it serves the root of cacerts");
}

Result<RemoteServer> remote_server(const config::ClusterConfig& cluster,
                                   const config::Kubeconfig& kubeconfig) {
  if (cluster.api_server) {
    return RemoteServer{*cluster.api_server, cluster.tls_server_name, true};
  }
  auto ctx = kubeconfig.resolve(cluster.context);
  if (!ctx) {
    return tl::make_unexpected(ctx.error());
  }
  const std::string& server = ctx->cluster.server;
  if (server.empty()) {
    return usage_error("context \"" + cluster.context + "\" has no server in the kubeconfig");
  }
  if (kube::is_loopback_url(server)) {
    return usage_error("the API server of " + cluster.name + " is " + server +
                           " in the kubeconfig, a loopback address the other clusters cannot reach",
                       "set clusters[].apiServer for " + cluster.name +
                           " in meshctl.yaml to the address the other clusters' istiod can use");
  }
  std::optional<std::string> tls_name = cluster.tls_server_name;
  if (!tls_name && !ctx->cluster.tls_server_name.empty()) {
    tls_name = ctx->cluster.tls_server_name;
  }
  return RemoteServer{server, tls_name, false};
}

namespace {

std::string cacerts_placeholder(const std::string& file, const std::string& cluster) {
  // Same suffix as render's placeholders, so contains_placeholder() stops an apply of it.
  return "<" + file + " of a new intermediate CA for " + cluster + ", read at apply time>";
}

render::CacertsData to_cacerts(const pki::ClusterCA& ca) {
  return {ca.ca_cert_pem, ca.ca_key_pem, ca.root_cert_pem, ca.cert_chain_pem};
}

} // namespace

Result<std::string> existing_root_pem(const config::MeshConfig& cfg) {
  auto dir = config::require_pki_dir(cfg);
  if (!dir) {
    return tl::make_unexpected(dir.error());
  }
  auto root = pki::find_root(*dir);
  if (!root) {
    return tl::make_unexpected(root.error().with_context("mesh root CA in " + *dir));
  }
  return *root ? (*root)->cert_pem : std::string();
}

Result<render::CacertsData> cacerts_for(const config::MeshConfig& cfg,
                                        const config::ClusterConfig& cluster, bool persist) {
  auto dir = config::require_pki_dir(cfg);
  if (!dir) {
    return tl::make_unexpected(dir.error());
  }
  if (persist) {
    auto root = pki::load_or_create_root(*dir);
    if (!root) {
      return tl::make_unexpected(root.error().with_context("mesh root CA in " + *dir));
    }
    auto ca = pki::load_or_issue_intermediate(*root, *dir, cluster.name);
    if (!ca) {
      return tl::make_unexpected(ca.error().with_context("intermediate CA of " + cluster.name));
    }
    return to_cacerts(*ca);
  }
  auto root = pki::find_root(*dir);
  if (!root) {
    return tl::make_unexpected(root.error().with_context("mesh root CA in " + *dir));
  }
  if (*root) {
    auto ca = pki::find_intermediate(**root, *dir, cluster.name);
    if (!ca) {
      return tl::make_unexpected(ca.error().with_context("intermediate CA of " + cluster.name));
    }
    if (*ca) {
      return to_cacerts(**ca);
    }
  }
  return render::CacertsData{cacerts_placeholder("ca-cert.pem", cluster.name),
                             cacerts_placeholder("ca-key.pem", cluster.name),
                             *root ? (*root)->cert_pem
                                   : cacerts_placeholder("root-cert.pem", cluster.name),
                             cacerts_placeholder("cert-chain.pem", cluster.name)};
}

Result<ClusterObjects> render_join_base(const config::ClusterConfig& cluster,
                                        const kube::IstioApi& istio,
                                        const render::CacertsData& cacerts,
                                        const GatewayChoice& gateway,
                                        const std::vector<config::ClusterConfig>& mesh) {
  ClusterObjects co{cluster.name, {}};
  auto base = render::render_cluster_base(cluster, cacerts, !gateway.existing);
  if (!base) {
    return tl::make_unexpected(base.error().with_context(cluster.name));
  }
  co.objects = desired(*base);
  auto expose = render::render_expose_gateway({}, istio.api_version(), gateway.expose);
  if (!expose) {
    return tl::make_unexpected(expose.error().with_context(cluster.name));
  }
  for (auto& o : *expose) {
    co.objects.push_back({std::move(o), Ownership::k_create_only});
  }
  auto networks = render::render_mesh_networks(mesh, cluster.istio_revision.value_or(""));
  if (!networks) {
    return tl::make_unexpected(networks.error().with_context(cluster.name));
  }
  for (auto& o : *networks) {
    co.objects.push_back({std::move(o), Ownership::k_fields});
  }
  return co;
}

Result<ClusterObjects>
render_join_remote_secrets(const config::ClusterConfig& target,
                           const std::vector<config::ClusterConfig>& clusters,
                           const std::map<std::string, render::RemoteSecretInput>& sources) {
  ClusterObjects co{target.name, {}};
  for (const auto& other : clusters) {
    if (other.name == target.name) {
      continue;
    }
    const auto src = sources.find(other.name);
    if (src == sources.end()) {
      return fail("internal: no remote secret input for " + other.name);
    }
    auto secret = render::render_remote_secret(src->second);
    if (!secret) {
      return tl::make_unexpected(secret.error().with_context(target.name));
    }
    co.objects.push_back({std::move(*secret), Ownership::k_owned});
  }
  return co;
}

Result<std::vector<ClusterObjects>>
render_join(const std::vector<config::ClusterConfig>& clusters, const IstioApis& apis,
            const std::map<std::string, render::CacertsData>& cacerts,
            const std::map<std::string, render::RemoteSecretInput>& sources,
            const std::map<std::string, GatewayChoice>& gateways,
            const std::vector<config::ClusterConfig>& mesh) {
  std::vector<ClusterObjects> out;
  for (const auto& c : clusters) {
    const auto ca = cacerts.find(c.name);
    if (ca == cacerts.end()) {
      return fail("internal: no cacerts for " + c.name);
    }
    const auto gw = gateways.find(c.name);
    auto co = render_join_base(c, istio_api_of(apis, c.name), ca->second,
                               gw == gateways.end() ? GatewayChoice{} : gw->second, mesh);
    if (!co) {
      return tl::make_unexpected(co.error());
    }
    auto remote = render_join_remote_secrets(c, clusters, sources);
    if (!remote) {
      return tl::make_unexpected(remote.error());
    }
    for (auto& o : remote->objects) {
      co->objects.push_back(std::move(o));
    }
    out.push_back(std::move(*co));
  }
  return out;
}

Result<std::vector<ClusterObjects>>
render_join_offline(const config::MeshConfig& cfg,
                    const std::vector<config::ClusterConfig>& clusters,
                    const config::Kubeconfig& kubeconfig) {
  std::map<std::string, render::CacertsData> cacerts;
  std::map<std::string, render::RemoteSecretInput> sources;
  std::map<std::string, GatewayChoice> gateways;
  for (const auto& c : clusters) {
    gateways.emplace(c.name, offline_gateway(c));
    auto ca = cacerts_for(cfg, c, false);
    if (!ca) {
      return tl::make_unexpected(ca.error());
    }
    cacerts.emplace(c.name, std::move(*ca));
    auto server = remote_server(c, kubeconfig);
    if (!server) {
      return tl::make_unexpected(server.error());
    }
    sources.emplace(c.name, render::RemoteSecretInput{
                                c.name, server->url, render::ca_placeholder(c.name),
                                render::token_placeholder(c.name), server->tls_server_name});
  }
  // Offline, the revision is what the config says (a live join detects it in the cluster).
  std::vector<config::ClusterConfig> rendered = clusters;
  for (auto& c : rendered) {
    c.istio_revision = cfg.revision_for(c);
  }
  return render_join(rendered, IstioApis{}, cacerts, sources, gateways, cfg.clusters);
}

} // namespace meshctl::mesh

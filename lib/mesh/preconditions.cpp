#include "mesh/preconditions.hpp"

#include "core/base64.hpp"
#include "pki/cert.hpp"
#include "render/manifests.hpp"

#include <yaml-cpp/yaml.h>

#include <future>

namespace meshctl::mesh {
namespace {

kube::ResourceRef configmap(const std::string& name) {
  return {"", "v1", "configmaps", "istio-system", name, ""};
}

std::string env_value(const nlohmann::json& deployment, const std::string& name) {
  const auto& containers = deployment["spec"]["template"]["spec"]["containers"];
  if (!containers.is_array()) {
    return {};
  }
  for (const auto& c : containers) {
    for (const auto& e : c.value("env", nlohmann::json::array())) {
      if (e.value("name", "") == name && e.contains("value")) {
        return e["value"].get<std::string>();
      }
    }
  }
  return {};
}

} // namespace

Result<IstiodIdentity> read_istiod_identity(kube::Client& client, const std::string& cluster,
                                            const IstiodRevision& istiod) {
  auto deploy_f = std::async(std::launch::async, [&] {
    return client.get({"apps", "v1", "deployments", "istio-system", istiod.deployment, ""});
  });
  auto injector_f = std::async(std::launch::async,
                               [&] { return client.get(configmap(istiod.injector_configmap())); });
  auto mesh_f = std::async(std::launch::async,
                           [&] { return client.get(configmap(istiod.mesh_configmap())); });
  auto deploy = deploy_f.get();
  auto injector = injector_f.get();
  auto mesh = mesh_f.get();
  if (!deploy) {
    if (deploy.error().not_found()) {
      return fail("istiod is not installed in " + cluster + " (no Deployment istio-system/" +
                      istiod.deployment + ")",
                  "install Istio first (meshctl prints the values to use), then run join again");
    }
    return tl::make_unexpected(Error(deploy.error()));
  }
  // A read that failed is reported as the read failure, not judged as an istiod installed with
  // empty values; an absent ConfigMap falls through to the identity check, which names the values.
  const std::pair<const kube::ApiResult<nlohmann::json>*, std::string> reads[] = {
      {&injector, istiod.injector_configmap()}, {&mesh, istiod.mesh_configmap()}};
  for (const auto& [read, name] : reads) {
    if (!*read && !(*read).error().not_found()) {
      return tl::make_unexpected(Error((*read).error())
                                     .with_context("reading ConfigMap istio-system/" + name +
                                                   " (istiod's mesh ID and network)"));
    }
  }
  IstiodIdentity id;
  id.cluster_id = env_value(*deploy, "CLUSTER_ID");
  if (id.cluster_id.empty()) {
    id.cluster_id = "Kubernetes"; // istiod's default when clusterName is unset
  }
  if (injector) {
    try {
      const auto values = nlohmann::json::parse(
          injector->value("data", nlohmann::json::object()).value("values", "{}"));
      const auto& global = values.value("global", nlohmann::json::object());
      id.mesh_id = global.value("meshID", "");
      id.network = global.value("network", "");
    } catch (const nlohmann::json::exception&) {
      // An unreadable values blob leaves mesh ID and network unknown; reported by the caller.
    }
  }
  if (id.mesh_id.empty() && mesh) {
    try {
      const auto m = YAML::Load(mesh->value("data", nlohmann::json::object()).value("mesh", ""));
      if (m["defaultConfig"] && m["defaultConfig"]["meshId"]) {
        id.mesh_id = m["defaultConfig"]["meshId"].as<std::string>();
      }
    } catch (const YAML::Exception&) {
    }
  }
  return id;
}

std::string istiod_install_flags(const config::MeshConfig& cfg,
                                 const config::ClusterConfig& cluster) {
  return "--set values.global.meshID=" + cfg.mesh_id +
         " --set values.global.multiCluster.clusterName=" + cluster.name +
         " --set values.global.network=" + cluster.network;
}

namespace {

void check_identity(kube::Client& client, const config::MeshConfig& cfg,
                    const config::ClusterConfig& cluster, std::vector<Error>& out,
                    std::optional<IstiodRevision>& found) {
  auto istiod = find_istiod(client, cfg.revision_for(cluster), cluster.name);
  if (!istiod) {
    out.push_back(istiod.error().with_context(cluster.name));
    return;
  }
  found = *istiod;
  auto id = read_istiod_identity(client, cluster.name, *istiod);
  if (!id) {
    out.push_back(id.error().with_context(cluster.name));
    return;
  }
  std::vector<std::string> wrong;
  if (id->cluster_id != cluster.name) {
    wrong.push_back("cluster ID is \"" + id->cluster_id + "\", not \"" + cluster.name + "\"");
  }
  if (id->mesh_id != cfg.mesh_id) {
    wrong.push_back("mesh ID is \"" + id->mesh_id + "\", not \"" + cfg.mesh_id + "\"");
  }
  if (id->network != cluster.network) {
    wrong.push_back("network is \"" + id->network + "\", not \"" + cluster.network + "\"");
  }
  if (wrong.empty()) {
    return;
  }
  std::string msg =
      "istiod " +
      (istiod->revision == k_default_revision ? std::string()
                                              : "revision " + istiod->revision + " ") +
      "in " + cluster.name + " was installed with other values: ";
  for (std::size_t i = 0; i < wrong.size(); ++i) {
    msg += (i ? "; " : "") + wrong[i];
  }
  out.push_back(Error(
      ExitCode::k_failed, msg,
      "reinstall istiod in " + cluster.name + " with: istioctl install " +
          (istiod->revision == k_default_revision ? std::string()
                                                  : "--revision " + istiod->revision + " ") +
          istiod_install_flags(cfg, cluster) + " (or change meshctl.yaml to match the cluster)"));
}

void check_gateway_address(kube::Client& client, const config::ClusterConfig& cluster,
                           std::vector<Error>& out) {
  const auto& gw = cluster.gateway;
  if (gw.type != config::GatewayType::k_node_port || !gw.external_ips.empty() ||
      !gw.node_selector) {
    return;
  }
  std::string selector;
  for (const auto& [k, v] : *gw.node_selector) {
    selector += (selector.empty() ? "" : ",") + k + "=" + v;
  }
  kube::ListOptions opts;
  opts.label_selector = selector;
  auto nodes = client.list({"", "v1", "nodes", "", "", ""}, opts);
  if (!nodes) {
    out.push_back(Error(nodes.error()).with_context(cluster.name + ": listing nodes"));
    return;
  }
  int selected = 0;
  for (const auto& n : nodes->value("items", nlohmann::json::array())) {
    ++selected;
    for (const auto& a : n["status"].value("addresses", nlohmann::json::array())) {
      if (a.value("type", "") == "ExternalIP") {
        return;
      }
    }
  }
  out.push_back(Error(
      ExitCode::k_failed,
      "the NodePort gateway of " + cluster.name + " relies on traffic.istio.io/nodeSelector, but " +
          (selected == 0 ? std::string("it selects no node")
                         : "none of the " + std::to_string(selected) +
                               " selected nodes has an ExternalIP address") +
          ": Istio would publish no gateway address and cross-network calls would fail",
      "list a few node IPs the other clusters can reach under clusters[].gateway.externalIPs for " +
          cluster.name + " in meshctl.yaml (Istio uses spec.externalIPs for any Service type)"));
}

void check_cacerts_root(kube::Client& client, const config::ClusterConfig& cluster,
                        const std::string& our_root_pem, bool force_ca, std::vector<Error>& out) {
  if (force_ca) {
    return;
  }
  auto live = client.get({"", "v1", "secrets", "istio-system", "cacerts", ""});
  if (!live) {
    if (!live.error().not_found()) {
      out.push_back(Error(live.error()).with_context(cluster.name));
    }
    return;
  }
  const auto b64 = live->value("data", nlohmann::json::object()).value("root-cert.pem", "");
  auto pem = meshctl::base64_decode(b64);
  if (pem && !our_root_pem.empty() && pki::same_certificate(*pem, our_root_pem)) {
    return;
  }
  std::string theirs = "an unreadable root";
  if (pem) {
    if (auto info = pki::inspect(*pem)) {
      theirs = "root \"" + info->subject + "\" (SHA-256 " + info->sha256_fingerprint + ")";
    }
  }
  out.push_back(Error(ExitCode::k_failed,
                      "Secret istio-system/cacerts in " + cluster.name + " already holds " +
                          theirs + ", not this mesh's root" +
                          (our_root_pem.empty()
                               ? std::string(" (the mesh has no root yet: join would make one)")
                               : std::string()),
                      "replacing it breaks mTLS with workloads that still hold certificates of the "
                      "old root until they rotate; run join with --force-ca to replace it, or "
                      "import that root with the PKI tools so both sides share it"));
}

} // namespace

JoinPreconditions check_join_preconditions(kube::Client& client, const config::MeshConfig& cfg,
                                           const config::ClusterConfig& cluster,
                                           const std::string& our_root_pem, bool force_ca) {
  JoinPreconditions result;
  std::vector<Error>& out = result.errors;
  if (auto d = client.discovery(); !d) {
    out.push_back(Error(d.error()).with_context(cluster.name));
    return result; // nothing else can be read
  }
  std::vector<Error> kinds;
  std::vector<Error> identity;
  std::vector<Error> gateway;
  std::vector<Error> ca;
  auto f1 = std::async(std::launch::async, [&] {
    if (auto api = kube::discover_istio_api(client, cluster.name)) {
      result.istio = *api;
    } else {
      kinds.push_back(api.error());
    }
  });
  auto f2 = std::async(std::launch::async,
                       [&] { check_identity(client, cfg, cluster, identity, result.istiod); });
  auto f3 =
      std::async(std::launch::async, [&] { check_gateway_address(client, cluster, gateway); });
  auto f4 = std::async(std::launch::async,
                       [&] { check_cacerts_root(client, cluster, our_root_pem, force_ca, ca); });
  f1.get();
  f2.get();
  f3.get();
  f4.get();
  for (auto* v : {&kinds, &identity, &gateway, &ca}) {
    out.insert(out.end(), v->begin(), v->end());
  }
  return result;
}

} // namespace meshctl::mesh

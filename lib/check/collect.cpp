// The collector. Per cluster:
//   0. GET /version (reachability and latency), then discovery. A cluster that does not answer, or
//      rejects the credentials, is recorded as such and nothing else is asked of it.
//   1. in parallel: istio-system, istiod (Deployment, pods, injector values, mesh config),
//      cacerts, istio-ca-root-cert, remote secrets, gateway Services, Nodes, Istio Gateways, the
//      Service, DestinationRules, the pods of the service's namespace;
//   2. in parallel: gateway pods (then, where the service runs, a gateway's 15443 listeners),
//      istiod's /debug/clusterz, every remote secret's token against its API server, the client
//      pod's /clusters and EDS dump.
// Then, for the whole mesh, every gateway hostname (a LoadBalancer's ingress hostname) is resolved
// where verify runs, to say what it resolves to here (istiod resolves it on its own).
// Reads that fail are recorded under a name in ClusterFacts::errors, so checks can tell "absent"
// from "not readable". Secrets are decoded here and only their public parts kept (facts.hpp).

#include "check/collect.hpp"

#include "check/collect_run.hpp"
#include "check/resolve.hpp"
#include "check/views.hpp"
#include "core/base64.hpp"
#include "core/fanout.hpp"
#include "core/log.hpp"
#include "envoy/pod_source.hpp"
#include "kube/istio_api.hpp"
#include "mesh/istiod.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <future>
#include <mutex>
#include <set>

namespace meshctl::check {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

using namespace detail;

// --- 0. reachability -------------------------------------------------------------------------

bool reach(ClusterRun& run) {
  auto& f = run.facts;
  kube::Request req;
  req.path = "/version";
  const auto t0 = Clock::now();
  auto r = run.client.send(req);
  const auto t1 = Clock::now();
  if (!r) {
    if (r.error().http_status == 0 || r.error().unauthorized()) { // no answer, or no credentials
      f.reachable = false;
      f.connect_error = read_error(r.error());
      return false;
    }
    // Some servers forbid /version; discovery below decides.
  } else {
    f.latency_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    try {
      f.server_version = str(json::parse(r->body), "gitVersion");
    } catch (const json::exception&) {
    }
  }
  auto d = run.client.discovery();
  if (!d) {
    if (d.error().http_status == 0 || d.error().unauthorized()) {
      f.reachable = false;
      f.connect_error = read_error(d.error());
      return false;
    }
    f.reachable = true;
    run.note("discovery", read_error(d.error()));
    return true;
  }
  f.reachable = true;
  for (const char* kind : {"Gateway", "DestinationRule", "VirtualService", "ServiceEntry"}) {
    if (auto info = (*d)->find(kube::k_istio_networking_group, "", kind)) {
      f.istio_kinds[kind] = info->api_version();
    }
  }
  // Gateway and DestinationRule are read at the version join and expose write them at. Without
  // one (Istio too old), they are read at the preferred version and checks_istio says why.
  if (auto api = kube::choose_istio_api(**d, f.name)) {
    for (const auto kind : kube::k_istio_kinds) {
      f.istio_kinds[std::string(kind)] = api->api_version();
    }
  }
  return true;
}

// --- 1. objects --------------------------------------------------------------------------------

// istiod is found by its labels (app=istiod, istio.io/rev), never by the name `istiod`: a cluster
// may run istiod-1-24 only, or several revisions at once. The revision is the configured one or
// the only one (mesh/istiod.hpp); its ConfigMaps carry its suffix.
void read_istiod(ClusterRun& run) {
  kube::ListOptions by_app;
  by_app.label_selector = "app=istiod";
  auto deployments =
      run.list("istiod", {"apps", "v1", "deployments", std::string(k_istio_ns), "", ""}, by_app);
  if (!deployments) {
    return;
  }
  std::vector<std::string> revisions;
  for (const auto& d : *deployments) {
    const auto rev = mesh::revision_of(d);
    if (std::find(revisions.begin(), revisions.end(), rev) == revisions.end()) {
      revisions.push_back(rev);
    }
  }
  std::sort(revisions.begin(), revisions.end());
  const auto configured = run.facts.configured_revision.empty()
                              ? std::optional<std::string>()
                              : std::optional(run.facts.configured_revision);
  auto picked = mesh::pick_revision(*deployments, configured, run.facts.name);
  {
    std::lock_guard lock(run.mu);
    run.facts.istiod_revisions = revisions;
    if (!picked && !deployments->empty()) {
      run.facts.revision_error = read_error(picked.error());
    }
  }
  if (!picked) {
    return; // none installed (istiod.missing), or no revision to pick (revision_error)
  }
  IstiodFacts i;
  i.revision = picked->revision;
  for (auto& d : *deployments) {
    if (str(member(d, "metadata"), "name") == picked->deployment) {
      i.deployment = std::move(d);
    }
  }
  if (auto pods =
          run.list("istiod pods", {"", "v1", "pods", std::string(k_istio_ns), "", ""}, by_app)) {
    for (auto& p : *pods) {
      if (mesh::revision_of(p) == i.revision) {
        i.pods.push_back(std::move(p));
      }
    }
  }
  std::string values;
  std::string mesh;
  // The identity (mesh ID, network) comes from these two; a failure to read them must not hide
  // what was read of the Deployment and its pods.
  if (auto cm = run.get("istiod config", {"", "v1", "configmaps", std::string(k_istio_ns),
                                          picked->injector_configmap(), ""});
      cm && cm->is_object()) {
    values = str(member(*cm, "data"), "values");
  }
  if (auto cm = run.get("istiod config", {"", "v1", "configmaps", std::string(k_istio_ns),
                                          picked->mesh_configmap(), ""})) {
    i.mesh_config_read = true;
    if (cm->is_object()) {
      mesh = str(member(*cm, "data"), "mesh");
      i.mesh_networks = str(member(*cm, "data"), "meshNetworks");
    }
  }
  fill_istiod_identity(i, values, mesh);
  std::lock_guard lock(run.mu);
  run.facts.istiod = std::move(i);
}

void read_cacerts(ClusterRun& run) {
  auto r = run.client.get({"", "v1", "secrets", std::string(k_istio_ns), "cacerts", ""});
  if (!r) {
    if (!r.error().not_found()) {
      run.note("cacerts", read_error(r.error()));
    }
    return;
  }
  CacertsFacts ca;
  const json& data = member(*r, "data");
  if (data.is_object()) {
    for (const auto& [k, v] : data.items()) {
      ca.keys.push_back(k);
      if (k == "ca-key.pem" || !v.is_string()) {
        continue; // never decoded, never kept
      }
      const auto pem = meshctl::base64_decode(v.get<std::string>());
      if (!pem) {
        continue;
      }
      if (k == "root-cert.pem") {
        ca.root_cert = *pem;
      } else if (k == "ca-cert.pem") {
        ca.ca_cert = *pem;
      } else if (k == "cert-chain.pem") {
        ca.cert_chain = *pem;
      }
    }
  }
  std::sort(ca.keys.begin(), ca.keys.end());
  run.facts.cacerts = std::move(ca);
}

json trim_node(const json& node) {
  json out = {{"metadata", {{"name", str(member(node, "metadata"), "name")}}}};
  if (const json& labels = member(member(node, "metadata"), "labels"); labels.is_object()) {
    out["metadata"]["labels"] = labels;
  }
  if (const json& a = member(member(node, "status"), "addresses"); a.is_array()) {
    out["status"]["addresses"] = a;
  }
  return out;
}

bool exposes_passthrough(const json& gateway) {
  const json& servers = member(member(gateway, "spec"), "servers");
  if (!servers.is_array()) {
    return false;
  }
  return std::any_of(servers.begin(), servers.end(), [](const json& s) {
    const json& n = member(member(s, "port"), "number");
    return (n.is_number() && n.get<int>() == 15443) ||
           str(member(s, "tls"), "mode") == "AUTO_PASSTHROUGH";
  });
}

// Only called for kinds in istio_kinds (the callers check).
kube::ResourceRef istio_ref(const ClusterFacts& f, const std::string& kind,
                            const std::string& plural) {
  const auto [group, version] = kube::split_api_version(f.istio_kinds.at(kind));
  return {group, version, plural, "", "", ""};
}

void phase_objects(ClusterRun& run) {
  auto& f = run.facts;
  const std::string ns = run.options.service.namespace_;
  const std::string host = run.options.service.name + "." + ns + ".svc.cluster.local";
  Tasks tasks;
  tasks.add([&] {
    if (auto n = run.get("istio-system namespace",
                         {"", "v1", "namespaces", "", std::string(k_istio_ns), ""})) {
      f.istio_system_namespace = std::move(*n);
    }
  });
  tasks.add([&] { read_istiod(run); });
  tasks.add([&] { read_cacerts(run); });
  tasks.add([&] { read_remote_secrets(run); });
  tasks.add([&] {
    kube::ListOptions opts;
    opts.label_selector = std::string(k_network_label);
    if (auto s = run.list("gateway-services", {"", "v1", "services", "", "", ""}, opts)) {
      f.gateway_services = std::move(*s);
    }
  });
  tasks.add([&] {
    if (auto n = run.list("nodes", {"", "v1", "nodes", "", "", ""})) {
      for (const auto& node : *n) {
        f.nodes.push_back(trim_node(node));
      }
    }
  });
  tasks.add([&] {
    if (!f.istio_kinds.contains("Gateway")) {
      return;
    }
    if (auto g = run.list("gateways", istio_ref(f, "Gateway", "gateways"))) {
      for (auto& gw : *g) {
        if (exposes_passthrough(gw)) {
          f.gateways.push_back(std::move(gw));
        }
      }
    }
  });
  if (run.options.mesh_only) {
    tasks.wait();
    return; // nothing about a service
  }
  tasks.add([&] {
    auto cm = run.get("root-configmap", {"", "v1", "configmaps", ns, "istio-ca-root-cert", ""});
    if (cm && cm->is_object()) {
      f.root_configmap = str(member(*cm, "data"), "root-cert.pem");
    }
  });
  tasks.add([&] {
    if (auto s = run.get("service", {"", "v1", "services", ns, run.options.service.name, ""})) {
      f.service = std::move(*s);
    }
  });
  tasks.add([&] {
    if (!f.istio_kinds.contains("DestinationRule")) {
      return;
    }
    if (auto d =
            run.list("destination-rules", istio_ref(f, "DestinationRule", "destinationrules"))) {
      for (auto& dr : *d) {
        if (destination_rule_selects(str(member(dr, "spec"), "host"),
                                     str(member(dr, "metadata"), "namespace"), host)) {
          f.destination_rules.push_back(std::move(dr));
        }
      }
    }
  });
  tasks.add([&] {
    if (auto p = run.list("service pods", {"", "v1", "pods", ns, "", ""})) {
      run.namespace_pods = std::move(*p);
    }
  });
  tasks.wait();
  for (const auto& p : run.namespace_pods) {
    if (selector_matches(member(member(f.service, "spec"), "selector"),
                         member(member(p, "metadata"), "labels"))) {
      f.workloads.push_back(p);
    }
  }
}

// --- 2. pods, clusterz, tokens, dumps --------------------------------------------------------

DumpFacts dump(kube::Client& client, const std::string& ns, const std::string& pod,
               std::string_view path, std::chrono::milliseconds timeout) {
  DumpFacts d;
  d.namespace_ = ns;
  d.pod = pod;
  d.path = std::string(path);
  envoy::PodDumpSource source(client, ns, pod, timeout);
  auto bytes = source.get(d.path);
  if (bytes) {
    d.bytes = std::make_shared<const envoy::DumpBytes>(std::move(*bytes));
  } else {
    d.error = read_error(bytes.error());
  }
  return d;
}

void read_gateways(ClusterRun& run) {
  auto& f = run.facts;
  std::vector<json> pods;
  for (const auto& svc : f.gateway_services) {
    const std::string sel = selector_string(member(member(svc, "spec"), "selector"));
    if (sel.empty()) {
      continue;
    }
    kube::ListOptions opts;
    opts.label_selector = sel;
    const std::string ns = str(member(svc, "metadata"), "namespace");
    if (auto p = run.list("gateway-pods", {"", "v1", "pods", ns, "", ""}, opts)) {
      for (auto& pod : *p) {
        const bool seen = std::any_of(pods.begin(), pods.end(), [&](const json& x) {
          return object_name(x) == object_name(pod);
        });
        if (!seen) {
          pods.push_back(std::move(pod));
        }
      }
    }
  }
  {
    std::lock_guard lock(run.mu);
    f.gateway_pods = std::move(pods);
  }
  if (f.workloads.empty()) {
    return; // only clusters running the service must route it on 15443
  }
  std::vector<GatewayDumpFacts> dumps;
  for (const auto& svc : f.gateway_services) {
    const std::string ns = str(member(svc, "metadata"), "namespace");
    if (label_of(svc, k_network_label) != f.network) {
      continue;
    }
    std::vector<const json*> ready;
    for (const auto& pod : f.gateway_pods) {
      if (str(member(pod, "metadata"), "namespace") == ns && pod_ready(pod) && has_proxy(pod) &&
          selector_matches(member(member(svc, "spec"), "selector"),
                           member(member(pod, "metadata"), "labels"))) {
        ready.push_back(&pod);
      }
    }
    if (ready.empty()) {
      continue;
    }
    std::sort(ready.begin(), ready.end(),
              [](const json* a, const json* b) { return object_name(*a) < object_name(*b); });
    GatewayDumpFacts g;
    g.service = object_name(svc);
    g.listeners = dump(run.client, ns, str(member(*ready.front(), "metadata"), "name"),
                       envoy::k_listeners_path, run.options.exec_timeout);
    dumps.push_back(std::move(g));
  }
  f.gateway_dumps = std::move(dumps);
}

void read_clusterz(ClusterRun& run) {
  auto& f = run.facts;
  if (!f.istiod) {
    return;
  }
  std::vector<const json*> ready;
  for (const auto& p : f.istiod->pods) {
    if (pod_ready(p)) {
      ready.push_back(&p);
    }
  }
  if (ready.empty()) {
    return;
  }
  std::sort(ready.begin(), ready.end(),
            [](const json* a, const json* b) { return object_name(*a) < object_name(*b); });
  f.clusterz_pod = str(member(*ready.front(), "metadata"), "name");
  auto r = run.client.proxy_get(k_istio_ns, f.clusterz_pod, 15014, "/debug/clusterz");
  if (!r) {
    run.note("clusterz", read_error(r.error()));
    return;
  }
  try {
    const json j = json::parse(r->body);
    std::vector<ClusterzEntry> entries;
    for (const auto& e : j.is_array() ? j : json::array()) {
      entries.push_back({str(e, "id"), str(e, "secretName"), str(e, "syncStatus")});
    }
    f.clusterz = std::move(entries);
  } catch (const json::exception& e) {
    run.note("clusterz",
             {std::string("istiod's /debug/clusterz is not JSON: ") + e.what(), "", 0, false});
  }
}

void pick_and_dump_client(ClusterRun& run) {
  auto& f = run.facts;
  const auto& opt = run.options;
  std::optional<ClientFacts> client;
  if (!opt.from.empty()) {
    auto [pod, ns] = envoy::split_pod_name(opt.from, opt.service.namespace_);
    auto r = run.client.get({"", "v1", "pods", ns, pod, ""});
    if (r) {
      client = ClientFacts{ns, pod, "--from", {}, {}, {}, {}};
    } else if (!r.error().not_found()) {
      run.note("client", read_error(r.error()));
      return;
    }
  }
  if (!client) {
    if (const json* p = pick_client(run.namespace_pods, f.service)) {
      client = ClientFacts{
          opt.service.namespace_, str(member(*p, "metadata"), "name"), "auto", {}, {}, {}, {}};
    }
  }
  if (!client) {
    return;
  }
  DumpFacts status;
  DumpFacts eds;
  Tasks tasks;
  tasks.add([&] {
    status = dump(run.client, client->namespace_, client->pod, envoy::k_cluster_status_path,
                  opt.exec_timeout);
  });
  tasks.add([&] {
    eds = dump(run.client, client->namespace_, client->pod, envoy::k_eds_path, opt.exec_timeout);
  });
  tasks.wait();
  client->cluster_status = std::move(status);
  client->eds = std::move(eds);
  f.client = std::move(client);
}

void phase_dependent(ClusterRun& run) {
  Tasks tasks;
  tasks.add([&] { read_gateways(run); });
  tasks.add([&] { read_clusterz(run); });
  if (!run.options.mesh_only) {
    tasks.add([&] { pick_and_dump_client(run); });
  }
  for (auto& s : run.facts.remote_secrets) {
    for (auto& k : s.kubeconfigs) {
      tasks.add([&run, &s, &k] { check_token(run, s, k); });
    }
  }
  tasks.wait();
}

ClusterFacts collect_cluster(const mesh::Session& session, const config::ClusterConfig& cfg,
                             kube::Client& client, const CollectOptions& options) {
  ClusterFacts f;
  f.name = cfg.name;
  f.context = cfg.context;
  f.network = cfg.network;
  f.server = client.context().cluster.server;
  f.api_server = cfg.api_server.value_or("");
  f.configured_revision = session.config.revision_for(cfg).value_or("");
  f.gateway_addresses = cfg.gateway.addresses;
  f.gateway_port = cfg.gateway.port;
  ClusterRun run{f, client, session, options, {}, {}, {}};
  const auto t0 = Clock::now();
  log::status(cfg.name, "connecting");
  if (!reach(run)) {
    log::info("{}: not reachable", cfg.name);
    log::status(cfg.name, "not reachable");
    return f;
  }
  log::status(cfg.name, "reading objects");
  phase_objects(run);
  log::status(cfg.name, run.options.mesh_only ? "reading istiod and tokens"
                                              : "reading Envoy's configuration");
  phase_dependent(run);
  const auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  log::info("{}: facts read in {} ms", cfg.name, took);
  log::status(cfg.name, fmt::format("read in {} ms", took));
  return f;
}

} // namespace

void fill_istiod_identity(IstiodFacts& istiod, const std::string& injector_values,
                          const std::string& mesh_config) {
  istiod.cluster_id.clear();
  istiod.version = mesh::istiod_version(istiod.deployment);
  const json& containers =
      member(member(member(member(istiod.deployment, "spec"), "template"), "spec"), "containers");
  for (const auto& c : containers.is_array() ? containers : json::array()) {
    const json& env = member(c, "env");
    for (const auto& e : env.is_array() ? env : json::array()) {
      if (str(e, "name") == "CLUSTER_ID" && istiod.cluster_id.empty()) {
        istiod.cluster_id = str(e, "value");
      }
    }
  }
  if (istiod.cluster_id.empty()) {
    istiod.cluster_id = "Kubernetes"; // istiod's default when clusterName is unset
  }
  try {
    const json values = json::parse(injector_values.empty() ? "{}" : injector_values);
    istiod.mesh_id = str(member(values, "global"), "meshID");
    istiod.network = str(member(values, "global"), "network");
  } catch (const json::exception&) {
  }
  // istiod's defaults for what the mesh config leaves out (meshconfig.DefaultMeshConfig).
  istiod.trust_domain = "cluster.local";
  istiod.trust_domain_aliases.clear();
  istiod.mesh_config_mesh_id.clear();
  if (!mesh_config.empty()) {
    try {
      const auto m = YAML::Load(mesh_config);
      if (m.IsMap()) {
        if (m["defaultConfig"] && m["defaultConfig"].IsMap() && m["defaultConfig"]["meshId"] &&
            m["defaultConfig"]["meshId"].IsScalar()) {
          istiod.mesh_config_mesh_id = m["defaultConfig"]["meshId"].as<std::string>();
        }
        if (m["trustDomain"] && m["trustDomain"].IsScalar() &&
            !m["trustDomain"].as<std::string>().empty()) {
          istiod.trust_domain = m["trustDomain"].as<std::string>();
        }
        if (m["trustDomainAliases"] && m["trustDomainAliases"].IsSequence()) {
          for (const auto& a : m["trustDomainAliases"]) {
            if (a.IsScalar()) {
              istiod.trust_domain_aliases.push_back(a.as<std::string>());
            }
          }
        }
      }
    } catch (const YAML::Exception&) {
    }
  }
  if (istiod.mesh_id.empty()) {
    istiod.mesh_id = istiod.mesh_config_mesh_id;
  }
}

bool destination_rule_selects(const std::string& rule_host, const std::string& rule_namespace,
                              const std::string& host) {
  if (rule_host.empty()) {
    return false;
  }
  std::string h = rule_host;
  if (h.find('.') == std::string::npos && h != "*") {
    h += "." + rule_namespace + ".svc.cluster.local"; // short names are relative to the rule
  }
  if (h == "*" || h == host) {
    return true;
  }
  return h.starts_with("*.") && host.ends_with(h.substr(1));
}

const json* pick_client(const std::vector<json>& pods, const json& service) {
  const json* best = nullptr;
  bool best_is_service = true;
  for (const auto& p : pods) {
    if (!has_proxy(p) || !pod_ready(p) || str(member(p, "status"), "phase") != "Running") {
      continue;
    }
    const bool is_service = selector_matches(member(member(service, "spec"), "selector"),
                                             member(member(p, "metadata"), "labels"));
    const std::string name = str(member(p, "metadata"), "name");
    if (best == nullptr || (best_is_service && !is_service) ||
        (best_is_service == is_service && name < str(member(*best, "metadata"), "name"))) {
      best = &p;
      best_is_service = is_service;
    }
  }
  return best;
}

namespace {

// Every hostname a gateway is published as, resolved here: only to tell the user (resolve.hpp).
void lookup_gateway_hosts(MeshFacts& facts, std::chrono::milliseconds timeout) {
  std::set<std::string> names;
  for (const auto& c : facts.clusters) {
    for (const auto& g : gateway_views(c)) {
      for (const auto& a : g.addresses) {
        if (!is_ip_literal(a.address)) {
          names.insert(a.address);
        }
      }
    }
  }
  std::vector<std::pair<std::string, std::future<HostLookup>>> lookups;
  for (const auto& n : names) {
    const auto bound = std::min<std::chrono::milliseconds>(std::chrono::seconds(3), timeout);
    lookups.emplace_back(
        n, std::async(std::launch::async, [n, bound] { return lookup_host(n, bound); }));
  }
  for (auto& [n, f] : lookups) {
    facts.host_lookups[n] = f.get();
  }
}

} // namespace

MeshFacts collect_facts(const mesh::Session& session,
                        std::vector<std::unique_ptr<kube::Client>>& clients,
                        const CollectOptions& options) {
  MeshFacts facts;
  facts.mesh_id = session.config.mesh_id;
  facts.trust_domain = session.config.trust_domain;
  facts.service = options.service.name;
  facts.namespace_ = options.service.namespace_;
  facts.from = options.from;
  facts.collected_at =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  std::vector<std::string> names;
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < session.clusters.size(); ++i) {
    names.push_back(session.clusters[i].name);
    index[session.clusters[i].name] = i;
  }
  for (const auto* c : mesh_clusters(session)) {
    facts.mesh_clusters.push_back(c->name);
    if (!index.contains(c->name) && c->api_server) {
      facts.unchecked_api_servers[c->name] = *c->api_server;
    }
  }
  if (options.on_start) {
    MeshFacts known = facts;
    for (const auto& n : names) {
      ClusterFacts c;
      c.name = n;
      known.clusters.push_back(std::move(c));
    }
    options.on_start(known);
  }
  auto results = for_each_cluster(names, [&](const std::string& name) {
    const std::size_t i = index.at(name);
    return collect_cluster(session, session.clusters[i], *clients[i], options);
  });
  for (auto& r : results) {
    facts.clusters.push_back(std::move(r.value));
  }
  lookup_gateway_hosts(facts, options.timeout);
  digest(facts);
  return facts;
}

} // namespace meshctl::check

#include "check/facts.hpp"

#include "config/kubeconfig.hpp"
#include "core/json.hpp"
#include "core/try.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>

namespace meshctl::check {

using nlohmann::json;

std::string MeshFacts::host() const {
  return service + "." + namespace_ + ".svc.cluster.local";
}

const ClusterFacts* MeshFacts::find(const std::string& cluster) const {
  for (const auto& c : clusters) {
    if (c.name == cluster) {
      return &c;
    }
  }
  return nullptr;
}

std::vector<std::string> MeshFacts::mesh_names() const {
  if (!mesh_clusters.empty()) {
    return mesh_clusters;
  }
  std::vector<std::string> out;
  for (const auto& c : clusters) {
    out.push_back(c.name);
  }
  return out;
}

std::string MeshFacts::configured_api_server(const std::string& cluster) const {
  if (const ClusterFacts* c = find(cluster)) {
    return c->api_server;
  }
  const auto it = unchecked_api_servers.find(cluster);
  return it == unchecked_api_servers.end() ? std::string() : it->second;
}

std::vector<std::string> MeshFacts::unchecked() const {
  std::vector<std::string> out;
  for (const auto& n : mesh_clusters) {
    if (find(n) == nullptr) {
      out.push_back(n);
    }
  }
  return out;
}

std::string format_time(std::chrono::sys_seconds t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", t);
}

std::optional<std::chrono::sys_seconds> parse_time(const std::string& text) {
  auto tp = config::parse_rfc3339(text);
  if (!tp) {
    return std::nullopt;
  }
  return std::chrono::time_point_cast<std::chrono::seconds>(*tp);
}

json strip_object(json object) {
  if (!object.is_object()) {
    return object;
  }
  if (object.contains("metadata") && object["metadata"].is_object()) {
    object["metadata"].erase("managedFields");
  }
  if (object.value("kind", "") == "Secret") {
    for (const char* field : {"data", "stringData"}) {
      if (object.contains(field) && object[field].is_object()) {
        for (auto& [k, v] : object[field].items()) {
          v = "<redacted>";
        }
      }
    }
  }
  return object;
}

// ---------------------------------------------------------------------------------------------
// Digest

namespace {

bool is_service_cluster(std::string_view name, std::string_view host) {
  // outbound|<port>|<subset>|<host>
  return name.starts_with("outbound|") && name.size() > host.size() + 1 && name.ends_with(host) &&
         name[name.size() - host.size() - 1] == '|';
}

void digest_gateway(GatewayDumpFacts& g) {
  g.routes.clear();
  g.parse_error.clear();
  if (!g.listeners.bytes) {
    return;
  }
  auto routes = envoy::sni_routes(*g.listeners.bytes, envoy::k_cross_network_port);
  if (!routes) {
    g.parse_error = routes.error().what();
    return;
  }
  g.routes = std::move(*routes);
}

void digest_client(ClientFacts& c, const std::string& host) {
  c.endpoints.clear();
  c.parse_error.clear();
  // EDS first: it carries istio.workload (";;;;<cluster>" marks a gateway endpoint) and weights.
  std::map<std::string, std::map<std::string, envoy::EndpointView>> eds; // cluster -> address
  if (c.eds.bytes) {
    auto configs = envoy::read_endpoint_configs(*c.eds.bytes);
    if (!configs) {
      c.parse_error = configs.error().what();
    } else {
      for (const auto& cla : *configs) {
        if (!is_service_cluster(cla.cluster_name, host)) {
          continue;
        }
        auto& m = eds[cla.cluster_name];
        for (auto& v : envoy::cluster_endpoints(*configs, cla.cluster_name)) {
          m[v.address] = std::move(v);
        }
      }
    }
  }
  if (c.cluster_status.bytes) {
    auto statuses = envoy::read_cluster_statuses(*c.cluster_status.bytes);
    if (!statuses) {
      c.parse_error += (c.parse_error.empty() ? "" : "; ") + statuses.error().what();
    } else {
      for (const auto& s : *statuses) {
        if (!is_service_cluster(s.name, host)) {
          continue;
        }
        auto views = envoy::cluster_endpoints(*statuses, s.name);
        const auto e = eds.find(s.name);
        for (auto& v : views) {
          if (e == eds.end()) {
            continue;
          }
          const auto m = e->second.find(v.address);
          if (m != e->second.end()) {
            v.workload = m->second.workload;
            if (v.locality.empty()) {
              v.locality = m->second.locality;
            }
          }
        }
        c.endpoints[s.name] = std::move(views);
      }
      return;
    }
  }
  // No /clusters answer: the EDS view alone (no health of outlier detection, but priorities).
  for (auto& [cluster, m] : eds) {
    auto& out = c.endpoints[cluster];
    for (auto& [address, v] : m) {
      out.push_back(v);
    }
  }
}

} // namespace

void digest(MeshFacts& facts) {
  const std::string host = facts.host();
  for (auto& c : facts.clusters) {
    for (auto& g : c.gateway_dumps) {
      digest_gateway(g);
    }
    if (c.client) {
      digest_client(*c.client, host);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// JSON

namespace {

// Optional fields are left out of facts.json when empty.
void put_nonempty(json& j, const char* key, const std::string& value) {
  if (!value.empty()) {
    j[key] = value;
  }
}

json error_json(const ReadError& e) {
  json j = {{"message", e.message}};
  put_nonempty(j, "hint", e.hint);
  if (e.http_status != 0) {
    j["httpStatus"] = e.http_status;
  }
  if (e.unreachable) {
    j["unreachable"] = true;
  }
  return j;
}

ReadError error_from(const json& j) {
  ReadError e;
  e.message = j.value("message", "");
  e.hint = j.value("hint", "");
  e.http_status = j.value("httpStatus", 0);
  e.unreachable = j.value("unreachable", false);
  return e;
}

json opt_error(const std::optional<ReadError>& e) {
  return e ? error_json(*e) : json(nullptr);
}

std::optional<ReadError> opt_error_from(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) {
    return std::nullopt;
  }
  return error_from(j[key]);
}

json objects(const std::vector<json>& v) {
  return json(v);
}

std::vector<json> objects_from(const json& j, const char* key) {
  const json& items = array_of(j, key);
  return {items.begin(), items.end()};
}

using DumpNamer = std::function<std::string(const ClusterFacts&, const DumpFacts&)>;
using DumpReader = std::function<Result<envoy::DumpBytes>(const std::string&)>;

json dump_json(const ClusterFacts& c, const DumpFacts& d, const DumpNamer& namer) {
  json j = {{"namespace", d.namespace_}, {"pod", d.pod}, {"path", d.path}};
  if (d.bytes) {
    j["file"] = namer(c, d);
  }
  if (d.error) {
    j["error"] = error_json(*d.error);
  }
  return j;
}

Result<DumpFacts> dump_from(const json& j, const DumpReader& reader) {
  DumpFacts d;
  d.namespace_ = j.value("namespace", "");
  d.pod = j.value("pod", "");
  d.path = j.value("path", "");
  d.error = opt_error_from(j, "error");
  if (j.contains("file") && j["file"].is_string()) {
    TRY_ASSIGN(auto bytes, reader(j["file"].get<std::string>()));
    d.bytes = std::make_shared<const envoy::DumpBytes>(std::move(bytes));
  }
  return d;
}

json token_check_json(const TokenCheck& t) {
  json access = json::array();
  for (const auto& a : t.access) {
    json x = {{"verb", a.verb},
              {"resource", a.resource},
              {"wantAllowed", a.want_allowed},
              {"allowed", a.allowed}};
    put_nonempty(x, "namespace", a.namespace_);
    put_nonempty(x, "detail", a.detail);
    if (a.unanswered) {
      x["unanswered"] = true;
      x["httpStatus"] = a.http_status;
    }
    access.push_back(std::move(x));
  }
  return {{"via", t.via},
          {"accepted", t.accepted},
          {"error", opt_error(t.error)},
          {"access", std::move(access)}};
}

TokenCheck token_check_from(const json& j) {
  TokenCheck t;
  t.via = j.value("via", "");
  t.accepted = j.value("accepted", false);
  t.error = opt_error_from(j, "error");
  for (const auto& x : j.value("access", json::array())) {
    AccessCheck a;
    a.verb = x.value("verb", "");
    a.resource = x.value("resource", "");
    a.namespace_ = x.value("namespace", "");
    a.want_allowed = x.value("wantAllowed", true);
    a.allowed = x.value("allowed", false);
    a.detail = x.value("detail", "");
    a.unanswered = x.value("unanswered", false);
    a.http_status = x.value("httpStatus", 0);
    t.access.push_back(std::move(a));
  }
  return t;
}

json remote_secret_json(const RemoteSecretFacts& s) {
  json kcs = json::array();
  for (const auto& k : s.kubeconfigs) {
    json x = {{"key", k.key},
              {"server", k.server},
              {"clusterName", k.cluster_name},
              {"contextName", k.context_name},
              {"userName", k.user_name},
              {"caPem", k.ca_pem},
              {"hasToken", k.has_token},
              {"token", k.has_token ? "<redacted>" : ""}};
    put_nonempty(x, "tlsServerName", k.tls_server_name);
    put_nonempty(x, "parseError", k.parse_error);
    if (k.token_check) {
      x["tokenCheck"] = token_check_json(*k.token_check);
    }
    kcs.push_back(std::move(x));
  }
  return {{"name", s.name},
          {"namespace", s.namespace_},
          {"type", s.type},
          {"labels", s.labels},
          {"annotations", s.annotations},
          {"keys", s.keys},
          {"kubeconfigs", std::move(kcs)}};
}

RemoteSecretFacts remote_secret_from(const json& j) {
  RemoteSecretFacts s;
  s.name = j.value("name", "");
  s.namespace_ = j.value("namespace", "");
  s.type = j.value("type", "");
  s.labels = j.value("labels", std::map<std::string, std::string>{});
  s.annotations = j.value("annotations", std::map<std::string, std::string>{});
  s.keys = j.value("keys", std::vector<std::string>{});
  for (const auto& x : j.value("kubeconfigs", json::array())) {
    RemoteKubeconfigFacts k;
    k.key = x.value("key", "");
    k.server = x.value("server", "");
    k.tls_server_name = x.value("tlsServerName", "");
    k.cluster_name = x.value("clusterName", "");
    k.context_name = x.value("contextName", "");
    k.user_name = x.value("userName", "");
    k.ca_pem = x.value("caPem", "");
    k.has_token = x.value("hasToken", false);
    k.parse_error = x.value("parseError", "");
    if (x.contains("tokenCheck") && x["tokenCheck"].is_object()) {
      k.token_check = token_check_from(x["tokenCheck"]);
    }
    s.kubeconfigs.push_back(std::move(k));
  }
  return s;
}

json cluster_json(const ClusterFacts& c, const DumpNamer& namer) {
  json j;
  j["name"] = c.name;
  j["context"] = c.context;
  j["network"] = c.network;
  j["server"] = c.server;
  j["apiServer"] = c.api_server;
  j["gatewayAddresses"] = c.gateway_addresses;
  j["gatewayPort"] = c.gateway_port;
  j["reachable"] = c.reachable;
  j["connectError"] = opt_error(c.connect_error);
  j["latencyMs"] = c.latency_ms;
  j["serverVersion"] = c.server_version;
  json errors = json::object();
  for (const auto& [k, e] : c.errors) {
    errors[k] = error_json(e);
  }
  j["errors"] = std::move(errors);
  j["istioKinds"] = c.istio_kinds;
  j["istioSystemNamespace"] = c.istio_system_namespace;
  j["configuredRevision"] = c.configured_revision;
  j["istiodRevisions"] = c.istiod_revisions;
  j["revisionError"] = opt_error(c.revision_error);
  if (c.istiod) {
    j["istiod"] = {{"deployment", c.istiod->deployment},
                   {"pods", objects(c.istiod->pods)},
                   {"revision", c.istiod->revision},
                   {"version", c.istiod->version},
                   {"clusterID", c.istiod->cluster_id},
                   {"meshID", c.istiod->mesh_id},
                   {"network", c.istiod->network},
                   {"meshConfigRead", c.istiod->mesh_config_read},
                   {"trustDomain", c.istiod->trust_domain},
                   {"trustDomainAliases", c.istiod->trust_domain_aliases},
                   {"meshConfigMeshID", c.istiod->mesh_config_mesh_id},
                   {"meshNetworks", c.istiod->mesh_networks}};
  } else {
    j["istiod"] = nullptr;
  }
  if (c.cacerts) {
    j["cacerts"] = {{"keys", c.cacerts->keys},
                    {"rootCert", c.cacerts->root_cert},
                    {"caCert", c.cacerts->ca_cert},
                    {"certChain", c.cacerts->cert_chain}};
  } else {
    j["cacerts"] = nullptr;
  }
  j["rootConfigMap"] = c.root_configmap ? json(*c.root_configmap) : json(nullptr);
  json secrets = json::array();
  for (const auto& s : c.remote_secrets) {
    secrets.push_back(remote_secret_json(s));
  }
  j["remoteSecrets"] = std::move(secrets);
  j["clusterzPod"] = c.clusterz_pod;
  if (c.clusterz) {
    json entries = json::array();
    for (const auto& e : *c.clusterz) {
      entries.push_back(
          {{"id", e.id}, {"secretName", e.secret_name}, {"syncStatus", e.sync_status}});
    }
    j["clusterz"] = std::move(entries);
  } else {
    j["clusterz"] = nullptr;
  }
  j["gatewayServices"] = objects(c.gateway_services);
  j["gatewayPods"] = objects(c.gateway_pods);
  j["nodes"] = objects(c.nodes);
  j["gateways"] = objects(c.gateways);
  j["service"] = c.service;
  j["workloads"] = objects(c.workloads);
  j["destinationRules"] = objects(c.destination_rules);
  json dumps = json::array();
  for (const auto& g : c.gateway_dumps) {
    dumps.push_back({{"service", g.service}, {"listeners", dump_json(c, g.listeners, namer)}});
  }
  j["gatewayDumps"] = std::move(dumps);
  if (c.client) {
    j["client"] = {{"namespace", c.client->namespace_},
                   {"pod", c.client->pod},
                   {"pickedBy", c.client->picked_by},
                   {"clusterStatus", dump_json(c, c.client->cluster_status, namer)},
                   {"eds", dump_json(c, c.client->eds, namer)}};
  } else {
    j["client"] = nullptr;
  }
  return j;
}

Result<ClusterFacts> cluster_from(const json& j, const DumpReader& reader) {
  ClusterFacts c;
  c.name = j.value("name", "");
  c.context = j.value("context", "");
  c.network = j.value("network", "");
  c.server = j.value("server", "");
  c.api_server = j.value("apiServer", "");
  c.gateway_addresses = j.value("gatewayAddresses", std::vector<std::string>{});
  c.gateway_port = j.value("gatewayPort", 15443);
  c.reachable = j.value("reachable", false);
  c.connect_error = opt_error_from(j, "connectError");
  c.latency_ms = j.value("latencyMs", 0.0);
  c.server_version = j.value("serverVersion", "");
  const json errors = j.value("errors", json::object()); // items() must not outlive it
  for (const auto& [k, e] : errors.items()) {
    c.errors[k] = error_from(e);
  }
  c.istio_kinds = j.value("istioKinds", std::map<std::string, std::string>{});
  c.istio_system_namespace = j.value("istioSystemNamespace", json(nullptr));
  if (j.contains("istiod") && j["istiod"].is_object()) {
    const auto& i = j["istiod"];
    IstiodFacts f;
    f.deployment = i.value("deployment", json(nullptr));
    f.pods = objects_from(i, "pods");
    f.revision = i.value("revision", "default");
    f.version = i.value("version", "");
    f.cluster_id = i.value("clusterID", "");
    f.mesh_id = i.value("meshID", "");
    f.network = i.value("network", "");
    f.mesh_config_read = i.value("meshConfigRead", false);
    f.trust_domain = i.value("trustDomain", "");
    f.trust_domain_aliases = i.value("trustDomainAliases", std::vector<std::string>{});
    f.mesh_config_mesh_id = i.value("meshConfigMeshID", "");
    f.mesh_networks = i.value("meshNetworks", "");
    c.istiod = std::move(f);
  }
  c.configured_revision = j.value("configuredRevision", "");
  c.istiod_revisions = j.value("istiodRevisions", std::vector<std::string>{});
  c.revision_error = opt_error_from(j, "revisionError");
  if (j.contains("cacerts") && j["cacerts"].is_object()) {
    const auto& x = j["cacerts"];
    c.cacerts = CacertsFacts{x.value("keys", std::vector<std::string>{}), x.value("rootCert", ""),
                             x.value("caCert", ""), x.value("certChain", "")};
  }
  if (j.contains("rootConfigMap") && j["rootConfigMap"].is_string()) {
    c.root_configmap = j["rootConfigMap"].get<std::string>();
  }
  for (const auto& s : j.value("remoteSecrets", json::array())) {
    c.remote_secrets.push_back(remote_secret_from(s));
  }
  c.clusterz_pod = j.value("clusterzPod", "");
  if (j.contains("clusterz") && j["clusterz"].is_array()) {
    std::vector<ClusterzEntry> entries;
    for (const auto& e : j["clusterz"]) {
      entries.push_back({e.value("id", ""), e.value("secretName", ""), e.value("syncStatus", "")});
    }
    c.clusterz = std::move(entries);
  }
  c.gateway_services = objects_from(j, "gatewayServices");
  c.gateway_pods = objects_from(j, "gatewayPods");
  c.nodes = objects_from(j, "nodes");
  c.gateways = objects_from(j, "gateways");
  c.service = j.value("service", json(nullptr));
  c.workloads = objects_from(j, "workloads");
  c.destination_rules = objects_from(j, "destinationRules");
  for (const auto& g : j.value("gatewayDumps", json::array())) {
    GatewayDumpFacts f;
    f.service = g.value("service", "");
    TRY_ASSIGN(f.listeners, dump_from(g.value("listeners", json::object()), reader));
    c.gateway_dumps.push_back(std::move(f));
  }
  if (j.contains("client") && j["client"].is_object()) {
    const auto& x = j["client"];
    ClientFacts f;
    f.namespace_ = x.value("namespace", "");
    f.pod = x.value("pod", "");
    f.picked_by = x.value("pickedBy", "");
    TRY_ASSIGN(f.cluster_status, dump_from(x.value("clusterStatus", json::object()), reader));
    TRY_ASSIGN(f.eds, dump_from(x.value("eds", json::object()), reader));
    c.client = std::move(f);
  }
  return c;
}

} // namespace

json facts_to_json(const MeshFacts& facts, const DumpNamer& dump_file) {
  json clusters = json::array();
  for (const auto& c : facts.clusters) {
    clusters.push_back(cluster_json(c, dump_file));
  }
  json lookups = json::object();
  for (const auto& [host, l] : facts.host_lookups) {
    lookups[host] = {{"addresses", l.addresses}, {"error", l.error}};
  }
  return {{"apiVersion", "meshctl.dev/v1alpha1"},
          {"kind", "VerifyFacts"},
          {"schemaVersion", facts.schema_version},
          {"meshID", facts.mesh_id},
          {"trustDomain", facts.trust_domain},
          {"service", facts.service},
          {"namespace", facts.namespace_},
          {"from", facts.from},
          {"collectedAt", format_time(facts.collected_at)},
          {"meshClusters", facts.mesh_names()},
          {"uncheckedAPIServers", facts.unchecked_api_servers},
          {"hostLookups", std::move(lookups)},
          {"clusters", std::move(clusters)}};
}

Result<MeshFacts> facts_from_json(const json& j, const DumpReader& read_dump) {
  try {
    if (!j.is_object() || j.value("kind", "") != "VerifyFacts") {
      return usage_error("not a verify bundle: facts.json has no kind VerifyFacts",
                         "pass a directory written by meshctl verify --save-bundle");
    }
    MeshFacts f;
    f.schema_version = j.value("schemaVersion", 0);
    if (f.schema_version != k_facts_schema_version) {
      return usage_error("the bundle's facts have schema version " +
                             std::to_string(f.schema_version) + "; this meshctl reads version " +
                             std::to_string(k_facts_schema_version),
                         "use the meshctl version that wrote the bundle");
    }
    f.mesh_id = j.value("meshID", "");
    f.trust_domain = j.value("trustDomain", "");
    f.service = j.value("service", "");
    f.namespace_ = j.value("namespace", "");
    f.from = j.value("from", "");
    const auto at = parse_time(j.value("collectedAt", ""));
    if (!at) {
      return usage_error("facts.json: collectedAt is not an RFC 3339 time");
    }
    f.collected_at = *at;
    // Absent in bundles of older meshctl versions: then every cluster of the bundle is the mesh.
    for (const auto& n : j.value("meshClusters", json::array())) {
      f.mesh_clusters.push_back(n.get<std::string>());
    }
    const json servers = j.value("uncheckedAPIServers", json::object());
    for (const auto& [n, server] : servers.items()) {
      f.unchecked_api_servers[n] = server.get<std::string>();
    }
    // Absent in bundles of older meshctl versions: no hostname was looked up. Held in a
    // variable: items() of a temporary would outlive it.
    const json lookups = j.value("hostLookups", json::object());
    for (const auto& [host, l] : lookups.items()) {
      HostLookup lookup;
      for (const auto& a : l.value("addresses", json::array())) {
        lookup.addresses.push_back(a.get<std::string>());
      }
      lookup.error = l.value("error", "");
      f.host_lookups[host] = std::move(lookup);
    }
    std::size_t i = 0;
    for (const auto& c : j.value("clusters", json::array())) {
      TRY_ASSIGN(auto cluster, context(cluster_from(c, read_dump),
                                       "facts.json: clusters[" + std::to_string(i) + "]"));
      f.clusters.push_back(std::move(cluster));
      ++i;
    }
    digest(f);
    return f;
  } catch (const json::exception& e) {
    return usage_error(std::string("facts.json: ") + e.what(),
                       "the bundle is damaged; write it again with --save-bundle");
  }
}

} // namespace meshctl::check

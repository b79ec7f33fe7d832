// istiod's reading of remote clusters, and the snapshot/answer split (see istiod.hpp).
//
// A remote secret's kubeconfig is used as istiod uses it (client-go): the current context's
// server, certificate-authority-data (or insecure-skip-tls-verify), tls-server-name, and a bearer
// token or client certificate. Exec plugins and file references are refused, as istiod refuses
// them. The sandbox names API servers <cluster>.kubesim.local (a name on kubesim's serving
// certificate, because remote secrets must not point at loopback); only kubesim can resolve it,
// to 127.0.0.1, and TLS is still verified against the secret's CA under that name.
//
// A remote is read with four lists (namespaces, services, pods, nodes) and the injector values
// (istio-system's ConfigMaps: istio-sidecar-injector, or istio-sidecar-injector-<rev> of a
// revision-only install), all of which istio-reader-clusterrole grants. A remote that never
// answered is "timeout" in /debug/clusterz and contributes nothing; once read, what was read is
// kept when a later read fails (an informer keeps its cache), and the cluster stays "synced".

#include "istiod.hpp"

#include "api.hpp"
#include "pki.hpp"

#include <curl/curl.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>

namespace kubesim::istiod {
namespace {

std::vector<json> copy_list(const Store& store, const std::string& gr, const std::string& ns) {
  std::vector<json> out;
  for (const json* o : store.list(gr, ns)) {
    out.push_back(*o);
  }
  return out;
}

/// What a remote secret's kubeconfig says about reaching the API server.
struct RemoteAccess {
  std::string server; ///< https://host:port
  std::string host;
  std::string port;
  std::string tls_server_name;
  std::string ca_pem;
  bool insecure = false;
  std::string token;
  std::string client_cert_pem;
  std::string client_key_pem;
};

std::optional<RemoteAccess> parse_kubeconfig(const std::string& text) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (!root.IsMap()) {
    return std::nullopt;
  }
  auto find_named = [&](const char* list, const std::string& name) -> YAML::Node {
    if (root[list] && root[list].IsSequence()) {
      for (const auto& e : root[list]) {
        if (e["name"] && e["name"].as<std::string>() == name) {
          return e;
        }
      }
    }
    return YAML::Node();
  };
  std::string ctx_name = root["current-context"] ? root["current-context"].as<std::string>() : "";
  if (ctx_name.empty() && root["contexts"] && root["contexts"].IsSequence() &&
      root["contexts"].size() == 1 && root["contexts"][0]["name"]) {
    ctx_name = root["contexts"][0]["name"].as<std::string>();
  }
  const YAML::Node ctx = find_named("contexts", ctx_name);
  if (!ctx || !ctx["context"]) {
    return std::nullopt;
  }
  const auto cluster_name =
      ctx["context"]["cluster"] ? ctx["context"]["cluster"].as<std::string>() : std::string();
  const auto user_name =
      ctx["context"]["user"] ? ctx["context"]["user"].as<std::string>() : std::string();
  const YAML::Node cluster = find_named("clusters", cluster_name);
  if (!cluster || !cluster["cluster"] || !cluster["cluster"]["server"]) {
    return std::nullopt;
  }
  const YAML::Node c = cluster["cluster"];
  RemoteAccess a;
  a.server = c["server"].as<std::string>();
  auto opt = [](const YAML::Node& n, const char* k) {
    return n && n[k] ? n[k].as<std::string>() : std::string();
  };
  a.tls_server_name = opt(c, "tls-server-name");
  a.insecure = opt(c, "insecure-skip-tls-verify") == "true";
  if (!opt(c, "certificate-authority").empty()) {
    return std::nullopt; // file references are refused
  }
  if (const std::string ca = opt(c, "certificate-authority-data"); !ca.empty()) {
    auto pem = base64_decode(ca);
    if (!pem) {
      return std::nullopt;
    }
    a.ca_pem = *pem;
  }
  const YAML::Node user = find_named("users", user_name);
  const YAML::Node u = user ? user["user"] : YAML::Node();
  if (u && (u["exec"] || u["auth-provider"] || u["tokenFile"] || u["client-certificate"] ||
            u["client-key"])) {
    return std::nullopt; // istiod refuses exec plugins and file references
  }
  a.token = opt(u, "token");
  if (const std::string cert = opt(u, "client-certificate-data"); !cert.empty()) {
    a.client_cert_pem = base64_decode(cert).value_or("");
    a.client_key_pem = base64_decode(opt(u, "client-key-data")).value_or("");
  }
  // https://host[:port][/]
  const std::string prefix = "https://";
  if (a.server.rfind(prefix, 0) != 0) {
    return std::nullopt;
  }
  std::string hostport = a.server.substr(prefix.size());
  hostport = hostport.substr(0, hostport.find('/'));
  if (!hostport.empty() && hostport[0] == '[') { // [v6]:port
    const auto close = hostport.find(']');
    a.host = hostport.substr(1, close - 1);
    a.port = close + 2 <= hostport.size() ? hostport.substr(close + 2) : "";
  } else {
    const auto colon = hostport.rfind(':');
    a.host = hostport.substr(0, colon);
    a.port = colon == std::string::npos ? "" : hostport.substr(colon + 1);
  }
  if (a.port.empty()) {
    a.port = "443";
  }
  if (a.host.empty()) {
    return std::nullopt;
  }
  return a;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), std::string::npos, suffix) == 0;
}

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

/// A connection to one remote API server (curl keeps it alive between reads).
class RemoteClient {
public:
  RemoteClient(RemoteAccess access, std::chrono::milliseconds timeout)
      : m_access(std::move(access)), m_timeout(timeout), m_curl(curl_easy_init()) {}
  ~RemoteClient() {
    if (m_curl != nullptr) {
      curl_easy_cleanup(m_curl);
    }
    if (m_headers != nullptr) {
      curl_slist_free_all(m_headers);
    }
    if (m_resolve != nullptr) {
      curl_slist_free_all(m_resolve);
    }
  }
  RemoteClient(const RemoteClient&) = delete;
  RemoteClient& operator=(const RemoteClient&) = delete;

  /// GET path; the status (0 when the request failed) and body.
  std::pair<long, std::string> get(const std::string& path) {
    if (m_curl == nullptr) {
      return {0, ""};
    }
    if (!m_configured) {
      configure();
    }
    // With tls-server-name, the URL names it (SNI and verification) and CONNECT_TO goes to the
    // server's host, as client-go's ServerName does.
    const std::string& url_host =
        m_access.tls_server_name.empty() ? m_access.host : m_access.tls_server_name;
    const bool v6 = url_host.find(':') != std::string::npos;
    const std::string url =
        "https://" + (v6 ? "[" + url_host + "]" : url_host) + ":" + m_access.port + path;
    std::string body;
    curl_easy_setopt(m_curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(m_curl, CURLOPT_WRITEDATA, &body);
    long status = 0;
    if (curl_easy_perform(m_curl) != CURLE_OK) {
      return {0, ""};
    }
    curl_easy_getinfo(m_curl, CURLINFO_RESPONSE_CODE, &status);
    return {status, body};
  }

private:
  void configure() {
    m_configured = true;
    curl_easy_setopt(m_curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(m_curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(m_curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(m_timeout.count()));
    curl_easy_setopt(m_curl, CURLOPT_TIMEOUT_MS, static_cast<long>(m_timeout.count()));
    curl_easy_setopt(m_curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(m_curl, CURLOPT_USERAGENT, "pilot-discovery/1.24.2 (kubesim istiod model)");
    m_headers = curl_slist_append(m_headers, "Accept: application/json");
    if (!m_access.token.empty()) {
      m_headers = curl_slist_append(m_headers, ("Authorization: Bearer " + m_access.token).c_str());
    }
    curl_easy_setopt(m_curl, CURLOPT_HTTPHEADER, m_headers);
    if (m_access.insecure) {
      curl_easy_setopt(m_curl, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(m_curl, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (!m_access.ca_pem.empty()) {
      curl_blob ca{m_access.ca_pem.data(), m_access.ca_pem.size(), CURL_BLOB_COPY};
      curl_easy_setopt(m_curl, CURLOPT_CAINFO_BLOB, &ca);
    }
    if (!m_access.client_cert_pem.empty()) {
      curl_blob cert{m_access.client_cert_pem.data(), m_access.client_cert_pem.size(),
                     CURL_BLOB_COPY};
      curl_blob key{m_access.client_key_pem.data(), m_access.client_key_pem.size(), CURL_BLOB_COPY};
      curl_easy_setopt(m_curl, CURLOPT_SSLCERT_BLOB, &cert);
      curl_easy_setopt(m_curl, CURLOPT_SSLCERTTYPE, "PEM");
      curl_easy_setopt(m_curl, CURLOPT_SSLKEY_BLOB, &key);
      curl_easy_setopt(m_curl, CURLOPT_SSLKEYTYPE, "PEM");
    }
    const std::string connect_host =
        ends_with(m_access.host, ".kubesim.local") ? "127.0.0.1" : m_access.host;
    if (!m_access.tls_server_name.empty()) {
      const bool v6 = connect_host.find(':') != std::string::npos;
      const std::string entry = m_access.tls_server_name + ":" + m_access.port + ":" +
                                (v6 ? "[" + connect_host + "]" : connect_host) + ":" +
                                m_access.port;
      m_resolve = curl_slist_append(m_resolve, entry.c_str());
      curl_easy_setopt(m_curl, CURLOPT_CONNECT_TO, m_resolve);
    } else if (connect_host != m_access.host) {
      const std::string entry = m_access.host + ":" + m_access.port + ":" + connect_host;
      m_resolve = curl_slist_append(m_resolve, entry.c_str());
      curl_easy_setopt(m_curl, CURLOPT_RESOLVE, m_resolve);
    }
  }

  RemoteAccess m_access;
  std::chrono::milliseconds m_timeout;
  CURL* m_curl = nullptr;
  curl_slist* m_headers = nullptr;
  curl_slist* m_resolve = nullptr;
  bool m_configured = false;
};

/// One registration (secret, cluster ID, kubeconfig): its client and what it last read.
struct RemoteState {
  std::timed_mutex mu;    ///< held by the one request reading the remote (client and read_at)
  std::mutex snapshot_mu; ///< guards what the others copy: ever_read, synced, objects
  std::unique_ptr<RemoteClient> client;
  bool valid = false;
  std::chrono::steady_clock::time_point read_at{};
  bool ever_read = false;
  bool synced = false;
  ClusterObjects objects;
};

/// What a proxy's answer uses of a remote: the last snapshot (snapshot_mu held by the caller).
RemoteCluster snapshot_of(const RemoteSecretEntry& entry, const RemoteState& st) {
  RemoteCluster rc;
  rc.id = entry.cluster_id;
  rc.secret_name = entry.secret_name;
  rc.synced = st.synced;
  if (st.synced) {
    rc.objects = st.objects;
  }
  return rc;
}

std::optional<std::vector<json>> list_items(RemoteClient& client, const std::string& path) {
  auto [status, body] = client.get(path);
  if (status != 200) {
    return std::nullopt;
  }
  try {
    json j = json::parse(body);
    std::vector<json> out;
    for (auto& item : j.value("items", json::array())) {
      out.push_back(std::move(item));
    }
    return out;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::string label_or_annotation(const json& obj, const std::string& key) {
  const json& md = obj.contains("metadata") ? obj["metadata"] : json::object();
  for (const char* field : {"annotations", "labels"}) {
    if (md.contains(field) && md[field].is_object() && md[field].contains(key) &&
        md[field][key].is_string()) {
      return md[field][key].get<std::string>();
    }
  }
  return {};
}

// "" for the default revision, "-<rev>" otherwise: the suffix of the ConfigMaps of the istiod
// serving `pod` (the revision in its istio.io/rev; a pod without one, or of a revision that is
// not installed, is served by the first istiod pod's revision).
std::string revision_suffix(const Store& store, const json& pod) {
  std::string rev = label_or_annotation(pod, "istio.io/rev");
  const auto suffix = [](const std::string& r) {
    return r.empty() || r == "default" ? std::string() : "-" + r;
  };
  if (!rev.empty() &&
      store.get("configmaps", "istio-system", "istio-sidecar-injector" + suffix(rev)) != nullptr) {
    return suffix(rev);
  }
  std::vector<std::string> revisions;
  for (const json* p : store.list("pods", "istio-system")) {
    if (is_istiod(*p)) {
      revisions.push_back(label_or_annotation(*p, "istio.io/rev"));
    }
  }
  std::sort(revisions.begin(), revisions.end());
  return revisions.empty() ? suffix(rev) : suffix(revisions.front());
}

// The injector values of a remote cluster: ConfigMap istio-sidecar-injector, else the first
// istio-sidecar-injector-<rev> (a revision-only install), from a list of istio-system's.
json remote_injector_values(const std::vector<json>& configmaps) {
  const json* best = nullptr;
  std::string best_name;
  for (const auto& cm : configmaps) {
    const std::string name = cm.value("metadata", json::object()).value("name", std::string());
    if (name != "istio-sidecar-injector" && name.rfind("istio-sidecar-injector-", 0) != 0) {
      continue;
    }
    if (best == nullptr || name == "istio-sidecar-injector" ||
        (best_name != "istio-sidecar-injector" && name < best_name)) {
      best = &cm;
      best_name = name;
    }
  }
  if (best == nullptr) {
    return nullptr;
  }
  try {
    return json::parse(best->value("data", json::object()).value("values", "null"));
  } catch (const json::exception&) {
    return nullptr;
  }
}

} // namespace

struct Istiod::Remotes {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<RemoteState>> states;
};

Istiod::Istiod(IstiodOptions options)
    : m_options(std::move(options)), m_remotes(std::make_unique<Remotes>()) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Istiod::~Istiod() = default;

std::optional<Snapshot> Istiod::prepare(const Store& store, const std::string& ns,
                                        const std::string& pod_name, int port,
                                        const std::string& path) const {
  const json* pod = store.get("pods", ns, pod_name);
  if (pod == nullptr) {
    return std::nullopt;
  }
  Snapshot s;
  const std::string route = path.substr(0, path.find('?'));
  if (port == 15000 && has_proxy(*pod)) {
    s.kind = Snapshot::Kind::k_envoy_admin;
  } else if (port == 15014 && is_istiod(*pod) &&
             (route == "/debug/clusterz" || route == "debug/clusterz")) {
    s.kind = Snapshot::Kind::k_clusterz;
  } else {
    return std::nullopt;
  }
  s.pod = *pod;
  s.path = path;
  MeshView& v = s.view;
  v.local.id =
      cluster_id_of(copy_list(store, "pods", "istio-system"), m_options.fallback_cluster_id);
  v.local.namespaces = copy_list(store, "namespaces", "");
  v.local.services = copy_list(store, "services", "");
  v.local.pods = copy_list(store, "pods", "");
  v.local.nodes = copy_list(store, "nodes", "");
  // The pod's istiod is the revision that injected it (istiod itself: its own revision); its
  // ConfigMaps carry the revision's suffix (istio-<rev>, istio-sidecar-injector-<rev>).
  const std::string suffix = revision_suffix(store, *pod);
  if (const json* cm = store.get("configmaps", "istio-system", "istio-sidecar-injector" + suffix)) {
    try {
      v.local.injector_values = json::parse(cm->value("data", json::object()).value("values", ""));
    } catch (const json::exception&) {
      v.local.injector_values = nullptr;
    }
  }
  if (const json* cm = store.get("configmaps", "istio-system", "istio" + suffix)) {
    v.mesh_config = yaml_text_to_json(cm->value("data", json::object()).value("mesh", ""));
    v.mesh_networks =
        yaml_text_to_json(cm->value("data", json::object()).value("meshNetworks", ""));
  }
  v.gateways = copy_list(store, "gateways.networking.istio.io", "");
  v.destination_rules = copy_list(store, "destinationrules.networking.istio.io", "");
  s.secrets = remote_secret_entries(copy_list(store, "secrets", "istio-system"), v.local.id);
  return s;
}

std::vector<RemoteCluster> Istiod::read_remotes(const std::vector<RemoteSecretEntry>& secrets) {
  std::vector<RemoteCluster> out;
  for (const auto& entry : secrets) {
    const std::string key = entry.secret_name + "\n" + entry.cluster_id + "\n" +
                            std::to_string(std::hash<std::string>{}(entry.kubeconfig));
    std::shared_ptr<RemoteState> st;
    {
      std::lock_guard lock(m_remotes->mu);
      auto& slot = m_remotes->states[key];
      if (!slot) {
        slot = std::make_shared<RemoteState>();
        if (auto access = parse_kubeconfig(entry.kubeconfig)) {
          slot->valid = true;
          slot->client = std::make_unique<RemoteClient>(std::move(*access), m_options.timeout);
        }
      }
      st = slot;
    }
    if (!st->valid) {
      continue; // istiod fails to build a client: the cluster is not registered
    }
    // One request at a time reads a remote; the others wait for that read, but at most a second:
    // then they answer from the last snapshot, as istiod serves xDS from what its informers last
    // saw and never blocks on a remote API server. Unbounded waits could tie up every server
    // thread of two kubesims reading each other (one reading, the rest waiting, while each read
    // needs a free thread on the other side) until the read times out and the snapshot stays
    // stale.
    std::unique_lock lock(st->mu, std::defer_lock);
    if (!lock.try_lock_for(std::chrono::seconds(1))) {
      std::lock_guard snap(st->snapshot_mu);
      out.push_back(snapshot_of(entry, *st));
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!st->ever_read || now - st->read_at >= m_options.cache_ttl) {
      ClusterObjects objs;
      objs.id = entry.cluster_id;
      auto namespaces = list_items(*st->client, "/api/v1/namespaces");
      auto services = namespaces ? list_items(*st->client, "/api/v1/services") : std::nullopt;
      auto pods = services ? list_items(*st->client, "/api/v1/pods") : std::nullopt;
      auto nodes = pods ? list_items(*st->client, "/api/v1/nodes") : std::nullopt;
      if (nodes) {
        objs.namespaces = std::move(*namespaces);
        objs.services = std::move(*services);
        objs.pods = std::move(*pods);
        objs.nodes = std::move(*nodes);
        // The default revision's injector in one GET; a revision-only install has none, and
        // its istio-sidecar-injector-<rev> is found in a list of istio-system's ConfigMaps.
        auto [status, body] =
            st->client->get("/api/v1/namespaces/istio-system/configmaps/istio-sidecar-injector");
        if (status == 200) {
          try {
            objs.injector_values = remote_injector_values({json::parse(body)});
          } catch (const json::exception&) {
            objs.injector_values = nullptr;
          }
        } else if (status == 404) {
          if (auto cms = list_items(*st->client, "/api/v1/namespaces/istio-system/configmaps")) {
            objs.injector_values = remote_injector_values(*cms);
          }
        }
        std::lock_guard snap(st->snapshot_mu);
        st->objects = std::move(objs);
        st->synced = true;
      }
      std::lock_guard snap(st->snapshot_mu);
      st->ever_read = true;
      st->read_at = std::chrono::steady_clock::now();
    }
    std::lock_guard snap(st->snapshot_mu);
    out.push_back(snapshot_of(entry, *st));
  }
  return out;
}

std::optional<std::string> Istiod::answer(Snapshot snapshot) {
  snapshot.view.remotes = read_remotes(snapshot.secrets);
  if (snapshot.kind == Snapshot::Kind::k_clusterz) {
    return debug_clusterz(snapshot.view);
  }
  return envoy_admin(snapshot.view, snapshot.pod, snapshot.path);
}

} // namespace kubesim::istiod

#include "chaos.hpp"

#include "core/base64.hpp"
#include "pki/cert.hpp"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

namespace meshctl::e2e {
namespace {

using nlohmann::json;

constexpr std::string_view k_managed = "app.kubernetes.io/managed-by";

bool managed(const json& object) {
  const auto& md = object.value("metadata", json::object());
  return md.value("labels", json::object()).value(std::string(k_managed), "") == "meshctl";
}

std::string name_of(const json& object) {
  const auto& md = object.value("metadata", json::object());
  return object.value("kind", "") + " " + md.value("namespace", "") + "/" + md.value("name", "");
}

// GET as the admin, faults or not (the checker runs between faulted steps with faults off).
json get(TestClusters& clusters, const std::string& cluster, const std::string& path) {
  auto [status, body] = clusters.sim(cluster).request("GET", path);
  if (status == 404) {
    return nullptr;
  }
  if (status != 200) {
    throw std::runtime_error("GET " + path + " in " + cluster + ": HTTP " + std::to_string(status) +
                             ": " + body);
  }
  return json::parse(body);
}

std::string decoded(const json& data, const std::string& key) {
  if (!data.is_object() || !data.contains(key) || !data[key].is_string()) {
    return {};
  }
  auto d = meshctl::base64_decode(data[key].get<std::string>());
  return d ? *d : std::string();
}

bool key_matches(const std::string& cert_pem, const std::string& key_pem) {
  BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  BIO* kb = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  const bool ok = cert != nullptr && key != nullptr && X509_check_private_key(cert, key) == 1;
  X509_free(cert);
  EVP_PKEY_free(key);
  BIO_free(cb);
  BIO_free(kb);
  return ok;
}

void check_remote_secrets(TestClusters& clusters, const std::string& c,
                          std::vector<std::string>& out) {
  const json list = get(clusters, c,
                        "/api/v1/namespaces/istio-system/secrets?labelSelector=istio%2FmultiCluster"
                        "%3Dtrue");
  for (const auto& s : list.value("items", json::array())) {
    const std::string where = c + ": " + name_of(s);
    const json data = s.value("data", json::object());
    if (data.empty()) {
      out.push_back(where + ": no data");
      continue;
    }
    for (const auto& [key, value] : data.items()) {
      const std::string text = decoded(data, key);
      try {
        const YAML::Node kc = YAML::Load(text);
        const auto server = kc["clusters"][0]["cluster"]["server"].as<std::string>("");
        const auto ca =
            kc["clusters"][0]["cluster"]["certificate-authority-data"].as<std::string>("");
        const auto token = kc["users"][0]["user"]["token"].as<std::string>("");
        if (server.empty() || ca.empty() || token.empty() || !kc["contexts"]) {
          out.push_back(where + " key " + key + ": kubeconfig without server, CA or token");
        }
      } catch (const YAML::Exception& e) {
        out.push_back(where + " key " + key + ": not a kubeconfig: " + e.what());
      }
    }
  }
}

// Returns the root-cert.pem of the cluster's cacerts ("" when it has none).
std::string check_cacerts(TestClusters& clusters, const std::string& c,
                          std::vector<std::string>& out) {
  const json s = get(clusters, c, "/api/v1/namespaces/istio-system/secrets/cacerts");
  if (s.is_null()) {
    return {};
  }
  const json data = s.value("data", json::object());
  const std::string ca = decoded(data, "ca-cert.pem");
  const std::string key = decoded(data, "ca-key.pem");
  const std::string root = decoded(data, "root-cert.pem");
  const std::string chain = decoded(data, "cert-chain.pem");
  if (ca.empty() || key.empty() || root.empty() || chain.empty()) {
    out.push_back(c + ": cacerts lacks one of ca-cert.pem, ca-key.pem, root-cert.pem, "
                      "cert-chain.pem");
    return root;
  }
  if (auto v = meshctl::pki::verify_chain(ca, root); !v) {
    out.push_back(
        c + ": cacerts' ca-cert.pem does not chain to its root-cert.pem: " + v.error().what());
  }
  if (!key_matches(ca, key)) {
    out.push_back(c + ": cacerts' ca-key.pem is not the key of its ca-cert.pem");
  }
  if (chain != ca + root) {
    out.push_back(c + ": cacerts' cert-chain.pem is not ca-cert.pem + root-cert.pem");
  }
  return root;
}

void check_istio_objects(TestClusters& clusters, const std::string& c,
                         std::vector<std::string>& out) {
  const json gateways = get(clusters, c, "/apis/networking.istio.io/v1/gateways");
  for (const auto& g :
       gateways.is_null() ? json::array() : gateways.value("items", json::array())) {
    if (!managed(g)) {
      continue;
    }
    const json servers = g["spec"].value("servers", json::array());
    bool hosts = !servers.empty();
    for (const auto& s : servers) {
      hosts = hosts && !s.value("hosts", json::array()).empty();
    }
    if (!hosts || g["spec"].value("selector", json::object()).empty()) {
      out.push_back(c + ": " + name_of(g) + " has no servers, hosts or selector");
    }
  }
  const json rules = get(clusters, c, "/apis/networking.istio.io/v1/destinationrules");
  for (const auto& r : rules.is_null() ? json::array() : rules.value("items", json::array())) {
    if (managed(r) && r["spec"].value("host", "").empty()) {
      out.push_back(c + ": " + name_of(r) + " has no host");
    }
  }
  const json services =
      get(clusters, c, "/api/v1/services?labelSelector=meshctl.dev%2Fsynced-from");
  for (const auto& s : services.value("items", json::array())) {
    const auto& md = s["metadata"];
    if (s["spec"].value("ports", json::array()).empty() &&
        s["spec"].value("type", "") != "ExternalName") {
      out.push_back(c + ": synced " + name_of(s) + " has no ports");
    }
    if (md.value("annotations", json::object()).value("meshctl.dev/source-hash", "").empty()) {
      out.push_back(c + ": synced " + name_of(s) + " has no source hash");
    }
  }
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

} // namespace

std::vector<std::string> check_invariants(TestClusters& clusters,
                                          const std::vector<std::string>& skip) {
  std::vector<std::string> out;
  std::vector<std::pair<std::string, std::string>> roots;
  for (const auto& c : clusters.names()) {
    if (contains(skip, c)) {
      continue;
    }
    check_remote_secrets(clusters, c, out);
    if (auto root = check_cacerts(clusters, c, out); !root.empty()) {
      roots.emplace_back(c, root);
    }
    check_istio_objects(clusters, c, out);
  }
  const auto local = slurp(clusters.dir().path() / ".config/meshctl/pki/mesh1/root-cert.pem");
  for (const auto& [c, root] : roots) {
    if (!meshctl::pki::same_certificate(root, roots.front().second)) {
      out.push_back(c + ": cacerts holds another root than " + roots.front().first + "'s");
    }
    if (!local.empty() && !meshctl::pki::same_certificate(root, local)) {
      out.push_back(c + ": cacerts holds another root than the local PKI's");
    }
  }
  return out;
}

bool failed_clearly(const meshctl::testing::RunResult& r, const std::vector<std::string>& clusters,
                    std::string& why) {
  if (r.exit_code != 1 && r.exit_code != 3) {
    why = "exit code " + std::to_string(r.exit_code);
    return false;
  }
  for (const char* bad : {"terminate called", "internal:", "Assertion", "what():"}) {
    if (r.err.find(bad) != std::string::npos || r.out.find(bad) != std::string::npos) {
      why = std::string("output holds \"") + bad + "\"";
      return false;
    }
  }
  std::map<std::string, int> per_cluster;
  std::istringstream lines(r.err);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("error: ", 0) != 0) {
      continue;
    }
    for (const auto& c : clusters) {
      if (line.rfind("error: " + c + ": ", 0) == 0) {
        ++per_cluster[c];
      }
    }
  }
  if (per_cluster.empty()) {
    why = "no error line names a cluster";
    return false;
  }
  for (const auto& [c, n] : per_cluster) {
    if (n > 1) {
      why = std::to_string(n) + " error lines for " + c;
      return false;
    }
  }
  return true;
}

bool FaultRunResult::completed() const {
  return std::all_of(verbs.begin(), verbs.end(), [](const auto& v) { return v.exit_code == 0; });
}

bool FaultRunResult::failed_clearly() const {
  return !completed() && std::all_of(verbs.begin(), verbs.end(),
                                     [](const auto& v) { return v.exit_code == 0 || v.clear; });
}

void prepare_fault_runs(TestClusters& clusters) {
  const json svc = {{"apiVersion", "v1"},
                    {"kind", "Service"},
                    {"metadata", {{"name", "only-a"}, {"namespace", "dev"}}},
                    {"spec", {{"ports", {{{"port", 80}, {"name", "http"}}}}}}};
  const auto [status, body] = clusters.sim(clusters.names()[0])
                                  .request("POST", "/api/v1/namespaces/dev/services", svc.dump());
  if (status != 201 && status != 409) {
    throw std::runtime_error("creating Service dev/only-a: HTTP " + std::to_string(status) + ": " +
                             body);
  }
}

FaultRunResult fault_run(TestClusters& clusters, const FaultRunOptions& options) {
  FaultRunResult result;
  const auto& names = clusters.names();
  const auto& a = names[0];
  const auto& b = names[1];
  const std::vector<std::vector<std::string>> verbs = {{"join", a, b},
                                                       {"expose", "--all"},
                                                       {"localize", "helloworld.dev"},
                                                       {"sync-svc"},
                                                       {"unjoin", a, b, "--all", "--purge-ca"}};
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--timeout", options.timeout});
    return clusters.meshctl(args);
  };
  auto faults = [&](bool on) {
    for (const auto& n : names) {
      if (contains(std::vector<std::string>{options.kill}, n) && !clusters.sim(n).running()) {
        continue;
      }
      if (on && options.kill.empty()) {
        clusters.sim(n).set_faults(options.faults);
      } else {
        clusters.sim(n).clear_faults();
      }
    }
  };
  const std::vector<std::string> skip_killed =
      options.kill.empty() ? std::vector<std::string>{} : std::vector<std::string>{options.kill};

  // 1. Faulted.
  for (std::size_t i = 0; i < verbs.size(); ++i) {
    faults(true);
    std::thread killer;
    if (i == 0 && !options.kill.empty()) {
      killer = std::thread([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(options.kill_after_ms));
        clusters.sim(options.kill).kill_now();
      });
    }
    auto r = run(verbs[i]);
    if (killer.joinable()) {
      killer.join();
    }
    faults(false);
    VerbOutcome v{verbs[i][0], r.exit_code, true, ""};
    if (r.exit_code != 0) {
      v.clear = failed_clearly(r, names, v.why);
      if (v.clear) {
        v.why = r.err;
      } else {
        v.why += "\n" + r.err;
      }
    }
    result.verbs.push_back(std::move(v));
    for (auto& p : check_invariants(clusters, skip_killed)) {
      result.half_written.push_back("after " + verbs[i][0] + ": " + p);
    }
  }

  // 2. Without faults: converge, then write nothing.
  if (!options.kill.empty() && !clusters.sim(options.kill).running()) {
    clusters.sim(options.kill).restart(); // an empty cluster again, at the same address
    if (options.kill == a) {
      prepare_fault_runs(clusters);
    }
  }
  result.converged = true;
  for (std::size_t i = 0; i + 1 < verbs.size(); ++i) {
    auto r = run(verbs[i]);
    if (r.exit_code != 0) {
      result.converged = false;
      result.problem =
          verbs[i][0] + " without faults: exit " + std::to_string(r.exit_code) + ": " + r.err;
      return result;
    }
  }
  const auto mark = clusters.mark();
  std::string outputs;
  for (std::size_t i = 0; i + 1 < verbs.size(); ++i) {
    auto r = run(verbs[i]);
    outputs += r.out;
    if (r.exit_code != 0) {
      result.problem =
          verbs[i][0] + " repeated: exit " + std::to_string(r.exit_code) + ": " + r.err;
      return result;
    }
  }
  const auto writes = clusters.writes_since(mark);
  result.write_free = writes.empty() && outputs.find(" 0 created, 0 updated") != std::string::npos;
  if (!result.write_free) {
    result.problem = std::to_string(writes.size()) + " write(s) in the repeat: " +
                     (writes.empty() ? outputs : writes.front().dump());
  }
  for (auto& p : check_invariants(clusters)) {
    result.half_written.push_back("after converging: " + p);
  }

  // 3. Back to the start.
  if (auto r = run(verbs.back()); r.exit_code != 0) {
    result.problem += "unjoin without faults: exit " + std::to_string(r.exit_code) + ": " + r.err;
  }
  return result;
}

} // namespace meshctl::e2e

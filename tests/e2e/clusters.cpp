#include "clusters.hpp"

#include "pki/pki.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace meshctl::e2e {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) {
    if (!item.empty()) {
      out.push_back(item);
    }
  }
  return out;
}

// RSA-4096 keys take a second or two each; every test would make three. They share one PKI made
// once per build tree instead (published by an atomic rename, so parallel tests are safe).
std::filesystem::path shared_pki(const std::vector<std::string>& clusters) {
  namespace fs = std::filesystem;
  std::string key;
  for (const auto& c : clusters) {
    key += "-" + c;
  }
  const auto cache = meshctl::testing::binary_dir() / "e2e-pki" / ("mesh1" + key);
  if (fs::exists(cache / "root-cert.pem")) {
    return cache;
  }
  const auto tmp = cache.parent_path() / ("tmp-" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  auto root = meshctl::pki::load_or_create_root(tmp);
  if (!root) {
    throw std::runtime_error(root.error().what());
  }
  for (const auto& c : clusters) {
    if (auto ca = meshctl::pki::load_or_issue_intermediate(*root, tmp, c); !ca) {
      throw std::runtime_error(ca.error().what());
    }
  }
  std::error_code ec;
  fs::rename(tmp, cache, ec); // loses the race harmlessly when another test published first
  fs::remove_all(tmp, ec);
  return cache;
}

} // namespace

bool TestClusters::real() {
  return !env("MESHCTL_TEST_KUBECONFIG").empty();
}

TestClusters::TestClusters(const kubesim::testing::KubesimOptions& options) {
  init(options);
  const auto pki = m_dir.path() / ".config/meshctl/pki/mesh1";
  std::filesystem::create_directories(pki.parent_path());
  std::filesystem::copy(shared_pki(m_names), pki, std::filesystem::copy_options::recursive);
}

void TestClusters::init(const kubesim::testing::KubesimOptions& options) {
  if (real()) {
    m_kubeconfig = env("MESHCTL_TEST_KUBECONFIG");
    m_names = split(env("MESHCTL_TEST_CONTEXTS"), ',');
    if (m_names.empty()) {
      auto r = meshctl::testing::run({"kubectl", "config", "get-contexts", "-o", "name"},
                                     {{"KUBECONFIG", m_kubeconfig}});
      m_names = split(r.out, '\n');
      m_names.resize(std::min<std::size_t>(m_names.size(), 2));
    }
    if (m_names.size() < 2) {
      throw std::runtime_error("MESHCTL_TEST_CONTEXTS must name two contexts");
    }
    // Real clusters: names are the contexts; API servers and gateways as the kubeconfig and the
    // defaults say, unless MESHCTL_TEST_CONFIG gives a meshctl.yaml.
    const std::string given = env("MESHCTL_TEST_CONFIG");
    std::ofstream cfg(config());
    if (!given.empty()) {
      cfg << meshctl::testing::read_file(given);
    } else {
      cfg << "clusters:\n";
      for (const auto& n : m_names) {
        cfg << "  - name: " << n << "\n";
      }
    }
    return;
  }
  m_names = {"cn-shanghai", "wuxi"};
  namespace fs = std::filesystem;
  const auto seeds = kubesim::testing::KubesimProcess::seed_dir();
  // A variant (seed/variants/NAME/README.md) replaces standard seeds by files of the same name,
  // adds <cluster>.extra.yaml, kubesim flags (kubesim.args) and a cluster's meshctl.yaml entry
  // (<cluster>.meshctl.yaml) — the same files scripts/sandbox --variant reads.
  const fs::path vdir = options.variant.empty() ? fs::path() : seeds / "variants" / options.variant;
  if (!vdir.empty() && !fs::is_directory(vdir)) {
    throw std::runtime_error("no kubesim seed variant " + options.variant);
  }
  auto pick = [&](const std::string& file) {
    return !vdir.empty() && fs::exists(vdir / file) ? vdir / file : seeds / file;
  };
  std::vector<std::string> variant_args;
  if (!vdir.empty() && fs::exists(vdir / "kubesim.args")) {
    variant_args = split(meshctl::testing::read_file(vdir / "kubesim.args"), '\n');
  }
  std::string cfg = "mesh:\n  id: mesh1\nclusters:\n";
  // The seed's gateways: NodePort with a fixed external IP per cluster and nodeSelector {}.
  const std::vector<std::string> ips{"192.168.0.11", "10.20.0.21"};
  for (std::size_t i = 0; i < m_names.size(); ++i) {
    auto sim = std::make_unique<kubesim::testing::KubesimProcess>();
    // As scripts/sandbox: remote secrets name the API server <cluster>.kubesim.local (its serving
    // certificate carries the name and kubesim's istiod model resolves it), not a loopback
    // address, which istiod in another cluster could not use (verify flags it).
    auto opts = options;
    opts.extra_args.insert(opts.extra_args.end(), {"--san", m_names[i] + ".kubesim.local"});
    opts.extra_args.insert(opts.extra_args.end(), variant_args.begin(), variant_args.end());
    std::vector<fs::path> files{pick("istio-crds.yaml"), pick(m_names[i] + ".yaml")};
    if (!vdir.empty() && fs::exists(vdir / (m_names[i] + ".extra.yaml"))) {
      files.push_back(vdir / (m_names[i] + ".extra.yaml"));
    }
    sim->start(m_names[i], files, opts);
    m_kubeconfig += (i == 0 ? "" : ":") + sim->kubeconfig_path().string();
    const std::string url = sim->url();
    cfg += "  - name: " + m_names[i] + "\n    apiServer: https://" + m_names[i] +
           ".kubesim.local:" + url.substr(url.rfind(':') + 1) + "\n";
    const fs::path entry = vdir.empty() ? fs::path() : vdir / (m_names[i] + ".meshctl.yaml");
    if (!entry.empty() && fs::exists(entry)) {
      for (const auto& line : split(meshctl::testing::read_file(entry), '\n')) {
        cfg += "    " + line + "\n";
      }
    } else {
      cfg += "    gateway:\n      type: NodePort\n      externalIPs: [" + ips[i] +
             "]\n      nodeSelector: {}\n";
    }
    m_sims.push_back(std::move(sim));
  }
  std::ofstream(config()) << cfg;
}

TestClusters::~TestClusters() = default;

meshctl::testing::RunResult TestClusters::meshctl(const std::vector<std::string>& args) const {
  std::vector<std::string> full{"-c", config().string()};
  full.insert(full.end(), args.begin(), args.end());
  return meshctl::testing::run_meshctl(
      full, {{"KUBECONFIG", m_kubeconfig}, {"HOME", m_dir.path().string()}});
}

meshctl::testing::RunResult TestClusters::kubectl(const std::string& context,
                                                  const std::vector<std::string>& args) const {
  std::vector<std::string> full{"kubectl", "--context", context};
  full.insert(full.end(), args.begin(), args.end());
  return meshctl::testing::run(full, {{"KUBECONFIG", m_kubeconfig}});
}

nlohmann::json TestClusters::kubectl_json(const std::string& context,
                                          const std::vector<std::string>& args) const {
  auto full = args;
  full.insert(full.end(), {"-o", "json"});
  auto r = kubectl(context, full);
  if (r.exit_code != 0) {
    throw std::runtime_error("kubectl failed: " + r.err);
  }
  return nlohmann::json::parse(r.out);
}

kubesim::testing::KubesimProcess& TestClusters::sim(const std::string& name) {
  for (auto& s : m_sims) {
    if (s->name() == name) {
      return *s;
    }
  }
  throw std::runtime_error("no kubesim named " + name);
}

std::vector<std::size_t> TestClusters::mark() const {
  std::vector<std::size_t> out;
  for (const auto& s : m_sims) {
    out.push_back(s->request_log().size());
  }
  return out;
}

std::vector<nlohmann::json> TestClusters::writes_since(const std::vector<std::size_t>& mark) const {
  std::vector<nlohmann::json> out;
  for (std::size_t i = 0; i < m_sims.size(); ++i) {
    auto w = kubesim::testing::KubesimProcess::writes(m_sims[i]->request_log_since(mark[i]));
    out.insert(out.end(), w.begin(), w.end());
  }
  return out;
}

std::size_t TestClusters::requests_since(const std::vector<std::size_t>& mark) const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < m_sims.size(); ++i) {
    n += m_sims[i]->request_log_since(mark[i]).size();
  }
  return n;
}

const nlohmann::json& cluster_entry(const nlohmann::json& doc, const std::string& name) {
  for (const auto& c : doc["clusters"]) {
    if (c["name"] == name) {
      return c;
    }
  }
  FAIL("no cluster " << name << " in " << doc.dump());
  static const nlohmann::json none;
  return none;
}

} // namespace meshctl::e2e

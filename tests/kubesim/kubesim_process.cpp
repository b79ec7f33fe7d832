#include "kubesim_process.hpp"

#include "support/process.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace kubesim::testing {
namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

} // namespace

std::filesystem::path KubesimProcess::binary() {
  return KUBESIM_BIN;
}
std::filesystem::path KubesimProcess::seed_dir() {
  return KUBESIM_SEED_DIR;
}

KubesimProcess::~KubesimProcess() {
  stop();
  if (m_own_dir && !m_dir.empty() && std::getenv("KUBESIM_KEEP_STATE") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(m_dir, ec);
  }
}

void KubesimProcess::start(const std::string& name, const std::vector<std::filesystem::path>& seeds,
                           const KubesimOptions& options) {
  if (running()) {
    throw std::runtime_error("kubesim " + m_name + " is already running");
  }
  m_name = name;
  m_seeds = seeds;
  m_options = options;
  std::random_device rd;
  for (int i = 0; i < 100 && m_dir.empty(); ++i) {
    auto candidate =
        std::filesystem::temp_directory_path() / ("kubesim-" + name + "-" + std::to_string(rd()));
    std::error_code ec;
    if (std::filesystem::create_directory(candidate, ec)) {
      m_dir = candidate;
      m_own_dir = true;
    }
  }
  std::filesystem::remove(m_dir / "port");
  std::vector<std::string> args = {binary().string(),
                                   "--name",
                                   name,
                                   "--port",
                                   m_port,
                                   "--state-dir",
                                   m_dir.string(),
                                   "--request-log",
                                   (m_dir / "requests.log").string(),
                                   "--kubeconfig-auth",
                                   options.token_auth ? "token" : "cert"};
  for (const auto& s : seeds) {
    args.push_back("--seed");
    args.push_back(s.string());
  }
  if (!options.pod_data.empty()) {
    args.push_back("--pod-data");
    args.push_back(options.pod_data.string());
  }
  if (!options.faults.is_null()) {
    args.push_back("--faults");
    args.push_back(options.faults.dump());
  }
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  const std::string log_path = (m_dir / "kubesim.log").string();
  const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const pid_t pid = meshctl::testing::spawn(args, {}, log, log);
  close(log);
  m_pid = pid;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
      m_pid = -1;
      throw std::runtime_error("kubesim " + name + " exited at start:\n" + slurp(log_path));
    }
    if (std::filesystem::exists(m_dir / "port")) {
      std::string url = slurp(m_dir / "url");
      while (!url.empty() && (url.back() == '\n' || url.back() == '\r')) {
        url.pop_back();
      }
      m_url = url;
      m_port = m_url.substr(m_url.rfind(':') + 1);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop();
  throw std::runtime_error("kubesim " + name + " did not start within 30 s:\n" + slurp(log_path));
}

void KubesimProcess::stop() {
  if (m_pid <= 0) {
    return;
  }
  meshctl::testing::terminate(m_pid);
  m_pid = -1;
}

void KubesimProcess::kill_now() {
  if (m_pid <= 0) {
    return;
  }
  kill(m_pid, SIGKILL);
  int status = 0;
  waitpid(m_pid, &status, 0);
  m_pid = -1;
}

void KubesimProcess::restart() {
  stop();
  start(m_name, std::vector<std::filesystem::path>(m_seeds), KubesimOptions(m_options));
}

std::string KubesimProcess::admin_token() const {
  return slurp(m_dir / "admin.token");
}

std::vector<nlohmann::json> KubesimProcess::request_log() const {
  return request_log_since(0);
}

std::vector<nlohmann::json> KubesimProcess::request_log_since(std::size_t mark) const {
  std::vector<nlohmann::json> out;
  std::ifstream f(m_dir / "requests.log");
  std::string line;
  std::size_t i = 0;
  while (std::getline(f, line)) {
    if (line.empty()) {
      continue;
    }
    if (i++ < mark) {
      continue;
    }
    out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

std::vector<nlohmann::json> KubesimProcess::writes(const std::vector<nlohmann::json>& log) {
  std::vector<nlohmann::json> out;
  for (const auto& l : log) {
    const std::string v = l.value("verb", "");
    if ((v == "create" || v == "update" || v == "patch" || v == "delete" ||
         v == "deletecollection") &&
        !l.value("dryRun", false) && l.value("subresource", "") != "exec" &&
        l.value("resource", "") != "selfsubjectaccessreviews" &&
        l.value("resource", "") != "subjectaccessreviews") {
      out.push_back(l);
    }
  }
  return out;
}

void KubesimProcess::set_faults(const nlohmann::json& faults) const {
  auto [status, body] = request("POST", "/kubesim/faults", faults.dump());
  if (status != 200) {
    throw std::runtime_error("setting faults failed (" + std::to_string(status) + "): " + body);
  }
}

void KubesimProcess::clear_faults() const {
  auto [status, body] = request("DELETE", "/kubesim/faults");
  if (status != 200) {
    throw std::runtime_error("clearing faults failed (" + std::to_string(status) + "): " + body);
  }
}

std::pair<long, std::string> KubesimProcess::request(const std::string& method,
                                                     const std::string& path,
                                                     const std::string& body,
                                                     const std::string& content_type) const {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    throw std::runtime_error("curl_easy_init failed");
  }
  std::string out;
  const std::string url = m_url + path;
  const std::string ca = ca_path().string();
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("Authorization: Bearer " + admin_token()).c_str());
  headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (!body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    throw std::runtime_error(std::string("request to kubesim failed: ") + curl_easy_strerror(rc));
  }
  return {status, out};
}

} // namespace kubesim::testing

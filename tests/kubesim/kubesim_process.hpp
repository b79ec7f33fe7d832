#pragma once
// Starts a kubesim for a test and talks to it: a free port, a kubeconfig, the request log, faults.
// Links neither meshctl_lib nor kubesim's own code: tests see kubesim as a black box over HTTPS.
//
//   kubesim::testing::KubesimProcess k;
//   k.start("wuxi", {KubesimProcess::seed_dir() / "istio-crds.yaml"});
//   run kubectl --kubeconfig k.kubeconfig_path() ...;
//   auto writes = KubesimProcess::writes(k.request_log());
//   k.set_faults({{"latencyMs", 20}});

#include <nlohmann/json.hpp>
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace kubesim::testing {

struct KubesimOptions {
  std::filesystem::path pod_data;      ///< --pod-data DIR (empty = none)
  nlohmann::json faults = nullptr;     ///< --faults at start
  bool token_auth = false;             ///< kubeconfig with the admin token instead of a client cert
  std::vector<std::string> extra_args; ///< any other kubesim flags
  /// An installation variant: seed/variants/NAME (see seed/variants/README.md). Used by the e2e
  /// clusters and scripts/sandbox, which read the same files; empty = the standard seeds.
  std::string variant;
};

/// One running kubesim process; stopped (SIGTERM, then SIGKILL) by stop() or the destructor.
class KubesimProcess {
public:
  KubesimProcess() = default;
  ~KubesimProcess();
  KubesimProcess(const KubesimProcess&) = delete;
  KubesimProcess& operator=(const KubesimProcess&) = delete;

  /// Starts `kubesim --name name` on a free port with `seeds` loaded (in order) and waits until it
  /// listens. Throws std::runtime_error with kubesim's output when it does not come up.
  void start(const std::string& name, const std::vector<std::filesystem::path>& seeds = {},
             const KubesimOptions& options = {});
  /// SIGTERM and wait (SIGKILL after 5 s). Idempotent.
  void stop();
  /// SIGKILL at once, as an API server that crashes (connections reset, nothing flushed).
  void kill_now();
  /// Starts it again after a stop or kill, on the same port with the same state directory,
  /// seeds and options: a fresh cluster (objects are not kept) that the same kubeconfig path
  /// reaches (kubesim rewrites it with its new CA).
  void restart();
  [[nodiscard]] bool running() const { return m_pid > 0; }

  [[nodiscard]] const std::string& name() const { return m_name; }
  /// https://127.0.0.1:PORT
  [[nodiscard]] const std::string& url() const { return m_url; }
  /// A kubeconfig with cluster, context and user all named name() (admin credentials).
  [[nodiscard]] std::filesystem::path kubeconfig_path() const { return m_dir / "kubeconfig"; }
  /// Where kubesim's files live (ca.crt, admin.token, requests.log, kubesim.log).
  [[nodiscard]] const std::filesystem::path& state_dir() const { return m_dir; }
  [[nodiscard]] std::filesystem::path ca_path() const { return m_dir / "ca.crt"; }
  [[nodiscard]] std::string admin_token() const;

  /// Every request-log line so far (one JSON object per request).
  [[nodiscard]] std::vector<nlohmann::json> request_log() const;
  /// Lines after the first `mark` ones (mark = request_log().size() taken earlier).
  [[nodiscard]] std::vector<nlohmann::json> request_log_since(std::size_t mark) const;
  /// The lines whose verb writes (create, update, patch, delete, deletecollection), dry runs
  /// excluded.
  static std::vector<nlohmann::json> writes(const std::vector<nlohmann::json>& log);

  /// Replaces the fault settings (POST /kubesim/faults); see README.md for the fields.
  void set_faults(const nlohmann::json& faults) const;
  void clear_faults() const;

  /// An HTTPS request as the admin; returns {status, body}. For tests that need raw access.
  [[nodiscard]] std::pair<long, std::string>
  request(const std::string& method, const std::string& path, const std::string& body = "",
          const std::string& content_type = "application/json") const;

  /// The kubesim binary and the project's seed directory (tests/kubesim/seed).
  static std::filesystem::path binary();
  static std::filesystem::path seed_dir();

private:
  std::string m_name;
  std::string m_url;
  std::vector<std::filesystem::path> m_seeds;
  KubesimOptions m_options;
  std::string m_port = "0";
  std::filesystem::path m_dir;
  bool m_own_dir = false;
  pid_t m_pid = -1;
};

} // namespace kubesim::testing

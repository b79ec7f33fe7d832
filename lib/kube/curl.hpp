#pragma once
// Internal to lib/kube: the libcurl Transport (kube/transport.hpp), the one Client uses unless
// told otherwise. One Loop per client drives a curl multi handle on its own thread; callers hand it
// fully configured easy handles and wait on a future. libcurl forbids sharing one connection cache
// between threads that run transfers concurrently, but a multi handle's transfers all run on the
// loop's thread, so connections, DNS answers (and HTTP/2 multiplexing, which only happens within
// one multi handle) are shared safely. TLS sessions are deliberately not shared for resumption:
// with connections kept and multiplexed a new handshake is rare, and a server that asks for client
// certificates without a session id context (a common OpenSSL server mistake; kubesim had it) fails
// every resumed handshake with an "internal error" alert.

#include "config/kubeconfig.hpp"
#include "core/error.hpp"
#include "kube/proxy.hpp"
#include "kube/retry.hpp"
#include "kube/transport.hpp"

#include <curl/curl.h>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace meshctl::kube::detail {

/// Where and how to connect, derived once from the kubeconfig cluster entry.
struct Endpoint {
  std::string scheme; ///< "https" or "http"
  std::string host;   ///< without IPv6 brackets
  int port = 443;
  std::string base_path;  ///< path prefix of the server URL, without trailing '/'
  std::string authority;  ///< host[:port] as the server URL has it (Host header)
  std::string url_host;   ///< the host in request URLs: tls-server-name when set
  std::string connect_to; ///< CURLOPT_CONNECT_TO entry, or ""
  std::string proxy;      ///< chosen proxy URL, or "" for a direct connection
  std::string ca_file;
  std::string ca_data;
  bool insecure = false;
  bool has_tls_server_name = false;

  /// scheme://url_host:port/base_path + path_and_query.
  [[nodiscard]] std::string url(std::string_view path_and_query) const;
};

/// Parses the cluster's server URL and decides TLS name, CA and proxy.
Result<Endpoint> make_endpoint(const config::KubeCluster& cluster, const ProxyEnvironment& env);

/// Sets TLS (CA, verification, client certificate), proxy, connect-to and timeouts on an easy
/// handle; the caller sets URL, method, headers and auth. `connect_to` receives a list the
/// caller must keep alive as long as the handle and then free.
void configure_tls_and_proxy(CURL* easy, const Endpoint& endpoint,
                             const config::Credentials& credentials,
                             std::chrono::milliseconds connect_timeout, curl_slist** connect_to);

/// The failure class of a libcurl error code; `detail` (the error text) tells a rejected client
/// certificate from a plain reset, and `via_proxy` a refused proxy from a refused server.
TransportFailure classify(CURLcode code, std::string_view detail, bool via_proxy);

/// What one transfer produced.
struct TransferResult {
  CURLcode code = CURLE_OK;
  std::string error; ///< libcurl's error buffer (or curl_easy_strerror)
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers; ///< names lower-cased
  long http_version = 0;                                    ///< CURL_HTTP_VERSION_*
  long os_errno = 0; ///< errno of the failing system call, if any
};

/// libcurl's error text with the system's reason appended ("… (Connection refused)").
std::string failure_detail(const std::string& error, long os_errno);

/// One transfer in flight: an easy handle and the buffers it reads and writes.
struct Transfer {
  Transfer();
  ~Transfer();
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  curl_slist* connect_to = nullptr;
  std::string request_body;
  std::size_t max_body = 0;
  std::array<char, CURL_ERROR_SIZE> error_buffer{};
  /// Streaming: 2xx body pieces go here instead of result.body (see Request::on_data).
  const std::function<bool(std::string_view)>* on_data = nullptr;
  bool consumer_stopped = false; ///< on_data returned false
  /// Checked by the progress callback; true aborts the transfer.
  const std::atomic<bool>* cancel = nullptr;
  TransferResult result;
  std::promise<TransferResult> promise;
};

/// The event loop: one thread, one multi handle.
class Loop {
public:
  Loop();
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  /// Starts a transfer; the future is fulfilled when it ends (with an error code on shutdown).
  std::future<TransferResult> submit(std::unique_ptr<Transfer> transfer);
  /// Makes the loop run its transfers now rather than at its next timeout (a cancel is then
  /// noticed at once).
  void wakeup();

private:
  void run();
  void finish(CURL* easy, CURLcode code);

  CURLM* m_multi = nullptr;
  std::mutex m_mutex;
  std::vector<std::unique_ptr<Transfer>> m_incoming;
  std::map<CURL*, std::unique_ptr<Transfer>> m_active;
  std::atomic<bool> m_stop{false};
  std::thread m_thread;
};

/// curl_global_init, once per process.
void global_init();

/// What a libcurl transport needs to know of its client.
struct CurlSettings {
  std::string context;                       ///< for log lines
  std::chrono::milliseconds connect_timeout; ///< per connection
  std::string user_agent;
  std::size_t max_response = 0; ///< larger bodies are an error
};

/// The libcurl Transport: requests on the loop's multi handle, exec over a raw connection that
/// speaks WebSocket (exec.cpp).
class CurlTransport final : public Transport {
public:
  CurlTransport(Endpoint endpoint, CurlSettings settings);

  Exchange round_trip(const Request& request, const config::Credentials& credentials,
                      std::chrono::milliseconds timeout) override;
  ExecAttempt exec(const ExecRequest& request, const config::Credentials& credentials,
                   const RequestInfo& info,
                   std::chrono::steady_clock::time_point deadline) override;

private:
  Endpoint m_endpoint;
  CurlSettings m_settings;
  Loop m_loop;
};

} // namespace meshctl::kube::detail

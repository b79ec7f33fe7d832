#pragma once
// A scripted kube::Transport for unit tests of what sits on a kube::Client (lib/mesh, lib/check).
// The Client above it is the real one — retries and backoff, the limiter, 401 re-authentication,
// Status → ApiError, paging, discovery's fan-out — so a test drives those exactly as a live API
// server would, but can make any request fail on demand: a 409 with its Status, a 403 on one
// object, 429/5xx, a timeout without an answer.
//
// Answers are rules matched by method and path (and optionally the request, e.g. its body),
// newest rule first, each usable a number of times (a 503 once, then the real answer). What no
// rule answers: a GET of a collection is an empty List, a GET of anything else a 404 NotFound
// Status (the object does not exist), any other method a 501 so a write the test did not expect
// fails loudly. Every request is recorded.

#include "kube/client.hpp"
#include "kube/transport.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace meshctl::testing {

/// One request as the fake saw it (one per attempt: retries show up as repeated calls).
struct FakeCall {
  kube::Method method = kube::Method::k_get;
  std::string path;  ///< without query
  std::string query; ///< encoded, without '?'
  std::string body;
  std::string content_type;
  std::string bearer_token;

  /// "PATCH /api/v1/namespaces/x/secrets/y", for messages.
  [[nodiscard]] std::string line() const;
};

/// What the fake answers to one attempt.
struct FakeReply {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers; ///< lower-case names
  /// Not k_none: no HTTP answer at all (status and body are ignored), like libcurl failing.
  kube::TransportFailure failure = kube::TransportFailure::k_none;
  std::string error;                  ///< the failure's text
  std::chrono::milliseconds delay{0}; ///< how long the attempt takes (latency, parallelism)

  /// 2xx (or any status) with a JSON body.
  static FakeReply json(const nlohmann::json& body, int status = 200);
  /// A metav1.Status failure as kube-apiserver sends it (code, reason, message, details).
  static FakeReply api_status(int code, const std::string& reason, const std::string& message,
                              const nlohmann::json& details = nullptr);
  /// No answer: the attempt timed out (libcurl's CURLE_OPERATION_TIMEDOUT text).
  static FakeReply timeout();
};

class FakeTransport final : public kube::Transport {
public:
  /// Makes an answer from the request (echoing an apply's body, counting, …).
  using Responder = std::function<FakeReply(const kube::Request&)>;
  using Predicate = std::function<bool(const kube::Request&)>;

  /// Answers `method path` with `reply`, `times` times (-1 = always), when `when` (if set) holds.
  /// Newer rules win over older ones.
  void on(kube::Method method, const std::string& path, FakeReply reply, int times = -1,
          Predicate when = {});
  /// Same with an answer computed per request.
  void on(kube::Method method, const std::string& path, Responder responder, int times = -1,
          Predicate when = {});
  /// GET of the object's path answers it (with uid/resourceVersion added, as a server would), and
  /// so does a list of its collection (filtered by an equality labelSelector) no rule answers.
  void serve_object(const nlohmann::json& object);
  /// Server-side apply (PATCH application/apply-patch+yaml) on any path answers 200 with the
  /// applied object, as kube-apiserver does; GETs are not changed by it.
  void accept_applies();
  /// The discovery documents of a cluster with Istio installed: core v1, apps/v1, RBAC,
  /// authorization, and networking.istio.io v1/v1beta1 unless `istio_crds` is false.
  void serve_discovery(bool istio_crds = true);

  /// exec in pod `namespace_/pod` runs and gives `result`; an error with an HTTP status is a
  /// refusal before the command started (its Status as the body). Other pods: 404 NotFound.
  void on_exec(const std::string& namespace_, const std::string& pod,
               kube::ApiResult<kube::ExecResult> result);

  /// Every request so far, in the order they arrived.
  [[nodiscard]] std::vector<FakeCall> calls() const;
  /// The requests with that method (and path, when not empty).
  [[nodiscard]] std::vector<FakeCall> calls(kube::Method method,
                                            const std::string& path = {}) const;
  /// Writes (POST, PUT, PATCH, DELETE) so far.
  [[nodiscard]] std::vector<FakeCall> writes() const;
  /// The most requests that were in flight at the same time.
  [[nodiscard]] int max_in_flight() const;

  kube::Exchange round_trip(const kube::Request& request, const config::Credentials& credentials,
                            std::chrono::milliseconds timeout) override;
  kube::ExecAttempt exec(const kube::ExecRequest& request, const config::Credentials& credentials,
                         const kube::RequestInfo& info,
                         std::chrono::steady_clock::time_point deadline) override;

private:
  struct Rule {
    kube::Method method;
    std::string path;
    Responder responder;
    int remaining;
    Predicate when;
  };
  std::optional<Responder> take(const kube::Request& request);
  [[nodiscard]] nlohmann::json served_list(const kube::Request& request) const;

  mutable std::mutex m_mutex;
  std::vector<Rule> m_rules;
  std::vector<FakeCall> m_calls;
  std::map<std::string, kube::ApiResult<kube::ExecResult>> m_exec;
  std::map<std::string, std::vector<nlohmann::json>> m_served; ///< collection path → objects
  int m_in_flight = 0;
  int m_max_in_flight = 0;
};

/// Retries that take milliseconds, not seconds (same attempts and rules as the defaults).
kube::RetryPolicy fast_retry();

/// A real kube::Client named `name` (its context and cluster), whose requests go to `transport`.
std::unique_ptr<kube::Client> fake_client(const std::string& name,
                                          std::shared_ptr<FakeTransport> transport,
                                          kube::ClientOptions options = {});

} // namespace meshctl::testing

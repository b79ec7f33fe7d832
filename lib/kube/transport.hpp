#pragma once
// The seam under kube::Client: what carries one attempt of one request to an API server and
// brings back what happened. Everything that decides *what* to do with an answer stays above it,
// in Client — retries and their backoff, the one re-authentication after 401, the limiter of
// requests in flight (and its halving on 429), Status → ApiError, paging, discovery's fan-out,
// server-side apply — so a fake transport exercises all of that exactly as the real one does.
//
// The real transport is libcurl (kube/curl.hpp), made by Client::create when ClientOptions has
// none. Tests put a scripted one in ClientOptions::transport (tests/support/fake_transport.hpp) to
// drive lib/mesh and lib/check through error paths a live server rarely shows on demand.

#include "config/kubeconfig.hpp"
#include "kube/client.hpp"
#include "kube/exec.hpp"
#include "kube/retry.hpp"
#include "kube/status.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace meshctl::kube {

/// What one attempt produced: an HTTP answer with any status, or a failure without one.
struct Exchange {
  /// k_none: there was an HTTP answer (status, body, headers); otherwise why there was none.
  TransportFailure failure = TransportFailure::k_none;
  std::string error; ///< with a failure: what went wrong, for the user ("… (Connection refused)")
  int status = 0;
  std::string body; ///< every non-2xx body; a 2xx body unless it was streamed to on_data
  std::vector<std::pair<std::string, std::string>> headers; ///< names lower-cased
  std::string http_version;                                 ///< "1.1", "2", or ""
};

/// How one attempt to start an exec ended. Either the command started (`ran` holds its result or
/// the error that broke the stream; never retried: the command may have run), or it did not and
/// `refused` says why, as for any idempotent request (an HTTP status, or a transport failure with
/// `detail`); the client then retries, re-authenticates after 401 or reports.
struct ExecAttempt {
  std::optional<ApiResult<ExecResult>> ran;
  AttemptOutcome refused;
  std::string detail; ///< transport failure text when refused without an HTTP answer
  std::string body;   ///< the refusal's body (a Status) when refused with one
};

/// Carries requests of one Client. Called from many threads at once.
class Transport {
public:
  Transport() = default;
  virtual ~Transport() = default;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  /// Sends one attempt of `request` with `credentials`, bounded by `timeout`. Streaming
  /// (request.on_data set): 2xx body pieces go to on_data as they arrive, and a stream that
  /// on_data or request.cancel ends is a success; a cancel ends any request within ~100 ms.
  virtual Exchange round_trip(const Request& request, const config::Credentials& credentials,
                              std::chrono::milliseconds timeout) = 0;

  /// One attempt to run `request` over the exec subresource, ending by `deadline`; `info`
  /// describes the request for error messages.
  virtual ExecAttempt exec(const ExecRequest& request, const config::Credentials& credentials,
                           const RequestInfo& info,
                           std::chrono::steady_clock::time_point deadline) = 0;
};

} // namespace meshctl::kube

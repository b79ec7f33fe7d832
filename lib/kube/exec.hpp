#pragma once
// Running a command in a container (kubectl exec) over the API server's WebSocket streaming
// protocol (FACTS §7). This header holds the request/result types and the pure parts: the query,
// the channel demultiplexer and the exit-code rules. The connection itself is Client::exec.
//
// Channels: every binary message starts with a channel byte — 0 stdin, 1 stdout, 2 stderr,
// 3 error (a metav1.Status when the command ends), 4 resize; v5.channel.k8s.io adds a close
// signal, a message [255, channel], that half-closes one stream (meshctl uses it to end stdin).

#include "kube/path.hpp"
#include "kube/status.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshctl::kube {

/// A command to run in a container.
struct ExecRequest {
  std::string namespace_;
  std::string pod;
  std::string container; ///< "" = the pod's default container
  std::vector<std::string> command;
  std::optional<std::string> stdin_data;    ///< sent, then closed (v5; v4 cannot signal the end)
  std::chrono::milliseconds timeout{60000}; ///< bound on the whole exec, connect to exit
  std::size_t max_output = 64U << 20U;      ///< stdout plus stderr beyond this is an error
};

/// What the command produced.
struct ExecResult {
  std::string stdout_data;
  std::string stderr_data;
  int exit_code = 0;
  std::string protocol; ///< the negotiated subprotocol, e.g. "v5.channel.k8s.io"
};

/// Channel numbers of the remotecommand protocol.
enum class Channel : std::uint8_t {
  k_stdin = 0,
  k_stdout = 1,
  k_stderr = 2,
  k_error = 3,
  k_resize = 4,
  k_close = 255,
};

/// The subprotocols meshctl offers, best first.
inline const std::vector<std::string>& exec_protocols() {
  static const std::vector<std::string> k_protocols{"v5.channel.k8s.io", "v4.channel.k8s.io"};
  return k_protocols;
}

/// container=…&command=a&command=b&…&stdin=true&stdout=true&stderr=true, in kubectl's order.
Query exec_query(const ExecRequest& request);

/// Sorts the payloads of binary messages into stdout, stderr and the error channel.
class ChannelDemux {
public:
  explicit ChannelDemux(std::size_t max_output) : m_max(max_output) {}
  /// Routes one binary message (channel byte + payload). Unknown channels and empty messages are
  /// ignored; output beyond max_output is an error.
  Result<void> on_message(std::string_view message);

  [[nodiscard]] const std::string& out() const { return m_out; }
  [[nodiscard]] const std::string& err() const { return m_err; }
  /// The error channel's bytes (a Status JSON once the command has ended).
  [[nodiscard]] const std::string& error_channel() const { return m_error; }
  /// Moves the collected output out.
  std::string take_out() { return std::move(m_out); }
  std::string take_err() { return std::move(m_err); }

private:
  std::size_t m_max;
  std::string m_out;
  std::string m_err;
  std::string m_error;
};

/// The exit code from the error channel's Status: Success → 0; Failure with reason
/// NonZeroExitCode → the ExitCode cause's number; any other Failure → an error with the Status
/// message (e.g. the command does not exist in the container). Empty input (the server closed
/// the stream cleanly without a Status, as client-go accepts) → 0.
ApiResult<int> exit_code_from_status(std::string_view status_json);

/// A body sent with Transfer-Encoding: chunked, decoded; nothing while it is incomplete.
std::optional<std::string> decode_chunked(std::string_view body);

} // namespace meshctl::kube

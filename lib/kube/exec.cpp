// exec over WebSocket on the client's own TLS path: libcurl connects (TCP, proxy tunnel, TLS with
// the kubeconfig's CA, client certificate and tls-server-name, ALPN offering only http/1.1 so the
// server cannot pick h2) and stops there (CURLOPT_CONNECT_ONLY); meshctl then writes the upgrade
// request and speaks RFC 6455 itself through curl_easy_send/curl_easy_recv. Debian 12's libcurl
// 7.88 has no WebSocket API, and this keeps one TLS configuration for every request.
//
// Retries: until the server answers 101 the command has not started, so refused connections are
// treated like idempotent requests (429/5xx/resets retried, one re-authentication after 401).
// After the upgrade nothing is retried: the command may have run. The retry loop is Client::exec's;
// one attempt (connect, upgrade, stream) is the libcurl transport's (kube/transport.hpp).

#include "kube/exec.hpp"

#include "core/duration.hpp"
#include "core/log.hpp"
#include "kube/client_impl.hpp"
#include "kube/websocket.hpp"

#include <fmt/format.h>
#include <poll.h>

#include <thread>

namespace meshctl::kube {

Query exec_query(const ExecRequest& request) {
  Query q;
  if (!request.container.empty()) {
    q.emplace_back("container", request.container);
  }
  for (const auto& arg : request.command) {
    q.emplace_back("command", arg);
  }
  if (request.stdin_data) {
    q.emplace_back("stdin", "true");
  }
  q.emplace_back("stdout", "true");
  q.emplace_back("stderr", "true");
  return q;
}

Result<void> ChannelDemux::on_message(std::string_view message) {
  if (message.empty()) {
    return {};
  }
  const auto channel = static_cast<std::uint8_t>(message.front());
  const std::string_view payload = message.substr(1);
  std::string* target = nullptr;
  switch (channel) {
  case static_cast<std::uint8_t>(Channel::k_stdout):
    target = &m_out;
    break;
  case static_cast<std::uint8_t>(Channel::k_stderr):
    target = &m_err;
    break;
  case static_cast<std::uint8_t>(Channel::k_error):
    target = &m_error;
    break;
  default:
    return {}; // resize echoes, close signals ([255, ch]) and unknown channels carry no output
  }
  if (m_out.size() + m_err.size() + m_error.size() + payload.size() > m_max) {
    return fail(fmt::format("the command's output exceeds {} bytes", m_max),
                "narrow the command's output, or raise the exec output limit");
  }
  target->append(payload);
  return {};
}

ApiResult<int> exit_code_from_status(std::string_view status_json) {
  if (status_json.empty()) {
    return 0;
  }
  const auto status = nlohmann::json::parse(status_json, nullptr, false);
  if (!status.is_object()) {
    return api_fail(
        Error(ExitCode::k_failed, fmt::format("the exec error channel held no Status: {}",
                                              status_json.substr(0, 200))));
  }
  const std::string state = status.value("status", "");
  if (state == "Success") {
    return 0;
  }
  const std::string reason = status.value("reason", "");
  const std::string message = status.value("message", "");
  if (reason == "NonZeroExitCode") {
    const auto details = status.value("details", nlohmann::json::object());
    const auto causes = details.value("causes", nlohmann::json::array());
    for (const auto& c : causes) {
      if (c.is_object() && c.value("reason", "") == "ExitCode") {
        const std::string code = c.value("message", "");
        try {
          std::size_t used = 0;
          const int value = std::stoi(code, &used);
          if (used == code.size()) {
            return value;
          }
        } catch (const std::exception&) {
          // fall through to the error below
        }
        break;
      }
    }
    return api_fail(
        Error(ExitCode::k_failed,
              fmt::format("the command failed without a readable exit code: {}", message)));
  }
  ApiError e;
  e.reason = reason;
  e.status = status;
  e.http_status = status.value("code", 0);
  std::string hint;
  if (message.find("executable file not found") != std::string::npos ||
      message.find("no such file or directory") != std::string::npos) {
    hint = "the command does not exist in the container's image";
  }
  e.error = Error(ExitCode::k_failed,
                  message.empty() ? fmt::format("exec failed ({})", reason) : message, hint);
  return tl::make_unexpected(std::move(e));
}

std::optional<std::string> decode_chunked(std::string_view body) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const std::size_t eol = body.find("\r\n", pos);
    if (eol == std::string_view::npos) {
      return std::nullopt;
    }
    std::size_t size = 0;
    std::size_t i = pos;
    for (; i < eol; ++i) {
      const char c = body[i];
      int digit = -1;
      if (c >= '0' && c <= '9') {
        digit = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        digit = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        digit = c - 'A' + 10;
      } else {
        break; // chunk extensions (";…") end the size
      }
      size = size * 16 + static_cast<std::size_t>(digit);
      if (size > (64U << 20U)) {
        return std::nullopt;
      }
    }
    pos = eol + 2;
    if (size == 0) {
      return out; // trailers, if any, are ignored
    }
    if (body.size() < pos + size + 2) {
      return std::nullopt;
    }
    out.append(body.substr(pos, size));
    pos += size + 2;
  }
}

namespace {

using Clock = std::chrono::steady_clock;

/// A connection made by libcurl in connect-only mode; bytes go through curl_easy_send/recv so TLS
/// stays libcurl's.
class RawConnection {
public:
  RawConnection() : m_easy(curl_easy_init()) {}
  ~RawConnection() {
    if (m_easy != nullptr) {
      curl_easy_cleanup(m_easy);
    }
    curl_slist_free_all(m_connect_to);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  CURL* easy() { return m_easy; }
  curl_slist** connect_to() { return &m_connect_to; }
  char* error_buffer() { return m_error.data(); }
  [[nodiscard]] std::string error_text(CURLcode code) const {
    long os_errno = 0;
    curl_easy_getinfo(m_easy, CURLINFO_OS_ERRNO, &os_errno);
    return detail::failure_detail(m_error[0] != '\0' ? std::string(m_error.data())
                                                     : std::string(curl_easy_strerror(code)),
                                  os_errno);
  }

  CURLcode open() {
    const CURLcode code = curl_easy_perform(m_easy);
    if (code == CURLE_OK) {
      curl_easy_getinfo(m_easy, CURLINFO_ACTIVESOCKET, &m_socket);
    }
    return code;
  }

  /// Sends everything or fails (timeout: CURLE_OPERATION_TIMEDOUT).
  CURLcode send_all(std::string_view data, Clock::time_point deadline) {
    while (!data.empty()) {
      std::size_t sent = 0;
      const CURLcode code = when_ready(POLLOUT, deadline, [&] {
        return curl_easy_send(m_easy, data.data(), data.size(), &sent);
      });
      if (code != CURLE_OK) {
        return code;
      }
      data.remove_prefix(sent);
    }
    return CURLE_OK;
  }

  /// Appends what arrives to `out`; sets eof when the peer closed the connection.
  CURLcode receive(std::string& out, bool& eof, Clock::time_point deadline) {
    std::array<char, 65536> buffer{};
    std::size_t n = 0;
    const CURLcode code = when_ready(
        POLLIN, deadline, [&] { return curl_easy_recv(m_easy, buffer.data(), buffer.size(), &n); });
    if (code != CURLE_OK) {
      return code;
    }
    eof = n == 0;
    out.append(buffer.data(), n);
    return CURLE_OK;
  }

private:
  // Runs `step` (one non-blocking curl_easy_send or _recv) until it answers other than
  // CURLE_AGAIN, waiting between tries for the socket to be ready for `events`.
  template <class Step>
  CURLcode when_ready(short events, Clock::time_point deadline, const Step& step) {
    while (true) {
      const CURLcode code = step();
      if (code != CURLE_AGAIN) {
        return code;
      }
      if (!wait(events, deadline)) {
        return CURLE_OPERATION_TIMEDOUT;
      }
    }
  }

  bool wait(short events, Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      return false;
    }
    pollfd fd{static_cast<int>(m_socket), events, 0};
    const int r = ::poll(&fd, 1, static_cast<int>(std::min<long long>(left, 1000)));
    return r >= 0 || errno == EINTR;
  }

  CURL* m_easy;
  curl_slist* m_connect_to = nullptr;
  curl_socket_t m_socket = CURL_SOCKET_BAD;
  std::array<char, CURL_ERROR_SIZE> m_error{};
};

std::string header_value(const ws::ResponseHead& head, std::string_view name) {
  return head.header(name);
}

// Reads the body of a non-101 answer (bounded), decoding chunked transfer encoding.
std::string read_refusal_body(RawConnection& conn, const ws::ResponseHead& head, std::string body,
                              Clock::time_point deadline) {
  constexpr std::size_t k_max = 1U << 20U;
  const std::string length_text = header_value(head, "Content-Length");
  const bool chunked = header_value(head, "Transfer-Encoding").find("chunked") != std::string::npos;
  std::size_t length = std::string::npos;
  if (!length_text.empty()) {
    try {
      length = std::stoul(length_text);
    } catch (const std::exception&) {
      length = std::string::npos;
    }
  }
  bool eof = false;
  while (body.size() < k_max) {
    if (length != std::string::npos && body.size() >= length) {
      body.resize(length);
      break;
    }
    if (chunked && decode_chunked(body)) {
      break;
    }
    if (eof || conn.receive(body, eof, deadline) != CURLE_OK) {
      break;
    }
  }
  if (chunked) {
    if (auto decoded = decode_chunked(body)) {
      return *decoded;
    }
  }
  return body;
}

// The stream of a command that started: stdin out, output in, until the exit status arrives.
// Nothing here is retried: the command may have run.
ApiResult<ExecResult> run_stream(RawConnection& conn, const ExecRequest& request,
                                 const std::string& protocol, std::string_view already,
                                 Clock::time_point deadline, const RequestInfo& info,
                                 const std::string& where) {
  ws::MessageReader reader(request.max_output + 1024);
  reader.feed(already);
  ChannelDemux demux(request.max_output);
  auto send_frame = [&](ws::Opcode op, std::string payload) {
    return conn.send_all(ws::encode_frame({true, op, std::move(payload)}, ws::make_mask()),
                         deadline);
  };
  auto io_error = [&](CURLcode code) {
    if (code == CURLE_OPERATION_TIMEDOUT) {
      return api_fail(Error(ExitCode::k_failed,
                            fmt::format("{}: the command did not finish within {}", where,
                                        format_duration(request.timeout)),
                            "the command may still be running in the container; a large "
                            "answer may need a longer --timeout (e.g. --timeout 2m)"));
    }
    auto e2 = error_from_transport(info, detail::classify(code, conn.error_text(code), false),
                                   conn.error_text(code));
    e2.with_context(where);
    return tl::unexpected<ApiError>(std::move(e2));
  };
  if (request.stdin_data) {
    constexpr std::size_t k_chunk = 32U << 10U;
    const std::string& in = *request.stdin_data;
    for (std::size_t off = 0; off < in.size(); off += k_chunk) {
      std::string payload(1, static_cast<char>(Channel::k_stdin));
      payload += in.substr(off, k_chunk);
      if (const auto c = send_frame(ws::Opcode::k_binary, std::move(payload)); c != CURLE_OK) {
        return io_error(c);
      }
    }
    if (protocol == "v5.channel.k8s.io") {
      // v5's close signal ends stdin; v4 has no way to say it.
      const std::string close_stdin{static_cast<char>(Channel::k_close),
                                    static_cast<char>(Channel::k_stdin)};
      if (const auto c = send_frame(ws::Opcode::k_binary, close_stdin); c != CURLE_OK) {
        return io_error(c);
      }
    }
  }
  bool closed = false;
  std::uint16_t close_code = 0;
  std::string close_reason;
  bool stream_eof = false;
  while (!closed) {
    auto message = reader.next();
    if (!message) {
      return api_fail(message.error().with_context(where));
    }
    if (!message->has_value()) {
      if (stream_eof) {
        break;
      }
      std::string more;
      if (const auto c = conn.receive(more, stream_eof, deadline); c != CURLE_OK) {
        return io_error(c);
      }
      reader.feed(more);
      continue;
    }
    ws::Message& m = **message;
    switch (m.opcode) {
    case ws::Opcode::k_binary:
      if (auto ok = demux.on_message(m.payload); !ok) {
        return api_fail(ok.error().with_context(where));
      }
      break;
    case ws::Opcode::k_ping:
      if (const auto c = send_frame(ws::Opcode::k_pong, std::move(m.payload)); c != CURLE_OK) {
        return io_error(c);
      }
      break;
    case ws::Opcode::k_close: {
      std::tie(close_code, close_reason) = ws::parse_close_payload(m.payload);
      // Echo the status to complete the closing handshake (RFC 6455 §5.5.1).
      const std::string reply =
          close_code == 1005 ? std::string() : ws::close_payload(close_code, "");
      conn.send_all(ws::encode_frame({true, ws::Opcode::k_close, reply}, ws::make_mask()),
                    deadline);
      closed = true;
      break;
    }
    default:
      break; // pong, text (no text protocol was offered)
    }
  }
  if (demux.error_channel().empty() && !closed) {
    return api_fail(Error(ExitCode::k_failed,
                          fmt::format("{}: the stream ended before the command's exit "
                                      "status arrived",
                                      where),
                          "the connection to the API server broke; the command may or may "
                          "not have run"));
  }
  if (demux.error_channel().empty() && close_code != 1000 && close_code != 1005) {
    return api_fail(
        Error(ExitCode::k_failed, fmt::format("{}: the server closed the stream ({} {})", where,
                                              close_code, close_reason)));
  }
  auto exit_code = exit_code_from_status(demux.error_channel());
  if (!exit_code) {
    return tl::make_unexpected(std::move(exit_code.error().with_context(where)));
  }
  ExecResult result;
  result.stdout_data = demux.take_out();
  result.stderr_data = demux.take_err();
  result.exit_code = *exit_code;
  result.protocol = protocol;
  return result;
}

std::string exec_where(const ExecRequest& request) {
  return fmt::format("exec in pod {}/{}{}", request.namespace_, request.pod,
                     request.container.empty() ? "" : " (container " + request.container + ")");
}

} // namespace

ExecAttempt detail::CurlTransport::exec(const ExecRequest& request,
                                        const config::Credentials& creds, const RequestInfo& info,
                                        Clock::time_point deadline) {
  const std::string path = pod_exec_path(request.namespace_, request.pod);
  const std::string path_and_query =
      m_endpoint.base_path + path + "?" + encode_query(exec_query(request));
  const std::string where = exec_where(request);
  const auto& offered = exec_protocols();
  ExecAttempt out;
  RawConnection conn;
  CURL* e = conn.easy();
  if (e == nullptr) {
    out.ran =
        api_fail(Error(ExitCode::k_failed, "libcurl could not make a handle (out of memory)"));
    return out;
  }
  detail::configure_tls_and_proxy(e, m_endpoint, creds, m_settings.connect_timeout,
                                  conn.connect_to());
  const std::string url = m_endpoint.url("/");
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
  // ALPN offers only http/1.1: an h2 connection cannot be upgraded to WebSocket.
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, conn.error_buffer());
  if (!m_endpoint.proxy.empty()) {
    curl_easy_setopt(e, CURLOPT_HTTPPROXYTUNNEL, 1L); // also for http:// servers
  }

  const CURLcode connected = conn.open();
  std::string received;
  std::optional<std::pair<ws::ResponseHead, std::size_t>> head;
  if (connected != CURLE_OK) {
    out.detail = conn.error_text(connected);
    out.refused.failure = detail::classify(connected, out.detail, !m_endpoint.proxy.empty());
  } else {
    std::vector<std::pair<std::string, std::string>> headers{{"User-Agent", m_settings.user_agent}};
    if (!creds.bearer_token.empty()) {
      headers.emplace_back("Authorization", "Bearer " + creds.bearer_token);
    } else if (!creds.username.empty()) {
      headers.emplace_back("Authorization",
                           "Basic " + ws::base64(creds.username + ":" + creds.password));
    }
    const std::string key = ws::make_key();
    const std::string upgrade =
        ws::upgrade_request(path_and_query, m_endpoint.authority, key, offered, headers);
    CURLcode io = conn.send_all(upgrade, deadline);
    bool eof = false;
    while (io == CURLE_OK) {
      auto parsed = ws::parse_response_head(received);
      if (!parsed) {
        out.ran = api_fail(parsed.error().with_context(where));
        return out;
      }
      if (parsed->has_value()) {
        head = std::move(**parsed);
        break;
      }
      if (eof) {
        io = CURLE_GOT_NOTHING;
        break;
      }
      io = conn.receive(received, eof, deadline);
    }
    if (io != CURLE_OK) {
      out.detail = conn.error_text(io);
      if (io == CURLE_GOT_NOTHING) {
        out.detail = "the server closed the connection without answering";
      }
      out.refused.failure = detail::classify(io, out.detail, false);
    } else if (head->first.status != 101) {
      out.refused.http_status = head->first.status;
      out.refused.retry_after = parse_retry_after(head->first.header("Retry-After"));
      out.body = read_refusal_body(conn, head->first, received.substr(head->second), deadline);
    } else {
      auto protocol = ws::check_upgrade(head->first, key, offered);
      if (!protocol) {
        out.ran = api_fail(protocol.error().with_context(where));
        return out;
      }
      log::debug("{}: {} {} upgraded to {}", m_settings.context, "GET", path, *protocol);
      out.ran = run_stream(conn, request, *protocol,
                           std::string_view(received).substr(head->second), deadline, info, where);
    }
  }
  return out;
}

ApiResult<ExecResult> Client::exec(const ExecRequest& request) {
  Impl& im = *m_impl;
  RequestInfo info = im.info_for("GET", pod_exec_path(request.namespace_, request.pod));
  info.verb = "create"; // RBAC: exec is "create" on pods/exec
  const std::string where = exec_where(request);
  const auto start = Clock::now();
  const auto deadline = start + request.timeout;
  Impl::Attempts attempts;
  while (true) {
    auto creds = im.begin_attempt(attempts, info);
    if (!creds) {
      return api_fail(creds.error());
    }
    ExecAttempt tried = im.transport->exec(request, *creds, info, deadline);
    if (tried.ran) {
      return std::move(*tried.ran);
    }
    // The command did not start. Retry where that is safe and useful.
    if (im.refreshed_after(tried.refused.http_status, attempts)) {
      continue;
    }
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    auto delay = next_retry_delay(im.options.retry, tried.refused, true, attempts.number, elapsed,
                                  im.random01());
    if (delay && Clock::now() + *delay >= deadline) {
      delay.reset();
    }
    if (!delay) {
      ApiError err = tried.refused.http_status != 0
                         ? error_from_response(info, tried.refused.http_status, tried.body)
                         : error_from_transport(info, tried.refused.failure, tried.detail);
      err.with_context(where);
      return tl::make_unexpected(std::move(err));
    }
    log::debug("{}: retrying exec in {} ms", im.context.name, delay->count());
    std::this_thread::sleep_for(*delay);
  }
}

} // namespace meshctl::kube

// The only translation unit with Beast in it (besides nothing else): keep it that way, Beast is
// slow to compile. Structure after Beast's advanced_server_flex example: an acceptor, one HTTP
// session per TLS connection (keep-alive), and a WebSocket session that takes the TLS stream over
// when an exec request asks for an upgrade.

#include "server.hpp"

#include "watch_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

namespace kubesim {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// Fault injection settings (POST /kubesim/faults, --faults).
struct Faults {
  double latency_ms = 0;
  std::map<int, double> error_rate; // status code -> probability
  std::map<int, int> error_every;   // status code -> N: every Nth matching request gets it
  int retry_after_seconds = 1;
  double drop_rate = 0;       // close the connection instead of answering
  double drop_after_rate = 0; // do the work, then close without answering
  double reset_rate = 0;      // reset the connection (TCP RST) instead of answering
  double slow_rate = 0;       // do the work, then answer only after slow_ms
  double slow_ms = 0;
  std::vector<std::string> verbs; // only requests with these verbs (empty = all)
  std::string path_prefix;        // only paths starting with this (empty = all)

  static Faults from_json(const nlohmann::json& j) {
    Faults f;
    if (j.is_null()) {
      return f;
    }
    if (!j.is_object()) {
      throw std::runtime_error("faults must be a JSON object");
    }
    for (const auto& [k, v] : j.items()) {
      if (k == "latencyMs") {
        f.latency_ms = v.get<double>();
      } else if (k == "errorRate") {
        for (const auto& [code, p] : v.items()) {
          const int c = std::stoi(code);
          if (c < 400 || c > 599) {
            throw std::runtime_error("errorRate codes must be 4xx or 5xx: " + code);
          }
          f.error_rate[c] = p.get<double>();
        }
      } else if (k == "errorEvery") {
        for (const auto& [code, n] : v.items()) {
          const int c = std::stoi(code);
          if (c < 400 || c > 599 || n.get<int>() < 1) {
            throw std::runtime_error("errorEvery needs a 4xx or 5xx code and N >= 1: " + code);
          }
          f.error_every[c] = n.get<int>();
        }
      } else if (k == "retryAfterSeconds") {
        f.retry_after_seconds = v.get<int>();
      } else if (k == "dropRate") {
        f.drop_rate = v.get<double>();
      } else if (k == "dropAfterRate") {
        f.drop_after_rate = v.get<double>();
      } else if (k == "resetRate") {
        f.reset_rate = v.get<double>();
      } else if (k == "slowRate") {
        f.slow_rate = v.get<double>();
      } else if (k == "slowMs") {
        f.slow_ms = v.get<double>();
      } else if (k == "verbs") {
        f.verbs = v.get<std::vector<std::string>>();
      } else if (k == "pathPrefix") {
        f.path_prefix = v.get<std::string>();
      } else {
        throw std::runtime_error("unknown fault setting \"" + k + "\"");
      }
    }
    return f;
  }

  [[nodiscard]] nlohmann::json to_json() const {
    nlohmann::json rates = nlohmann::json::object();
    for (const auto& [c, p] : error_rate) {
      rates[std::to_string(c)] = p;
    }
    nlohmann::json every = nlohmann::json::object();
    for (const auto& [c, n] : error_every) {
      every[std::to_string(c)] = n;
    }
    return {{"latencyMs", latency_ms},  {"errorRate", rates},
            {"errorEvery", every},      {"retryAfterSeconds", retry_after_seconds},
            {"dropRate", drop_rate},    {"dropAfterRate", drop_after_rate},
            {"resetRate", reset_rate},  {"slowRate", slow_rate},
            {"slowMs", slow_ms},        {"verbs", verbs},
            {"pathPrefix", path_prefix}};
  }

  [[nodiscard]] bool applies(const std::string& path, const RequestInfo& info) const {
    if (!path_prefix.empty() && path.rfind(path_prefix, 0) != 0) {
      return false;
    }
    return verbs.empty() || std::find(verbs.begin(), verbs.end(), info.verb) != verbs.end();
  }
};

HttpResponse fault_response(int code, int retry_after) {
  if (code == 502) {
    // kube-apiserver never says 502: a load balancer in front of it does, when the server behind
    // it is gone, and in its own words (HTML, no Status).
    return HttpResponse{502,
                        "text/html",
                        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                        "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n",
                        {}};
  }
  std::string reason = "InternalError";
  std::string message = "Internal error occurred: injected by kubesim";
  nlohmann::json details = nullptr;
  if (code == 429) {
    reason = "TooManyRequests";
    message = "Too many requests, please try again later.";
    details = {{"retryAfterSeconds", retry_after}};
  } else if (code == 503) {
    reason = "ServiceUnavailable";
    message = "the server is currently unable to handle the request";
  } else if (code == 504) {
    reason = "Timeout";
    message = "the server was unable to return a response in the time allotted, but may still be "
              "processing the request";
  } else if (code < 500) {
    reason = "BadRequest";
    message = "injected by kubesim";
  }
  HttpResponse r;
  r.status = code;
  r.body = status_failure(code, reason, message, details).dump();
  if (code == 429) {
    r.headers.emplace_back("Retry-After", std::to_string(retry_after));
  }
  return r;
}

} // namespace

struct Server::Impl {
  ServerOptions opts;
  net::io_context ioc;
  ssl::context ssl_ctx{ssl::context::tls_server};
  tcp::acceptor acceptor{ioc};
  net::signal_set signals{ioc, SIGINT, SIGTERM};
  Api* api = nullptr;
  std::mutex faults_mu;
  Faults faults;
  std::mutex log_mu;
  std::FILE* log = nullptr;
  std::mutex rng_mu;
  std::mt19937_64 rng{std::random_device{}()};

  double roll() {
    std::lock_guard lock(rng_mu);
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  }

  Faults current_faults() {
    std::lock_guard lock(faults_mu);
    return faults;
  }

  /// 1, 2, 3, … for the requests the current faults apply to (restarts when they are set).
  std::uint64_t next_matching() {
    std::lock_guard lock(faults_mu);
    return ++matching;
  }
  std::uint64_t matching = 0;

  void write_log(const std::string& method, const std::string& target, const RequestInfo& info,
                 int status, Clock::time_point start, const std::string& fault) {
    if (log == nullptr) {
      return;
    }
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    nlohmann::json line = {{"time", now_rfc3339_micro()},
                           {"method", method},
                           {"path", target},
                           {"user", info.user},
                           {"verb", info.verb},
                           {"status", status},
                           {"latencyMs", std::round(ms * 1000) / 1000}};
    if (!info.resource.empty()) {
      line["resource"] = info.resource;
      line["apiGroup"] = info.api_group;
    }
    if (!info.subresource.empty()) {
      line["subresource"] = info.subresource;
    }
    if (!info.ns.empty()) {
      line["namespace"] = info.ns;
    }
    if (!info.name.empty()) {
      line["name"] = info.name;
    }
    if (info.dry_run) {
      line["dryRun"] = true;
    }
    if (!fault.empty()) {
      line["fault"] = fault;
    }
    const std::string text = line.dump() + "\n";
    std::lock_guard lock(log_mu);
    std::fwrite(text.data(), 1, text.size(), log);
    std::fflush(log);
  }

  void do_accept();
};

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool is_exec_path(const std::string& target) {
  const std::string path = target.substr(0, target.find('?'));
  return path.rfind("/api/v1/namespaces/", 0) == 0 && path.size() > 5 &&
         path.substr(path.size() - 5) == "/exec";
}

// ---------------------------------------------------------------------------------------------
// WebSocket exec: channel-prefixed binary frames (0 stdin, 1 stdout, 2 stderr, 3 error,
// 4 resize; v5: [255, channel] closes a stream).

class ExecSession : public std::enable_shared_from_this<ExecSession> {
public:
  ExecSession(beast::ssl_stream<beast::tcp_stream>&& stream, Server::Impl& srv, ExecRequest exec,
              std::string protocol, RequestInfo info, Clock::time_point start)
      : m_ws(std::move(stream)), m_srv(srv), m_exec(std::move(exec)),
        m_protocol(std::move(protocol)), m_info(std::move(info)), m_start(start) {}

  void run(http::request<http::string_body> req) {
    m_method = std::string(req.method_string());
    m_target = std::string(req.target());
    beast::get_lowest_layer(m_ws).expires_never();
    m_ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    m_ws.set_option(
        websocket::stream_base::decorator([p = m_protocol](websocket::response_type& res) {
          res.set(http::field::sec_websocket_protocol, p);
          res.set(http::field::server, "kubesim");
        }));
    m_ws.binary(true);
    m_ws.async_accept(req, beast::bind_front_handler(&ExecSession::on_accept, shared_from_this()));
  }

private:
  void on_accept(beast::error_code ec) {
    m_srv.write_log(m_method, m_target, m_info, ec ? 400 : 101, m_start, "");
    if (ec) {
      return;
    }
    do_read();
    if (!Api::exec_reads_stdin(m_exec)) {
      finish();
    }
  }

  void do_read() {
    m_ws.async_read(m_buf, beast::bind_front_handler(&ExecSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) {
      // The client went away (or closed): a command waiting for stdin runs with what came.
      if (!m_finished && Api::exec_reads_stdin(m_exec)) {
        m_finished = true;
      }
      return;
    }
    const std::string data = beast::buffers_to_string(m_buf.data());
    m_buf.consume(m_buf.size());
    if (!data.empty()) {
      const auto channel = static_cast<unsigned char>(data[0]);
      if (channel == 0) {
        m_stdin += data.substr(1);
      } else if (channel == 255 && data.size() >= 2 && data[1] == 0 && m_protocol[1] == '5') {
        if (Api::exec_reads_stdin(m_exec)) {
          finish();
        }
      }
    }
    do_read();
  }

  void finish() {
    if (m_finished) {
      return;
    }
    m_finished = true;
    ExecResult r;
    try {
      r = m_srv.api->run_exec(m_exec, m_stdin);
    } catch (const std::exception& e) {
      r.failure = std::string("Internal error occurred: ") + e.what();
    }
    if (m_exec.stdout_ && !r.out.empty()) {
      enqueue(std::string(1, '\x01') + r.out);
    }
    if (m_exec.stderr_ && !r.err.empty()) {
      enqueue(std::string(1, m_exec.tty ? '\x01' : '\x02') + r.err);
    }
    nlohmann::json status = {{"metadata", nlohmann::json::object()}, {"status", "Success"}};
    if (!r.failure.empty()) {
      status = {{"metadata", nlohmann::json::object()},
                {"status", "Failure"},
                {"message", r.failure},
                {"reason", "InternalError"},
                {"details", {{"causes", nlohmann::json::array({{{"message", r.failure}}})}}},
                {"code", 500}};
    } else if (r.exit_code != 0) {
      std::string cmd;
      for (const auto& c : m_exec.command) {
        cmd += (cmd.empty() ? "" : " ") + c;
      }
      status = {
          {"metadata", nlohmann::json::object()},
          {"status", "Failure"},
          {"message", "command terminated with non-zero exit code: error executing command [" +
                          cmd + "], exit code " + std::to_string(r.exit_code)},
          {"reason", "NonZeroExitCode"},
          {"details",
           {{"causes", nlohmann::json::array({{{"reason", "ExitCode"},
                                               {"message", std::to_string(r.exit_code)}}})}}}};
    }
    enqueue(std::string(1, '\x03') + status.dump());
    m_close_after = true;
  }

  void enqueue(std::string frame) {
    m_out.push_back(std::move(frame));
    if (m_out.size() == 1) {
      do_write();
    }
  }

  void do_write() {
    m_ws.async_write(net::buffer(m_out.front()),
                     beast::bind_front_handler(&ExecSession::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) {
      return;
    }
    m_out.pop_front();
    if (!m_out.empty()) {
      do_write();
    } else if (m_close_after) {
      m_ws.async_close(websocket::close_code::normal,
                       [self = shared_from_this()](beast::error_code) {});
    }
  }

  websocket::stream<beast::ssl_stream<beast::tcp_stream>> m_ws;
  Server::Impl& m_srv;
  ExecRequest m_exec;
  std::string m_protocol;
  RequestInfo m_info;
  Clock::time_point m_start;
  std::string m_method;
  std::string m_target;
  beast::flat_buffer m_buf;
  std::string m_stdin;
  std::deque<std::string> m_out;
  bool m_finished = false;
  bool m_close_after = false;
};

// ---------------------------------------------------------------------------------------------

class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
  HttpSession(tcp::socket&& socket, Server::Impl& srv)
      : m_stream(std::move(socket), srv.ssl_ctx), m_srv(srv), m_timer(m_stream.get_executor()) {}

  void run() {
    net::dispatch(m_stream.get_executor(),
                  beast::bind_front_handler(&HttpSession::on_run, shared_from_this()));
  }

private:
  void on_run() {
    beast::get_lowest_layer(m_stream).expires_after(std::chrono::seconds(30));
    m_stream.async_handshake(
        ssl::stream_base::server,
        beast::bind_front_handler(&HttpSession::on_handshake, shared_from_this()));
  }

  void on_handshake(beast::error_code ec) {
    if (ec) {
      return;
    }
    SSL* ssl = m_stream.native_handle();
    X509* peer = SSL_get1_peer_certificate(ssl);
    if (peer != nullptr) {
      if (SSL_get_verify_result(ssl) == X509_V_OK) {
        unsigned char* der = nullptr;
        const int n = i2d_X509(peer, &der);
        if (n > 0) {
          m_cert = Pki::identity_of_cert_der(
              std::string(reinterpret_cast<char*>(der), static_cast<std::size_t>(n)));
          OPENSSL_free(der);
        }
      }
      X509_free(peer);
    }
    do_read();
  }

  void do_read() {
    m_parser.emplace();
    m_parser->body_limit(512 * 1024 * 1024);
    beast::get_lowest_layer(m_stream).expires_after(std::chrono::seconds(600));
    http::async_read(m_stream, m_buffer, *m_parser,
                     beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) {
      return do_close();
    }
    if (ec) {
      return;
    }
    m_req = m_parser->release();
    m_start = Clock::now();
    handle();
  }

  HttpRequest to_api_request() {
    HttpRequest hr;
    hr.method = std::string(m_req.method_string());
    hr.target = std::string(m_req.target());
    for (const auto& f : m_req) {
      const std::string name = lower(std::string(f.name_string()));
      if (name == "impersonate-group") {
        hr.impersonate_groups.emplace_back(f.value());
      } else {
        hr.headers[name] = std::string(f.value());
      }
    }
    hr.body = m_req.body();
    hr.cert_identity = m_cert;
    return hr;
  }

  void handle() {
    const std::string target(m_req.target());
    const std::string method(m_req.method_string());
    if (target.rfind("/kubesim/", 0) == 0) {
      return control(target, method);
    }
    m_info = classify_request(method, target);
    const Faults f = m_srv.current_faults();
    const bool faulty = f.applies(target.substr(0, target.find('?')), m_info);
    if (faulty && f.latency_ms > 0) {
      m_timer.expires_after(std::chrono::microseconds(static_cast<long long>(f.latency_ms * 1000)));
      m_timer.async_wait(
          [self = shared_from_this(), f](beast::error_code) { self->after_latency(f, true); });
      return;
    }
    after_latency(f, faulty);
  }

  void after_latency(const Faults& f, bool faulty) {
    const std::string target(m_req.target());
    const std::string method(m_req.method_string());
    if (faulty) {
      if (f.drop_rate > 0 && m_srv.roll() < f.drop_rate) {
        m_srv.write_log(method, target, m_info, 0, m_start, "drop");
        beast::get_lowest_layer(m_stream).socket().shutdown(tcp::socket::shutdown_both);
        beast::get_lowest_layer(m_stream).close();
        return;
      }
      if (f.reset_rate > 0 && m_srv.roll() < f.reset_rate) {
        // SO_LINGER 0: close() sends RST, as a load balancer does when its backend vanished.
        m_srv.write_log(method, target, m_info, 0, m_start, "reset");
        auto& socket = beast::get_lowest_layer(m_stream).socket();
        beast::error_code ignored;
        socket.set_option(net::socket_base::linger(true, 0), ignored);
        beast::get_lowest_layer(m_stream).close();
        return;
      }
      if (!f.error_every.empty()) {
        const std::uint64_t n = m_srv.next_matching();
        for (const auto& [code, every] : f.error_every) {
          if (n % static_cast<std::uint64_t>(every) == 0) {
            return respond(fault_response(code, f.retry_after_seconds), std::to_string(code));
          }
        }
      }
      double r = m_srv.roll();
      for (const auto& [code, p] : f.error_rate) {
        if (r < p) {
          return respond(fault_response(code, f.retry_after_seconds), std::to_string(code));
        }
        r -= p;
      }
    }
    HttpRequest hr = to_api_request();
    if (websocket::is_upgrade(m_req) && is_exec_path(target)) {
      return upgrade(hr);
    }
    HttpResponse res = m_srv.api->handle(hr, m_info);
    if (m_info.watch) {
      m_srv.write_log(method, target, m_info, res.status, m_start, "");
      return serve_watch(std::move(m_stream), m_req.version(), res.content_type,
                         std::move(m_info.watch));
    }
    if (faulty && f.drop_after_rate > 0 && m_srv.roll() < f.drop_after_rate) {
      m_srv.write_log(method, target, m_info, res.status, m_start, "drop-after");
      beast::get_lowest_layer(m_stream).socket().shutdown(tcp::socket::shutdown_both);
      beast::get_lowest_layer(m_stream).close();
      return;
    }
    if (faulty && f.slow_rate > 0 && f.slow_ms > 0 && m_srv.roll() < f.slow_rate) {
      // The work is done; the answer comes late (a client that gave up does not know it).
      m_timer.expires_after(std::chrono::microseconds(static_cast<long long>(f.slow_ms * 1000)));
      m_timer.async_wait(
          [self = shared_from_this(), res](beast::error_code) { self->respond(res, "slow"); });
      return;
    }
    respond(res, "");
  }

  void upgrade(const HttpRequest& hr) {
    auto prepared = m_srv.api->prepare_exec(hr, m_info);
    if (auto* err = std::get_if<HttpResponse>(&prepared)) {
      return respond(*err, "");
    }
    std::string offered =
        hr.headers.count("sec-websocket-protocol") ? hr.headers.at("sec-websocket-protocol") : "";
    std::string chosen;
    std::string cur;
    for (char c : offered + ",") {
      if (c == ',') {
        const auto b = cur.find_first_not_of(' ');
        const auto e = cur.find_last_not_of(' ');
        const std::string p = b == std::string::npos ? "" : cur.substr(b, e - b + 1);
        const auto& ok = m_srv.opts.exec_protocols;
        if (chosen.empty() && std::find(ok.begin(), ok.end(), p) != ok.end()) {
          chosen = p;
        }
        cur.clear();
      } else {
        cur.push_back(c);
      }
    }
    if (chosen.empty()) {
      return respond(
          HttpResponse{400,
                       "application/json",
                       status_failure(400, "BadRequest",
                                      "unable to upgrade connection: none of the offered "
                                      "subprotocols (" +
                                          offered +
                                          ") is supported by this kubesim (see --exec-protocols)")
                           .dump(),
                       {}},
          "");
    }
    std::make_shared<ExecSession>(std::move(m_stream), m_srv, std::get<ExecRequest>(prepared),
                                  chosen, m_info, m_start)
        ->run(std::move(m_req));
  }

  void control(const std::string& target, const std::string& method) {
    m_info = RequestInfo{};
    m_info.verb = lower(method);
    HttpRequest hr = to_api_request();
    std::optional<HttpResponse> forbidden;
    const auto who = m_srv.api->authenticate(hr, forbidden);
    if (!who) {
      return respond(forbidden
                         ? *forbidden
                         : HttpResponse{401,
                                        "application/json",
                                        status_failure(401, "Unauthorized", "Unauthorized").dump(),
                                        {}},
                     "");
    }
    m_info.user = who->user;
    if (!Api::is_admin(*who)) {
      return respond(
          HttpResponse{
              403,
              "application/json",
              status_failure(403, "Forbidden", "only system:masters may use " + target).dump(),
              {}},
          "");
    }
    const std::string path = target.substr(0, target.find('?'));
    if (path == "/kubesim/faults") {
      if (method == "GET") {
        return respond(
            HttpResponse{200, "application/json", m_srv.current_faults().to_json().dump(), {}}, "");
      }
      if (method == "POST" || method == "PUT" || method == "DELETE") {
        try {
          Faults f =
              method == "DELETE" ? Faults{} : Faults::from_json(nlohmann::json::parse(hr.body));
          {
            std::lock_guard lock(m_srv.faults_mu);
            m_srv.faults = f;
            m_srv.matching = 0;
          }
          return respond(HttpResponse{200, "application/json", f.to_json().dump(), {}}, "");
        } catch (const std::exception& e) {
          return respond(
              HttpResponse{
                  400, "application/json", status_failure(400, "BadRequest", e.what()).dump(), {}},
              "");
        }
      }
    }
    if (path == "/kubesim/healthz") {
      return respond(HttpResponse{200, "text/plain", "ok", {}}, "");
    }
    respond(
        HttpResponse{404,
                     "application/json",
                     status_failure(404, "NotFound", "no such kubesim endpoint: " + path).dump(),
                     {}},
        "");
  }

  void respond(const HttpResponse& r, const std::string& fault) {
    m_srv.write_log(std::string(m_req.method_string()), std::string(m_req.target()), m_info,
                    r.status, m_start, fault);
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(r.status), m_req.version());
    res->set(http::field::server, "kubesim");
    res->set(http::field::content_type, r.content_type);
    res->set(http::field::cache_control, "no-cache, private");
    for (const auto& [k, v] : r.headers) {
      res->insert(k, v);
    }
    res->keep_alive(m_req.keep_alive());
    if (m_req.method() != http::verb::head) {
      res->body() = r.body;
    }
    res->prepare_payload();
    m_res = res;
    http::async_write(
        m_stream, *res,
        beast::bind_front_handler(&HttpSession::on_write, shared_from_this(), !res->keep_alive()));
  }

  void on_write(bool close, beast::error_code ec, std::size_t) {
    m_res.reset();
    if (ec) {
      return;
    }
    if (close) {
      return do_close();
    }
    do_read();
  }

  void do_close() {
    beast::get_lowest_layer(m_stream).expires_after(std::chrono::seconds(5));
    m_stream.async_shutdown([self = shared_from_this()](beast::error_code) {});
  }

  beast::ssl_stream<beast::tcp_stream> m_stream;
  Server::Impl& m_srv;
  net::steady_timer m_timer;
  beast::flat_buffer m_buffer;
  std::optional<http::request_parser<http::string_body>> m_parser;
  http::request<http::string_body> m_req;
  std::shared_ptr<void> m_res;
  std::optional<Identity> m_cert;
  RequestInfo m_info;
  Clock::time_point m_start;
};

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  // HTTP/1.1 only: offering h2 would break WebSocket upgrades, and Beast has no HTTP/2.
  for (unsigned int i = 0; i < inlen;) {
    const unsigned char len = in[i];
    if (len == 8 && i + 1 + len <= inlen && std::memcmp(in + i + 1, "http/1.1", 8) == 0) {
      *out = in + i + 1;
      *outlen = len;
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1u + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

} // namespace

void Server::Impl::do_accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted) {
        return;
      }
    } else {
      std::make_shared<HttpSession>(std::move(socket), *this)->run();
    }
    do_accept();
  });
}

Server::Server(ServerOptions options) : m_impl(std::make_unique<Impl>()) {
  m_impl->opts = std::move(options);
  m_impl->faults = Faults::from_json(m_impl->opts.faults);
  const auto addr = net::ip::make_address(m_impl->opts.address);
  tcp::endpoint ep(addr, m_impl->opts.port);
  m_impl->acceptor.open(ep.protocol());
  m_impl->acceptor.set_option(net::socket_base::reuse_address(true));
  m_impl->acceptor.bind(ep);
  m_impl->acceptor.listen(net::socket_base::max_listen_connections);
  if (!m_impl->opts.request_log.empty()) {
    const std::filesystem::path log_path = m_impl->opts.request_log;
    if (log_path.has_parent_path()) {
      std::filesystem::create_directories(log_path.parent_path());
    }
    m_impl->log = std::fopen(m_impl->opts.request_log.c_str(), "a");
    if (m_impl->log == nullptr) {
      throw std::runtime_error("cannot open request log " + m_impl->opts.request_log);
    }
  }
}

Server::~Server() {
  if (m_impl->log != nullptr) {
    std::fclose(m_impl->log);
  }
}

unsigned short Server::port() const {
  return m_impl->acceptor.local_endpoint().port();
}

Scheduler Server::scheduler() {
  Impl* impl = m_impl.get();
  return [impl](std::chrono::milliseconds delay, std::function<void()> fn) {
    auto timer = std::make_shared<net::steady_timer>(impl->ioc, delay);
    timer->async_wait([timer, fn = std::move(fn)](beast::error_code ec) {
      if (ec) {
        return;
      }
      try {
        fn();
      } catch (const std::exception& e) {
        std::cerr << "kubesim: controller failed: " << e.what() << "\n";
      }
    });
  };
}

void Server::run(Api& api) {
  m_impl->api = &api;
  std::vector<std::string> sans = m_impl->opts.sans;
  if (m_impl->opts.address != "127.0.0.1" && m_impl->opts.address != "0.0.0.0") {
    sans.push_back(m_impl->opts.address);
  }
  const CertPair serving = api.pki().serving_cert(sans);
  auto& ctx = m_impl->ssl_ctx;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ctx.use_certificate_chain(net::buffer(serving.cert_pem));
  ctx.use_private_key(net::buffer(serving.key_pem), ssl::context::pem);
  ctx.add_certificate_authority(net::buffer(api.pki().ca_pem()));
  {
    BIO* bio =
        BIO_new_mem_buf(api.pki().ca_pem().data(), static_cast<int>(api.pki().ca_pem().size()));
    X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    SSL_CTX_add_client_CA(ctx.native_handle(), ca);
    X509_free(ca);
    BIO_free(bio);
  }
  // Ask for a client certificate but accept connections without one (tokens).
  ctx.set_verify_mode(ssl::verify_peer);
  SSL_CTX_set_alpn_select_cb(ctx.native_handle(), select_alpn, nullptr);

  m_impl->signals.async_wait([this](beast::error_code, int) { stop(); });
  m_impl->do_accept();
  std::vector<std::thread> threads;
  for (int i = 1; i < m_impl->opts.threads; ++i) {
    threads.emplace_back([this] { m_impl->ioc.run(); });
  }
  m_impl->ioc.run();
  for (auto& t : threads) {
    t.join();
  }
}

void Server::stop() {
  net::post(m_impl->ioc, [this] {
    beast::error_code ec;
    m_impl->acceptor.close(ec);
    m_impl->ioc.stop();
  });
}

} // namespace kubesim

#pragma once
// A scripted HTTP/1.1 (optionally TLS) server on loopback for the client's network tests, built on
// Boost.Beast: each test says what to answer to each request, and reads back what was sent. It
// also accepts WebSocket upgrades with Beast's own (independent) RFC 6455 implementation, so
// meshctl's framing is checked against another implementation: Beast rejects unmasked client
// frames and waits for a proper close reply.
//
// This is not kubesim (tests/kubesim): no API semantics, just enough to pin down transport
// behaviour (retries, paging, headers, exec streams) deterministically.

#include "kube_test_support.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <atomic>
#include <functional>
#include <list>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace meshctl::testing::kube {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

inline std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

struct FakeRequest {
  std::string method;
  std::string target; ///< as received (absolute-form when sent to a proxy)
  std::string path;   ///< decoded path without query
  std::string raw_path;
  std::vector<std::pair<std::string, std::string>> query;   ///< decoded
  std::vector<std::pair<std::string, std::string>> headers; ///< lower-case names
  std::string body;
  bool via_proxy = false; ///< the target was absolute-form (a forward proxy request)

  [[nodiscard]] std::string header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) {
        return v;
      }
    }
    return {};
  }
  [[nodiscard]] std::vector<std::string> params(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : query) {
      if (k == name) {
        out.push_back(v);
      }
    }
    return out;
  }
  [[nodiscard]] std::string param(std::string_view name) const {
    const auto all = params(name);
    return all.empty() ? std::string() : all.front();
  }
  [[nodiscard]] bool has_param(std::string_view name) const { return !params(name).empty(); }
};

struct FakeResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};
  bool drop = false; ///< close the connection without answering
};

/// The server side of an accepted exec WebSocket.
class ExecIo {
public:
  virtual ~ExecIo() = default;
  /// One binary message: channel byte + data.
  virtual void send(std::uint8_t channel, std::string_view data) = 0;
  /// The same message split into frames of at most `fragment` bytes.
  virtual void send_fragmented(std::uint8_t channel, std::string_view data,
                               std::size_t fragment) = 0;
  virtual void ping(std::string_view payload) = 0;
  /// The next data message from the client; "" once it closed.
  virtual std::string read() = 0;
  /// Starts the closing handshake and waits for the client's close frame.
  virtual void close(std::uint16_t code) = 0;
  /// Whether close() got the client's answer.
  virtual bool closed_cleanly() const = 0;
};

struct ExecPlan {
  bool accept = false;
  std::string protocol; ///< the subprotocol to choose when accepting
  FakeResponse refusal; ///< the answer when not accepting
  std::function<void(ExecIo&)> script;
};

class FakeApiServer {
public:
  using Handler = std::function<FakeResponse(const FakeRequest&)>;
  using ExecHandler = std::function<ExecPlan(const FakeRequest&)>;

  explicit FakeApiServer(Handler handler, bool tls = false)
      : m_handler(std::move(handler)), m_tls(tls), m_ssl(ssl::context::tls_server) {
    if (tls) {
      const auto& pki = test_pki();
      m_ssl.use_certificate_chain_file(pki.server_ip_crt.string());
      m_ssl.use_private_key_file(pki.server_ip_key.string(), ssl::context::pem);
    }
    m_acceptor.open(tcp::v4());
    m_acceptor.set_option(tcp::acceptor::reuse_address(true));
    m_acceptor.bind({net::ip::make_address("127.0.0.1"), 0});
    m_acceptor.listen();
    m_port = m_acceptor.local_endpoint().port();
    m_accept_thread = std::thread([this] { accept_loop(); });
  }

  ~FakeApiServer() {
    m_stop = true;
    {
      // Wake the blocking accept with a connection of our own.
      net::io_context io;
      tcp::socket s(io);
      beast::error_code ec;
      s.connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(m_port)}, ec);
    }
    m_accept_thread.join();
    {
      std::lock_guard lock(m_mutex);
      for (const int fd : m_open_fds) {
        ::shutdown(fd, SHUT_RDWR);
      }
    }
    for (auto& t : m_sessions) {
      t.join();
    }
  }
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;

  [[nodiscard]] int port() const { return m_port; }
  [[nodiscard]] std::string url() const {
    return std::string(m_tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(m_port);
  }
  void on_exec(ExecHandler handler) {
    std::lock_guard lock(m_mutex);
    m_exec = std::move(handler);
  }
  [[nodiscard]] std::vector<FakeRequest> requests() const {
    std::lock_guard lock(m_mutex);
    return m_requests;
  }
  [[nodiscard]] std::size_t count(std::string_view method, std::string_view path) const {
    std::lock_guard lock(m_mutex);
    std::size_t n = 0;
    for (const auto& r : m_requests) {
      n += (r.method == method && r.path == path) ? 1 : 0;
    }
    return n;
  }
  [[nodiscard]] int connections() const { return m_connections; }

private:
  void accept_loop() {
    while (true) {
      tcp::socket socket(m_io);
      beast::error_code ec;
      m_acceptor.accept(socket, ec);
      if (m_stop) {
        return;
      }
      if (ec) {
        continue;
      }
      ++m_connections;
      std::lock_guard lock(m_mutex);
      m_open_fds.insert(socket.native_handle());
      m_sessions.emplace_back([this, s = std::move(socket)]() mutable { session(std::move(s)); });
    }
  }

  void session(tcp::socket socket) {
    const int fd = socket.native_handle();
    // The descriptor leaves the set before it is closed, so a reused number is never shut down.
    auto forget = [this, fd] {
      std::lock_guard lock(m_mutex);
      m_open_fds.erase(fd);
    };
    if (m_tls) {
      ssl::stream<tcp::socket> stream(std::move(socket), m_ssl);
      beast::error_code ec;
      stream.handshake(ssl::stream_base::server, ec);
      if (!ec) {
        serve(stream);
        stream.shutdown(ec);
      }
      forget();
    } else {
      serve(socket);
      forget();
    }
  }

  static FakeRequest convert(const http::request<http::string_body>& req) {
    FakeRequest fr;
    fr.method = std::string(req.method_string());
    fr.target = std::string(req.target());
    fr.via_proxy = req.method() == http::verb::connect;
    std::string target = fr.target;
    if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0) {
      fr.via_proxy = true;
      const auto slash = target.find('/', target.find("://") + 3);
      target = slash == std::string::npos ? "/" : target.substr(slash);
    }
    const auto q = target.find('?');
    fr.raw_path = target.substr(0, q);
    fr.path = percent_decode(fr.raw_path);
    if (q != std::string::npos) {
      std::string_view rest = std::string_view(target).substr(q + 1);
      while (!rest.empty()) {
        const auto amp = rest.find('&');
        const auto item = rest.substr(0, amp);
        const auto eq = item.find('=');
        fr.query.emplace_back(percent_decode(item.substr(0, eq)),
                              eq == std::string_view::npos ? ""
                                                           : percent_decode(item.substr(eq + 1)));
        rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      }
    }
    for (const auto& f : req) {
      std::string name(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      fr.headers.emplace_back(name, std::string(f.value()));
    }
    fr.body = req.body();
    return fr;
  }

  template <class Stream>
  static bool write_response(Stream& stream, const FakeResponse& r, unsigned version,
                             bool keep_alive) {
    http::response<http::string_body> res{static_cast<http::status>(r.status), version};
    res.set(http::field::server, "fake-apiserver");
    res.set(http::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) {
      res.set(k, v);
    }
    res.body() = r.body;
    res.keep_alive(keep_alive);
    res.prepare_payload();
    beast::error_code ec;
    http::write(stream, res, ec);
    return !ec && keep_alive;
  }

  template <class Stream> class WsIo : public ExecIo {
  public:
    explicit WsIo(websocket::stream<Stream&>& ws) : m_ws(ws) { m_ws.binary(true); }
    void send(std::uint8_t channel, std::string_view data) override {
      std::string m(1, static_cast<char>(channel));
      m += data;
      m_ws.write(net::buffer(m));
    }
    void send_fragmented(std::uint8_t channel, std::string_view data,
                         std::size_t fragment) override {
      std::string m(1, static_cast<char>(channel));
      m += data;
      for (std::size_t off = 0; off < m.size(); off += fragment) {
        const bool last = off + fragment >= m.size();
        m_ws.write_some(last, net::buffer(m.data() + off, std::min(fragment, m.size() - off)));
      }
    }
    void ping(std::string_view payload) override {
      m_ws.ping(websocket::ping_data(payload.data(), payload.size()));
    }
    std::string read() override {
      beast::flat_buffer b;
      beast::error_code ec;
      m_ws.read(b, ec);
      if (ec) {
        return {};
      }
      return beast::buffers_to_string(b.data());
    }
    void close(std::uint16_t code) override {
      beast::error_code ec;
      m_ws.close(websocket::close_reason(code), ec);
      m_clean = !ec;
    }
    bool closed_cleanly() const override { return m_clean; }

  private:
    websocket::stream<Stream&>& m_ws;
    bool m_clean = false;
  };

  template <class Stream> void serve(Stream& stream) {
    beast::flat_buffer buffer;
    while (!m_stop) {
      http::request<http::string_body> req;
      beast::error_code ec;
      http::read(stream, buffer, req, ec);
      if (ec) {
        return;
      }
      FakeRequest fr = convert(req);
      ExecHandler exec;
      {
        std::lock_guard lock(m_mutex);
        m_requests.push_back(fr);
        exec = m_exec;
      }
      if (req.method() == http::verb::connect) {
        if constexpr (std::is_same_v<Stream, tcp::socket>) {
          tunnel(stream, buffer, std::string(req.target()));
        }
        return;
      }
      if (websocket::is_upgrade(req) && exec) {
        ExecPlan plan = exec(fr);
        if (!plan.accept) {
          write_response(stream, plan.refusal, req.version(), false);
          return;
        }
        websocket::stream<Stream&> ws(stream);
        const std::string protocol = plan.protocol;
        ws.set_option(websocket::stream_base::decorator([protocol](websocket::response_type& res) {
          if (!protocol.empty()) {
            res.set(http::field::sec_websocket_protocol, protocol);
          }
        }));
        ws.accept(req, ec);
        if (ec) {
          return;
        }
        WsIo<Stream> io(ws);
        plan.script(io);
        return;
      }
      FakeResponse r = m_handler(fr);
      if (r.delay.count() > 0) {
        std::this_thread::sleep_for(r.delay);
      }
      if (r.drop) {
        return;
      }
      if (!write_response(stream, r, req.version(), req.keep_alive())) {
        return;
      }
    }
  }

  // Acts as a forward proxy's CONNECT: opens the target and copies bytes both ways until either
  // side closes.
  static void tunnel(tcp::socket& client, beast::flat_buffer& buffer, const std::string& target) {
    net::io_context io;
    tcp::socket upstream(io);
    const auto colon = target.rfind(':');
    beast::error_code ec;
    upstream.connect({net::ip::make_address(target.substr(0, colon)),
                      static_cast<unsigned short>(std::stoi(target.substr(colon + 1)))},
                     ec);
    if (ec) {
      net::write(client, net::buffer(std::string("HTTP/1.1 502 Bad Gateway\r\n\r\n")), ec);
      return;
    }
    net::write(client, net::buffer(std::string("HTTP/1.1 200 Connection established\r\n\r\n")), ec);
    if (buffer.size() > 0) {
      net::write(upstream, buffer.data(), ec);
      buffer.consume(buffer.size());
    }
    auto pump = [](tcp::socket& from, tcp::socket& to) {
      std::array<char, 16384> chunk{};
      beast::error_code e;
      while (true) {
        const std::size_t n = from.read_some(net::buffer(chunk), e);
        if (e || net::write(to, net::buffer(chunk.data(), n), e) != n || e) {
          break;
        }
      }
      beast::error_code ignored;
      to.shutdown(tcp::socket::shutdown_send, ignored);
    };
    std::thread back([&] { pump(upstream, client); });
    pump(client, upstream);
    back.join();
  }

  Handler m_handler;
  bool m_tls;
  ssl::context m_ssl;
  net::io_context m_io;
  tcp::acceptor m_acceptor{m_io};
  int m_port = 0;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_connections{0};
  mutable std::mutex m_mutex;
  std::vector<FakeRequest> m_requests;
  ExecHandler m_exec;
  std::set<int> m_open_fds;
  std::list<std::thread> m_sessions;
  std::thread m_accept_thread;
};

/// A JSON answer.
inline FakeResponse json_response(const nlohmann::json& body, int status = 200) {
  FakeResponse r;
  r.status = status;
  r.body = body.dump();
  return r;
}

/// A metav1.Status answer as kube-apiserver writes it.
inline FakeResponse status_response(int code, const std::string& reason,
                                    const std::string& message) {
  return json_response({{"kind", "Status"},
                        {"apiVersion", "v1"},
                        {"metadata", nlohmann::json::object()},
                        {"status", "Failure"},
                        {"message", message},
                        {"reason", reason},
                        {"code", code}},
                       code);
}

} // namespace meshctl::testing::kube

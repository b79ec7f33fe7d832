// kubesim's exec protocol with a minimal WebSocket client (OpenSSL + RFC 6455 framing by hand), to
// cover what kubectl does not: the v4 subprotocol, the choice among several offered, stdin with
// v5's close signal, and the frames themselves.

#include "kubesim_process.hpp"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using kubesim::testing::KubesimProcess;

struct Frame {
  int opcode = 0;
  std::string data;
};

class WsClient {
public:
  WsClient(const KubesimProcess& sim, const std::string& target, const std::string& protocols) {
    const std::string url = sim.url();
    const int port = std::stoi(url.substr(url.rfind(':') + 1));
    m_fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (connect(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("connect failed");
    }
    m_ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(m_ctx, sim.ca_path().c_str(), nullptr);
    SSL_CTX_set_verify(m_ctx, SSL_VERIFY_PEER, nullptr);
    m_ssl = SSL_new(m_ctx);
    SSL_set_fd(m_ssl, m_fd);
    if (SSL_connect(m_ssl) != 1) {
      throw std::runtime_error("TLS handshake failed");
    }
    const std::string req =
        "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
        sim.admin_token() +
        "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: "
        "13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Protocol: " +
        protocols + "\r\n\r\n";
    SSL_write(m_ssl, req.data(), static_cast<int>(req.size()));
    while (m_buf.find("\r\n\r\n") == std::string::npos) {
      fill();
    }
    const auto end = m_buf.find("\r\n\r\n");
    head = m_buf.substr(0, end);
    m_buf.erase(0, end + 4);
  }
  ~WsClient() {
    SSL_free(m_ssl);
    SSL_CTX_free(m_ctx);
    close(m_fd);
  }
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  /// A masked binary frame, as a client must send.
  void send_binary(const std::string& payload) {
    std::string f;
    f.push_back(static_cast<char>(0x82));
    f.push_back(static_cast<char>(0x80 | payload.size())); // tests send < 126 bytes
    const char mask[4] = {0x11, 0x22, 0x33, 0x44};
    f.append(mask, 4);
    for (std::size_t i = 0; i < payload.size(); ++i) {
      f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
    }
    SSL_write(m_ssl, f.data(), static_cast<int>(f.size()));
  }

  /// Frames until (and including) the server's close frame.
  std::vector<Frame> read_all() {
    std::vector<Frame> out;
    for (;;) {
      while (m_buf.size() < 2) {
        fill();
      }
      Frame fr;
      fr.opcode = m_buf[0] & 0x0f;
      std::size_t len = static_cast<unsigned char>(m_buf[1]) & 0x7f;
      std::size_t off = 2;
      if (len == 126) {
        while (m_buf.size() < 4) {
          fill();
        }
        len = (static_cast<unsigned char>(m_buf[2]) << 8) | static_cast<unsigned char>(m_buf[3]);
        off = 4;
      }
      while (m_buf.size() < off + len) {
        fill();
      }
      fr.data = m_buf.substr(off, len);
      m_buf.erase(0, off + len);
      out.push_back(fr);
      if (fr.opcode == 8) {
        return out;
      }
    }
  }

  std::string head;

private:
  void fill() {
    char tmp[4096];
    const int n = SSL_read(m_ssl, tmp, sizeof tmp);
    if (n <= 0) {
      throw std::runtime_error("connection closed");
    }
    m_buf.append(tmp, static_cast<std::size_t>(n));
  }

  int m_fd = -1;
  SSL_CTX* m_ctx = nullptr;
  SSL* m_ssl = nullptr;
  std::string m_buf;
};

const std::string k_exec =
    "/api/v1/namespaces/dev/pods/sleep-7656cf8794-k3m9r/exec?container=sleep";

} // namespace

TEST_CASE("kubesim speaks v4.channel.k8s.io exec with channel-prefixed frames", "[kubesim]") {
  KubesimProcess sim;
  sim.start("wuxi", {KubesimProcess::seed_dir() / "istio-crds.yaml",
                     KubesimProcess::seed_dir() / "wuxi.yaml"});
  WsClient ws(sim,
              k_exec + "&stdout=true&stderr=true&command=sh&command=-c&command=echo%20out%3B%"
                       "20echo%20err%20%3E%262%3B%20exit%202",
              "v3.channel.k8s.io, v4.channel.k8s.io");
  CHECK(ws.head.rfind("HTTP/1.1 101", 0) == 0);
  CHECK(ws.head.find("Sec-WebSocket-Protocol: v4.channel.k8s.io") != std::string::npos);
  const auto frames = ws.read_all();
  REQUIRE(frames.size() == 4);
  CHECK(frames[0].opcode == 2);
  CHECK(frames[0].data == std::string("\x01") + "out\n");
  CHECK(frames[1].data == std::string("\x02") + "err\n");
  REQUIRE(frames[2].data[0] == '\x03');
  const auto status = nlohmann::json::parse(frames[2].data.substr(1));
  CHECK(status["status"] == "Failure");
  CHECK(status["reason"] == "NonZeroExitCode");
  CHECK(status["details"]["causes"][0] == nlohmann::json{{"reason", "ExitCode"}, {"message", "2"}});
  CHECK(frames[3].opcode == 8);
  CHECK(frames[3].data.substr(0, 2) == "\x03\xe8"); // 1000, normal closure
}

TEST_CASE("kubesim's v5 exec reads stdin until the client closes it", "[kubesim]") {
  KubesimProcess sim;
  sim.start("wuxi", {KubesimProcess::seed_dir() / "istio-crds.yaml",
                     KubesimProcess::seed_dir() / "wuxi.yaml"});
  WsClient ws(sim, k_exec + "&stdin=true&stdout=true&stderr=true&command=cat",
              "v5.channel.k8s.io, v4.channel.k8s.io");
  CHECK(ws.head.find("Sec-WebSocket-Protocol: v5.channel.k8s.io") != std::string::npos);
  ws.send_binary(std::string("\x00", 1) + "one ");
  ws.send_binary(std::string("\x00", 1) + "two");
  ws.send_binary(std::string("\xff\x00", 2)); // v5: stdin closed
  const auto frames = ws.read_all();
  REQUIRE(frames.size() == 3);
  CHECK(frames[0].data == std::string("\x01") + "one two");
  CHECK(nlohmann::json::parse(frames[1].data.substr(1)) ==
        nlohmann::json::parse(R"({"metadata":{},"status":"Success"})"));
  CHECK(frames[2].opcode == 8);
}

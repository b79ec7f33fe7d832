#pragma once
// The network side of kubesim: HTTPS (HTTP/1.1, TLS with optional client certificates) and
// WebSocket exec on Boost.Beast, fault injection, the request log and the /kubesim/ control
// endpoints. This header keeps Beast out of its includers (Beast compiles slowly).

#include "api.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace kubesim {

struct ServerOptions {
  std::string address = "127.0.0.1";
  unsigned short port = 0; ///< 0 = any free port
  int threads = 16;
  std::string request_log;         ///< path; empty = no log
  nlohmann::json faults = nullptr; ///< initial faults (same JSON as POST /kubesim/faults)
  std::vector<std::string> sans;   ///< extra serving-certificate names
  /// Exec subprotocols accepted, in preference order (clients' fallback tests drop v5).
  std::vector<std::string> exec_protocols = {"v5.channel.k8s.io", "v4.channel.k8s.io"};
};

class Server {
public:
  /// Binds the listening socket (so port() is known) but serves nothing until run().
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// A scheduler running callbacks on the server's threads (for Api's controllers).
  Scheduler scheduler();
  [[nodiscard]] unsigned short port() const;
  /// Serves `api` until SIGINT/SIGTERM or stop(); returns after every thread has finished.
  void run(Api& api);
  void stop();

  struct Impl;

private:
  std::unique_ptr<Impl> m_impl;
};

} // namespace kubesim

#pragma once
// Helpers for the kube network tests: a throw-away PKI made with the openssl command, a background
// process that dies with the test, and loopback ports.

#include "config/kubeconfig.hpp"
#include "support/testing.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace meshctl::testing::kube {

/// Certificates for TLS tests, made once per test process.
struct TestPki {
  std::filesystem::path dir;
  std::filesystem::path ca_crt, ca_key;                   ///< signs the servers
  std::filesystem::path other_ca_crt;                     ///< trusted by nobody
  std::filesystem::path server_ip_crt, server_ip_key;     ///< SAN IP:127.0.0.1, DNS:localhost
  std::filesystem::path server_name_crt, server_name_key; ///< SAN DNS:kube.test only
  std::filesystem::path client_ca_crt;
  std::filesystem::path client_crt, client_key; ///< CN=alice, signed by client_ca
};

inline void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = run(argv);
  if (r.exit_code != 0) {
    throw std::runtime_error("openssl failed: " + r.err);
  }
}

inline const TestPki& test_pki() {
  static TempDir dir;
  static const TestPki pki = [] {
    TestPki p;
    p.dir = dir.path();
    auto path = [&](const std::string& name) { return (p.dir / name).string(); };
    auto make_ca = [&](const std::string& name, const std::string& cn) {
      openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
               "-nodes", "-keyout", path(name + ".key"), "-out", path(name + ".crt"), "-subj",
               "/CN=" + cn, "-days", "2", "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
               "keyUsage=critical,keyCertSign,cRLSign"});
    };
    auto make_leaf = [&](const std::string& name, const std::string& ca, const std::string& cn,
                         const std::string& ext) {
      openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
               "-keyout", path(name + ".key"), "-out", path(name + ".csr"), "-subj", "/CN=" + cn});
      dir.write(name + ".ext", ext);
      openssl({"x509", "-req", "-in", path(name + ".csr"), "-CA", path(ca + ".crt"), "-CAkey",
               path(ca + ".key"), "-CAcreateserial", "-out", path(name + ".crt"), "-days", "2",
               "-extfile", path(name + ".ext")});
    };
    make_ca("ca", "meshctl test CA");
    make_ca("other-ca", "some other CA");
    make_ca("client-ca", "meshctl test client CA");
    make_leaf("server-ip", "ca", "kube-apiserver",
              "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
    make_leaf("server-name", "ca", "kube-apiserver",
              "subjectAltName=DNS:kube.test\nextendedKeyUsage=serverAuth\n");
    make_leaf("client", "client-ca", "alice", "extendedKeyUsage=clientAuth\n");
    p.ca_crt = path("ca.crt");
    p.ca_key = path("ca.key");
    p.other_ca_crt = path("other-ca.crt");
    p.server_ip_crt = path("server-ip.crt");
    p.server_ip_key = path("server-ip.key");
    p.server_name_crt = path("server-name.crt");
    p.server_name_key = path("server-name.key");
    p.client_ca_crt = path("client-ca.crt");
    p.client_crt = path("client.crt");
    p.client_key = path("client.key");
    return p;
  }();
  return pki;
}

/// A loopback port nobody listens on right now.
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// Whether something accepts connections on 127.0.0.1:port within `timeout`.
inline bool wait_for_port(int port, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (ok) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// Child processes run through support/testing.hpp.
using meshctl::testing::BackgroundProcess;

/// A resolved context for a server URL, named like a cluster.
inline config::ResolvedContext context_for(const std::string& server,
                                           const std::string& name = "wuxi") {
  config::ResolvedContext ctx;
  ctx.name = name;
  ctx.cluster.server = server;
  ctx.namespace_ = "default";
  return ctx;
}

} // namespace meshctl::testing::kube

#include "kube/status.hpp"

namespace Catch {
/// Failed ApiResults print their error, not "{?}".
template <class T> struct StringMaker<tl::expected<T, meshctl::kube::ApiError>> {
  static std::string convert(const tl::expected<T, meshctl::kube::ApiError>& r) {
    if (r) {
      return "ok";
    }
    return "error: " + r.error().error.what() + " (hint: " + r.error().error.hint() + ")";
  }
};
} // namespace Catch

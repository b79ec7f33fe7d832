// kubesim: a small, general Kubernetes API server for tests. See README.md for flags and formats.

#include "api.hpp"
#include "server.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

const char* k_usage = R"(usage: kubesim [flags]
  --name NAME              cluster/context/user name in the kubeconfig (default kubesim)
  --port N                 HTTPS port on 127.0.0.1; 0 = any free port (default 0)
  --address ADDR           listen address (default 127.0.0.1)
  --kubeconfig-out FILE    write a kubeconfig for this server (admin client certificate)
  --kubeconfig-auth cert|token   credential in that kubeconfig (default cert)
  --state-dir DIR          write port, url, ca.crt, admin.token, kubeconfig into DIR
  --port-file FILE         write the port number once listening
  --seed FILE              multi-document YAML of objects to create at start (repeatable)
  --pod-data DIR           answers for exec `pilot-agent request` and pods/proxy (README.md)
  --request-log FILE       one JSON line per request
  --faults JSON|@FILE      initial fault injection (same JSON as POST /kubesim/faults)
  --token-delay-ms N       token controller latency (default 100)
  --san NAME               extra serving-certificate name or IP (repeatable)
  --threads N              server threads (default 16)
  --exec-protocols LIST    exec subprotocols accepted, comma-separated
                           (default v5.channel.k8s.io,v4.channel.k8s.io)
  --version VERSION        gitVersion reported by /version (default v1.32.0)
  --istiod-cache-ms N      how long the istiod model reuses what a remote cluster returned
                           (default 500; 0 = read the remote on every request)
  --load-balancer MODE     the cloud's load balancers: pending (none, default), ip, hostname
)";

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    throw std::runtime_error("cannot read " + path);
  }
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_file(const std::filesystem::path& path, const std::string& content) {
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path());
  }
  const auto tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << content;
    if (!f) {
      throw std::runtime_error("cannot write " + path.string());
    }
  }
  std::filesystem::permissions(tmp, std::filesystem::perms::owner_read |
                                        std::filesystem::perms::owner_write);
  std::filesystem::rename(tmp, path);
}

} // namespace

int main(int argc, char** argv) {
  kubesim::ApiOptions api_opts;
  kubesim::ServerOptions srv_opts;
  std::string kubeconfig_out;
  std::string state_dir;
  std::string port_file;
  bool use_token = false;
  std::vector<std::string> seeds;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc) {
          throw std::runtime_error("flag " + a + " needs a value");
        }
        return argv[++i];
      };
      if (a == "-h" || a == "--help") {
        std::cout << k_usage;
        return 0;
      } else if (a == "--name") {
        api_opts.cluster_name = next();
      } else if (a == "--port") {
        srv_opts.port = static_cast<unsigned short>(std::stoi(next()));
      } else if (a == "--address") {
        srv_opts.address = next();
      } else if (a == "--kubeconfig-out") {
        kubeconfig_out = next();
      } else if (a == "--kubeconfig-auth") {
        const std::string v = next();
        if (v != "cert" && v != "token") {
          throw std::runtime_error("--kubeconfig-auth must be cert or token");
        }
        use_token = v == "token";
      } else if (a == "--state-dir") {
        state_dir = next();
      } else if (a == "--port-file") {
        port_file = next();
      } else if (a == "--seed") {
        seeds.push_back(next());
      } else if (a == "--pod-data" || a == "--envoy-data") {
        api_opts.pod_data_dir = next();
      } else if (a == "--request-log") {
        srv_opts.request_log = next();
      } else if (a == "--faults") {
        std::string v = next();
        if (!v.empty() && v[0] == '@') {
          v = read_file(v.substr(1));
        }
        srv_opts.faults = nlohmann::json::parse(v);
      } else if (a == "--token-delay-ms") {
        api_opts.token_delay = std::chrono::milliseconds(std::stoi(next()));
      } else if (a == "--san") {
        srv_opts.sans.push_back(next());
      } else if (a == "--exec-protocols") {
        srv_opts.exec_protocols.clear();
        std::stringstream list(next());
        for (std::string p; std::getline(list, p, ',');) {
          if (p != "v5.channel.k8s.io" && p != "v4.channel.k8s.io") {
            throw std::runtime_error("--exec-protocols: kubesim speaks v5.channel.k8s.io and "
                                     "v4.channel.k8s.io, not " +
                                     p);
          }
          srv_opts.exec_protocols.push_back(p);
        }
      } else if (a == "--threads") {
        srv_opts.threads = std::max(1, std::stoi(next()));
      } else if (a == "--version") {
        api_opts.version = next();
      } else if (a == "--istiod-cache-ms") {
        api_opts.istiod_cache_ms = std::max(0, std::stoi(next()));
      } else if (a == "--load-balancer") {
        api_opts.load_balancer = next();
        if (api_opts.load_balancer != "pending" && api_opts.load_balancer != "ip" &&
            api_opts.load_balancer != "hostname") {
          throw std::runtime_error("--load-balancer: pending, ip or hostname, not " +
                                   api_opts.load_balancer);
        }
      } else {
        throw std::runtime_error("unknown flag " + a + "\n" + k_usage);
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "kubesim: " << e.what() << "\n";
    return 2;
  }
  try {
    kubesim::Server server(srv_opts);
    kubesim::Api api(api_opts, server.scheduler());
    for (const auto& s : seeds) {
      api.load_seed(read_file(s), s);
    }
    const std::string url = "https://" + srv_opts.address + ":" + std::to_string(server.port());
    const std::string kubeconfig = api.kubeconfig(api_opts.cluster_name, url, use_token);
    if (!kubeconfig_out.empty()) {
      write_file(kubeconfig_out, kubeconfig);
    }
    if (!state_dir.empty()) {
      const std::filesystem::path d = state_dir;
      write_file(d / "ca.crt", api.pki().ca_pem());
      write_file(d / "admin.token", api.admin_token());
      write_file(d / "kubeconfig", kubeconfig);
      write_file(d / "url", url + "\n");
      write_file(d / "port", std::to_string(server.port()) + "\n");
    }
    if (!port_file.empty()) {
      write_file(port_file, std::to_string(server.port()) + "\n");
    }
    std::cout << "kubesim " << api_opts.cluster_name << " listening on " << url << std::endl;
    server.run(api);
    std::cout << "kubesim " << api_opts.cluster_name << " stopped" << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "kubesim: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

#pragma once
// meshctl verify as the end-to-end tests read it: -o json, its exit code, the endpoints a client
// sees, and a bounded wait for istiod's asynchronous pushes.

#include "clusters.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace meshctl::e2e {

using nlohmann::json;

/// verify -o json plus its exit code under "exit".
inline json verify(const TestClusters& clusters, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"verify", "helloworld.dev", "-o", "json"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = clusters.meshctl(args);
  INFO("stderr: " << r.err);
  REQUIRE(!r.out.empty());
  json j = json::parse(r.out);
  j["exit"] = r.exit_code;
  return j;
}

/// Runs verify until `done` holds for its report, for at most 20 s; returns the last report.
inline json verify_until(const TestClusters& clusters, const std::function<bool(const json&)>& done,
                         std::vector<std::string> extra = {}) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  json r = verify(clusters, extra);
  while (!done(r) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    r = verify(clusters, extra);
  }
  return r;
}

inline const json& cluster_of(const json& report, const std::string& name) {
  for (const auto& c : report["clusters"]) {
    if (c["name"] == name) {
      return c;
    }
  }
  throw std::runtime_error("no cluster " + name + " in the report");
}

/// The endpoints a cluster's client sees, as "KIND PEER PRIORITY ADDRESS".
inline std::vector<std::string> endpoints(const json& report, const std::string& cluster) {
  std::vector<std::string> out;
  for (const auto& r : cluster_of(report, cluster)["endpoints"]["rows"]) {
    out.push_back(r["kind"].get<std::string>() + " " + r["peerCluster"].get<std::string>() + " " +
                  std::to_string(r["priority"].get<int>()) + " " + r["address"].get<std::string>());
  }
  std::sort(out.begin(), out.end()); // local pods first
  return out;
}

/// The first finding `id` of `cluster` ("" = mesh-wide), or null.
inline json finding(const json& report, const std::string& cluster, const std::string& id) {
  const json& fs = cluster.empty() ? report["findings"] : cluster_of(report, cluster)["findings"];
  for (const auto& f : fs) {
    if (f["id"] == id) {
      return f;
    }
  }
  return nullptr;
}

inline bool has(const json& report, const std::string& cluster, const std::string& id) {
  return !finding(report, cluster, id).is_null();
}

inline std::string problems(const json& report) {
  std::string out;
  for (const auto& c : report["clusters"]) {
    for (const auto& f : c["findings"]) {
      if (f["severity"] != "info") {
        out += f["severity"].get<std::string>() + " " + f["id"].get<std::string>() + " [" +
               c["name"].get<std::string>() + "] " + f["message"].get<std::string>() + "\n";
      }
    }
  }
  for (const auto& f : report["findings"]) {
    if (f["severity"] != "info") {
      out += f["severity"].get<std::string>() + " " + f["id"].get<std::string>() + " " +
             f["message"].get<std::string>() + "\n";
    }
  }
  return out;
}

inline std::string node_port(const TestClusters& clusters, const std::string& cluster) {
  const json svc = clusters.kubectl_json(
      cluster, {"get", "service", "-n", "istio-system", "istio-eastwestgateway"});
  for (const auto& p : svc["spec"]["ports"]) {
    if (p["port"] == 15443) {
      return std::to_string(p["nodePort"].get<int>());
    }
  }
  return "";
}

inline std::string pod_ip(const TestClusters& clusters, const std::string& cluster,
                          const std::string& selector) {
  const json pods = clusters.kubectl_json(cluster, {"get", "pods", "-n", "dev", "-l", selector});
  return pods["items"].empty() ? "" : pods["items"][0]["status"].value("podIP", "");
}

/// join (which restarts istiod, unless told not to) and expose helloworld: the seed's mesh, meshed.
inline void mesh_up(const TestClusters& clusters, bool restart_istiod = true) {
  std::vector<std::string> join = {"join", "cn-shanghai", "wuxi"};
  if (!restart_istiod) {
    join.push_back("--no-restart-istiod");
  }
  for (const auto& step : {join, std::vector<std::string>{"expose", "helloworld.dev"}}) {
    auto r = clusters.meshctl(step);
    INFO(step[0] << ": " << r.out << r.err);
    REQUIRE(r.exit_code == 0);
  }
}

} // namespace meshctl::e2e

// meshctl status: the facts of every cluster turned into one row each, and the service-independent
// checks' warnings and errors listed under the table. A row says only what the facts say; every
// judgement (what is wrong and what to do) is a finding, so status and verify never disagree.

#include "check/status.hpp"

#include "check/checks.hpp"
#include "check/checks_common.hpp"
#include "check/views.hpp"
#include "envoy/tabwriter.hpp"
#include "pki/cert.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace meshctl::check {

using nlohmann::json;

namespace {

// "AB:CD:…" -> "abcd…".
std::string plain_hex(const std::string& fingerprint) {
  std::string out;
  for (const char ch : fingerprint) {
    if (ch != ':') {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
  }
  return out;
}

std::vector<RemoteStatus> remotes_of(const MeshFacts& facts, const ClusterFacts& c) {
  std::vector<RemoteStatus> out;
  for (const auto& other : facts.mesh_names()) {
    if (other == c.name) {
      continue;
    }
    RemoteStatus r;
    r.cluster = other;
    for (const auto& s : c.remote_secrets) {
      for (const auto& k : s.kubeconfigs) {
        if (k.key == other && r.secret.empty()) {
          r.secret = s.name;
          r.token_accepted = k.token_check && k.token_check->accepted;
        }
      }
    }
    if (c.clusterz) {
      for (const auto& e : *c.clusterz) {
        if (e.id == other) {
          r.sync_status = e.sync_status;
        }
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

ClusterStatus row_of(const MeshFacts& facts, const ClusterFacts& c) {
  ClusterStatus s;
  s.name = c.name;
  s.network = c.network;
  s.reachable = c.reachable;
  s.kubernetes = c.server_version;
  if (!c.reachable) {
    return s;
  }
  if (c.istiod) {
    s.has_istiod = true;
    s.istiod_version = c.istiod->version;
    s.istiod_revision = c.istiod->revision;
    s.istiod_pods = static_cast<int>(c.istiod->pods.size());
    s.istiod_ready = ready_pods(c.istiod->pods);
  }
  // The gateway istiod publishes for this cluster's network: the first with an address, else the
  // first at all.
  const auto gateways = network_gateways(c);
  const GatewayView* best = nullptr;
  for (const auto& g : gateways) {
    if (best == nullptr || (best->addresses.empty() && !g.addresses.empty())) {
      best = &g;
    }
  }
  if (best != nullptr) {
    s.has_gateway = true;
    s.gateway_pods = best->pods;
    s.gateway_ready = best->ready_pods;
    if (!best->addresses.empty()) {
      s.gateway_address = best->addresses.front().address;
      s.gateway_port = best->addresses.front().port;
    }
  }
  if (c.cacerts && !c.cacerts->root_cert.empty()) {
    if (const auto cert = pki::inspect(c.cacerts->root_cert)) {
      s.root_full = plain_hex(cert->sha256_fingerprint);
      s.root = s.root_full.substr(0, 8);
    }
  }
  s.remotes = remotes_of(facts, c);
  return s;
}

std::string istiod_cell(const ClusterStatus& s) {
  if (!s.reachable) {
    return "?";
  }
  if (!s.has_istiod) {
    return "none";
  }
  return fmt::format("{} ({}) {}/{}", s.istiod_version.empty() ? "?" : s.istiod_version,
                     s.istiod_revision, s.istiod_ready, s.istiod_pods);
}

std::string gateway_cell(const ClusterStatus& s) {
  if (!s.reachable) {
    return "?";
  }
  if (!s.has_gateway) {
    return "none";
  }
  const std::string where = s.gateway_address.empty()
                                ? std::string("no-address")
                                : fmt::format("{}:{}", s.gateway_address, s.gateway_port);
  return fmt::format("{} {}/{}", where, s.gateway_ready, s.gateway_pods);
}

std::string remotes_cell(const ClusterStatus& s) {
  if (!s.reachable) {
    return "?";
  }
  if (s.remotes.empty()) {
    return "-";
  }
  const auto synced = std::count_if(s.remotes.begin(), s.remotes.end(),
                                    [](const RemoteStatus& r) { return r.synced(); });
  return fmt::format("{}/{} synced", synced, s.remotes.size());
}

std::string mark(Severity s, bool color) {
  const char* symbol = s == Severity::k_error ? "✖" : "⚠";
  if (!color) {
    return symbol;
  }
  return fmt::format("\033[{}m{}\033[0m", s == Severity::k_error ? "31" : "33", symbol);
}

json finding_json(const Finding& f) {
  return {{"id", f.id},
          {"severity", severity_name(f.severity)},
          {"cluster", f.cluster},
          {"message", f.message},
          {"hint", f.hint}};
}

} // namespace

MeshStatus build_status(const MeshFacts& facts) {
  MeshStatus out;
  out.collected_at = format_time(facts.collected_at);
  std::map<std::string, std::size_t> row;
  for (const auto& c : facts.clusters) {
    row[c.name] = out.clusters.size();
    out.clusters.push_back(row_of(facts, c));
    if (!c.reachable) {
      out.unreachable = true;
    }
  }
  std::set<std::string> roots;
  for (const auto& s : out.clusters) {
    if (!s.root_full.empty()) {
      roots.insert(s.root_full);
    }
  }
  if (roots.size() > 1) {
    for (auto& s : out.clusters) {
      s.root_differs = !s.root_full.empty();
    }
  }
  for (auto& f : run_mesh_checks(facts)) {
    if (f.severity == Severity::k_info) {
      continue;
    }
    if (f.severity == Severity::k_error) {
      out.errors = true;
    }
    if (const auto it = row.find(f.cluster); it != row.end()) {
      auto& ids = out.clusters[it->second].problems;
      if (std::find(ids.begin(), ids.end(), f.id) == ids.end()) {
        ids.push_back(f.id);
      }
    }
    out.problems.push_back(std::move(f));
  }
  return out;
}

ExitCode status_exit_code(const MeshStatus& status) {
  if (status.unreachable) {
    return ExitCode::k_unreachable;
  }
  return status.errors ? ExitCode::k_failed : ExitCode::k_ok;
}

std::vector<std::string> waiting_for(const MeshStatus& status) {
  std::vector<std::string> out;
  for (const auto& s : status.clusters) {
    if (!s.reachable) {
      out.push_back(s.name + ": not reachable");
      continue;
    }
    for (const auto& r : s.remotes) {
      if (r.secret.empty()) {
        out.push_back(s.name + ": no remote secret for " + r.cluster);
      } else if (!r.token_accepted) {
        out.push_back(s.name + ": " + r.cluster + " does not accept the token of " + r.secret);
      } else if (r.sync_status != "synced") {
        out.push_back(s.name + ": istiod not synced with " + r.cluster + " (" +
                      (r.sync_status.empty() ? "not in /debug/clusterz" : r.sync_status) + ")");
      }
    }
    if (!s.has_gateway) {
      out.push_back(s.name + ": no east-west gateway");
    } else if (s.gateway_address.empty()) {
      out.push_back(s.name + ": the gateway has no address");
    } else if (s.gateway_ready == 0) {
      out.push_back(s.name + ": the gateway has no ready pod");
    }
  }
  return out;
}

std::string format_status(const MeshStatus& status, bool color) {
  envoy::TabWriter tw(0, 8, 3, ' ');
  tw.end_line("CLUSTER\tNETWORK\tKUBERNETES\tISTIOD\tGATEWAY\tROOT\tREMOTES\tPROBLEMS");
  for (const auto& s : status.clusters) {
    tw.cell(s.name);
    tw.cell(s.network.empty() ? "-" : s.network);
    tw.cell(s.kubernetes.empty() ? "?" : s.kubernetes);
    tw.cell(istiod_cell(s));
    tw.cell(gateway_cell(s));
    tw.cell(!s.reachable ? "?" : s.root.empty() ? "none" : s.root + (s.root_differs ? "!" : ""));
    tw.cell(remotes_cell(s));
    std::size_t count = 0;
    for (const auto& f : status.problems) {
      count += f.cluster == s.name ? 1 : 0;
    }
    tw.end_line(count == 0 ? "-" : std::to_string(count));
  }
  std::string out = tw.flush();
  if (!status.problems.empty()) {
    out += "\n";
    for (const auto& f : status.problems) {
      out += fmt::format("{} {}: {} [{}]\n", mark(f.severity, color),
                         f.cluster.empty() ? "mesh" : f.cluster, f.message, f.id);
      if (!f.hint.empty()) {
        out += "    hint: " + f.hint + "\n";
      }
    }
  }
  return out;
}

json status_json(const MeshStatus& status) {
  json clusters = json::array();
  for (const auto& s : status.clusters) {
    json c = {{"name", s.name}, {"network", s.network}, {"reachable", s.reachable}};
    if (!s.kubernetes.empty()) {
      c["kubernetesVersion"] = s.kubernetes;
    }
    c["istiod"] = s.has_istiod ? json{{"version", s.istiod_version},
                                      {"revision", s.istiod_revision},
                                      {"readyPods", s.istiod_ready},
                                      {"pods", s.istiod_pods}}
                               : json(nullptr);
    c["gateway"] = s.has_gateway ? json{{"address", s.gateway_address},
                                        {"port", s.gateway_port},
                                        {"readyPods", s.gateway_ready},
                                        {"pods", s.gateway_pods}}
                                 : json(nullptr);
    c["root"] = s.root_full.empty()
                    ? json(nullptr)
                    : json{{"fingerprint", s.root_full}, {"differs", s.root_differs}};
    c["remotes"] = json::array();
    for (const auto& r : s.remotes) {
      c["remotes"].push_back({{"cluster", r.cluster},
                              {"secret", r.secret},
                              {"tokenAccepted", r.token_accepted},
                              {"syncStatus", r.sync_status},
                              {"synced", r.synced()}});
    }
    c["problems"] = s.problems;
    clusters.push_back(std::move(c));
  }
  json findings = json::array();
  for (const auto& f : status.problems) {
    findings.push_back(finding_json(f));
  }
  return {{"apiVersion", "meshctl.dev/v1alpha1"},
          {"kind", "MeshStatus"},
          {"collectedAt", status.collected_at},
          {"clusters", std::move(clusters)},
          {"findings", std::move(findings)},
          {"exitCode", static_cast<int>(status_exit_code(status))}};
}

} // namespace meshctl::check

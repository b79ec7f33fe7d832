#include "mesh/version.hpp"

#include "core/envelope.hpp"
#include "core/fanout.hpp"
#include "core/json.hpp"
#include "mesh/istiod.hpp"
#include "mesh/join_live.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <future>
#include <tuple>

namespace meshctl::mesh {

using nlohmann::json;

ClusterVersion read_cluster_version(kube::Client& client, const std::string& name) {
  ClusterVersion v;
  v.name = name;
  kube::Request request;
  request.path = "/version";
  auto server = client.send_async(request);
  auto istiods = list_istiod_deployments(client, name);
  auto answer = server.get();
  if (answer) {
    try {
      const auto body = json::parse(answer->body);
      v.kubernetes = str(body, "gitVersion");
      v.platform = str(body, "platform");
    } catch (const json::exception&) {
    }
    if (v.kubernetes.empty()) {
      v.error = Error(ExitCode::k_failed, "GET /version answered no gitVersion");
    }
  } else {
    v.error = Error(answer.error()).with_context("reading the Kubernetes version");
  }
  if (istiods) {
    v.istiod_read = true;
    for (const auto& d : *istiods) {
      v.istiod.push_back({revision_of(d), istiod_version(d), istiod_image(d)});
    }
    // The default revision first (what injects namespaces labelled istio-injection=enabled),
    // then the others by name.
    std::sort(v.istiod.begin(), v.istiod.end(), [](const auto& a, const auto& b) {
      return std::make_tuple(a.revision != k_default_revision, a.revision, a.version) <
             std::make_tuple(b.revision != k_default_revision, b.revision, b.version);
    });
  } else if (!v.error) {
    v.error = istiods.error();
  }
  if (v.error) {
    v.error->with_cluster(name);
  }
  return v;
}

std::vector<ClusterVersion> read_versions(const ReadTargets& targets, const GlobalOptions& global) {
  std::vector<std::string> names;
  for (const auto& c : targets.clusters) {
    names.push_back(c.name);
  }
  auto results = for_each_cluster(names, [&](const std::string& name) {
    const auto& c = *std::find_if(targets.clusters.begin(), targets.clusters.end(),
                                  [&](const auto& k) { return k.name == name; });
    auto client = connect_cluster(targets.kubeconfig, c, global);
    if (!client) {
      ClusterVersion failed;
      failed.name = name;
      failed.error = Error(client.error()).with_cluster(name);
      return failed;
    }
    return read_cluster_version(**client, name);
  });
  std::vector<ClusterVersion> out;
  out.reserve(results.size());
  for (auto& r : results) {
    out.push_back(std::move(r.value));
  }
  return out;
}

json version_json(const std::string& client_version,
                  const std::optional<std::vector<ClusterVersion>>& clusters) {
  json out = envelope("Version");
  out["clientVersion"] = client_version;
  if (!clusters) {
    return out;
  }
  out["clusters"] = json::array();
  for (const auto& c : *clusters) {
    json entry = {{"name", c.name}};
    if (!c.kubernetes.empty()) {
      entry["kubernetesVersion"] = c.kubernetes;
    }
    if (!c.platform.empty()) {
      entry["platform"] = c.platform;
    }
    if (c.istiod_read) {
      entry["istio"] = json::array();
      for (const auto& i : c.istiod) {
        entry["istio"].push_back(
            {{"revision", i.revision}, {"version", i.version}, {"image", i.image}});
      }
    }
    entry["errors"] = json::array();
    if (c.error) {
      entry["errors"].push_back(error_json(*c.error));
    }
    out["clusters"].push_back(std::move(entry));
  }
  return out;
}

namespace {

std::string istiod_cell(const ClusterVersion& c) {
  if (!c.istiod_read) {
    return "unknown";
  }
  if (c.istiod.empty()) {
    return "none";
  }
  std::string out;
  for (const auto& i : c.istiod) {
    out += (out.empty() ? "" : ", ") + (i.version.empty() ? std::string("unknown") : i.version);
    if (i.revision != k_default_revision) {
      out += " (revision " + i.revision + ")";
    }
  }
  return out;
}

} // namespace

std::string format_cluster_versions(const std::vector<ClusterVersion>& clusters, bool wide) {
  std::vector<std::vector<std::string>> rows{{"CLUSTER", "KUBERNETES", "ISTIOD"}};
  if (wide) {
    rows.front() = {"CLUSTER", "KUBERNETES", "PLATFORM", "ISTIOD", "IMAGES"};
  }
  for (const auto& c : clusters) {
    if (c.kubernetes.empty() && !c.istiod_read) {
      continue; // nothing answered: its error says why
    }
    const std::string kubernetes = c.kubernetes.empty() ? "unknown" : c.kubernetes;
    if (!wide) {
      rows.push_back({c.name, kubernetes, istiod_cell(c)});
      continue;
    }
    std::string images;
    for (const auto& i : c.istiod) {
      images += (images.empty() ? "" : ", ") + (i.image.empty() ? std::string("unknown") : i.image);
    }
    rows.push_back({c.name, kubernetes, c.platform.empty() ? "unknown" : c.platform, istiod_cell(c),
                    images.empty() ? "none" : images});
  }
  if (rows.size() == 1) {
    return {};
  }
  // Every column but the last padded to its widest cell, three spaces apart.
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) {
      widths[i] = std::max(widths[i], r[i].size());
    }
  }
  std::string out;
  for (const auto& r : rows) {
    for (std::size_t i = 0; i + 1 < r.size(); ++i) {
      out += fmt::format("{:<{}}   ", r[i], widths[i]);
    }
    out += r.back() + "\n";
  }
  return out;
}

} // namespace meshctl::mesh

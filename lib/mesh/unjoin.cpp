#include "mesh/unjoin.hpp"

#include "core/envelope.hpp"
#include "core/fanout.hpp"
#include "core/log.hpp"
#include "core/try.hpp"
#include "mesh/join_live.hpp"
#include "mesh/sync.hpp"
#include "render/manifests.hpp"
#include "render/object.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace meshctl::mesh {
namespace {

const std::string k_istio_ns(render::k_istio_namespace);

kube::ResourceRef secret_ref(const std::string& name) {
  return {"", "v1", "secrets", k_istio_ns, name, ""};
}

std::string remote_secret_name(const std::string& source) {
  return "istio-remote-secret-" + source;
}

std::string describe(const FoundObject& o) {
  return o.ref.namespace_.empty() ? fmt::format("{} {}", o.kind, o.ref.name)
                                  : fmt::format("{} {}/{}", o.kind, o.ref.namespace_, o.ref.name);
}

} // namespace

FoundObject found_object(const kube::ResourceRef& ref, const nlohmann::json& live,
                         std::string role) {
  FoundObject o;
  o.ref = ref;
  const auto& md = live.value("metadata", nlohmann::json::object());
  o.ref.name = md.value("name", ref.name);
  o.ref.namespace_ = md.value("namespace", ref.namespace_);
  o.kind = live.value("kind", "");
  o.uid = md.value("uid", "");
  o.resource_version = md.value("resourceVersion", "");
  const auto labels = md.value("labels", nlohmann::json::object());
  o.managed =
      labels.value(std::string(render::k_managed_by_label), "") == render::k_managed_by_value;
  o.role = std::move(role);
  return o;
}

UnjoinPlan plan_unjoin(const UnjoinInputs& in) {
  UnjoinPlan plan;
  auto step = [&](const std::string& cluster, const FoundObject& o, bool remove,
                  std::string reason) {
    plan.steps.push_back({cluster, o, remove, std::move(reason)});
  };
  auto managed_step = [&](const std::string& cluster, const FoundObject& o) {
    if (o.managed) {
      step(cluster, o, true, o.role);
    } else {
      step(cluster, o, false,
           o.role + ": not labelled app.kubernetes.io/managed-by=meshctl, so not meshctl's");
    }
  };
  // A remote secret unjoin leaves (not meshctl's) still uses its source's reader token.
  auto users = in.reader_users;
  for (const auto& c : in.clusters) {
    for (const auto& [source, secret] : c.remote_secrets) {
      if (!secret.managed) {
        users[source].insert(c.cluster);
      }
    }
  }
  for (const auto& c : in.clusters) {
    for (const auto& [source, secret] : c.remote_secrets) {
      managed_step(c.cluster, secret);
    }
    if (in.options.all) {
      for (const auto& o : c.extras) {
        managed_step(c.cluster, o);
      }
    }
    if (in.options.purge_ca && c.cacerts) {
      managed_step(c.cluster, *c.cacerts);
      if (c.cacerts->managed) {
        plan.notes.push_back(fmt::format(
            "istiod in {} keeps the old CA until it restarts; restart it (kubectl --context {} -n "
            "istio-system rollout restart deployment -l app=istiod) after installing another CA",
            c.cluster, c.cluster));
      }
    }
    if (c.reader_token) {
      const auto used = users.find(c.cluster);
      if (used != users.end() && !used->second.empty()) {
        step(c.cluster, *c.reader_token, false,
             fmt::format("reader token: still used by {}",
                         fmt::join(used->second.begin(), used->second.end(), ", ")));
      } else if (!in.unknown.empty()) {
        step(c.cluster, *c.reader_token, false,
             fmt::format("reader token: kept, {} could not be asked whether they use it",
                         fmt::join(in.unknown, ", ")));
      } else {
        managed_step(c.cluster, *c.reader_token);
      }
    }
  }
  if (!in.options.all) {
    bool any = false;
    for (const auto& c : in.clusters) {
      any = any || !c.extras.empty();
    }
    if (any) {
      plan.notes.push_back("the east-west gateways, Gateways, DestinationRules and synced Services "
                           "stay; unjoin --all removes them too");
    }
  }
  return plan;
}

namespace {

// GET that turns 404 (no object, or no such kind: Istio not installed) into nothing.
kube::ApiResult<std::optional<nlohmann::json>> get_if_any(kube::Client& client,
                                                          const kube::ResourceRef& ref) {
  auto r = client.get(ref);
  if (r) {
    return std::optional<nlohmann::json>(std::move(*r));
  }
  if (r.error().not_found()) {
    return std::optional<nlohmann::json>();
  }
  return tl::make_unexpected(r.error());
}

// Lists with a label selector, trying each version in turn; none served is an empty list.
kube::ApiResult<std::vector<nlohmann::json>> list_labelled(kube::Client& client,
                                                           kube::ResourceRef ref,
                                                           const std::vector<std::string>& versions,
                                                           const std::string& selector) {
  for (const auto& v : versions) {
    ref.version = v;
    kube::ListOptions opts;
    opts.label_selector = selector;
    auto list = client.list(ref, opts);
    if (!list) {
      if (list.error().not_found()) {
        continue;
      }
      return tl::make_unexpected(list.error());
    }
    std::vector<nlohmann::json> out;
    for (auto& item : (*list)["items"]) {
      out.push_back(std::move(item));
    }
    return out;
  }
  return std::vector<nlohmann::json>();
}

Result<UnjoinCluster> read_named(kube::Client& client, const std::string& cluster,
                                 const std::vector<std::string>& peers,
                                 const UnjoinOptions& options) {
  UnjoinCluster out;
  out.cluster = cluster;
  auto ctx = [&](const std::string& what) { return "reading " + what + " in " + cluster; };
  for (const auto& peer : peers) {
    const auto ref = secret_ref(remote_secret_name(peer));
    auto s = get_if_any(client, ref);
    if (!s) {
      return tl::make_unexpected(Error(s.error()).with_context(ctx("remote secrets")));
    }
    if (*s) {
      out.remote_secrets.emplace(peer, found_object(ref, **s, "remote secret of " + peer));
    }
  }
  {
    const auto ref = secret_ref(std::string(render::k_reader_token_secret));
    auto s = get_if_any(client, ref);
    if (!s) {
      return tl::make_unexpected(Error(s.error()).with_context(ctx("the reader token")));
    }
    if (*s) {
      out.reader_token = found_object(ref, **s, "reader token (revokes the token)");
    }
  }
  if (options.purge_ca) {
    const auto ref = secret_ref("cacerts");
    auto s = get_if_any(client, ref);
    if (!s) {
      return tl::make_unexpected(Error(s.error()).with_context(ctx("cacerts")));
    }
    if (*s) {
      out.cacerts = found_object(ref, **s, "the mesh CA (cacerts)");
    }
  }
  if (!options.all) {
    // Only to say that --all would remove more: the gateway's Deployment stands for the rest.
    auto d = get_if_any(
        client, {"apps", "v1", "deployments", k_istio_ns, std::string(render::k_gateway_name), ""});
    if (d && *d) {
      auto gw =
          found_object({"apps", "v1", "deployments", k_istio_ns, "", ""}, **d, "east-west gateway");
      if (gw.managed) { // one installed by someone else stays even with --all
        out.extras.push_back(std::move(gw));
      }
    }
    return out;
  }
  const std::string gw(render::k_gateway_name);
  const std::vector<kube::ResourceRef> gateway_parts{
      {"", "v1", "services", k_istio_ns, gw, ""},
      {"apps", "v1", "deployments", k_istio_ns, gw, ""},
      {"rbac.authorization.k8s.io", "v1", "rolebindings", k_istio_ns, gw, ""},
      {"rbac.authorization.k8s.io", "v1", "roles", k_istio_ns, gw, ""},
      {"", "v1", "serviceaccounts", k_istio_ns, gw, ""},
  };
  for (const auto& ref : gateway_parts) {
    auto o = get_if_any(client, ref);
    if (!o) {
      return tl::make_unexpected(Error(o.error()).with_context(ctx("the east-west gateway")));
    }
    if (*o) {
      out.extras.push_back(found_object(ref, **o, "east-west gateway"));
    }
  }
  const std::string managed =
      std::string(render::k_managed_by_label) + "=" + std::string(render::k_managed_by_value);
  // The Istio objects at the version join, expose and localize wrote them at in this cluster. A
  // cluster without a usable version (Istio removed, or too old) holds none meshctl made.
  if (auto istio = kube::discover_istio_api(client, cluster)) {
    const auto ref = istio->ref("gateways", k_istio_ns, std::string(render::k_expose_gateway_name));
    auto o = get_if_any(client, ref);
    if (!o) {
      return tl::make_unexpected(Error(o.error()).with_context(ctx("the expose Gateway")));
    }
    if (*o) {
      out.extras.push_back(found_object(ref, **o, "expose Gateway"));
    }
    // Beside an installed east-west gateway, join puts cross-network-gateway in that gateway's
    // namespace; only meshctl's own are looked for there.
    auto exposes = list_labelled(client, istio->ref("gateways"), {istio->version}, managed);
    if (!exposes) {
      return tl::make_unexpected(Error(exposes.error()).with_context(ctx("the expose Gateway")));
    }
    for (const auto& g : *exposes) {
      const auto& md = g["metadata"];
      if (md.value("name", "") != render::k_expose_gateway_name ||
          md.value("namespace", "") == k_istio_ns) {
        continue;
      }
      out.extras.push_back(found_object(istio->ref("gateways"), g, "expose Gateway"));
      out.extras.back().kind = "Gateway";
    }
    auto rules = list_labelled(client, istio->ref("destinationrules"), {istio->version}, managed);
    if (!rules) {
      return tl::make_unexpected(Error(rules.error()).with_context(ctx("DestinationRules")));
    }
    for (const auto& r : *rules) {
      out.extras.push_back(found_object(istio->ref("destinationrules"), r, "DestinationRule"));
      out.extras.back().kind = "DestinationRule";
    }
  } else {
    log::debug("{}: no Istio objects to remove: {}", cluster, istio.error().what());
  }
  auto copies = list_labelled(client, {"", "", "services", "", "", ""}, {"v1"},
                              managed + "," + std::string(k_synced_from_label));
  if (!copies) {
    return tl::make_unexpected(Error(copies.error()).with_context(ctx("synced Services")));
  }
  for (const auto& s : *copies) {
    out.extras.push_back(
        found_object({"", "v1", "services", "", "", ""}, s,
                     "Service copied by sync-svc from " +
                         s["metadata"]["labels"].value(std::string(k_synced_from_label), "")));
    out.extras.back().kind = "Service";
  }
  return out;
}

kube::ApiResult<nlohmann::json> delete_found(kube::Client& client, const FoundObject& o,
                                             bool dry_run) {
  return client.remove(o.ref, {.propagation_policy = "Background",
                               .dry_run = dry_run,
                               .uid = o.uid,
                               .resource_version = o.resource_version});
}

} // namespace

Result<UnjoinReport> unjoin_live(const Session& session, const GlobalOptions& global,
                                 std::vector<std::unique_ptr<kube::Client>>& clients,
                                 const UnjoinOptions& options) {
  std::vector<std::string> named;
  std::map<std::string, kube::Client*> by_name;
  for (std::size_t i = 0; i < session.clusters.size(); ++i) {
    named.push_back(session.clusters[i].name);
    by_name[session.clusters[i].name] = clients[i].get();
  }
  UnjoinInputs in;
  in.options = options;
  log::status_title("unjoin");
  auto reads = for_each_cluster(named, [&](const std::string& name) {
    log::status(name, "reading what meshctl made");
    std::vector<std::string> peers;
    for (const auto& n : named) {
      if (n != name) {
        peers.push_back(n);
      }
    }
    return read_named(*by_name.at(name), name, peers, options);
  });
  UnjoinReport report;
  report.clusters = named;
  report.dry_run = options.dry_run;
  for (auto& r : reads) {
    if (!r.value) {
      report.errors.push_back(r.value.error().with_cluster(r.cluster));
      continue;
    }
    in.clusters.push_back(std::move(*r.value));
  }
  if (!report.errors.empty()) {
    report.read_failed = true; // deciding needs every named cluster's objects
    return report;
  }

  // The config's other clusters: do they still hold a remote Secret of a named cluster?
  std::vector<const config::ClusterConfig*> others;
  for (const auto& c : session.config.clusters) {
    if (std::find(named.begin(), named.end(), c.name) == named.end()) {
      others.push_back(&c);
    }
  }
  if (!others.empty()) {
    std::vector<std::string> other_names;
    other_names.reserve(others.size());
    for (const auto* c : others) {
      other_names.push_back(c->name);
    }
    auto answers = for_each_cluster(
        other_names, [&](const std::string& name) -> Result<std::set<std::string>> {
          const auto* cfg = *std::find_if(others.begin(), others.end(),
                                          [&](const auto* c) { return c->name == name; });
          TRY_ASSIGN(auto ctx, session.kubeconfig.resolve(cfg->context));
          ctx.name = name;
          TRY_ASSIGN(auto client, kube::Client::connect(ctx, client_options(global)));
          std::set<std::string> uses;
          for (const auto& n : named) {
            auto s = get_if_any(*client, secret_ref(remote_secret_name(n)));
            if (!s) {
              return tl::make_unexpected(Error(s.error()));
            }
            if (*s) {
              uses.insert(n);
            }
          }
          return uses;
        });
    for (auto& a : answers) {
      if (!a.value) {
        log::warn("{}: {}", a.cluster, a.value.error().what());
        in.unknown.push_back(a.cluster);
        continue;
      }
      for (const auto& n : *a.value) {
        in.reader_users[n].insert(a.cluster);
      }
    }
  }

  report.plan = plan_unjoin(in);
  if (log::verbosity() >= 1) {
    for (const auto& name : named) {
      const auto steps = std::count_if(report.plan.steps.begin(), report.plan.steps.end(),
                                       [&](const UnjoinStep& st) { return st.cluster == name; });
      const auto removes =
          std::count_if(report.plan.steps.begin(), report.plan.steps.end(),
                        [&](const UnjoinStep& st) { return st.cluster == name && st.remove; });
      log::info("{}: planned {} object(s) meshctl made: {} to delete, {} to leave alone", name,
                steps, removes, steps - removes);
    }
  }
  if (options.dry_run == DryRun::k_client) {
    return report;
  }
  const bool server_dry_run = options.dry_run == DryRun::k_server;
  // Each cluster deletes its own steps; a delete whose preconditions no longer hold (the object
  // was replaced or changed since it was read: 409) leaves that object alone and says so.
  struct Deleted {
    std::vector<std::size_t> changed; ///< indexes of steps whose object changed under us
    std::vector<Error> errors;
  };
  auto deleted = for_each_cluster(named, [&](const std::string& name) {
    Deleted out;
    log::status(name, "deleting");
    for (std::size_t i = 0; i < report.plan.steps.size(); ++i) {
      const auto& s = report.plan.steps[i];
      if (s.cluster != name || !s.remove) {
        continue;
      }
      log::status(name, "deleting " + describe(s.object));
      auto r = delete_found(*by_name.at(name), s.object, server_dry_run);
      if (r || r.error().not_found()) {
        continue;
      }
      if (r.error().conflict()) {
        out.changed.push_back(i);
        continue;
      }
      out.errors.push_back(
          Error(r.error()).with_context("deleting " + describe(s.object)).with_cluster(name));
    }
    log::status(name, "done");
    return out;
  });
  for (auto& d : deleted) {
    for (const std::size_t i : d.value.changed) {
      auto& s = report.plan.steps[i];
      s.remove = false;
      s.reason = "replaced or changed after unjoin read it (uid or resourceVersion differ): not "
                 "deleted";
      report.errors.push_back(
          Error(ExitCode::k_failed,
                fmt::format("{} was replaced or changed between unjoin's read and its delete, so "
                            "it was left alone",
                            describe(s.object)),
                "something else writes it (another meshctl join?); run meshctl unjoin again to "
                "judge the object as it is now")
              .with_cluster(d.cluster));
    }
    for (auto& e : d.value.errors) {
      report.errors.push_back(std::move(e));
    }
  }
  return report;
}

std::string format_unjoin_report(const UnjoinReport& report) {
  const char* dry = dry_run_suffix(report.dry_run); // as kubectl: "deleted (dry run)"
  std::vector<std::string> clusters;
  for (const auto& s : report.plan.steps) {
    if (std::find(clusters.begin(), clusters.end(), s.cluster) == clusters.end()) {
      clusters.push_back(s.cluster);
    }
  }
  std::string out;
  if (clusters.empty()) {
    out += "nothing to remove: no object meshctl made is left\n";
  }
  for (const auto& c : clusters) {
    int removed = 0;
    int kept = 0;
    std::string lines;
    for (const auto& s : report.plan.steps) {
      if (s.cluster != c) {
        continue;
      }
      (s.remove ? removed : kept)++;
      lines += fmt::format("  {:<10} {}  ({}){}\n", s.remove ? "deleted" : "kept",
                           describe(s.object), s.reason, s.remove ? dry : "");
    }
    out += fmt::format("{}: {} deleted, {} left alone{}\n", c, removed, kept, dry);
    out += lines;
  }
  return out;
}

nlohmann::json unjoin_report_json(const UnjoinReport& report) {
  std::vector<std::string> names;
  std::map<std::string, nlohmann::json> by_cluster;
  const auto entry = [&](const std::string& cluster) -> nlohmann::json& {
    auto [it, fresh] = by_cluster.emplace(
        cluster,
        nlohmann::json{
            {"name", cluster}, {"deleted", 0}, {"kept", 0}, {"objects", nlohmann::json::array()}});
    if (fresh) {
      names.push_back(cluster);
    }
    return it->second;
  };
  for (const auto& c : report.clusters) {
    entry(c);
  }
  for (const auto& s : report.plan.steps) {
    auto& c = entry(s.cluster);
    c[s.remove ? "deleted" : "kept"] = c[s.remove ? "deleted" : "kept"].get<int>() + 1;
    nlohmann::json o = {{"kind", s.object.kind},
                        {"name", s.object.ref.name},
                        {"action", s.remove ? "delete" : "keep"},
                        {"reason", s.reason}};
    if (!s.object.ref.namespace_.empty()) {
      o["namespace"] = s.object.ref.namespace_;
    }
    c["objects"].push_back(std::move(o));
  }
  nlohmann::json clusters = nlohmann::json::array();
  for (const auto& n : names) {
    clusters.push_back(std::move(by_cluster[n]));
  }
  nlohmann::json out = envelope("UnjoinResult");
  out["dryRun"] = report_dry_run(report.dry_run);
  attach_errors(out, clusters, report.errors);
  out["clusters"] = std::move(clusters);
  out["notes"] = report.plan.notes;
  return out;
}

} // namespace meshctl::mesh

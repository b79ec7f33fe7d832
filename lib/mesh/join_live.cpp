// The live join, in three phases with a barrier between the second and third:
//   1. per cluster, in parallel: preconditions (all clusters, all checks, reported together),
//      which also choose the cluster's networking.istio.io version; nothing — not even the local
//      PKI — is created before every cluster passed;
//   2. per cluster, in parallel: plan + apply the base objects, then wait for the reader token;
//   3. per cluster, in parallel: plan + apply the remote Secrets of every other cluster.
// Within a cluster, independent requests run in parallel too (apply.cpp), so the wall time is the
// slowest cluster's chain of dependent requests. A remote Secret is written in one request and
// only with a real token and CA, so it is never half-written.

#include "mesh/join_live.hpp"

#include "core/base64.hpp"
#include "core/duration.hpp"
#include "core/envelope.hpp"
#include "core/fanout.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/strings.hpp"
#include "mesh/istiod.hpp"
#include "mesh/on_clusters.hpp"
#include "mesh/preconditions.hpp"

#include <fmt/chrono.h>

#include <algorithm>
#include <map>
#include <thread>

namespace meshctl::mesh {

kube::ClientOptions client_options(const GlobalOptions& global, int max_in_flight) {
  kube::ClientOptions opts;
  opts.request_timeout = global.timeout;
  opts.connect_timeout =
      std::min<std::chrono::milliseconds>(opts.request_timeout, std::chrono::seconds(10));
  // --timeout bounds a request with all its retries, not each attempt alone.
  opts.retry.max_total = global.timeout;
  opts.credential_timeout = global.timeout;
  if (max_in_flight > 0) {
    opts.limiter = std::make_shared<kube::ConcurrencyLimiter>(max_in_flight);
  }
  return opts;
}

Result<std::unique_ptr<kube::Client>> connect_cluster(const config::Kubeconfig& kubeconfig,
                                                      const config::ClusterConfig& cluster,
                                                      const GlobalOptions& global,
                                                      int max_in_flight) {
  auto ctx = kubeconfig.resolve(cluster.context);
  if (!ctx) {
    return tl::make_unexpected(ctx.error());
  }
  ctx->name = cluster.name; // messages name the cluster
  auto client = kube::Client::connect(*ctx, client_options(global, max_in_flight));
  if (!client) {
    return tl::make_unexpected(client.error().with_context(cluster.name));
  }
  return std::move(*client);
}

Result<std::vector<std::unique_ptr<kube::Client>>>
connect_all(const Session& session, const GlobalOptions& global, int max_in_flight) {
  std::vector<std::unique_ptr<kube::Client>> clients;
  for (const auto& c : session.clusters) {
    auto client = connect_cluster(session.kubeconfig, c, global, max_in_flight);
    if (!client) {
      return tl::make_unexpected(client.error());
    }
    clients.push_back(std::move(*client));
  }
  return clients;
}

Result<std::pair<std::string, std::string>>
wait_for_reader_token(kube::Client& client, const std::string& cluster,
                      std::chrono::milliseconds timeout) {
  const kube::ResourceRef ref{
      "", "v1", "secrets", "istio-system", std::string(render::k_reader_token_secret), ""};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto delay = std::chrono::milliseconds(50);
  for (;;) {
    auto s = client.get(ref);
    if (s) {
      const auto data = s->value("data", nlohmann::json::object());
      const auto token = meshctl::base64_decode(data.value("token", ""));
      const auto ca = meshctl::base64_decode(data.value("ca.crt", ""));
      if (token && ca && !token->empty() && !ca->empty()) {
        register_secret(*token);
        return std::make_pair(*token, *ca);
      }
    } else if (!s.error().not_found()) {
      return tl::make_unexpected(Error(s.error()).with_context(cluster));
    }
    if (std::chrono::steady_clock::now() + delay > deadline) {
      return fail(
          "the token controller of " + cluster + " did not fill Secret istio-system/" +
              std::string(render::k_reader_token_secret) + " within " + format_duration(timeout),
          "check that kube-controller-manager runs in " + cluster +
              " (kubectl -n istio-system get secret " + std::string(render::k_reader_token_secret) +
              " -o yaml should show data.token), or raise --timeout");
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(1000));
  }
}

namespace {

// Whether `plan` creates cacerts or changes its data (a label alone does not matter to istiod).
bool cacerts_rewritten(const ClusterPlan& plan) {
  for (const auto& c : plan.changes) {
    if (c.desired.value("kind", "") != "Secret" ||
        c.desired["metadata"].value("name", "") != "cacerts") {
      continue;
    }
    if (c.action == Action::k_create) {
      return true;
    }
    if (c.action == Action::k_update) {
      for (const auto& d : c.diff) {
        if (d.path.rfind("data", 0) == 0 || d.path.rfind("stringData", 0) == 0) {
          return true;
        }
      }
    }
  }
  return false;
}

// Polls the root istiod publishes until it is cacerts' root; false after `timeout`.
Result<bool> wait_for_served_root(kube::Client& client, const std::string& root_pem,
                                  std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto delay = std::chrono::milliseconds(100);
  for (;;) {
    auto served = read_served_root(client);
    if (served && *served && !compare_served_root(root_pem, **served).stale) {
      return true;
    }
    if (std::chrono::steady_clock::now() + delay > deadline) {
      return fail("istiod serves another root");
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(1000));
  }
}

// `kubectl rollout restart deployment/<istiod of the revision>`. The patch sets the annotation to
// a fixed value, so sending it twice restarts once: it is retried like a PUT.
Result<void> restart_istiod(kube::Client& client, const IstiodRevision& istiod, bool dry_run) {
  const auto now = fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr)));
  nlohmann::json patch = {
      {"spec",
       {{"template",
         {{"metadata", {{"annotations", {{"kubectl.kubernetes.io/restartedAt", now}}}}}}}}}};
  kube::WriteOptions opts;
  opts.dry_run = dry_run;
  opts.idempotent = true;
  auto r = client.patch({"apps", "v1", "deployments", "istio-system", istiod.deployment, ""},
                        kube::PatchType::k_strategic_merge, patch, opts);
  if (!r) {
    return tl::make_unexpected(
        Error(r.error()).with_context("restarting istio-system/" + istiod.deployment));
  }
  return {};
}

} // namespace

Result<JoinReport> join_live(const Session& session, const JoinOptions& options,
                             std::vector<std::unique_ptr<kube::Client>>& clients,
                             const GlobalOptions& global) {
  JoinReport report;
  const bool write = options.dry_run == DryRun::k_none;
  const bool server_dry_run = options.dry_run == DryRun::k_server;
  const auto& clusters = session.clusters;
  std::vector<std::string> names;
  std::map<std::string, kube::Client*> by_name;
  std::map<std::string, const config::ClusterConfig*> cfg_by_name;
  for (std::size_t i = 0; i < clusters.size(); ++i) {
    names.push_back(clusters[i].name);
    by_name[clusters[i].name] = clients[i].get();
    cfg_by_name[clusters[i].name] = &clusters[i];
  }

  std::map<std::string, RemoteServer> servers;
  for (const auto& c : clusters) {
    auto s = remote_server(c, session.kubeconfig);
    if (!s) {
      return tl::make_unexpected(s.error());
    }
    servers.emplace(c.name, *s);
  }

  // Phase 1: preconditions everywhere, before anything is written — the local PKI included — and
  // which east-west gateway each cluster uses. An existing mesh root is read (not created) so that
  // a foreign cacerts can be refused.
  log::info("join, phase 1 of 3: preconditions in {}", join(names, ", "));
  log::status_title("join");
  auto our_root = existing_root_pem(session.config);
  if (!our_root) {
    return tl::make_unexpected(our_root.error());
  }
  struct Phase1 {
    JoinPreconditions found;
    GatewayChoice gateway;
  };
  auto checks = for_each_cluster(names, [&](const std::string& name) {
    log::status(name, "1/3 preconditions");
    Phase1 out;
    std::vector<Error> gateway_errors;
    auto gateway = find_gateway(*by_name[name], *cfg_by_name[name]);
    if (gateway) {
      out.gateway = std::move(*gateway);
    } else {
      gateway_errors.push_back(gateway.error());
    }
    // An installed gateway is not meshctl's to check: verify reports its address.
    auto cluster = *cfg_by_name[name];
    if (out.gateway.existing) {
      cluster.gateway = config::GatewayConfig{};
    }
    out.found = check_join_preconditions(*by_name[name], session.config, cluster, *our_root,
                                         options.force_ca);
    out.found.errors.insert(out.found.errors.begin(), gateway_errors.begin(), gateway_errors.end());
    return out;
  });
  // The revision found in each cluster decides the gateway's istio.io/rev label and which
  // Deployment --restart-istiod rolls.
  std::map<std::string, IstiodRevision> istiods;
  std::map<std::string, config::ClusterConfig> rendered; // cluster config as join renders it
  IstioApis apis;
  std::map<std::string, GatewayChoice> gateways;
  for (auto& c : checks) {
    auto& found = c.value.found;
    apis.emplace(c.cluster, found.istio);
    // A cluster that cannot be reached makes every check of it fail the same way: one line.
    const auto unreachable =
        std::find_if(found.errors.begin(), found.errors.end(),
                     [](const Error& e) { return e.code() == ExitCode::k_unreachable; });
    if (unreachable != found.errors.end()) {
      report.precondition_errors.push_back(unreachable->with_cluster(c.cluster));
    } else {
      for (auto& e : found.errors) {
        report.precondition_errors.push_back(e.with_cluster(c.cluster));
      }
    }
    if (found.istiod) {
      istiods.emplace(c.cluster, *found.istiod);
      auto rc = *cfg_by_name[c.cluster];
      rc.istio_revision = found.istiod->revision;
      rendered.emplace(c.cluster, std::move(rc));
    }
    if (c.value.gateway.existing) {
      report.existing_gateways[c.cluster] = c.value.gateway.service();
    }
    gateways[c.cluster] = std::move(c.value.gateway);
  }
  if (!report.precondition_errors.empty()) {
    return report;
  }

  // The mesh's CA material: persisted (root and intermediates created) only when really joining.
  std::map<std::string, render::CacertsData> cacerts;
  for (const auto& c : clusters) {
    auto ca = cacerts_for(session.config, c, write);
    if (!ca) {
      return tl::make_unexpected(ca.error());
    }
    cacerts.emplace(c.name, std::move(*ca));
  }

  // Phase 2: base objects, then the reader token of every cluster. A cluster's failure does not
  // hide another's: every cluster's error is kept, with what each cluster had written by then.
  struct Phase {
    ClusterPlan plan;
    std::optional<std::pair<std::string, std::string>> token;
    std::optional<Error> error;
  };
  auto plan_and_apply = [&](kube::Client& client, const ClusterObjects& desired, Phase& out) {
    auto plan = plan_cluster(client, desired);
    if (!plan) {
      out.plan.cluster = desired.cluster;
      out.error = plan.error();
      return false;
    }
    out.plan = std::move(*plan);
    if (write || server_dry_run) {
      if (auto a = apply_plan(client, out.plan, server_dry_run); !a) {
        out.error = a.error();
        return false;
      }
    }
    return true;
  };
  log::info("join, phase 2 of 3: base objects and each cluster's reader token");
  auto phase2 = for_each_cluster(names, [&](const std::string& name) {
    log::status(name, "2/3 base objects");
    Phase out;
    kube::Client& client = *by_name[name];
    auto desired_base = render_join_base(rendered.at(name), apis.at(name), cacerts.at(name),
                                         gateways.at(name), session.config.clusters);
    if (!desired_base) {
      out.plan.cluster = name;
      out.error = desired_base.error();
      return out;
    }
    if (!plan_and_apply(client, *desired_base, out)) {
      return out;
    }
    // A dry run creates nothing: it uses the token if the cluster already has one.
    auto token =
        wait_for_reader_token(client, name, write ? global.timeout : std::chrono::milliseconds(0));
    if (token) {
      out.token = std::move(*token);
    } else if (write) {
      out.error = token.error();
    }
    return out;
  });
  std::map<std::string, render::RemoteSecretInput> sources;
  for (auto& p : phase2) {
    if (p.value.error) {
      report.errors.push_back(p.value.error->with_cluster(p.cluster));
    }
    const auto& server = servers.at(p.cluster);
    render::RemoteSecretInput in{p.cluster, server.url, render::ca_placeholder(p.cluster),
                                 render::token_placeholder(p.cluster), server.tls_server_name};
    if (p.value.token) {
      in.token = p.value.token->first;
      in.ca_data_pem = p.value.token->second;
    }
    sources.emplace(p.cluster, std::move(in));
    report.plans.push_back(std::move(p.value.plan));
  }
  if (!report.errors.empty()) {
    return report;
  }

  // Phase 3: remote secrets in every direction.
  log::info("join, phase 3 of 3: remote secrets in every direction");
  auto phase3 = for_each_cluster(names, [&](const std::string& name) {
    log::status(name, "3/3 remote secrets");
    Phase out;
    auto desired_secrets = render_join_remote_secrets(*cfg_by_name[name], clusters, sources);
    if (!desired_secrets) {
      out.error = desired_secrets.error();
      return out;
    }
    plan_and_apply(*by_name[name], *desired_secrets, out);
    return out;
  });
  for (std::size_t i = 0; i < phase3.size(); ++i) {
    if (phase3[i].value.error) {
      report.errors.push_back(phase3[i].value.error->with_cluster(phase3[i].cluster));
    }
    for (auto& c : phase3[i].value.plan.changes) {
      report.plans[i].changes.push_back(std::move(c));
    }
  }
  if (!report.errors.empty()) {
    return report;
  }

  // istiod reads cacerts only at start (FACTS §3): roll it where the root it serves is not the
  // root cacerts now holds (a dry run: would hold), whether this join or an earlier one wrote it.
  const bool restart_for_real = write || server_dry_run;
  auto served = for_each_cluster(
      names, [&](const std::string& name) { return read_served_root(*by_name[name]); });
  std::map<std::string, bool> rewritten;
  for (const auto& p : report.plans) {
    rewritten[p.cluster] = cacerts_rewritten(p);
  }
  std::vector<std::string> to_restart;
  std::map<std::string, std::string> why;
  for (const auto& s : served) {
    const auto& name = s.cluster;
    if (!s.value) {
      report.errors.push_back(Error(s.value.error()).with_cluster(name));
      continue;
    }
    const auto decision = decide_istiod_restart(options.restart_istiod, cacerts.at(name).root_cert,
                                                *s.value, rewritten[name]);
    const auto& istiod = istiods.at(name);
    if (decision.restart) {
      to_restart.push_back(name);
      why[name] = decision.why;
    } else if (decision.needed) {
      report.notes.push_back(name + ": istiod not restarted (--no-restart-istiod) although " +
                             decision.why + ": run meshctl join " + join(names, " ") +
                             " without it, or kubectl --context " + cfg_by_name[name]->context +
                             " -n istio-system rollout restart deployment/" + istiod.deployment);
    } else if (!*s.value) {
      report.notes.push_back(name + ": istiod not restarted: " + decision.why + " (kubectl " +
                             "--context " + cfg_by_name[name]->context +
                             " -n istio-system get pods -l " + istiod.pod_selector() + ")");
    }
  }
  // Every cluster's restart in parallel; one failing does not keep the others from restarting.
  const auto patched = for_each_cluster(to_restart, [&](const std::string& name) -> Result<void> {
    if (!restart_for_real) {
      return {};
    }
    log::info("{}: restarting istiod ({})", name, why.at(name));
    log::status(name, "restarting istiod");
    return restart_istiod(*by_name[name], istiods.at(name), server_dry_run);
  });
  for (const auto& r : patched) {
    if (!r.value) {
      report.errors.push_back(Error(r.value.error()).with_cluster(r.cluster));
      continue;
    }
    report.istiod_restarts.push_back({r.cluster, istiods.at(r.cluster).deployment, why[r.cluster],
                                      restart_for_real && !server_dry_run});
  }
  // A rolling restart takes a while; wait (bounded by --timeout) until each restarted istiod
  // serves cacerts' root, so that what runs next — verify above all — sees the new root.
  std::vector<std::string> restarted;
  for (const auto& r : report.istiod_restarts) {
    if (r.done) {
      restarted.push_back(r.cluster);
    }
  }
  const auto waited = for_each_cluster(restarted, [&](const std::string& name) {
    log::info("{}: waiting until istiod serves the root of cacerts", name);
    log::status(name, "waiting for istiod's new root");
    return wait_for_served_root(
        *by_name[name], cacerts.at(name).root_cert,
        std::chrono::duration_cast<std::chrono::milliseconds>(global.timeout));
  });
  for (const auto& w : waited) {
    if (!w.value) {
      report.notes.push_back(
          w.cluster + ": istiod does not serve the root of cacerts yet, " +
          std::to_string(global.timeout.count()) + "s after its restart: kubectl --context " +
          cfg_by_name[w.cluster]->context + " -n istio-system rollout status deployment/" +
          istiods.at(w.cluster).deployment + " shows how far it is");
    }
  }
  if (!report.istiod_restarts.empty() && options.restart_istiod != RestartIstiod::k_always) {
    report.notes.push_back("workloads get certificates of the new root as they rotate (restart "
                           "them to hurry it); --no-restart-istiod leaves istiod alone");
  }
  return report;
}

std::string format_join_report(const JoinReport& report, int verbosity, DryRun dry_run) {
  std::string out;
  for (const auto& p : report.plans) {
    const auto s = summarize(p.changes);
    if (const auto gw = report.existing_gateways.find(p.cluster);
        gw != report.existing_gateways.end()) {
      out += fmt::format("{}: using existing east-west gateway {}\n", p.cluster, gw->second);
    }
    out += fmt::format("{}: {} created, {} updated, {} unchanged{}\n", p.cluster, s.created,
                       s.updated, s.unchanged, dry_run_suffix(dry_run));
    if (verbosity >= 1) {
      out += describe_plan(p, verbosity >= 2);
    }
  }
  for (const auto& r : report.istiod_restarts) {
    out += fmt::format("{}: {} istiod (rolling restart of istio-system/{}) because {}\n", r.cluster,
                       r.done ? "restarted" : "would restart", r.deployment, r.why);
  }
  return out;
}

std::string format_partial_report(const JoinReport& report) {
  std::string out;
  for (const auto& p : report.plans) {
    const auto w = summarize_written(p.changes);
    const auto all = summarize(p.changes);
    const bool complete = w.created == all.created && w.updated == all.updated;
    out += fmt::format(
        "{}: {} created, {} updated before the failure{}\n", p.cluster, w.created, w.updated,
        complete ? ""
                 : fmt::format(" (planned: {} created, {} updated)", all.created, all.updated));
    for (const auto& c : p.changes) {
      if (c.written) {
        const auto& md = c.desired["metadata"];
        out += fmt::format("  {:<10} {} {}{}\n", to_string(c.action), c.desired.value("kind", ""),
                           md.contains("namespace") ? md.value("namespace", "") + "/" : "",
                           md.value("name", ""));
      }
    }
  }
  return out;
}

IstioApiChoice choose_istio_apis(const Session& session,
                                 std::vector<std::unique_ptr<kube::Client>>& clients) {
  std::vector<std::string> names;
  std::map<std::string, kube::Client*> by_name;
  for (std::size_t i = 0; i < session.clusters.size(); ++i) {
    names.push_back(session.clusters[i].name);
    by_name[session.clusters[i].name] = clients[i].get();
  }
  auto found = for_each_cluster(names, [&](const std::string& name) {
    return kube::discover_istio_api(*by_name.at(name), name);
  });
  IstioApiChoice out;
  for (auto& f : found) {
    if (f.value) {
      out.apis.emplace(f.cluster, *f.value);
    } else {
      out.errors.push_back(f.value.error().with_cluster(f.cluster));
    }
  }
  return out;
}

JoinReport apply_everywhere(std::vector<std::unique_ptr<kube::Client>>& clients,
                            const std::vector<ClusterObjects>& objects, DryRun dry_run) {
  std::vector<std::string> names;
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    names.push_back(objects[i].cluster);
    index[objects[i].cluster] = i;
  }
  struct Outcome {
    ClusterPlan plan;
    std::optional<Error> error;
  };
  auto results = for_each_cluster(names, [&](const std::string& name) {
    const std::size_t i = index.at(name);
    Outcome out{{name, {}}, std::nullopt};
    auto plan = plan_cluster(*clients[i], objects[i]);
    if (!plan) {
      out.error = plan.error();
      return out;
    }
    out.plan = std::move(*plan);
    if (dry_run == DryRun::k_none || dry_run == DryRun::k_server) {
      if (auto a = apply_plan(*clients[i], out.plan, dry_run == DryRun::k_server); !a) {
        out.error = a.error();
      }
    }
    return out;
  });
  JoinReport report;
  for (auto& r : results) {
    if (r.value.error) {
      report.errors.push_back(r.value.error->with_cluster(r.cluster));
    }
    report.plans.push_back(std::move(r.value.plan));
  }
  return report;
}

nlohmann::json join_report_json(const JoinReport& report, DryRun dry_run, const std::string& kind) {
  nlohmann::json clusters = nlohmann::json::array();
  for (const auto& p : report.plans) {
    const auto s = summarize(p.changes);
    nlohmann::json objects = nlohmann::json::array();
    for (const auto& c : p.changes) {
      const auto& md = c.desired["metadata"];
      nlohmann::json o = {{"apiVersion", c.desired.value("apiVersion", "")},
                          {"kind", c.desired.value("kind", "")},
                          {"name", md.value("name", "")},
                          {"action", to_string(c.action)}};
      if (md.contains("namespace")) {
        o["namespace"] = md["namespace"];
      }
      if (!c.diff.empty()) {
        o["diff"] = nlohmann::json::array();
        for (const auto& d : c.diff) {
          o["diff"].push_back(describe(d)); // in full: only text output shortens values
        }
      }
      objects.push_back(std::move(o));
    }
    nlohmann::json entry = {{"name", p.cluster},
                            {"created", s.created},
                            {"updated", s.updated},
                            {"unchanged", s.unchanged},
                            {"objects", std::move(objects)}};
    if (const auto gw = report.existing_gateways.find(p.cluster);
        gw != report.existing_gateways.end()) {
      entry["existingGateway"] = gw->second;
    }
    clusters.push_back(std::move(entry));
  }
  nlohmann::json out = envelope(kind);
  out["dryRun"] = report_dry_run(dry_run);
  attach_errors(out, clusters, report.errors);
  out["clusters"] = std::move(clusters);
  out["notes"] = report.notes;
  if (kind == "JoinResult") {
    nlohmann::json restarts = nlohmann::json::array();
    for (const auto& r : report.istiod_restarts) {
      restarts.push_back({{"cluster", r.cluster},
                          {"deployment", r.deployment},
                          {"why", r.why},
                          {"restarted", r.done}});
    }
    out["istiodRestarts"] = std::move(restarts);
  }
  return out;
}

} // namespace meshctl::mesh

// sync-svc live: reading, writing, reporting and watch mode (see sync_live.hpp; planning is in
// sync.cpp).
//
// Reading streams list pages into ServiceRecords, so a cluster's Services are never all held as
// JSON at once. Writing runs, per target cluster, a pool of --concurrency workers over the plan's
// writes; every request goes through the client's ConcurrencyLimiter, which halves the number in
// flight when the API server answers 429 and grows it back on success (kube/limiter.hpp), so the
// pool is fast against a healthy server and polite to a loaded one.
//
// Watch mode keeps one ClusterState per cluster up to date from Reflectors (kube/watch.hpp) —
// Services of every cluster, namespaces of every target — and marks each changed name dirty. The
// main loop takes the dirty names every few milliseconds, plans just those with the same
// plan_sync() as a one-shot run, writes, and records what the API server answered, so the watch
// event of its own write finds the name already unchanged. A write that fails is retried a
// little later; a conflict is reported once until it changes.

#include "mesh/sync_live.hpp"

#include "core/envelope.hpp"
#include "core/fanout.hpp"
#include "core/log.hpp"
#include "core/suggest.hpp"
#include "core/try.hpp"
#include "kube/watch.hpp"
#include "mesh/join_live.hpp"
#include "render/object.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

namespace meshctl::mesh {
namespace {

const kube::ResourceRef k_services{"", "v1", "services", "", "", ""};
const kube::ResourceRef k_namespaces{"", "v1", "namespaces", "", "", ""};

Result<std::vector<std::string>>
resolve_names(const Session& session, const std::vector<std::string>& given, const char* flag) {
  std::vector<std::string> known;
  for (const auto& c : session.clusters) {
    known.push_back(c.name);
  }
  if (given.empty()) {
    return known;
  }
  std::vector<std::string> out;
  for (const auto& g : given) {
    std::string found;
    for (const auto& c : session.clusters) {
      if (c.name == g || c.context == g) {
        found = c.name;
      }
    }
    if (found.empty()) {
      return usage_error(fmt::format("{} {}: no such cluster in this run{}", flag, g,
                                     did_you_mean_suffix(g, known)),
                         "the clusters are: " + fmt::format("{}", fmt::join(known, ", ")));
    }
    if (std::find(out.begin(), out.end(), found) == out.end()) {
      out.push_back(found);
    }
  }
  return out;
}

std::string what_of(const SyncChange& c) {
  return fmt::format("{} Service {}/{}", to_string(c.action), c.namespace_, c.name);
}

// A prune: the copy is deleted only while it is the one the plan saw (uid and resourceVersion
// preconditions), so a Service replaced meanwhile stays. The answer is null, as apply_sync says.
kube::ApiResult<nlohmann::json> delete_copy(kube::Client& client, const SyncChange& c,
                                            bool dry_run) {
  kube::DeleteOptions options;
  options.dry_run = dry_run;
  options.uid = c.uid;
  options.resource_version = c.resource_version;
  TRY_ASSIGN(const auto deleted,
             client.remove({"", "v1", "services", c.namespace_, c.name, ""}, options));
  return nlohmann::json(nullptr);
}

} // namespace

Result<SyncSettings> make_sync_settings(const Session& session, const SyncOptions& options) {
  SyncSettings s;
  TRY_ASSIGN(auto from, resolve_names(session, options.from, "--from"));
  TRY_ASSIGN(auto to, resolve_names(session, options.to, "--to"));
  s.sources = std::move(from);
  s.targets = std::move(to);
  auto selector = LabelSelector::parse(options.selector);
  if (!selector) {
    return tl::make_unexpected(selector.error());
  }
  s.selector = std::move(*selector);
  s.prune = options.prune;
  s.create_namespaces = options.create_namespaces;
  bool any_pair = false;
  for (const auto& a : s.sources) {
    for (const auto& b : s.targets) {
      any_pair = any_pair || a != b;
    }
  }
  if (!any_pair) {
    return usage_error("sync-svc needs a source and a different target cluster",
                       "name two clusters, e.g. --from cn-shanghai --to wuxi");
  }
  return s;
}

Result<ClusterState> read_cluster(kube::Client& client, const std::string& cluster,
                                  const SyncScope& scope) {
  ClusterState state;
  state.cluster = cluster;
  kube::ListOptions opts;
  opts.limit = 500;
  auto namespaces = std::async(std::launch::async, [&]() -> kube::ApiResult<std::string> {
    return client.list_pages(k_namespaces, opts, [&](nlohmann::json& page) -> Result<void> {
      for (const auto& item : page.value("items", nlohmann::json::array())) {
        state.namespaces.insert(item["metadata"].value("name", ""));
      }
      return {};
    });
  });
  // Pages are turned into records on a thread of their own while the next page is fetched; at
  // most two wait, so memory stays bounded however many Services there are.
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<nlohmann::json> pages;
  bool listing_done = false;
  std::thread worker([&] {
    for (;;) {
      nlohmann::json items;
      {
        std::unique_lock lock(mutex);
        cv.wait(lock, [&] { return !pages.empty() || listing_done; });
        if (pages.empty()) {
          return;
        }
        items = std::move(pages.front());
        pages.pop_front();
      }
      cv.notify_all();
      for (auto& item : items) {
        const auto& md = item["metadata"];
        const std::string ns = md.value("namespace", "");
        const std::string name = md.value("name", "");
        if (scope.covers(ns, name)) {
          state.services.emplace(service_key(ns, name), service_record(item));
        }
      }
    }
  });
  auto take = [&](nlohmann::json& page) -> Result<void> {
    auto items = page.find("items");
    if (items == page.end() || !items->is_array()) {
      return {};
    }
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return pages.size() < 2; });
    pages.push_back(std::move(*items));
    cv.notify_all();
    return {};
  };
  std::vector<kube::ResourceRef> collections;
  if (scope.namespaces.empty()) {
    collections.push_back(k_services);
  } else {
    for (const auto& ns : scope.namespaces) {
      auto ref = k_services;
      ref.namespace_ = ns;
      collections.push_back(ref);
    }
  }
  // Namespaces named with -n are listed in parallel (the client's limiter bounds them).
  std::vector<std::future<kube::ApiResult<std::string>>> lists;
  lists.reserve(collections.size());
  for (const auto& ref : collections) {
    lists.push_back(std::async(std::launch::async, [&client, &opts, &take, ref] {
      return client.list_pages(ref, opts, take);
    }));
  }
  std::optional<Error> failed;
  for (auto& l : lists) {
    auto done = l.get();
    if (!done && !failed) {
      failed = Error(done.error()).with_context("listing Services in " + cluster);
    }
  }
  {
    std::lock_guard lock(mutex);
    listing_done = true;
  }
  cv.notify_all();
  worker.join();
  auto ns_done = namespaces.get();
  if (failed) {
    return tl::make_unexpected(*failed);
  }
  if (!ns_done) {
    return tl::make_unexpected(
        Error(ns_done.error()).with_context("listing namespaces in " + cluster));
  }
  return state;
}

std::vector<SyncFailure>
apply_sync(const std::map<std::string, kube::Client*>& clients, const SyncPlan& plan,
           bool server_dry_run,
           const std::function<void(const SyncChange&, const nlohmann::json&)>& on_done) {
  std::vector<std::string> targets;
  targets.reserve(clients.size());
  for (const auto& [name, c] : clients) {
    targets.push_back(name);
  }
  std::mutex failures_mutex;
  std::vector<SyncFailure> failures;
  auto failed = [&](const std::string& cluster, std::string what, const SyncChange* c, Error e) {
    std::lock_guard lock(failures_mutex);
    failures.push_back({cluster, std::move(what), c != nullptr ? c->namespace_ : std::string(),
                        c != nullptr ? c->name : std::string(), std::move(e)});
  };
  for_each_cluster(targets, [&](const std::string& target) -> bool {
    kube::Client& client = *clients.at(target);
    const auto& limiter = client.options().limiter;
    const int workers = limiter ? limiter->max() : 32;
    std::vector<const NamespaceChange*> namespaces;
    for (const auto& n : plan.namespaces) {
      if (n.cluster == target) {
        namespaces.push_back(&n);
      }
    }
    std::vector<const SyncChange*> writes;
    for (const auto& c : plan.changes) {
      if (c.to != target || (c.action != SyncAction::k_create && c.action != SyncAction::k_update &&
                             c.action != SyncAction::k_prune)) {
        continue;
      }
      // A server dry run creates no namespace, so a copy into a new one cannot be validated.
      const bool new_namespace =
          std::any_of(namespaces.begin(), namespaces.end(),
                      [&](const NamespaceChange* n) { return n->name == c.namespace_; });
      if (server_dry_run && new_namespace) {
        continue;
      }
      writes.push_back(&c);
    }
    kube::ApplyOptions ns_opts;
    ns_opts.dry_run = server_dry_run;
    parallel_for(namespaces.size(), workers, [&](std::size_t i) {
      const auto& n = *namespaces[i];
      auto r =
          client.apply({"", "v1", "namespaces", "", n.name, ""}, namespace_object(n.name), ns_opts);
      if (!r) {
        failed(target, "create namespace " + n.name, nullptr,
               Error(r.error()).with_context("creating namespace " + n.name + " in " + target));
      }
    });
    kube::ApplyOptions opts;
    opts.force = true; // a copy is meshctl's alone
    opts.dry_run = server_dry_run;
    std::atomic<std::size_t> written{0};
    if (!writes.empty() && log::status_enabled()) {
      log::status(target, fmt::format("writing 0/{}", writes.size()));
    }
    parallel_for(writes.size(), workers, [&](std::size_t i) {
      const SyncChange& c = *writes[i];
      kube::ApiResult<nlohmann::json> r;
      if (c.action == SyncAction::k_prune) {
        r = delete_copy(client, c, server_dry_run);
        if (!r && r.error().not_found()) {
          r = nlohmann::json(nullptr); // already gone: what prune wanted
        }
      } else {
        r = client.apply({"", "v1", "services", c.namespace_, c.name, ""},
                         nlohmann::json::parse(c.body), opts);
      }
      if (!r) {
        failed(target, what_of(c), &c,
               Error(r.error()).with_context(fmt::format("{} in {}", what_of(c), target)));
        return;
      }
      log::debug("{}: {}", target, describe_sync_change(c));
      if (log::status_enabled()) { // no formatting per write where no one watches
        log::status(target, fmt::format("writing {}/{}", ++written, writes.size()));
      }
      if (on_done) {
        on_done(c, *r);
      }
    });
    return true;
  });
  return failures;
}

Result<SyncReport> sync_once(const Session& session, const SyncOptions& options,
                             std::vector<std::unique_ptr<kube::Client>>& clients) {
  auto settings = make_sync_settings(session, options);
  if (!settings) {
    return tl::make_unexpected(settings.error());
  }
  std::vector<std::string> involved;
  std::map<std::string, kube::Client*> by_name;
  for (std::size_t i = 0; i < session.clusters.size(); ++i) {
    const auto& name = session.clusters[i].name;
    const bool used = std::find(settings->sources.begin(), settings->sources.end(), name) !=
                          settings->sources.end() ||
                      std::find(settings->targets.begin(), settings->targets.end(), name) !=
                          settings->targets.end();
    if (used) {
      involved.push_back(name);
      by_name[name] = clients[i].get();
    }
  }
  log::status_title("sync-svc");
  auto states = for_each_cluster(involved, [&](const std::string& name) {
    log::status(name, "reading Services");
    auto state = read_cluster(*by_name.at(name), name, options.scope);
    log::status(name, state ? "read" : "failed");
    return state;
  });
  std::vector<const ClusterState*> view;
  SyncReport report;
  report.dry_run = options.dry_run;
  for (auto& s : states) {
    if (!s.value) {
      report.read_errors.push_back(s.value.error().with_cluster(s.cluster));
      continue;
    }
    view.push_back(&*s.value);
  }
  if (!report.read_errors.empty()) {
    return report;
  }
  // A namespace named with -n that no source cluster has syncs nothing: most likely a typo, which
  // should not pass as a quiet success.
  for (const auto& ns : options.scope.namespaces) {
    const bool found = std::any_of(view.begin(), view.end(), [&](const ClusterState* s) {
      return s->namespaces.contains(ns) &&
             std::find(settings->sources.begin(), settings->sources.end(), s->cluster) !=
                 settings->sources.end();
    });
    if (!found) {
      log::warn("namespace \"{}\" exists in no source cluster ({}): nothing is synced from it", ns,
                fmt::join(settings->sources, ", "));
    }
  }
  log::info("read Services of {} cluster(s); planning the copies into {}", view.size(),
            fmt::join(settings->targets, ", "));
  report.plan = plan_sync(view, *settings);
  report.settings = std::move(*settings);
  if (log::verbosity() >= 1) {
    for (const auto& p : summarize_sync(report.plan, report.settings)) {
      log::info("{} -> {}: {} to create, {} to update, {} unchanged, {} to prune", p.from, p.to,
                p.created, p.updated, p.unchanged, p.pruned);
    }
  }
  states.clear(); // the records are no longer needed; the plan holds what is written
  if (options.dry_run == DryRun::k_none || options.dry_run == DryRun::k_server) {
    std::map<std::string, kube::Client*> targets;
    for (const auto& t : report.settings.targets) {
      targets[t] = by_name.at(t);
    }
    report.failures = apply_sync(targets, report.plan, options.dry_run == DryRun::k_server);
  }
  for (const auto& [name, client] : by_name) {
    if (const auto& limiter = client->options().limiter) {
      report.throttled += limiter->cuts();
    }
  }
  return report;
}

std::string describe_sync_change(const SyncChange& c) {
  static const std::map<SyncAction, const char*> k_past = {
      {SyncAction::k_create, "created"},      {SyncAction::k_update, "updated"},
      {SyncAction::k_unchanged, "unchanged"}, {SyncAction::k_prune, "pruned"},
      {SyncAction::k_present, "present"},     {SyncAction::k_conflict, "conflict:"},
      {SyncAction::k_skipped, "skipped"}};
  return fmt::format("{} Service {}/{} in {} ({} {})", k_past.at(c.action), c.namespace_, c.name,
                     c.to, c.action == SyncAction::k_prune ? "copy of" : "from", c.from);
}

std::string format_sync_report(const SyncReport& report, int verbosity) {
  const auto pairs = summarize_sync(report.plan, report.settings);
  std::vector<std::vector<std::string>> rows{
      {"FROM", "TO", "CREATED", "UPDATED", "UNCHANGED", "PRUNED", "PRESENT", "CONFLICTS"}};
  for (const auto& p : pairs) {
    rows.push_back({p.from, p.to, std::to_string(p.created), std::to_string(p.updated),
                    std::to_string(p.unchanged), std::to_string(p.pruned),
                    std::to_string(p.present), std::to_string(p.conflicts)});
  }
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) {
      width[i] = std::max(width[i], r[i].size());
    }
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) {
        line.append(width[i] - r[i].size() + 3, ' ');
      }
    }
    out += line + "\n";
  }
  const bool dry = report.dry_run == DryRun::k_client || report.dry_run == DryRun::k_server;
  std::map<std::string, std::vector<std::string>> ns_by_cluster;
  for (const auto& n : report.plan.namespaces) {
    ns_by_cluster[n.cluster].push_back(n.name);
  }
  for (const auto& [cluster, names] : ns_by_cluster) {
    out += fmt::format("namespaces created in {}: {}{}\n", cluster, fmt::join(names, ", "),
                       dry_run_suffix(report.dry_run));
  }
  for (const auto& c : report.plan.changes) {
    const bool listed = c.action == SyncAction::k_conflict || c.action == SyncAction::k_skipped ||
                        ((dry || verbosity >= 1) && c.action != SyncAction::k_unchanged) ||
                        verbosity >= 2;
    if (!listed) {
      continue;
    }
    const bool writes = c.action == SyncAction::k_create || c.action == SyncAction::k_update ||
                        c.action == SyncAction::k_prune;
    out += fmt::format("{:<10} Service {}/{}  {} -> {}{}\n", to_string(c.action), c.namespace_,
                       c.name, c.from, c.to, writes ? dry_run_suffix(report.dry_run) : "");
    for (const auto& d : c.details) {
      out += "             " + d + "\n";
    }
  }
  for (const auto& f : report.failures) {
    out += fmt::format("failed     {} in {}: {}\n", f.what, f.cluster, f.error.what());
  }
  return out;
}

std::vector<std::string> sync_notes(const SyncReport& report) {
  std::vector<std::string> notes;
  const auto pairs = summarize_sync(report.plan, report.settings);
  const bool any_skipped =
      std::any_of(pairs.begin(), pairs.end(), [](const PairSummary& p) { return p.skipped > 0; });
  if (any_skipped) {
    notes.emplace_back("skipped Services are in namespaces missing from their target; run without "
                       "--no-create-namespace to create them");
  }
  if (report.throttled > 0) {
    notes.push_back(fmt::format("the API servers answered 429 (too many requests); meshctl slowed "
                                "down {} time(s)",
                                report.throttled));
  }
  return notes;
}

nlohmann::json sync_change_json(const SyncChange& c) {
  nlohmann::json o = {{"action", to_string(c.action)},
                      {"from", c.from},
                      {"to", c.to},
                      {"namespace", c.namespace_},
                      {"name", c.name}};
  if (!c.details.empty()) {
    o["details"] = c.details;
  }
  return o;
}

nlohmann::json sync_report_json(const SyncReport& report) {
  // One entry per cluster taking part, counting what it got as a target.
  std::vector<std::string> names;
  for (const auto* list : {&report.settings.sources, &report.settings.targets}) {
    for (const auto& n : *list) {
      if (std::find(names.begin(), names.end(), n) == names.end()) {
        names.push_back(n);
      }
    }
  }
  std::map<std::string, nlohmann::json> by_cluster;
  for (const auto& n : names) {
    by_cluster[n] = {{"name", n},
                     {"created", 0},
                     {"updated", 0},
                     {"unchanged", 0},
                     {"pruned", 0},
                     {"present", 0},
                     {"conflicts", 0},
                     {"skipped", 0},
                     {"namespaces", nlohmann::json::array()},
                     {"errors", nlohmann::json::array()}};
  }
  const auto entry = [&](const std::string& cluster) -> nlohmann::json& {
    if (!by_cluster.contains(cluster)) {
      names.push_back(cluster);
      by_cluster[cluster] = {{"name", cluster}};
    }
    return by_cluster[cluster];
  };
  nlohmann::json pairs = nlohmann::json::array();
  for (const auto& p : summarize_sync(report.plan, report.settings)) {
    const std::pair<const char*, int> counts[] = {
        {"created", p.created}, {"updated", p.updated}, {"unchanged", p.unchanged},
        {"pruned", p.pruned},   {"present", p.present}, {"conflicts", p.conflicts},
        {"skipped", p.skipped}};
    nlohmann::json pair = {{"from", p.from}, {"to", p.to}};
    auto& target = entry(p.to);
    for (const auto& [key, n] : counts) {
      pair[key] = n;
      target[key] = target.value(key, 0) + n;
    }
    pairs.push_back(std::move(pair));
  }
  for (const auto& n : report.plan.namespaces) {
    entry(n.cluster)["namespaces"].push_back(n.name);
  }
  nlohmann::json changes = nlohmann::json::array();
  for (const auto& c : report.plan.changes) {
    if (c.action == SyncAction::k_unchanged) {
      continue;
    }
    changes.push_back(sync_change_json(c));
  }
  for (const auto& f : report.failures) {
    auto e = error_json(f.error);
    e["what"] = f.what;
    entry(f.cluster)["errors"].push_back(std::move(e));
  }
  nlohmann::json clusters = nlohmann::json::array();
  for (const auto& n : names) {
    clusters.push_back(std::move(by_cluster[n]));
  }
  nlohmann::json out = envelope("SyncResult");
  out["dryRun"] = report_dry_run(report.dry_run);
  out["clusters"] = std::move(clusters);
  out["pairs"] = std::move(pairs);
  out["changes"] = std::move(changes);
  return out;
}

} // namespace meshctl::mesh

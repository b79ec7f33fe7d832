// sync-svc --watch (declared in sync_live.hpp; the essay is at the top of sync_live.cpp).
//
// Threads: one Reflector per watched collection (each cluster's Services — one per namespace with
// --namespace, else one for all — and each target's namespaces), all feeding one State under one
// mutex; the caller's thread plans and writes. Reflectors never write to clusters, and the writer
// never blocks a reflector for longer than it takes to plan a handful of names.

#include "core/log.hpp"
#include "kube/watch.hpp"
#include "mesh/sync_live.hpp"

#include <fmt/format.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

namespace meshctl::mesh {
namespace {

using Clock = std::chrono::steady_clock;

// Everything the reflectors learn, and which names need planning.
struct State {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::string, ClusterState> clusters;
  std::set<std::string> dirty;
  std::map<std::string, Clock::time_point> retry; ///< names whose write failed: plan again then
  int waiting_for_lists = 0;                      ///< reflectors that have not listed yet
  std::optional<Error> fatal;

  void mark(const std::string& key) { dirty.insert(key); }
  // Every name in namespace `ns` of any cluster (a namespace appeared: skipped names may go now).
  void mark_namespace(const std::string& ns) {
    const std::string prefix = ns + "/";
    for (const auto& [name, c] : clusters) {
      for (auto it = c.services.lower_bound(prefix);
           it != c.services.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
        dirty.insert(it->first);
      }
    }
  }
};

// The handlers of one Services reflector: a list replaces the names it covers (one namespace, or
// all), events change one name each.
kube::ReflectorHandlers
service_handlers(State& state, const std::string& cluster, const SyncScope& scope,
                 const std::string& only_ns,
                 const std::shared_ptr<std::map<std::string, ServiceRecord>>& fresh,
                 const std::shared_ptr<bool>& listed_once) {
  kube::ReflectorHandlers h;
  h.list_begin = [fresh] { fresh->clear(); };
  h.listed = [fresh, &scope](nlohmann::json& item) {
    const auto& md = item["metadata"];
    const std::string ns = md.value("namespace", "");
    const std::string name = md.value("name", "");
    if (scope.covers(ns, name)) {
      fresh->emplace(service_key(ns, name), service_record(item));
    }
  };
  h.list_end = [&state, cluster, only_ns, fresh, listed_once](const std::string&) {
    std::lock_guard lock(state.mutex);
    auto& services = state.clusters[cluster].services;
    const std::string prefix = only_ns.empty() ? "" : only_ns + "/";
    for (auto it = services.lower_bound(prefix);
         it != services.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
      state.mark(it->first);
      it = services.erase(it);
    }
    for (auto& [key, record] : *fresh) {
      state.mark(key);
      services[key] = std::move(record);
    }
    fresh->clear();
    if (!*listed_once) {
      *listed_once = true;
      --state.waiting_for_lists;
    }
    state.changed.notify_all();
  };
  h.event = [&state, cluster, &scope](kube::WatchEvent& ev) {
    const auto& md = ev.object["metadata"];
    const std::string ns = md.value("namespace", "");
    const std::string name = md.value("name", "");
    if (!scope.covers(ns, name)) {
      return;
    }
    const std::string key = service_key(ns, name);
    auto record =
        ev.type == kube::WatchEventType::k_deleted ? ServiceRecord{} : service_record(ev.object);
    std::lock_guard lock(state.mutex);
    auto& services = state.clusters[cluster].services;
    if (ev.type == kube::WatchEventType::k_deleted) {
      services.erase(key);
    } else {
      services[key] = std::move(record);
    }
    state.mark(key);
    state.changed.notify_all();
  };
  return h;
}

kube::ReflectorHandlers namespace_handlers(State& state, const std::string& cluster,
                                           const std::shared_ptr<std::set<std::string>>& fresh,
                                           const std::shared_ptr<bool>& listed_once) {
  kube::ReflectorHandlers h;
  h.list_begin = [fresh] { fresh->clear(); };
  h.listed = [fresh](nlohmann::json& item) { fresh->insert(item["metadata"].value("name", "")); };
  h.list_end = [&state, cluster, fresh, listed_once](const std::string&) {
    std::lock_guard lock(state.mutex);
    auto& namespaces = state.clusters[cluster].namespaces;
    for (const auto& ns : *fresh) {
      if (namespaces.count(ns) == 0) {
        state.mark_namespace(ns);
      }
    }
    namespaces = std::move(*fresh);
    fresh->clear();
    if (!*listed_once) {
      *listed_once = true;
      --state.waiting_for_lists;
    }
    state.changed.notify_all();
  };
  h.event = [&state, cluster](kube::WatchEvent& ev) {
    const std::string ns = ev.object["metadata"].value("name", "");
    std::lock_guard lock(state.mutex);
    auto& namespaces = state.clusters[cluster].namespaces;
    if (ev.type == kube::WatchEventType::k_deleted) {
      namespaces.erase(ns);
    } else if (namespaces.insert(ns).second) {
      state.mark_namespace(ns);
      state.changed.notify_all();
    }
  };
  return h;
}

} // namespace

Result<void> sync_watch(const Session& session, const SyncOptions& options,
                        std::vector<std::unique_ptr<kube::Client>>& clients,
                        const std::atomic<bool>& stop,
                        const std::function<void(const SyncReport&)>& report_run,
                        const std::function<void(const SyncChange&)>& on_change) {
  auto settings = make_sync_settings(session, options);
  if (!settings) {
    return tl::make_unexpected(settings.error());
  }
  std::map<std::string, kube::Client*> by_name;
  std::map<std::string, kube::Client*> targets;
  for (std::size_t i = 0; i < session.clusters.size(); ++i) {
    const auto& name = session.clusters[i].name;
    const auto in = [&](const std::vector<std::string>& v) {
      return std::find(v.begin(), v.end(), name) != v.end();
    };
    if (in(settings->sources) || in(settings->targets)) {
      by_name[name] = clients[i].get();
    }
    if (in(settings->targets)) {
      targets[name] = clients[i].get();
    }
  }

  State state;
  std::atomic<bool> halt{false};
  std::vector<std::unique_ptr<kube::Reflector>> reflectors;
  kube::ReflectorOptions ropts;
  ropts.list.limit = 500;
  // A failure before the first list is the user's to fix (RBAC, a wrong context): stop and say
  // so. Later failures are retried with backoff forever, as a Deployment should.
  auto on_error = [&state, &halt](const std::shared_ptr<bool>& listed_once,
                                  const std::string& cluster) {
    return [&state, &halt, listed_once, cluster](const kube::ApiError& e) {
      if (*listed_once) {
        log::warn("{}: {} (retrying)", cluster, e.error.what());
        return true;
      }
      const bool permanent =
          e.forbidden() || e.unauthorized() || e.not_found() || e.error.code() == ExitCode::k_usage;
      if (!permanent) {
        log::warn("{}: {} (retrying)", cluster, e.error.what());
        return true;
      }
      std::lock_guard lock(state.mutex);
      if (!state.fatal) {
        state.fatal = Error(e.error).with_context(cluster);
      }
      halt = true;
      state.changed.notify_all();
      return false;
    };
  };
  for (const auto& [name, client] : by_name) {
    state.clusters[name].cluster = name;
    std::vector<std::string> namespaces = options.scope.namespaces;
    if (namespaces.empty()) {
      namespaces.emplace_back(); // one reflector for all namespaces
    }
    for (const auto& ns : namespaces) {
      auto listed = std::make_shared<bool>(false);
      auto handlers =
          service_handlers(state, name, options.scope, ns,
                           std::make_shared<std::map<std::string, ServiceRecord>>(), listed);
      handlers.error = on_error(listed, name);
      kube::ResourceRef ref{"", "v1", "services", ns, "", ""};
      reflectors.push_back(std::make_unique<kube::Reflector>(*client, ref, ropts, handlers));
    }
    if (targets.count(name) > 0) {
      auto listed = std::make_shared<bool>(false);
      auto handlers =
          namespace_handlers(state, name, std::make_shared<std::set<std::string>>(), listed);
      handlers.error = on_error(listed, name);
      reflectors.push_back(std::make_unique<kube::Reflector>(
          *client, kube::ResourceRef{"", "v1", "namespaces", "", "", ""}, ropts, handlers));
    }
  }
  state.waiting_for_lists = static_cast<int>(reflectors.size());
  std::vector<std::thread> threads;
  threads.reserve(reflectors.size());
  for (auto& r : reflectors) {
    threads.emplace_back([&r, &halt] { (void)r->run(halt); });
  }
  struct Joiner {
    std::atomic<bool>& halt;
    std::vector<std::thread>& threads;
    ~Joiner() {
      halt = true;
      for (auto& t : threads) {
        t.join();
      }
    }
  } joiner{halt, threads};

  // Wait for every first list, then run once over everything.
  {
    std::unique_lock lock(state.mutex);
    while (state.waiting_for_lists > 0 && !stop && !state.fatal) {
      state.changed.wait_for(lock, std::chrono::milliseconds(100));
    }
    if (state.fatal) {
      return tl::make_unexpected(*state.fatal);
    }
    if (stop) {
      return {};
    }
  }
  // Conflicts already reported, so that a quiet conflict is not logged on every event.
  std::map<std::pair<std::string, std::string>, std::string> reported;
  const bool write = options.dry_run == DryRun::k_none || options.dry_run == DryRun::k_server;
  auto plan_and_apply = [&](const std::vector<std::string>* keys) {
    SyncPlan plan;
    {
      std::lock_guard lock(state.mutex);
      std::vector<const ClusterState*> view;
      for (const auto& [name, c] : state.clusters) {
        view.push_back(&c);
      }
      plan = plan_sync(view, *settings, keys);
      if (keys == nullptr) {
        state.dirty.clear(); // everything was just planned, under the same lock
      }
    }
    std::vector<SyncFailure> failures;
    if (write) {
      failures = apply_sync(targets, plan, options.dry_run == DryRun::k_server,
                            [&](const SyncChange& c, const nlohmann::json& answer) {
                              // What the target holds now, so the watch event of this write plans
                              // as unchanged.
                              if (options.dry_run == DryRun::k_server) {
                                return;
                              }
                              std::lock_guard lock(state.mutex);
                              auto& services = state.clusters[c.to].services;
                              const auto key = service_key(c.namespace_, c.name);
                              if (c.action == SyncAction::k_prune) {
                                services.erase(key);
                              } else if (answer.is_object()) {
                                services[key] = service_record(answer);
                              }
                            });
      std::lock_guard lock(state.mutex);
      for (const auto& f : failures) {
        log::warn("{}", f.error.what());
      }
      for (const auto& f : failures) {
        if (!f.name.empty()) {
          state.retry[service_key(f.namespace_, f.name)] = Clock::now() + std::chrono::seconds(2);
        } else {
          // A namespace could not be created: every name waiting for it is tried again.
          for (const auto& c : plan.changes) {
            if (c.to == f.cluster) {
              state.retry[service_key(c.namespace_, c.name)] =
                  Clock::now() + std::chrono::seconds(2);
            }
          }
        }
      }
    }
    return std::make_pair(std::move(plan), std::move(failures));
  };

  {
    auto [plan, failures] = plan_and_apply(nullptr);
    for (const auto& c : plan.changes) {
      if (c.action == SyncAction::k_conflict) {
        reported[{c.to, service_key(c.namespace_, c.name)}] =
            fmt::format("{}", fmt::join(c.details, "\n"));
      }
    }
    if (report_run) {
      SyncReport report;
      report.settings = *settings;
      report.plan = std::move(plan);
      report.dry_run = options.dry_run;
      report.failures = std::move(failures);
      report_run(report);
    }
  }

  // Follow the changes.
  while (!stop) {
    std::vector<std::string> keys;
    {
      std::unique_lock lock(state.mutex);
      state.changed.wait_for(lock, std::chrono::milliseconds(100),
                             [&] { return !state.dirty.empty() || stop; });
      const auto now = Clock::now();
      for (auto it = state.retry.begin(); it != state.retry.end();) {
        if (it->second <= now) {
          state.dirty.insert(it->first);
          it = state.retry.erase(it);
        } else {
          ++it;
        }
      }
      if (state.dirty.empty() || stop) {
        continue;
      }
    }
    // A short pause gathers the events of one kubectl apply (or one relist) into one plan.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    {
      std::lock_guard lock(state.mutex);
      keys.assign(state.dirty.begin(), state.dirty.end());
      state.dirty.clear();
    }
    auto [plan, failures] = plan_and_apply(&keys);
    for (const auto& c : plan.changes) {
      const auto id = std::make_pair(c.to, service_key(c.namespace_, c.name));
      if (c.action == SyncAction::k_conflict || c.action == SyncAction::k_skipped) {
        const auto details = fmt::format("{}", fmt::join(c.details, "\n"));
        auto [it, fresh] = reported.emplace(id, details);
        if (fresh || it->second != details) {
          it->second = details;
          if (on_change) {
            on_change(c);
          }
        }
        continue;
      }
      reported.erase(id);
      const bool wrote = c.action == SyncAction::k_create || c.action == SyncAction::k_update ||
                         c.action == SyncAction::k_prune;
      const bool failed = std::any_of(failures.begin(), failures.end(), [&](const SyncFailure& f) {
        return f.cluster == c.to && f.namespace_ == c.namespace_ && f.name == c.name;
      });
      if (wrote && !failed && on_change) {
        on_change(c);
      }
    }
  }
  return {};
}

} // namespace meshctl::mesh

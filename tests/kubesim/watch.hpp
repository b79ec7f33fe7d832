#pragma once
// Watch (GET on a collection with ?watch=1), network-free half: which events an open watch sees.
//
// kube-apiserver's semantics, as client-go and kubectl rely on them:
// - resourceVersion unset or "0": synthetic ADDED events for every matching object first, then
//   every later change. A specific version: every change after it, from the store's history;
//   when that version has fallen out of the history the watch answers 200 with a single ERROR
//   event whose object is a Status 410 Expired ("too old resource version"), as the watch cache
//   does, and ends.
// - Selectors filter by the object's state *after* the change, and an object that stops
//   matching is reported DELETED (one that starts matching, ADDED), so a watcher's view of "the
//   matching set" stays right.
// - allowWatchBookmarks=true: BOOKMARK events (only kind, apiVersion and
//   metadata.resourceVersion) every bookmark interval, carrying the newest version the watch is
//   up to date with.
// - timeoutSeconds ends the watch cleanly (default 1800 s, kube's minimum request timeout).
// - Accept: …;as=Table: each event's object is a one-row Table, as `kubectl get -w` asks.
//
// Store listeners run under Api's lock; WatchHub::on_event only formats and queues frames, and
// wakes the network side (watch_session.cpp), which writes them as HTTP/1.1 chunks.

#include "store.hpp"

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace kubesim {

/// What a watch request asked for (parsed and authorised by Api).
struct WatchParams {
  ResourceType type; ///< the resource (a copy: a CRD may go away while the watch runs)
  std::string ns;    ///< "" = all namespaces
  std::string resource_version;
  bool bookmarks = false;
  std::chrono::seconds timeout{1800};
  bool table = false;         ///< each object as a one-row Table
  std::string include_object; ///< Table's includeObject
  /// Whether an object matches the label and field selectors.
  std::function<bool(const json&)> matches;
};

/// One open watch: frames (one JSON event each, newline-terminated) waiting to be written.
class WatchStream {
public:
  explicit WatchStream(WatchParams params);

  [[nodiscard]] const WatchParams& params() const { return m_params; }
  /// Takes every queued frame, in order.
  std::vector<std::string> take();
  /// Called after frames were queued (from any thread; possibly under Api's lock: just post).
  void set_wake(std::function<void()> wake);
  /// True once the stream must end after its queued frames (410, or the server stops it).
  [[nodiscard]] bool finished() const { return m_finished; }
  /// Queues a BOOKMARK at the newest version this watch has been offered.
  void bookmark();

  /// Offers a store event (under Api's lock): queued when it concerns this watch.
  void offer(const Event& ev);
  /// Queues the initial events and remembers which objects the watcher sees.
  void start(const Store& store, std::uint64_t* error_code);

private:
  void push(const std::string& type, const json& object);
  json shown(const json& object) const;

  WatchParams m_params;
  std::set<std::string> m_visible; ///< keys of matching objects the watcher has been told about
  std::mutex m_mutex;
  std::vector<std::string> m_frames;
  std::function<void()> m_wake;
  std::atomic<bool> m_finished{false};
  const std::atomic<std::uint64_t>* m_latest = nullptr; ///< the hub's newest version
  friend class WatchHub;
};

/// Every open watch of one server; registered once as a store listener.
class WatchHub {
public:
  /// Store listener: offers the event to every open watch and records its version.
  void on_event(const Event& ev);
  /// Starts a watch (under Api's lock, so that no event slips between its start and its first
  /// live event). Returns the stream; a too-old version gives a stream holding one ERROR 410.
  std::shared_ptr<WatchStream> open(const Store& store, WatchParams params);
  /// The newest resourceVersion every open watch has been offered.
  [[nodiscard]] std::uint64_t latest() const { return m_latest; }

private:
  std::mutex m_mutex;
  std::vector<std::weak_ptr<WatchStream>> m_streams;
  std::atomic<std::uint64_t> m_latest{0};
};

/// How often an idle watch that asked for them gets a BOOKMARK (kube: about a minute; kubesim is
/// quicker so that tests see them).
inline constexpr std::chrono::milliseconds k_bookmark_interval{1000};

} // namespace kubesim

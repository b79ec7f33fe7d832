#pragma once
// Watching a collection: list, then follow its changes, forever (client-go's Reflector).
//
// A watch is a GET on a collection with ?watch=1&resourceVersion=RV: the API server answers 200
// and keeps the response open, writing one JSON event per change after RV —
// {"type":"ADDED|MODIFIED|DELETED","object":{…}} — as chunked HTTP/1.1 or one HTTP/2 stream.
// With allowWatchBookmarks=true it also sends BOOKMARK events that carry only a newer
// resourceVersion, so a quiet watch still learns how far it is up to date. A watch ends when its
// timeoutSeconds pass or the connection breaks; the client then watches again from the last
// resourceVersion it saw, losing nothing. When that version is older than the server's history,
// the server says 410 Gone (an HTTP status, or — from a watch cache — an ERROR event whose object
// is a Status with code 410): events were lost and the only way back is a fresh list.
//
// The Reflector does exactly that: list (paged) → hand the items over → watch from the list's
// resourceVersion → hand every event over → on a clean end, watch again at once; on a failure,
// wait (exponential backoff with full jitter, capped) and watch again from the same version; on
// 410, list again. Events are split from the byte stream by JsonStreamSplitter (the server is not
// obliged to put one event per line or per chunk) on the client's I/O thread and processed on the
// reflector's own thread, so a slow consumer never stalls the client's other requests.

#include "core/error.hpp"
#include "kube/client.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace meshctl::kube {

/// Splits a byte stream of concatenated JSON documents (objects or arrays) into whole documents,
/// however the bytes were cut into pieces. Whitespace between documents is skipped.
class JsonStreamSplitter {
public:
  /// Adds bytes from the stream.
  void feed(std::string_view bytes);
  /// The next complete document, or nothing until more bytes arrive.
  std::optional<std::string> next();
  /// Bytes held that do not yet form a whole document.
  [[nodiscard]] std::size_t pending_bytes() const { return m_buffer.size() - m_start; }

private:
  void scan();

  std::string m_buffer;
  std::size_t m_start = 0; ///< where the current document begins
  std::size_t m_pos = 0;   ///< how far m_buffer has been scanned
  int m_depth = 0;
  bool m_in_string = false;
  bool m_escape = false;
  std::deque<std::string> m_ready;
};

enum class WatchEventType { k_added, k_modified, k_deleted, k_bookmark, k_error };

/// "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR".
const char* to_string(WatchEventType type);

/// One event of a watch stream.
struct WatchEvent {
  WatchEventType type = WatchEventType::k_added;
  nlohmann::json object; ///< the object (a Status for ERROR; only metadata for BOOKMARK)

  /// object.metadata.resourceVersion ("" when absent).
  [[nodiscard]] std::string resource_version() const;
  /// For ERROR events: the Status code (410 = the version is too old), else 0.
  [[nodiscard]] int error_code() const;
};

/// Parses one watch event document; anything but {"type": <known>, "object": {…}} is an error.
Result<WatchEvent> parse_watch_event(std::string_view text);

/// The query of a watch request on a collection.
Query watch_query(const ListOptions& list, const std::string& resource_version, bool bookmarks,
                  std::chrono::seconds timeout);

struct ReflectorOptions {
  ListOptions list; ///< selectors and page size for lists and watches
  /// timeoutSeconds of each watch request (the server ends it then; the reflector reconnects).
  std::chrono::seconds watch_timeout{300};
  bool bookmarks = true;
  std::chrono::milliseconds initial_backoff{200}; ///< first wait after a failure
  std::chrono::milliseconds max_backoff{30000};   ///< cap on the wait between failed attempts
};

/// What a Reflector reports, always on the thread that called run().
struct ReflectorHandlers {
  /// A (re)list starts: what the handler knew of the collection is about to be replaced.
  std::function<void()> list_begin;
  /// One item of the list (the handler may move it out).
  std::function<void(nlohmann::json& item)> listed;
  /// The list is complete and consistent as of `resource_version`.
  std::function<void(const std::string& resource_version)> list_end;
  /// ADDED, MODIFIED or DELETED, in the server's order.
  std::function<void(WatchEvent& event)> event;
  /// A failed list or watch (it will be retried after a backoff). Return false to stop the
  /// reflector instead; unset = always retry.
  std::function<bool(const ApiError& error)> error;
};

/// client-go's Reflector for one collection (see the file comment). Not copyable; run() once.
class Reflector {
public:
  /// `collection` names the resource and, optionally, a namespace (its name is ignored).
  Reflector(Client& client, ResourceRef collection, ReflectorOptions options,
            ReflectorHandlers handlers);

  /// Lists and watches until `stop` becomes true (noticed within about 100 ms), calling the
  /// handlers on this thread. Returns the error a handler chose to stop on, else success.
  Result<void> run(const std::atomic<bool>& stop);

  /// Counters, for logs and tests.
  struct Stats {
    int lists = 0;                ///< complete lists (the first one and every relist)
    int watches = 0;              ///< watch requests started
    int gone = 0;                 ///< 410 Gone answers that forced a relist
    int failures = 0;             ///< failed lists or watches (retried after a backoff)
    int bookmarks = 0;            ///< BOOKMARK events seen
    std::string resource_version; ///< the last version seen
  };
  [[nodiscard]] Stats stats() const;

private:
  enum class WatchEnd { k_clean, k_failed, k_gone, k_stopped, k_fatal };
  WatchEnd list(const std::atomic<bool>& stop);
  WatchEnd watch(const std::atomic<bool>& stop);
  bool report(const ApiError& error); ///< false: a handler asked to stop
  void wait_backoff(const std::atomic<bool>& stop);

  Client& m_client;
  ResourceRef m_collection;
  ReflectorOptions m_options;
  ReflectorHandlers m_handlers;
  mutable std::mutex m_stats_mutex;
  Stats m_stats;
  std::string m_rv;
  int m_consecutive_failures = 0;
  std::optional<Error> m_fatal;
};

} // namespace meshctl::kube

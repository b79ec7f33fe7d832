#include "kube/watch.hpp"

#include "core/enum_names.hpp"
#include "core/log.hpp"

#include <fmt/format.h>

#include <condition_variable>
#include <future>
#include <random>
#include <thread>

namespace meshctl::kube {

// ---------------------------------------------------------------------------------------------
// JsonStreamSplitter

void JsonStreamSplitter::feed(std::string_view bytes) {
  if (m_start > 0 && (m_start >= m_buffer.size() || m_start > (64U << 10U))) {
    m_buffer.erase(0, m_start);
    m_pos -= m_start;
    m_start = 0;
  }
  m_buffer.append(bytes);
  scan();
}

void JsonStreamSplitter::scan() {
  for (; m_pos < m_buffer.size(); ++m_pos) {
    const char c = m_buffer[m_pos];
    if (m_depth == 0) {
      if (c == '{' || c == '[') {
        m_start = m_pos;
        m_depth = 1;
      } else {
        m_start = m_pos + 1; // whitespace (or stray bytes) between documents
      }
      continue;
    }
    if (m_in_string) {
      if (m_escape) {
        m_escape = false;
      } else if (c == '\\') {
        m_escape = true;
      } else if (c == '"') {
        m_in_string = false;
      }
      continue;
    }
    if (c == '"') {
      m_in_string = true;
    } else if (c == '{' || c == '[') {
      ++m_depth;
    } else if (c == '}' || c == ']') {
      if (--m_depth == 0) {
        m_ready.push_back(m_buffer.substr(m_start, m_pos + 1 - m_start));
        m_start = m_pos + 1;
      }
    }
  }
}

std::optional<std::string> JsonStreamSplitter::next() {
  if (m_ready.empty()) {
    return std::nullopt;
  }
  std::string out = std::move(m_ready.front());
  m_ready.pop_front();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Events

namespace {
constexpr EnumName<WatchEventType> k_event_types[] = {{WatchEventType::k_added, "ADDED"},
                                                      {WatchEventType::k_modified, "MODIFIED"},
                                                      {WatchEventType::k_deleted, "DELETED"},
                                                      {WatchEventType::k_bookmark, "BOOKMARK"},
                                                      {WatchEventType::k_error, "ERROR"}};
} // namespace

const char* to_string(WatchEventType type) {
  return name_of(k_event_types, type, "?");
}

std::string WatchEvent::resource_version() const {
  if (!object.is_object()) {
    return {};
  }
  const auto md = object.find("metadata");
  if (md == object.end() || !md->is_object()) {
    return {};
  }
  const auto rv = md->find("resourceVersion");
  return rv != md->end() && rv->is_string() ? rv->get<std::string>() : std::string();
}

int WatchEvent::error_code() const {
  if (type != WatchEventType::k_error || !object.is_object()) {
    return 0;
  }
  const auto code = object.find("code");
  return code != object.end() && code->is_number_integer() ? code->get<int>() : 0;
}

Result<WatchEvent> parse_watch_event(std::string_view text) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return fail(fmt::format("a watch event is not a JSON object: {}",
                            text.substr(0, std::min<std::size_t>(text.size(), 120))));
  }
  const auto type = doc.find("type");
  const auto object = doc.find("object");
  if (type == doc.end() || !type->is_string() || object == doc.end() || !object->is_object()) {
    return fail("a watch event lacks type or object");
  }
  if (const auto value = value_of(k_event_types, type->get_ref<const std::string&>())) {
    return WatchEvent{*value, std::move(*object)};
  }
  return fail("unknown watch event type " + type->dump());
}

Query watch_query(const ListOptions& list, const std::string& resource_version, bool bookmarks,
                  std::chrono::seconds timeout) {
  Query q;
  if (!list.label_selector.empty()) {
    q.emplace_back("labelSelector", list.label_selector);
  }
  if (!list.field_selector.empty()) {
    q.emplace_back("fieldSelector", list.field_selector);
  }
  q.emplace_back("watch", "1");
  if (!resource_version.empty()) {
    q.emplace_back("resourceVersion", resource_version);
  }
  if (bookmarks) {
    q.emplace_back("allowWatchBookmarks", "true");
  }
  q.emplace_back("timeoutSeconds", std::to_string(timeout.count()));
  return q;
}

// ---------------------------------------------------------------------------------------------
// Reflector

Reflector::Reflector(Client& client, ResourceRef collection, ReflectorOptions options,
                     ReflectorHandlers handlers)
    : m_client(client), m_collection(std::move(collection)), m_options(std::move(options)),
      m_handlers(std::move(handlers)) {
  m_collection.name.clear();
  m_collection.subresource.clear();
}

Reflector::Stats Reflector::stats() const {
  std::lock_guard lock(m_stats_mutex);
  return m_stats;
}

bool Reflector::report(const ApiError& error) {
  {
    std::lock_guard lock(m_stats_mutex);
    ++m_stats.failures;
  }
  ++m_consecutive_failures;
  if (m_handlers.error && !m_handlers.error(error)) {
    m_fatal = error.error;
    return false;
  }
  log::debug("{}: watching {}: {} (retrying)", m_client.context().name, m_collection.describe(),
             error.error.what());
  return true;
}

void Reflector::wait_backoff(const std::atomic<bool>& stop) {
  if (m_consecutive_failures == 0) {
    return;
  }
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  RetryPolicy policy;
  policy.initial_backoff = m_options.initial_backoff;
  policy.max_backoff = m_options.max_backoff;
  // Full jitter, but never less than a tenth of the window: a failing server is not hammered.
  const auto window = backoff_delay(policy, m_consecutive_failures, 1.0);
  const auto delay =
      std::max(window / 10, backoff_delay(policy, m_consecutive_failures,
                                          std::uniform_real_distribution<double>(0.0, 1.0)(rng)));
  const auto until = std::chrono::steady_clock::now() + delay;
  while (!stop && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(50), until - std::chrono::steady_clock::now()));
  }
}

Reflector::WatchEnd Reflector::list(const std::atomic<bool>& stop) {
  if (m_handlers.list_begin) {
    m_handlers.list_begin();
  }
  auto rv =
      m_client.list_pages(m_collection, m_options.list, [&](nlohmann::json& page) -> Result<void> {
        if (const auto items = page.find("items"); items != page.end() && items->is_array()) {
          for (auto& item : *items) {
            if (m_handlers.listed) {
              m_handlers.listed(item);
            }
          }
        }
        if (stop) {
          return fail("stopped");
        }
        return {};
      });
  if (stop) {
    return WatchEnd::k_stopped;
  }
  if (!rv) {
    return report(rv.error()) ? WatchEnd::k_failed : WatchEnd::k_fatal;
  }
  m_rv = *rv;
  m_consecutive_failures = 0;
  {
    std::lock_guard lock(m_stats_mutex);
    ++m_stats.lists;
    m_stats.resource_version = m_rv;
  }
  if (m_handlers.list_end) {
    m_handlers.list_end(m_rv);
  }
  return WatchEnd::k_clean;
}

Reflector::WatchEnd Reflector::watch(const std::atomic<bool>& stop) {
  // Frames travel from the client's I/O thread (on_data) to this one through `frames`.
  struct Shared {
    std::mutex mutex;
    std::condition_variable cv;
    std::deque<std::string> frames;
    bool done = false;
  };
  auto shared = std::make_shared<Shared>();
  auto splitter = std::make_shared<JsonStreamSplitter>();
  auto abort = std::make_shared<std::atomic<bool>>(false);

  Request request;
  request.path = resource_path(m_collection);
  request.query = watch_query(m_options.list, m_rv, m_options.bookmarks, m_options.watch_timeout);
  request.idempotent = false; // never resent by the client: this reflector resumes it itself
  request.timeout = m_options.watch_timeout + std::chrono::seconds(30);
  request.on_data = [shared, splitter](std::string_view bytes) {
    splitter->feed(bytes);
    bool any = false;
    {
      std::lock_guard lock(shared->mutex);
      while (auto f = splitter->next()) {
        shared->frames.push_back(std::move(*f));
        any = true;
      }
    }
    if (any) {
      shared->cv.notify_one();
    }
    return true;
  };
  request.cancel = abort.get();
  {
    std::lock_guard lock(m_stats_mutex);
    ++m_stats.watches;
  }
  const auto started = std::chrono::steady_clock::now();
  auto pending = std::async(std::launch::async, [this, request, shared, abort] {
    auto r = m_client.send(request);
    {
      std::lock_guard lock(shared->mutex);
      shared->done = true;
    }
    shared->cv.notify_one();
    return r;
  });

  WatchEnd end = WatchEnd::k_clean;
  bool progressed = false;
  for (;;) {
    std::deque<std::string> batch;
    bool done = false;
    {
      std::unique_lock lock(shared->mutex);
      shared->cv.wait_for(lock, std::chrono::milliseconds(100),
                          [&] { return !shared->frames.empty() || shared->done; });
      batch.swap(shared->frames);
      done = shared->done;
    }
    if (stop) {
      abort->store(true);
      end = WatchEnd::k_stopped;
    }
    for (auto& frame : batch) {
      if (end != WatchEnd::k_clean) {
        break; // stopping, or the server said the version is gone: the rest is moot
      }
      auto ev = parse_watch_event(frame);
      if (!ev) {
        log::warn("{}: watching {}: {}", m_client.context().name, m_collection.describe(),
                  ev.error().what());
        continue;
      }
      if (ev->type == WatchEventType::k_error) {
        if (ev->error_code() == 410) {
          end = WatchEnd::k_gone;
        } else {
          ApiError e;
          e.http_status = ev->error_code();
          e.status = ev->object;
          e.error = Error(ExitCode::k_failed, "the watch of " + m_collection.describe() + " in " +
                                                  m_client.context().name + " failed: " +
                                                  ev->object.value("message", ev->object.dump()));
          end = report(e) ? WatchEnd::k_failed : WatchEnd::k_fatal;
        }
        abort->store(true);
        continue;
      }
      const std::string rv = ev->resource_version();
      if (!rv.empty()) {
        m_rv = rv;
      }
      progressed = true;
      if (ev->type == WatchEventType::k_bookmark) {
        std::lock_guard lock(m_stats_mutex);
        ++m_stats.bookmarks;
        m_stats.resource_version = m_rv;
        continue;
      }
      {
        std::lock_guard lock(m_stats_mutex);
        m_stats.resource_version = m_rv;
      }
      if (m_handlers.event) {
        m_handlers.event(*ev);
      }
    }
    if (done) {
      break;
    }
  }
  auto result = pending.get();
  if (end != WatchEnd::k_clean) {
    return end;
  }
  if (!result) {
    if (result.error().http_status == 410) {
      return WatchEnd::k_gone;
    }
    return report(result.error()) ? WatchEnd::k_failed : WatchEnd::k_fatal;
  }
  if (progressed) {
    m_consecutive_failures = 0;
  } else if (std::chrono::steady_clock::now() - started < std::chrono::seconds(1)) {
    ++m_consecutive_failures; // a server that ends every watch at once is not hammered
  }
  return WatchEnd::k_clean;
}

Result<void> Reflector::run(const std::atomic<bool>& stop) {
  bool need_list = true;
  while (!stop) {
    wait_backoff(stop);
    if (stop) {
      break;
    }
    WatchEnd end = WatchEnd::k_clean;
    if (need_list) {
      end = list(stop);
      if (end == WatchEnd::k_clean) {
        need_list = false;
      }
    } else {
      end = watch(stop);
      if (end == WatchEnd::k_gone) {
        {
          std::lock_guard lock(m_stats_mutex);
          ++m_stats.gone;
        }
        log::debug("{}: {} at resourceVersion {} is gone (410): listing again",
                   m_client.context().name, m_collection.describe(), m_rv);
        need_list = true;
      }
    }
    if (end == WatchEnd::k_fatal) {
      return tl::make_unexpected(*m_fatal);
    }
  }
  return {};
}

} // namespace meshctl::kube

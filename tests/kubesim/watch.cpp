#include "watch.hpp"

#include "api.hpp"
#include "table.hpp"

#include <algorithm>

namespace kubesim {

WatchStream::WatchStream(WatchParams params) : m_params(std::move(params)) {}

std::vector<std::string> WatchStream::take() {
  std::lock_guard lock(m_mutex);
  std::vector<std::string> out;
  out.swap(m_frames);
  return out;
}

void WatchStream::set_wake(std::function<void()> wake) {
  bool pending = false;
  {
    std::lock_guard lock(m_mutex);
    m_wake = std::move(wake);
    pending = !m_frames.empty();
  }
  if (pending && m_wake) {
    m_wake();
  }
}

json WatchStream::shown(const json& object) const {
  json obj = object;
  obj["apiVersion"] = m_params.type.api_version();
  obj["kind"] = m_params.type.kind;
  if (!m_params.table) {
    return obj;
  }
  const std::string rv = obj["metadata"].value("resourceVersion", "");
  return make_table(m_params.type, {obj}, m_params.include_object, {{"resourceVersion", rv}});
}

void WatchStream::push(const std::string& type, const json& object) {
  std::string frame = json{{"type", type}, {"object", object}}.dump();
  frame.push_back('\n');
  std::function<void()> wake;
  {
    std::lock_guard lock(m_mutex);
    m_frames.push_back(std::move(frame));
    if (m_frames.size() == 1) {
      wake = m_wake; // the writer drains everything queued; one wake per batch is enough
    }
  }
  if (wake) {
    wake();
  }
}

void WatchStream::bookmark() {
  const std::uint64_t rv = m_latest != nullptr ? m_latest->load() : 0;
  push("BOOKMARK", {{"kind", m_params.type.kind},
                    {"apiVersion", m_params.type.api_version()},
                    {"metadata", {{"resourceVersion", std::to_string(rv)}}}});
}

void WatchStream::start(const Store& store, std::uint64_t* error_code) {
  const std::string gr = m_params.type.group_resource();
  const std::string& rv = m_params.resource_version;
  auto key_of = [](const json& o) {
    return object_key(o["metadata"].value("namespace", ""), o["metadata"].value("name", ""));
  };
  if (rv.empty() || rv == "0") {
    // "Get state and start at most recent": the current objects as synthetic ADDED events.
    for (const json* o : store.list(gr, m_params.ns)) {
      if (m_params.matches(*o)) {
        m_visible.insert(key_of(*o));
        push("ADDED", shown(*o));
      }
    }
    return;
  }
  const auto since = store.events_since(std::stoull(rv));
  if (!since) {
    *error_code = 410;
    push("ERROR", status_failure(410, "Expired",
                                 "too old resource version: " + rv + " (" +
                                     std::to_string(store.current_rv()) + ")"));
    m_finished = true;
    return;
  }
  for (const auto& ev : *since) {
    if (ev.group_resource != gr ||
        (!m_params.ns.empty() && ev.object["metadata"].value("namespace", "") != m_params.ns)) {
      continue;
    }
    if (m_params.matches(ev.object)) {
      push(ev.type, shown(ev.object));
    }
  }
  for (const json* o : store.list(gr, m_params.ns)) {
    if (m_params.matches(*o)) {
      m_visible.insert(key_of(*o));
    }
  }
}

void WatchStream::offer(const Event& ev) {
  if (m_finished || ev.group_resource != m_params.type.group_resource()) {
    return;
  }
  const json& md = ev.object["metadata"];
  const std::string ns = md.value("namespace", "");
  if (!m_params.ns.empty() && ns != m_params.ns) {
    return;
  }
  const std::string key = object_key(ns, md.value("name", ""));
  const bool matches = m_params.matches(ev.object);
  if (ev.type == "DELETED") {
    if (m_visible.erase(key) > 0 || matches) {
      push("DELETED", shown(ev.object));
    }
    return;
  }
  if (matches) {
    push(m_visible.insert(key).second ? "ADDED" : "MODIFIED", shown(ev.object));
  } else if (m_visible.erase(key) > 0) {
    push("DELETED", shown(ev.object)); // no longer matches the selector: gone from this view
  }
}

void WatchHub::on_event(const Event& ev) {
  {
    std::lock_guard lock(m_mutex);
    std::erase_if(m_streams, [&](const std::weak_ptr<WatchStream>& w) {
      auto s = w.lock();
      if (!s) {
        return true;
      }
      s->offer(ev);
      return false;
    });
  }
  m_latest = std::max<std::uint64_t>(m_latest, ev.rv);
}

std::shared_ptr<WatchStream> WatchHub::open(const Store& store, WatchParams params) {
  auto stream = std::make_shared<WatchStream>(std::move(params));
  stream->m_latest = &m_latest;
  std::uint64_t error = 0;
  stream->start(store, &error);
  m_latest = std::max<std::uint64_t>(m_latest, store.current_rv());
  if (error == 0) {
    std::lock_guard lock(m_mutex);
    m_streams.push_back(stream);
  }
  return stream;
}

} // namespace kubesim

#include "store.hpp"

#include "pki.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>

namespace kubesim {
namespace {
constexpr std::size_t k_history = 10000;
}

bool ResourceType::has_subresource(const std::string& s) const {
  return std::find(subresources.begin(), subresources.end(), s) != subresources.end();
}

Store::Store() = default;

void Store::add_type(const ResourceType& t) {
  for (auto& existing : m_types) {
    if (existing.group == t.group && existing.version == t.version &&
        existing.resource == t.resource) {
      existing = t;
      ++m_types_generation;
      return;
    }
  }
  m_types.push_back(t);
  ++m_types_generation;
}

void Store::remove_types(const std::string& group, const std::string& resource) {
  std::erase_if(m_types,
                [&](const ResourceType& t) { return t.group == group && t.resource == resource; });
  ++m_types_generation;
}

const ResourceType* Store::find_type(const std::string& group, const std::string& version,
                                     const std::string& resource) const {
  for (const auto& t : m_types) {
    if (t.group == group && t.version == version && t.resource == resource) {
      return &t;
    }
  }
  return nullptr;
}

const ResourceType* Store::find_kind(const std::string& group, const std::string& version,
                                     const std::string& kind) const {
  for (const auto& t : m_types) {
    if (t.group == group && t.version == version && t.kind == kind) {
      return &t;
    }
  }
  return nullptr;
}

const json* Store::get(const std::string& gr, const std::string& ns,
                       const std::string& name) const {
  auto it = m_objects.find(gr);
  if (it == m_objects.end()) {
    return nullptr;
  }
  auto jt = it->second.find(object_key(ns, name));
  return jt == it->second.end() ? nullptr : &jt->second;
}

std::vector<const json*> Store::list(const std::string& gr, const std::string& ns) const {
  std::vector<const json*> out;
  auto it = m_objects.find(gr);
  if (it == m_objects.end()) {
    return out;
  }
  if (ns.empty()) {
    for (const auto& [k, v] : it->second) {
      out.push_back(&v);
    }
    return out;
  }
  const std::string prefix = ns + "/";
  for (auto jt = it->second.lower_bound(prefix);
       jt != it->second.end() && jt->first.compare(0, prefix.size(), prefix) == 0; ++jt) {
    out.push_back(&jt->second);
  }
  return out;
}

const json& Store::put(const std::string& gr, json obj, bool created) {
  ++m_rv;
  obj["metadata"]["resourceVersion"] = std::to_string(m_rv);
  const auto& md = obj["metadata"];
  const std::string ns = md.value("namespace", "");
  const std::string name = md.value("name", "");
  auto& slot = m_objects[gr][object_key(ns, name)];
  slot = std::move(obj);
  Event ev{m_rv, created ? "ADDED" : "MODIFIED", gr, slot};
  m_history.push_back(ev);
  if (m_history.size() > k_history) {
    m_history.pop_front();
  }
  for (const auto& l : m_listeners) {
    l(ev);
  }
  return slot;
}

std::optional<json> Store::erase(const std::string& gr, const std::string& ns,
                                 const std::string& name) {
  auto it = m_objects.find(gr);
  if (it == m_objects.end()) {
    return std::nullopt;
  }
  auto jt = it->second.find(object_key(ns, name));
  if (jt == it->second.end()) {
    return std::nullopt;
  }
  json obj = std::move(jt->second);
  it->second.erase(jt);
  ++m_rv;
  Event ev{m_rv, "DELETED", gr, obj};
  ev.object["metadata"]["resourceVersion"] = std::to_string(m_rv);
  m_history.push_back(ev);
  if (m_history.size() > k_history) {
    m_history.pop_front();
  }
  for (const auto& l : m_listeners) {
    l(ev);
  }
  return obj;
}

std::vector<std::string> Store::stored_resources() const {
  std::vector<std::string> out;
  for (const auto& [gr, objs] : m_objects) {
    if (!objs.empty()) {
      out.push_back(gr);
    }
  }
  return out;
}

std::optional<std::vector<Event>> Store::events_since(std::uint64_t rv) const {
  if (!m_history.empty() && rv + 1 < m_history.front().rv) {
    return std::nullopt;
  }
  std::vector<Event> out;
  for (const auto& e : m_history) {
    if (e.rv > rv) {
      out.push_back(e);
    }
  }
  return out;
}

void Store::on_event(std::function<void(const Event&)> listener) {
  m_listeners.push_back(std::move(listener));
}

std::string object_key(const std::string& ns, const std::string& name) {
  return ns.empty() ? name : ns + "/" + name;
}

std::string now_rfc3339() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string now_rfc3339_micro() {
  const auto now = std::chrono::system_clock::now();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch());
  const std::time_t t = static_cast<std::time_t>(us.count() / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:06d}Z", buf, us.count() % 1000000);
}

long long parse_rfc3339(const std::string& s) {
  std::tm tm{};
  if (strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) {
    return 0;
  }
  return static_cast<long long>(timegm(&tm));
}

std::string new_uid() {
  std::string h = random_hex(16);
  h[12] = '4';
  h[16] = "89ab"[h[16] % 4];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

} // namespace kubesim

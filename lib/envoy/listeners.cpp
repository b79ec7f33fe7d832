// read_listeners: walks a config_dump's listener sections with JsonReader, reads each listener's
// name, address and filter chains (listener_chains.cpp) and skips everything else. With --port, the
// chains of the other listeners are skipped unread: on a 200 MB gateway dump that is the fast path.

#include "core/strings.hpp"
#include "envoy/config_dump.hpp"
#include "envoy/dump_fields.hpp"
#include "envoy/listener_chains.hpp"
#include "envoy/parse.hpp"

#include <utility>

namespace meshctl::envoy {

namespace {

std::string listener_type(const TypeCounts& c) {
  if (c.http > 0) {
    return c.tcp == 0 ? "HTTP" : "HTTP+TCP";
  }
  return c.tcp > 0 ? "TCP" : "UNKNOWN";
}

bool listener_matches(const ListenerInfo& l, const ListenerFilter& f) {
  if (!f.address.empty()) {
    bool found = iequals(l.address, f.address);
    for (const auto& a : l.additional_addresses) {
      found = found || iequals(a, f.address);
    }
    if (!found) {
      return false;
    }
  }
  if (f.port != 0 && l.port != f.port) {
    return false;
  }
  return f.type.empty() || iequals(l.type, f.type);
}

class ListenerParser {
public:
  ListenerParser(JsonReader& r, const ListenerFilter& filter, const ReadOptions& options)
      : m_r(r), m_filter(filter), m_options(options) {}

  // dynamic_listeners: [{name, active_state: {listener}, warming_state, draining_state}]
  void dynamic_listeners() {
    for_each_element(m_r, [&](std::size_t) {
      for_each_member(m_r, [&](std::string_view k) {
        const auto state = field_is(k, "active_state")     ? ConfigState::k_active
                           : field_is(k, "warming_state")  ? ConfigState::k_warming
                           : field_is(k, "draining_state") ? ConfigState::k_draining
                                                           : ConfigState::k_static;
        if (state == ConfigState::k_static) {
          return false;
        }
        in_member(k == "active_state" || k == "activeState" ? "active_state" : "state",
                  [&] { wrapped_listener(state, m_dynamic); });
        return true;
      });
    });
  }

  // static_listeners: [{listener}]; v2 dynamic_{active,warming,draining}_listeners alike.
  void wrapped_listeners(ConfigState state) {
    for_each_element(m_r, [&](std::size_t) {
      wrapped_listener(state, state == ConfigState::k_static ? m_static : m_dynamic);
    });
  }

  std::vector<ListenerInfo> take() {
    std::vector<ListenerInfo> out = std::move(m_dynamic);
    for (auto& l : m_static) {
      out.push_back(std::move(l));
    }
    return out;
  }

  [[nodiscard]] std::size_t total() const { return m_total; }

private:
  void wrapped_listener(ConfigState state, std::vector<ListenerInfo>& into) {
    read_member(m_r, "listener", [&] { in_member("listener", [&] { listener(state, into); }); });
  }

  void listener(ConfigState state, std::vector<ListenerInfo>& into) {
    ListenerInfo l;
    l.state = state;
    TypeCounts counts;
    bool address_known = false;
    const std::size_t start = m_r.value_start();
    if (m_options.keep_raw) {
      m_r.pin(start);
    }
    const auto other_port = [&] {
      return m_filter.port != 0 && address_known && l.port != m_filter.port;
    };
    for_each_member(m_r, [&](std::string_view k) {
      if (k == "name") {
        l.name = m_r.take_string();
      } else if (k == "address") {
        const AddressInfo a = in_member("address", [&] { return read_address(m_r); });
        l.address = a.kind == AddressInfo::Kind::k_pipe ? a.path : a.address;
        l.port = a.kind == AddressInfo::Kind::k_socket ? a.port : 0;
        address_known = true;
      } else if (field_is(k, "additional_addresses")) {
        for_each_element(m_r, [&](std::size_t) {
          read_member(m_r, "address",
                      [&] { l.additional_addresses.push_back(read_address(m_r).address); });
        });
      } else if (field_is(k, "filter_chains")) {
        if (other_port()) {
          return false; // the fast path: a 200 MB gateway's other listeners cost a skip
        }
        in_member("filter_chains", [&] {
          for_each_element(m_r, [&](std::size_t) {
            l.chains.push_back(read_chain(m_r, false, counts, m_match, m_name));
          });
        });
      } else if (field_is(k, "default_filter_chain")) {
        if (other_port()) {
          return false;
        }
        in_member("default_filter_chain",
                  [&] { m_default = read_chain(m_r, true, counts, m_match, m_name); });
        m_has_default = true;
      } else {
        return false;
      }
      return true;
    });
    if (m_has_default) {
      l.chains.push_back(std::move(m_default));
      m_has_default = false;
    }
    ++m_total;
    l.type = listener_type(counts);
    if (m_options.keep_raw) {
      m_r.unpin();
    }
    if (!listener_matches(l, m_filter)) {
      return;
    }
    if (m_options.keep_raw) {
      l.raw = std::string(m_r.slice(start, m_r.position()));
    }
    into.push_back(std::move(l));
  }

  JsonReader& m_r;
  const ListenerFilter& m_filter;
  const ReadOptions& m_options;
  std::vector<ListenerInfo> m_dynamic;
  std::vector<ListenerInfo> m_static;
  FilterChainInfo m_default;
  bool m_has_default = false;
  ChainMatch m_match;
  std::string m_name;
  std::size_t m_total = 0;
};

} // namespace

Result<std::vector<ListenerInfo>>
read_listeners(const DumpBytes& dump, const ListenerFilter& filter, const ReadOptions& options) {
  std::size_t total = 0;
  auto listeners = parse_dump<std::vector<ListenerInfo>>(dump, [&](JsonReader& r) {
    ListenerParser p(r, filter, options);
    walk_config_dump(r, [&](std::string_view key) {
      if (field_is(key, "dynamic_listeners")) {
        in_member("dynamic_listeners", [&] { p.dynamic_listeners(); });
      } else if (field_is(key, "static_listeners")) {
        in_member("static_listeners", [&] { p.wrapped_listeners(ConfigState::k_static); });
      } else if (field_is(key, "dynamic_active_listeners")) {
        in_member("dynamic_active_listeners", [&] { p.wrapped_listeners(ConfigState::k_active); });
      } else if (field_is(key, "dynamic_warming_listeners")) {
        in_member("dynamic_warming_listeners",
                  [&] { p.wrapped_listeners(ConfigState::k_warming); });
      } else if (field_is(key, "dynamic_draining_listeners")) {
        in_member("dynamic_draining_listeners",
                  [&] { p.wrapped_listeners(ConfigState::k_draining); });
      } else {
        return false;
      }
      return true;
    });
    total = p.total();
    return p.take();
  });
  if (listeners && total == 0) {
    return fail("no listeners found in " + dump.name(),
                "give a listener dump: `pilot-agent request GET "
                "'config_dump?mask=dynamic_listeners,static_listeners'` or a full config_dump");
  }
  return listeners;
}

} // namespace meshctl::envoy

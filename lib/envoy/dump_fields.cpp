// Fields several config_dump readers share; see dump_fields.hpp.

#include "envoy/dump_fields.hpp"

#include "envoy/parse.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <vector>

namespace meshctl::envoy {

AddressInfo read_address(JsonReader& r) {
  AddressInfo a;
  for_each_member(r, [&](std::string_view k) {
    if (field_is(k, "socket_address")) {
      a.kind = AddressInfo::Kind::k_socket;
      for_each_member(r, [&](std::string_view sk) {
        if (field_is(sk, "address")) {
          a.address = r.take_string();
        } else if (field_is(sk, "port_value")) {
          a.port = static_cast<std::uint32_t>(r.read_uint());
        } else {
          return false;
        }
        return true;
      });
    } else if (field_is(k, "pipe")) {
      a.kind = AddressInfo::Kind::k_pipe;
      read_member(r, "path", [&] { a.path = r.take_string(); });
    } else if (field_is(k, "envoy_internal_address")) {
      a.kind = AddressInfo::Kind::k_internal;
      for_each_member(r, [&](std::string_view ik) {
        if (field_is(ik, "server_listener_name")) {
          a.server_listener_name = r.take_string();
        } else if (field_is(ik, "endpoint_id")) {
          a.endpoint_id = r.take_string();
        } else {
          return false;
        }
        return true;
      });
    } else {
      return false;
    }
    return true;
  });
  return a;
}

std::string read_istio_metadata_field(JsonReader& r, std::string_view field) {
  std::string value;
  read_member(r, "filter_metadata", [&] {
    read_member(r, "istio", [&] {
      for_each_member(r, [&](std::string_view k) {
        if (k != field || r.peek() != JsonReader::Kind::k_string) {
          return false;
        }
        value = r.take_string();
        return true;
      });
    });
  });
  return value;
}

std::string render_config_path(std::string_view path) {
  constexpr std::string_view k_prefix = "/apis/networking.istio.io/v1alpha3/namespaces/";
  if (path.empty()) {
    return "";
  }
  if (path.substr(0, k_prefix.size()) != k_prefix) {
    return "<unknown>";
  }
  std::vector<std::string_view> pieces;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = path.find('/', start);
    pieces.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) {
      break;
    }
    start = slash + 1;
  }
  if (pieces.size() != 8) {
    return "";
  }
  return std::string(pieces[7]) + "." + std::string(pieces[5]);
}

Locality read_locality(JsonReader& r) {
  Locality l;
  for_each_member(r, [&](std::string_view k) {
    if (k == "region") {
      l.region = r.take_string();
    } else if (k == "zone") {
      l.zone = r.take_string();
    } else if (field_is(k, "sub_zone")) {
      l.sub_zone = r.take_string();
    } else {
      return false;
    }
    return true;
  });
  return l;
}

std::string read_health(JsonReader& r) {
  if (r.peek() == JsonReader::Kind::k_string) {
    return r.take_string();
  }
  return health_status_name(r.read_uint());
}

std::string health_status_name(std::uint64_t v) {
  static constexpr std::array<std::string_view, 6> k_names = {"UNKNOWN",  "HEALTHY", "UNHEALTHY",
                                                              "DRAINING", "TIMEOUT", "DEGRADED"};
  return v < k_names.size() ? std::string(k_names[v]) : std::to_string(v);
}

std::string locality_string(const Locality& l) {
  std::string out = l.region;
  if (l.zone.empty()) {
    return out;
  }
  out += "/" + l.zone;
  if (l.sub_zone.empty()) {
    return out;
  }
  return out + "/" + l.sub_zone;
}

SubsetKey safely_parse_subset_key(std::string_view name) {
  SubsetKey key;
  if (std::count(name.begin(), name.end(), '|') < 3) {
    key.host = std::string(name);
    return key;
  }
  // model.ParseSubsetKey: "dir|port|subset|host", or the SRV form "outbound_.port_.subset_.host".
  const std::string_view sep =
      name.substr(0, 9) == "outbound_" || name.substr(0, 8) == "inbound_" ? "_." : "|";
  std::string_view rest = name;
  const auto cut = [&rest, sep](std::string_view& part) {
    const std::size_t at = rest.find(sep);
    if (at == std::string_view::npos) {
      return false;
    }
    part = rest.substr(0, at);
    rest = rest.substr(at + sep.size());
    return true;
  };
  std::string_view part;
  if (!cut(part)) {
    return key;
  }
  key.direction = std::string(part);
  if (!cut(part)) {
    return key;
  }
  int port = 0;
  const auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), port);
  key.port = ec == std::errc() && ptr == part.data() + part.size() ? port : 0;
  if (!cut(part)) {
    return key;
  }
  key.subset = std::string(part);
  if (rest.find(sep) == std::string_view::npos) { // no separator may remain in the host
    key.host = std::string(rest);
  }
  return key;
}

} // namespace meshctl::envoy

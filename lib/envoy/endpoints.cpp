// Endpoint readers: the EDS part of a config_dump (read_endpoint_configs, istioctl's
// writer/envoy/configdump/endpoint.go) and /clusters?format=json (read_cluster_statuses, istioctl's
// writer/envoy/clusters/clusters.go).

#include "envoy/config_dump.hpp"
#include "envoy/dump_fields.hpp"
#include "envoy/parse.hpp"

#include <utility>

namespace meshctl::envoy {

namespace {

LbEndpointInfo read_lb_endpoint(JsonReader& r) {
  LbEndpointInfo e;
  AddressInfo primary;
  std::vector<AddressInfo> additional;
  for_each_member(r, [&](std::string_view k) {
    if (k == "endpoint") {
      for_each_member(r, [&](std::string_view ek) {
        if (ek == "address") {
          primary = read_address(r);
        } else if (field_is(ek, "additional_addresses")) {
          for_each_element(r, [&](std::size_t) {
            read_member(r, "address", [&] { additional.push_back(read_address(r)); });
          });
        } else {
          return false;
        }
        return true;
      });
    } else if (field_is(k, "health_status")) {
      e.health = read_health(r);
    } else if (k == "metadata") {
      e.workload = read_istio_metadata_field(r, "workload");
    } else if (field_is(k, "load_balancing_weight")) {
      e.weight = static_cast<std::uint32_t>(r.read_uint());
    } else {
      return false;
    }
    return true;
  });
  // istioctl lists the address, then the additional addresses.
  for (std::size_t i = 0; i <= additional.size(); ++i) {
    const AddressInfo& a = i == 0 ? primary : additional[i - 1];
    switch (a.kind) {
    case AddressInfo::Kind::k_socket:
      e.addresses.push_back(a.address + ":" + std::to_string(a.port));
      break;
    case AddressInfo::Kind::k_pipe:
      e.addresses.push_back(a.path);
      break;
    case AddressInfo::Kind::k_internal:
      e.addresses.push_back(a.server_listener_name.empty()
                                ? "unknown"
                                : "envoy://" + a.server_listener_name + "/" + a.endpoint_id);
      break;
    case AddressInfo::Kind::k_none:
      e.addresses.emplace_back("unknown");
      break;
    }
    if (i == 0 && a.kind == AddressInfo::Kind::k_socket) {
      e.ip = a.address;
      e.port = a.port;
    }
  }
  return e;
}

ClusterLoadAssignmentInfo read_cla(JsonReader& r, bool keep_raw) {
  ClusterLoadAssignmentInfo cla;
  for_each_member(r, keep_raw ? &cla.raw : nullptr, [&](std::string_view k) {
    if (field_is(k, "cluster_name")) {
      cla.cluster_name = r.take_string();
    } else if (k == "endpoints") {
      in_member("endpoints", [&] {
        for_each_element(r, [&](std::size_t) {
          LocalityGroup g;
          for_each_member(r, [&](std::string_view gk) {
            if (gk == "locality") {
              g.locality = read_locality(r);
            } else if (field_is(gk, "lb_endpoints")) {
              in_member("lb_endpoints", [&] {
                for_each_element(r, [&](std::size_t i) {
                  g.endpoints.push_back(read_lb_endpoint(r));
                  g.endpoints.back().raw_index = i;
                });
              });
            } else if (gk == "priority") {
              g.priority = static_cast<std::uint32_t>(r.read_uint());
            } else if (field_is(gk, "load_balancing_weight")) {
              g.weight = static_cast<std::uint32_t>(r.read_uint());
            } else {
              return false;
            }
            return true;
          });
          cla.groups.push_back(std::move(g));
        });
      });
    } else {
      return false;
    }
    return true;
  });
  return cla;
}

HostStatusInfo read_host_status(JsonReader& r) {
  HostStatusInfo h;
  for_each_member(r, [&](std::string_view k) {
    if (k == "address") {
      const AddressInfo a = read_address(r);
      if (a.kind == AddressInfo::Kind::k_socket) {
        h.address = a.address;
        h.port = a.port;
      } else {
        h.address = "unix://" + a.path;
      }
    } else if (field_is(k, "health_status")) {
      for_each_member(r, [&](std::string_view hk) {
        if (field_is(hk, "eds_health_status")) {
          h.health = read_health(r);
        } else if (field_is(hk, "failed_outlier_check")) {
          h.failed_outlier_check = r.read_bool();
        } else {
          return false;
        }
        return true;
      });
    } else if (k == "priority") {
      h.priority = static_cast<std::uint32_t>(r.read_uint());
    } else if (k == "weight") {
      h.weight = static_cast<std::uint32_t>(r.read_uint());
    } else if (k == "locality") {
      h.locality = read_locality(r);
    } else if (k == "hostname") {
      h.hostname = r.take_string();
    } else {
      return false;
    }
    return true;
  });
  return h;
}

} // namespace

Result<std::vector<ClusterLoadAssignmentInfo>> read_endpoint_configs(const DumpBytes& dump,
                                                                     const ReadOptions& options) {
  bool found = false;
  auto configs = parse_dump<std::vector<ClusterLoadAssignmentInfo>>(dump, [&](JsonReader& r) {
    std::vector<ClusterLoadAssignmentInfo> dynamic;
    std::vector<ClusterLoadAssignmentInfo> statics;
    const auto wrapped = [&](bool is_dynamic, std::vector<ClusterLoadAssignmentInfo>& into) {
      found = true;
      for_each_element(r, [&](std::size_t) {
        read_member(r, "endpoint_config", [&] {
          in_member("endpoint_config", [&] {
            into.push_back(read_cla(r, options.keep_raw));
            into.back().dynamic = is_dynamic;
          });
        });
      });
    };
    walk_config_dump(r, [&](std::string_view key) {
      if (field_is(key, "dynamic_endpoint_configs")) {
        in_member("dynamic_endpoint_configs", [&] { wrapped(true, dynamic); });
      } else if (field_is(key, "static_endpoint_configs")) {
        in_member("static_endpoint_configs", [&] { wrapped(false, statics); });
      } else {
        return false;
      }
      return true;
    });
    for (auto& c : statics) {
      dynamic.push_back(std::move(c));
    }
    return dynamic;
  });
  if (configs && !found) {
    return fail("no endpoint configs found in " + dump.name(),
                "the dump must include EDS: `pilot-agent request GET "
                "'config_dump?include_eds=true'`");
  }
  return configs;
}

Result<std::vector<ClusterStatusInfo>> read_cluster_statuses(const DumpBytes& dump,
                                                             const ReadOptions& options) {
  bool found = false;
  auto statuses = parse_dump<std::vector<ClusterStatusInfo>>(dump, [&](JsonReader& r) {
    std::vector<ClusterStatusInfo> out;
    if (r.peek() != JsonReader::Kind::k_object) {
      JsonReader::fail_at("expected /clusters?format=json output ({\"cluster_statuses\": [...]})",
                          r.value_start());
    }
    read_member(r, "cluster_statuses", [&] {
      found = true;
      in_member("cluster_statuses", [&] {
        for_each_element(r, [&](std::size_t) {
          ClusterStatusInfo c;
          for_each_member(r, options.keep_raw ? &c.raw : nullptr, [&](std::string_view k) {
            if (k == "name") {
              c.name = r.take_string();
            } else if (field_is(k, "host_statuses")) {
              in_member("host_statuses", [&] {
                for_each_element(r, [&](std::size_t) { c.hosts.push_back(read_host_status(r)); });
              });
            } else {
              return false;
            }
            return true;
          });
          out.push_back(std::move(c));
        });
      });
    });
    return out;
  });
  if (statuses && !found) {
    return fail(dump.name() + " has no cluster_statuses",
                "`proxy-config endpoints` reads `pilot-agent request GET 'clusters?format=json'`; "
                "for a config_dump?include_eds=true use `proxy-config eds`");
  }
  return statuses;
}

} // namespace meshctl::envoy

// read_clusters: the clusters of a config_dump (istioctl's writer/envoy/configdump/cluster.go
// reads name, type and the DestinationRule in the Istio metadata).

#include "envoy/config_dump.hpp"
#include "envoy/dump_fields.hpp"
#include "envoy/parse.hpp"

#include <array>
#include <utility>

namespace meshctl::envoy {

namespace {

std::string cluster_type_name(JsonReader& r) {
  static constexpr std::array<std::string_view, 5> k_names = {"STATIC", "STRICT_DNS", "LOGICAL_DNS",
                                                              "EDS", "ORIGINAL_DST"};
  if (r.peek() == JsonReader::Kind::k_string) {
    return r.take_string();
  }
  const std::uint64_t v = r.read_uint();
  return v < k_names.size() ? std::string(k_names[v]) : std::to_string(v);
}

} // namespace

Result<std::vector<ClusterInfo>> read_clusters(const DumpBytes& dump, const ReadOptions& options) {
  auto clusters = parse_dump<std::vector<ClusterInfo>>(dump, [&](JsonReader& r) {
    std::vector<ClusterInfo> dynamic;
    std::vector<ClusterInfo> warming;
    std::vector<ClusterInfo> statics;
    const auto wrapped = [&](ConfigState state, std::vector<ClusterInfo>& into) {
      for_each_element(r, [&](std::size_t) {
        read_member(r, "cluster", [&] {
          ClusterInfo c;
          c.state = state;
          c.type = "STATIC"; // the proto default, which Envoy may leave out
          for_each_member(r, options.keep_raw ? &c.raw : nullptr, [&](std::string_view k) {
            if (k == "name") {
              c.name = r.take_string();
            } else if (k == "type") {
              c.type = cluster_type_name(r);
            } else if (k == "metadata") {
              c.destination_rule = render_config_path(read_istio_metadata_field(r, "config"));
            } else {
              return false;
            }
            return true;
          });
          into.push_back(std::move(c));
        });
      });
    };
    walk_config_dump(r, [&](std::string_view key) {
      if (field_is(key, "dynamic_active_clusters")) {
        in_member("dynamic_active_clusters", [&] { wrapped(ConfigState::k_active, dynamic); });
      } else if (field_is(key, "dynamic_warming_clusters")) {
        in_member("dynamic_warming_clusters", [&] { wrapped(ConfigState::k_warming, warming); });
      } else if (field_is(key, "static_clusters")) {
        in_member("static_clusters", [&] { wrapped(ConfigState::k_static, statics); });
      } else {
        return false;
      }
      return true;
    });
    for (auto* part : {&statics, &warming}) {
      for (auto& c : *part) {
        dynamic.push_back(std::move(c));
      }
    }
    return dynamic;
  });
  if (clusters && clusters->empty()) {
    return fail(
        "no clusters found in " + dump.name(),
        "give a cluster dump: `pilot-agent request GET "
        "'config_dump?mask=dynamic_active_clusters,static_clusters'` or a full config_dump");
  }
  return clusters;
}

} // namespace meshctl::envoy

// Fuzz target: Envoy's admin output as meshctl reads it (config_dump with listeners, clusters and
// EDS endpoints; /clusters?format=json) must never crash, whatever the bytes: every reader returns
// values or an Error, also when it keeps each object's raw JSON; what it returns then goes through
// the istioctl tables and `-o json|yaml` as `meshctl proxy-config` would print it. Rendering
// `-o json|yaml` may refuse raw JSON the lenient reader let through with an exception, which
// proxy-config turns into "cannot render the dump" (its `guarded`); the target does the same.

#include "envoy/config_dump.hpp"
#include "envoy/proto_json.hpp"
#include "envoy/summary.hpp"

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace envoy = meshctl::envoy;

namespace {

template <class F> void guarded(F&& f) {
  try {
    f();
  } catch (const std::exception&) { // as proxy-config: an error, not a crash
  }
}

template <class T> void print_raw(const std::vector<T>& items) {
  std::vector<std::string_view> raw;
  for (const auto& item : items) {
    raw.emplace_back(item.raw);
  }
  guarded([&] { (void)envoy::json_to_yaml(envoy::protojson_array(raw)); });
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto dump = envoy::DumpBytes::from_string(text, "fuzz.json");
  const envoy::SummaryOptions wide{true, true, true};
  for (const bool keep_raw : {false, true}) {
    const envoy::ReadOptions options{keep_raw};
    if (auto listeners = envoy::read_listeners(dump, {}, options)) {
      (void)envoy::listener_summary(*listeners);
      (void)envoy::listener_summary(*listeners, {false, false, true});
      if (keep_raw) {
        print_raw(*listeners);
      }
      for (const auto& l : *listeners) {
        (void)envoy::read_listeners(dump, {l.address, l.port, l.type}, options);
      }
    }
    if (auto clusters = envoy::read_clusters(dump, options)) {
      const auto selected = envoy::select_clusters(*clusters, {});
      (void)envoy::cluster_summary(selected);
      if (keep_raw) {
        print_raw(selected);
      }
    }
    if (auto eds = envoy::read_endpoint_configs(dump, options)) {
      const auto selected = envoy::select_endpoint_configs(*eds, {});
      (void)envoy::eds_summary(selected, wide);
      for (const auto& cla : selected) {
        (void)envoy::safely_parse_subset_key(cla.cluster_name);
        if (keep_raw) {
          guarded([&] { (void)envoy::keep_lb_endpoints(cla); });
        }
      }
    }
    if (auto statuses = envoy::read_cluster_statuses(dump, options)) {
      (void)envoy::endpoints_summary(*statuses, {}, wide);
      const auto selected = envoy::select_cluster_statuses(*statuses, {});
      if (keep_raw) {
        print_raw(selected);
      }
    }
  }
  return 0;
}

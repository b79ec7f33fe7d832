// The readers on real Envoy dumps from ../shared/istio (a 2023 sidecar, a 2019 ingress gateway and
// sidecar, ambient-era listeners): facts checked against the JSON by hand, camelCase copies of
// each dump that must read identically, and damaged copies that must fail cleanly.

#include "envoy/config_dump.hpp"
#include "envoy/field_names.hpp"
#include "envoy/json_reader.hpp"
#include "envoy/summary.hpp"
#include "support/testing.hpp"

#include <nlohmann/json.hpp>

#include <random>
#include <set>

using namespace meshctl::envoy;
using meshctl::testing::read_file;

namespace {

DumpBytes dump(const std::filesystem::path& p) {
  auto d = DumpBytes::from_file(p.string());
  REQUIRE(d);
  return std::move(*d);
}

// Every key renamed to protojson's camelCase, as istioctl -o json and older dumps spell them.
nlohmann::ordered_json camel(const nlohmann::ordered_json& j) {
  if (j.is_object()) {
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    for (auto it = j.begin(); it != j.end(); ++it) {
      out[json_camel_case(it.key())] = camel(it.value());
    }
    return out;
  }
  if (j.is_array()) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& v : j) {
      out.push_back(camel(v));
    }
    return out;
  }
  return j;
}

DumpBytes camel_copy(const std::filesystem::path& p) {
  return DumpBytes::from_string(camel(nlohmann::ordered_json::parse(read_file(p))).dump(1),
                                "camel.json");
}

std::string all_tables(const DumpBytes& d) {
  std::string out;
  if (auto l = read_listeners(d, {})) {
    out += listener_summary(*l);
    SummaryOptions types;
    types.verbose = false;
    out += listener_summary(*l, types);
  }
  if (auto c = read_clusters(d)) {
    out += cluster_summary(select_clusters(*c, {}));
  }
  if (auto e = read_endpoint_configs(d)) {
    SummaryOptions wide;
    wide.wide = true;
    out += eds_summary(select_endpoint_configs(*e, {}), wide);
  }
  if (auto s = read_cluster_statuses(d)) {
    out += endpoints_summary(*s, {});
  }
  return out;
}

} // namespace

TEST_CASE("a 2023 sidecar dump: listeners, chains and types", "[envoy][conformance]") {
  MESHCTL_REQUIRE_SHARED_ISTIO(istio);
  const auto d = dump(istio / "istioctl-testdata/current/authz/configdump.json");
  auto l = read_listeners(d, {});
  REQUIRE(l);
  // Counted in the JSON: 27 dynamic (all active) and 2 static listeners, 49 chains in total
  // (default filter chains included), on these ports.
  CHECK(l->size() == 29);
  std::size_t chains = 0;
  std::set<std::uint32_t> ports;
  for (const auto& x : *l) {
    chains += x.chains.size();
    ports.insert(x.port);
  }
  CHECK(chains == 49);
  CHECK(ports == std::set<std::uint32_t>{0, 53, 80, 443, 5000, 8000, 9080, 9153, 15001, 15006,
                                         15008, 15010, 15012, 15014, 15021, 15090});
  ListenerFilter inbound;
  inbound.port = 15006;
  auto virtual_inbound = read_listeners(d, inbound);
  REQUIRE(virtual_inbound);
  REQUIRE(virtual_inbound->size() == 1);
  CHECK(virtual_inbound->front().name == "virtualInbound");
}

TEST_CASE("a 2019 ingress gateway dump (v2 types, legacy filter names)", "[envoy][conformance]") {
  MESHCTL_REQUIRE_SHARED_ISTIO(istio);
  const auto d =
      dump(istio /
           "istioctl-testdata/historical-2020/describe/istio-ingressgateway-5bf6c9887-vvvmj.json");
  auto l = read_listeners(d, {});
  REQUIRE(l);
  // Read off the JSON: an RDS route on 80, the prometheus inline route (v2 "config" Struct) on
  // 15090, a tcp_proxy to a v1 subset on 31400.
  CHECK(listener_summary(*l) ==
        "ADDRESSES PORT  MATCH DESTINATION\n"
        "0.0.0.0   80    ALL   Route: http.80\n"
        "0.0.0.0   15090 ALL   Inline Route: /stats/prometheus*\n"
        "0.0.0.0   31400 ALL   Cluster: outbound|9000|v1|tcp-echo.default.svc.cluster.local\n");
  auto c = read_clusters(d);
  REQUIRE(c);
  // SNI-DNAT clusters (outbound_.PORT_._.HOST) have no '|': shown whole, like istioctl.
  bool sni_dnat = false;
  for (const auto& cluster : *c) {
    sni_dnat = sni_dnat || cluster.name.rfind("outbound_.", 0) == 0;
  }
  CHECK(sni_dnat);
  CHECK(cluster_summary(select_clusters(*c, {})).find("\noutbound_.") != std::string::npos);
}

TEST_CASE("camelCase copies of real dumps give the same tables", "[envoy][conformance]") {
  MESHCTL_REQUIRE_SHARED_ISTIO(istio);
  const auto data = istio / "istioctl-testdata";
  for (const char* file :
       {"current/authz/configdump.json", "current/proxyconfig-all/config_dump.json",
        "current/writer-envoy-configdump/endpoint/configdump.json",
        "current/compare/configdump.json",
        "historical-2020/describe/productpage-v1-c7765c886-v99jb.json",
        "historical-2020/writer-envoy-clusters/clusters.json"}) {
    INFO(file);
    const std::string snake = all_tables(dump(data / file));
    CHECK(snake.size() > 100);
    CHECK(all_tables(camel_copy(data / file)) == snake);
  }
}

TEST_CASE("damaged dumps fail with an error, never a crash", "[envoy][errors]") {
  MESHCTL_REQUIRE_SHARED_ISTIO(istio);
  const std::string text =
      read_file(istio / "istioctl-testdata/current/proxyconfig-all/config_dump.json");
  std::size_t errors = 0;
  for (std::size_t cut = 0; cut < text.size(); cut += 211) {
    const auto d = DumpBytes::from_string(text.substr(0, cut), "cut.json");
    errors += read_listeners(d, {}) ? 0 : 1;
    errors += read_clusters(d) ? 0 : 1;
    errors += read_endpoint_configs(d) ? 0 : 1;
  }
  CHECK(errors == 3 * ((text.size() + 210) / 211)); // every truncation is an error
  std::mt19937 rng(42);
  const std::string noise = "{}[]\":,\\x0 \n";
  for (int i = 0; i < 300; ++i) {
    std::string damaged = text;
    for (int k = 0; k < 3; ++k) {
      damaged[rng() % damaged.size()] = noise[rng() % noise.size()];
    }
    const auto d = DumpBytes::from_string(damaged, "damaged.json");
    (void)read_listeners(d, {}); // either result is fine; it must return
    (void)read_endpoint_configs(d);
  }
}

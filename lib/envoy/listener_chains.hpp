#pragma once
// Filter chains of a listener (lib/envoy internal): reads a chain's match, its network filters and
// their inline routes, and computes istioctl's MATCH and DESTINATION columns while reading (see
// istioctl's writer/envoy/configdump/listener.go), so a chain costs a few short strings.

#include "envoy/config_dump.hpp"
#include "envoy/json_reader.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace meshctl::envoy {

/// HTTP and TCP filters seen across a listener's chains; they make its TYPE column.
struct TypeCounts {
  int http = 0;
  int tcp = 0;
};

// Reused from chain to chain: on a gateway with 100,000 chains the ALPN lists alone would cost half
// a million allocations.
/// A chain's filter_chain_match, reused from chain to chain.
struct ChainMatch {
  std::vector<std::string> server_names;
  std::string transport_protocol;
  std::vector<std::string> alpn_storage;
  std::size_t alpn_count = 0;
  bool has_destination_port = false;
  std::uint64_t destination_port = 0;
  std::vector<std::string> prefix_ranges; // "10.0.0.0/8"

  void reset() {
    server_names.clear();
    transport_protocol.clear();
    alpn_count = 0;
    has_destination_port = false;
    destination_port = 0;
    prefix_ranges.clear();
  }
  [[nodiscard]] bool alpn_equals(const std::vector<std::string>& protocols) const {
    return alpn_count == protocols.size() &&
           std::equal(protocols.begin(), protocols.end(), alpn_storage.begin());
  }
};

/// Reads one FilterChain. `match` and `name` are scratch space reused across chains; `counts`
/// adds this chain's HTTP and TCP filters.
FilterChainInfo read_chain(JsonReader& r, bool is_default, TypeCounts& counts, ChainMatch& match,
                           std::string& name);

} // namespace meshctl::envoy

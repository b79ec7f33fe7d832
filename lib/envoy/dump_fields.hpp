#pragma once
// Fields that several config_dump readers share (lib/envoy internal): addresses, Istio metadata,
// localities and health values. Each reader expects the reader positioned before the value.

#include "envoy/config_dump.hpp"
#include "envoy/json_reader.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace meshctl::envoy {

/// An envoy.config.core.v3.Address: a socket address, a pipe or an internal address.
struct AddressInfo {
  enum class Kind { k_none, k_socket, k_pipe, k_internal } kind = Kind::k_none;
  std::string address; // socket address
  std::uint32_t port = 0;
  std::string path; // pipe
  std::string server_listener_name;
  std::string endpoint_id;
};

/// Reads an Address object.
AddressInfo read_address(JsonReader& r);

/// Reads metadata {filter_metadata: {istio: {<field>: "..."}}} and returns that field ("" if
/// absent or not a string).
std::string read_istio_metadata_field(JsonReader& r, std::string_view field);

/// istioctl's renderConfig: "/apis/networking.istio.io/v1alpha3/namespaces/NS/destination-rule/N"
/// becomes "N.NS"; "" for an empty path, "<unknown>" for another prefix.
std::string render_config_path(std::string_view path);

/// Reads a Locality object (region, zone, sub_zone).
Locality read_locality(JsonReader& r);

/// Reads a HealthStatus, written as its name or as its number.
std::string read_health(JsonReader& r);

} // namespace meshctl::envoy

#pragma once
// istioctl's `-o json` and `-o yaml` for proxy-config: a JSON array of proto messages as
// json.MarshalIndent(protio.MessageSlice, "", "    ") prints it, and that JSON through
// sigs.k8s.io/yaml.JSONToYAML. meshctl has no Envoy proto schemas, so the conversion works on the
// JSON Envoy wrote; protojson_array() explains what it reproduces and what it cannot.

#include "envoy/config_dump.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace meshctl::envoy {

/// The messages (each the JSON text of one proto message, as captured from a dump) rendered as
/// istioctl renders a MessageSlice: field names in protojson's lowerCamelCase, keys of map and
/// google.protobuf.Struct fields sorted, the top-level "@type" of each message dropped, 4-space
/// indentation, Go's escaping (<, >, & as \u003c, \u003e, \u0026), and a final newline.
/// Throws JsonError on malformed input (callers pass text the readers already validated).
std::string protojson_array(const std::vector<std::string_view>& messages);

/// JSON text as sigs.k8s.io/yaml.JSONToYAML (go-yaml v2) prints it: every mapping's keys sorted
/// in go-yaml's order, sequences not indented under their key, strings quoted only when needed.
/// `json` is the output of protojson_array(); a final newline is added as istioctl's Fprintln does.
std::string json_to_yaml(std::string_view json);

/// The JSON of `cla` (its `raw`, read with keep_raw) with only the lb_endpoints still in `cla`:
/// what istioctl prints for endpoint configs after filtering. A locality group left without
/// endpoints loses its lb_endpoints field, as protojson omits empty lists.
std::string keep_lb_endpoints(const ClusterLoadAssignmentInfo& cla);

/// The string as Go's encoding/json writes it (with its HTML escaping, and a byte that is not
/// UTF-8 as \ufffd), quotes included.
std::string go_json_quote(std::string_view s);

} // namespace meshctl::envoy

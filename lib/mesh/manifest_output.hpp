#pragma once
// --dry-run output: every document a verb would apply, per target cluster.

#include "core/error.hpp"
#include "core/output.hpp"
#include "mesh/desired.hpp"

#include <string>
#include <vector>

namespace meshctl::mesh {

/// YAML: each document preceded by "---" and "# cluster: <name>" (for kubectl apply -f); JSON
/// (-o json): the envelope {apiVersion, kind: ManifestList, dryRun: offline, clusters: [{name,
/// objects: [...]}]} (core/envelope.hpp). Secret values are "<redacted>" unless show_secrets; a
/// value that is a placeholder (known only at apply time) is shown as the placeholder, decoded.
std::string format_manifests(const std::vector<ClusterObjects>& clusters, OutputFormat format,
                             bool show_secrets);

/// --output-dir: each cluster's manifests, as format_manifests prints them, in a file of its own
/// in `dir` (created if missing): `<cluster>.yaml`, or `<cluster>.json` with -o json. Existing
/// files of those names are replaced. Returns the paths written, in cluster order.
Result<std::vector<std::string>> write_manifests(const std::vector<ClusterObjects>& clusters,
                                                 OutputFormat format, bool show_secrets,
                                                 const std::string& dir);

} // namespace meshctl::mesh

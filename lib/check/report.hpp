#pragma once
// verify's report: the findings of every check grouped by cluster, with the SNI-route and endpoint
// tables, rendered for people (✔ / ⚠ / ✖) or as a versioned JSON document for scripts.
//
// JSON schema (apiVersion meshctl.dev/v1alpha1, kind VerifyReport, schemaVersion 1). Fields are
// only added within a schema version; renaming or removing one bumps it.
//
//   apiVersion: meshctl.dev/v1alpha1
//   kind: VerifyReport
//   schemaVersion: 1
//   service: {name, namespace, host}
//   collectedAt: RFC 3339 time the facts were read
//   summary: {errors, warnings, passed, unreachable: [cluster],
//             unchecked: [cluster],   # mesh clusters left out by --context
//             exitCode}
//   clusters: [                       # in the order verify was given them
//     {name, context, server, reachable, latencyMs,
//      istiod: {revision, version, trustDomain} | null,   # the istiod revision checked
//      findings: [Finding],
//      sniRoutes: [{gateway, address, port, servicePort, sni, present, match, destination}],
//      endpoints: {client: "ns/pod" | "", pickedBy: "--from" | "auto" | "",
//                  rows: [{cluster, address, health, outlierCheck: "OK"|"FAILED", priority,
//                          locality, weight, kind: local-pod|remote-gateway|remote-pod|unknown,
//                          peerCluster, what}]}}]
//   findings: [Finding]               # about the mesh as a whole (cluster "")
//   Finding: {id, severity: info|warning|error, cluster, message, hint}

#include "check/facts.hpp"
#include "check/finding.hpp"
#include "check/views.hpp"
#include "core/envelope.hpp"
#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace meshctl::check {

inline constexpr std::string_view k_report_api_version = k_api_version;
inline constexpr std::string_view k_report_kind = "VerifyReport";
inline constexpr int k_report_schema_version = 1;

/// Which findings make verify exit 1.
enum class FailOn { k_error, k_warning };

/// Parses "error" or "warning" (--fail-on).
Result<FailOn> parse_fail_on(std::string_view text);
/// The levels --fail-on takes.
std::vector<std::string> fail_on_names();

struct ClusterReport {
  std::string name;
  std::string context;
  std::string server;
  bool reachable = false;
  bool unauthorized = false;
  double latency_ms = 0;
  bool has_istiod = false;     ///< an istiod revision was found (the three fields below)
  std::string istiod_revision; ///< istio.io/rev of the istiod checked
  std::string istiod_version;  ///< its discovery image's tag
  std::string trust_domain;    ///< its meshConfig.trustDomain
  Findings findings;
  std::vector<SniRow> sni;
  std::string client;    ///< "ns/pod" whose endpoints are shown, "" = none
  std::string picked_by; ///< "--from" or "auto"
  std::vector<EndpointRow> endpoints;
};

struct VerifyReport {
  std::string service;
  std::string namespace_;
  std::string host;
  std::string collected_at;
  std::vector<ClusterReport> clusters;
  Findings mesh; ///< findings with no cluster
  int errors = 0;
  int warnings = 0;
  int passed = 0;
  std::vector<std::string> unreachable;
  std::vector<std::string> unchecked; ///< mesh clusters left out by --context
};

/// Runs every check on the facts and arranges the findings and tables per cluster.
VerifyReport build_report(const MeshFacts& facts);

/// 3 when a cluster could not be reached, else 1 when there is an error (or a warning with
/// FailOn::k_warning), else 0.
ExitCode report_exit_code(const VerifyReport& report, FailOn fail_on);

/// The report for people; ANSI colour only when `color`. It is the header line followed by the
/// sections (each cluster's, the mesh's, the summary).
std::string format_report(const VerifyReport& report, FailOn fail_on, bool color);
/// The report's first line ("Verifying … in N clusters, TIME"): it needs only what is known before
/// any cluster is read, so facts with the clusters named and nothing read give the same line.
std::string format_report_header(const MeshFacts& facts);
/// Everything after the header.
std::string format_report_sections(const VerifyReport& report, FailOn fail_on, bool color);

/// The report as the versioned JSON document described above.
nlohmann::json report_json(const VerifyReport& report, FailOn fail_on);

} // namespace meshctl::check

#include "check/report.hpp"

#include "check/checks.hpp"
#include "core/enum_names.hpp"
#include "envoy/tabwriter.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <tuple>

namespace meshctl::check {

using nlohmann::json;

namespace {

constexpr EnumName<FailOn> k_fail_on_names[] = {{FailOn::k_error, "error"},
                                                {FailOn::k_warning, "warning"}};

} // namespace

std::vector<std::string> fail_on_names() {
  return names_of(k_fail_on_names);
}

Result<FailOn> parse_fail_on(std::string_view text) {
  if (const auto level = value_of(k_fail_on_names, text)) {
    return *level;
  }
  return usage_error("--fail-on must be error or warning, not \"" + std::string(text) + "\"");
}

namespace {

// What the report's header tells: known before any cluster is read.
VerifyReport report_head(const MeshFacts& facts) {
  VerifyReport r;
  r.service = facts.service;
  r.namespace_ = facts.namespace_;
  r.host = facts.host();
  r.collected_at = format_time(facts.collected_at);
  r.unchecked = facts.unchecked();
  return r;
}

} // namespace

VerifyReport build_report(const MeshFacts& facts) {
  VerifyReport r = report_head(facts);
  for (const auto& c : facts.clusters) {
    ClusterReport cr;
    cr.name = c.name;
    cr.context = c.context;
    cr.server = c.server;
    cr.reachable = c.reachable;
    cr.unauthorized = !c.reachable && c.connect_error && c.connect_error->unauthorized();
    cr.latency_ms = c.latency_ms;
    if (c.istiod) {
      cr.has_istiod = true;
      cr.istiod_revision = c.istiod->revision;
      cr.istiod_version = c.istiod->version;
      cr.trust_domain = c.istiod->trust_domain;
    }
    if (c.reachable) {
      cr.sni = sni_rows(facts, c);
      if (c.client) {
        cr.client = c.client->namespace_ + "/" + c.client->pod;
        cr.picked_by = c.client->picked_by;
        cr.endpoints = endpoint_rows(facts, c);
        std::stable_sort(
            cr.endpoints.begin(), cr.endpoints.end(),
            [](const EndpointRow& a, const EndpointRow& b) {
              return std::tie(a.envoy_cluster, a.endpoint.priority, a.endpoint.address) <
                     std::tie(b.envoy_cluster, b.endpoint.priority, b.endpoint.address);
            });
      }
    } else if (!cr.unauthorized) {
      r.unreachable.push_back(c.name);
    }
    r.clusters.push_back(std::move(cr));
  }
  for (auto& f : run_checks(facts)) {
    switch (f.severity) {
    case Severity::k_error:
      ++r.errors;
      break;
    case Severity::k_warning:
      ++r.warnings;
      break;
    case Severity::k_info:
      ++r.passed;
      break;
    }
    auto it = std::find_if(r.clusters.begin(), r.clusters.end(),
                           [&](const ClusterReport& c) { return c.name == f.cluster; });
    if (f.cluster.empty() || it == r.clusters.end()) {
      r.mesh.push_back(std::move(f));
    } else {
      it->findings.push_back(std::move(f));
    }
  }
  return r;
}

ExitCode report_exit_code(const VerifyReport& report, FailOn fail_on) {
  if (!report.unreachable.empty()) {
    return ExitCode::k_unreachable;
  }
  if (report.errors > 0 || (fail_on == FailOn::k_warning && report.warnings > 0)) {
    return ExitCode::k_failed;
  }
  return ExitCode::k_ok;
}

// ---------------------------------------------------------------------------------------------
// Text

namespace {

struct Style {
  bool color = false;
  [[nodiscard]] std::string wrap(std::string_view code, std::string_view text) const {
    if (!color) {
      return std::string(text);
    }
    return "\033[" + std::string(code) + "m" + std::string(text) + "\033[0m";
  }
  [[nodiscard]] std::string mark(Severity s) const {
    switch (s) {
    case Severity::k_error:
      return wrap("31", "✖");
    case Severity::k_warning:
      return wrap("33", "⚠");
    case Severity::k_info:
      return wrap("32", "✔");
    }
    return "?";
  }
  [[nodiscard]] std::string bold(std::string_view text) const { return wrap("1", text); }
  [[nodiscard]] std::string dim(std::string_view text) const { return wrap("2", text); }
};

void write_findings(std::string& out, const Findings& findings, const Style& st) {
  for (const auto& f : findings) {
    out += "  " + st.mark(f.severity) + " " + f.message + "\n";
    if (!f.hint.empty()) {
      out += "      " + st.dim("hint:") + " " + f.hint + "\n";
    }
  }
}

// Tables indented by four spaces, aligned like istioctl's (Go tabwriter, padding 2).
std::string indent_table(const std::string& table) {
  std::string out;
  std::size_t start = 0;
  while (start < table.size()) {
    const auto nl = table.find('\n', start);
    const auto end = nl == std::string::npos ? table.size() : nl;
    out += "    " + table.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

std::string sni_table(const std::vector<SniRow>& rows) {
  envoy::TabWriter tw(0, 8, 2, ' ');
  tw.end_line("GATEWAY\tADDRESSES\tPORT\tMATCH\tDESTINATION");
  for (const auto& r : rows) {
    tw.cell(r.gateway);
    tw.cell(r.address);
    tw.cell(std::to_string(r.listener_port));
    tw.cell(r.match);
    tw.end_line(r.present ? r.destination : "MISSING");
  }
  return tw.flush();
}

std::string endpoint_table(const std::vector<EndpointRow>& rows) {
  envoy::TabWriter tw(0, 8, 2, ' ');
  tw.end_line("ENDPOINT\tSTATUS\tOUTLIER CHECK\tPRIORITY\tLOCALITY\tWHAT\tCLUSTER");
  for (const auto& r : rows) {
    tw.cell(r.endpoint.address);
    tw.cell(r.endpoint.health);
    tw.cell(r.endpoint.outlier_failed ? "FAILED" : "OK");
    tw.cell(std::to_string(r.endpoint.priority));
    tw.cell(r.endpoint.locality);
    tw.cell(r.what);
    tw.end_line(r.envoy_cluster);
  }
  return tw.flush();
}

std::string_view kind_name(EndpointKind k) {
  static constexpr EnumName<EndpointKind> k_names[] = {
      {EndpointKind::k_local_pod, "local-pod"},
      {EndpointKind::k_remote_gateway, "remote-gateway"},
      {EndpointKind::k_remote_pod, "remote-pod"},
      {EndpointKind::k_unknown, "unknown"}};
  return name_of(k_names, k, "unknown");
}

std::string plural(int n, std::string_view word) {
  return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

} // namespace

namespace {

std::string header_line(const VerifyReport& report) {
  return "Verifying " + report.service + "." + report.namespace_ + " (" + report.host + ") in " +
         (report.unchecked.empty()
              ? plural(static_cast<int>(report.clusters.size()), "cluster")
              : fmt::format("{} of {} clusters (not checked: {})", report.clusters.size(),
                            report.clusters.size() + report.unchecked.size(),
                            fmt::join(report.unchecked, ", "))) +
         ", " + report.collected_at + "\n";
}

} // namespace

std::string format_report(const VerifyReport& report, FailOn fail_on, bool color) {
  return header_line(report) + format_report_sections(report, fail_on, color);
}

std::string format_report_header(const MeshFacts& facts) {
  VerifyReport r = report_head(facts);
  r.clusters.resize(facts.clusters.size());
  return header_line(r);
}

std::string format_report_sections(const VerifyReport& report, FailOn fail_on, bool color) {
  const Style st{color};
  std::string out;
  for (const auto& c : report.clusters) {
    out += "\n" + st.bold(c.name) +
           (c.context != c.name && !c.context.empty() ? " (context " + c.context + ")" : "") +
           "  " + st.dim(c.server) + "\n";
    write_findings(out, c.findings, st);
    if (!c.sni.empty()) {
      out += "  SNI routes of " + report.host + " on the east-west gateway:\n";
      out += indent_table(sni_table(c.sni));
    }
    if (!c.endpoints.empty()) {
      out += "  Endpoints of " + report.host + " seen by " + c.client + ":\n";
      out += indent_table(endpoint_table(c.endpoints));
    }
  }
  if (!report.mesh.empty()) {
    out += "\n" + st.bold("mesh") + "\n";
    write_findings(out, report.mesh, st);
  }
  const ExitCode code = report_exit_code(report, fail_on);
  out += "\n" + plural(report.errors, "error") + ", " + plural(report.warnings, "warning") + ", " +
         std::to_string(report.passed) + " passed";
  if (!report.unreachable.empty()) {
    std::string names;
    for (const auto& n : report.unreachable) {
      names += (names.empty() ? "" : ", ") + n;
    }
    out += "; unreachable: " + names;
  }
  out += fmt::format(" (exit {})\n", static_cast<int>(code));
  return out;
}

// ---------------------------------------------------------------------------------------------
// JSON

namespace {

json finding_json(const Finding& f) {
  return {{"id", f.id},
          {"severity", std::string(severity_name(f.severity))},
          {"cluster", f.cluster},
          {"message", f.message},
          {"hint", f.hint}};
}

json findings_json(const Findings& fs) {
  json out = json::array();
  for (const auto& f : fs) {
    out.push_back(finding_json(f));
  }
  return out;
}

} // namespace

json report_json(const VerifyReport& report, FailOn fail_on) {
  json clusters = json::array();
  for (const auto& c : report.clusters) {
    json sni = json::array();
    for (const auto& r : c.sni) {
      sni.push_back({{"gateway", r.gateway},
                     {"address", r.address},
                     {"port", r.listener_port},
                     {"servicePort", r.service_port},
                     {"sni", r.sni},
                     {"present", r.present},
                     {"match", r.match},
                     {"destination", r.destination}});
    }
    json rows = json::array();
    for (const auto& r : c.endpoints) {
      rows.push_back({{"cluster", r.envoy_cluster},
                      {"address", r.endpoint.address},
                      {"health", r.endpoint.health},
                      {"outlierCheck", r.endpoint.outlier_failed ? "FAILED" : "OK"},
                      {"priority", r.endpoint.priority},
                      {"locality", r.endpoint.locality},
                      {"weight", r.endpoint.weight},
                      {"kind", std::string(kind_name(r.kind))},
                      {"peerCluster", r.peer_cluster},
                      {"what", r.what}});
    }
    clusters.push_back(
        {{"name", c.name},
         {"context", c.context},
         {"server", c.server},
         {"reachable", c.reachable},
         {"latencyMs", std::round(c.latency_ms * 10) / 10},
         {"istiod", c.has_istiod ? json{{"revision", c.istiod_revision},
                                        {"version", c.istiod_version},
                                        {"trustDomain", c.trust_domain}}
                                 : json(nullptr)},
         {"findings", findings_json(c.findings)},
         {"sniRoutes", std::move(sni)},
         {"endpoints",
          {{"client", c.client}, {"pickedBy", c.picked_by}, {"rows", std::move(rows)}}}});
  }
  return {{"apiVersion", std::string(k_report_api_version)},
          {"kind", std::string(k_report_kind)},
          {"schemaVersion", k_report_schema_version},
          {"service",
           {{"name", report.service}, {"namespace", report.namespace_}, {"host", report.host}}},
          {"collectedAt", report.collected_at},
          {"summary",
           {{"errors", report.errors},
            {"warnings", report.warnings},
            {"passed", report.passed},
            {"unreachable", report.unreachable},
            {"unchecked", report.unchecked},
            {"exitCode", static_cast<int>(report_exit_code(report, fail_on))}}},
          {"clusters", std::move(clusters)},
          {"findings", findings_json(report.mesh)}};
}

} // namespace meshctl::check

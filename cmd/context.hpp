#pragma once
// Shared state of one meshctl invocation: global flags and the action the chosen verb registered.

#include "core/error.hpp"
#include "core/options.hpp"
#include "kube/client.hpp"
#include "mesh/desired.hpp"
#include "mesh/gateway_choice.hpp"
#include "mesh/session.hpp"

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace meshctl::cmd {

struct Context {
  GlobalOptions global;
  std::string output_text = "table"; ///< raw -o value, parsed after CLI11 is done
  /// --output-dir of join, expose and localize: an offline --dry-run writes one file per cluster
  /// there instead of printing to stdout.
  std::string output_dir;
  /// Set by the verb's callback; run by main after parsing. Returns the exit code.
  std::function<Result<ExitCode>()> action;
};

/// Each verb lives in its own file and adds itself to the app here (called from main in one list).
void register_join(CLI::App& app, Context& ctx);
void register_unjoin(CLI::App& app, Context& ctx);
void register_expose(CLI::App& app, Context& ctx);
void register_localize(CLI::App& app, Context& ctx);
void register_sync_svc(CLI::App& app, Context& ctx);
void register_verify(CLI::App& app, Context& ctx);
void register_status(CLI::App& app, Context& ctx);
void register_proxy_config(CLI::App& app, Context& ctx);
void register_version(CLI::App& app, Context& ctx);
void register_config(CLI::App& app, Context& ctx);
void register_completion(CLI::App& app, Context& ctx);
void register_help(CLI::App& app, Context& ctx);

/// Shell completion's question, hidden from the help as cobra's is: `meshctl __complete ARGS… WORD`
/// (`__completeNoDesc`: the same without descriptions). main.cpp answers it before parsing, since
/// a half-typed command line is not one CLI11 should judge.
inline constexpr std::string_view k_complete_verb = "__complete";
inline constexpr std::string_view k_complete_no_desc_verb = "__completeNoDesc";
/// Whether `word` (the first argument) asks that question.
bool is_complete_request(std::string_view word);
/// Prints the candidates for `args` (from "__complete" on) and the directive line, in cobra's
/// protocol (complete.cpp), from the command tree of `app`; returns the exit code (0).
int run_complete(const CLI::App& app, const std::vector<std::string>& args);
/// The shells `meshctl completion` has a script for (completion.cpp).
const std::vector<std::string>& completion_shells();

/// Makes every verb's --help list the global flags too (before any verb is registered).
void use_help_formatter(CLI::App& app);

} // namespace meshctl::cmd

namespace meshctl::config {
struct ClusterConfig;
} // namespace meshctl::config

namespace meshctl::kube {
class Client;
} // namespace meshctl::kube

namespace meshctl::mesh {
struct JoinReport;
struct Session;
struct ClusterObjects;
struct GatewayChoice;
struct ServiceName;
enum class DryRun;
} // namespace meshctl::mesh

namespace meshctl::cmd {

/// Prints a join/expose/localize outcome as -o asks (summary, or the versioned JSON/YAML result);
/// failed preconditions are listed on stderr and make the error returned. Lives in cmd/join.cpp.
Result<ExitCode> print_apply_report(const Context& ctx, const mesh::JoinReport& report,
                                    mesh::DryRun dry, const std::string& kind);

/// What expose and localize want in each of the clusters given, at each cluster's
/// networking.istio.io version; `gateways` holds each cluster's east-west gateway when
/// render_and_apply was asked to find them (else it is empty).
/// `clients` (in the clusters' order) are there to read live state, except in an offline dry run
/// (nullptr).
using RenderFn = std::function<Result<std::vector<mesh::ClusterObjects>>(
    const std::vector<config::ClusterConfig>& clusters, const mesh::IstioApis& apis,
    const std::map<std::string, mesh::GatewayChoice>& gateways,
    std::vector<std::unique_ptr<kube::Client>>* clients)>;

/// The shared body of expose and localize: opens the session on `contexts`; with offline
/// --dry-run renders at the default Istio API (and, with `find_gateways`, the gateways the config
/// names) and prints the manifests; else chooses every cluster's Istio API from discovery (a
/// cluster without one fails before anything is written), finds each cluster's east-west gateway
/// (with `find_gateways`), renders, plans (and unless a client dry run, applies) in every cluster
/// and prints the outcome. Unless offline, each of `must_exist` must be a Service in some cluster
/// (mesh/service_check.hpp) before anything is rendered. In cmd/join.cpp.
Result<ExitCode> render_and_apply(const Context& ctx, const std::vector<std::string>& contexts,
                                  mesh::DryRun dry, const RenderFn& render,
                                  bool find_gateways = false,
                                  const std::vector<mesh::ServiceName>& must_exist = {});

/// The clusters as expose and localize work on them: the session on `contexts`, a client per
/// cluster (in its order), each cluster's networking.istio.io version and, with `find_gateways`,
/// each east-west gateway. A cluster without a usable Istio API (or gateway) fails the whole call
/// before anything is written, each such cluster's error printed on its own line (fail_all).
struct LiveMesh {
  mesh::Session session;
  std::vector<std::unique_ptr<kube::Client>> clients;
  mesh::IstioApis apis;
  std::map<std::string, mesh::GatewayChoice> gateways;
};
Result<LiveMesh> open_live(const Context& ctx, const std::vector<std::string>& contexts,
                           bool find_gateways);

/// Why join, expose and localize refuse -o wide.
inline constexpr const char* k_apply_wide_why =
    "its report is a line per cluster (-v lists every object, -o json too)";

/// The hint of a service that exists in no cluster, for verbs that can go ahead with --force.
inline constexpr const char* k_force_hint =
    "check the name (kubectl get services -A); --force goes ahead before the Service exists";

} // namespace meshctl::cmd

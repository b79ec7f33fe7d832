// meshctl verify SERVICE.NAMESPACE: CLI wiring. Facts are collected in lib/check/collect.*, checked
// in lib/check/checks.*, and reported by lib/check/report.*.

#include "check/bundle.hpp"
#include "check/collect.hpp"
#include "check/report.hpp"
#include "common.hpp"
#include "core/log.hpp"
#include "core/try.hpp"
#include "mesh/join_live.hpp"
#include "mesh/service_check.hpp"
#include "mesh/session.hpp"

#include <unistd.h>

#include <cstdio>

namespace meshctl::cmd {

namespace {

struct VerifyFlags {
  std::string service;
  std::string namespace_; ///< -n: the service's namespace when SERVICE has none
  std::vector<std::string> contexts;
  std::string from;
  std::string fail_on = "error";
  std::string save_bundle;
  std::string from_bundle;
};

Result<check::MeshFacts> collect(const Context& ctx, const VerifyFlags& f, bool header_early) {
  if (!f.from_bundle.empty()) {
    if (!f.contexts.empty() || !f.from.empty()) {
      return usage_error("--from-bundle reads everything from the bundle; drop --context and "
                         "--from");
    }
    TRY_ASSIGN(auto facts, check::load_bundle(f.from_bundle));
    if (!f.service.empty()) {
      TRY_ASSIGN(const auto service, mesh::parse_service_name(f.service, f.namespace_));
      if (service.name != facts.service || service.namespace_ != facts.namespace_) {
        return usage_error("the bundle in " + f.from_bundle + " is about " + facts.service + "." +
                               facts.namespace_ + ", not " + f.service,
                           "leave out SERVICE with --from-bundle");
      }
    }
    return facts;
  }
  if (f.service.empty()) {
    return usage_error("verify needs the service to check, as SERVICE.NAMESPACE",
                       "e.g. meshctl verify helloworld.dev");
  }
  TRY_ASSIGN(const auto service, mesh::parse_service_name(f.service, f.namespace_));
  TRY_ASSIGN(const auto session, mesh::open_session(ctx.global, f.contexts));
  TRY_ASSIGN(auto clients, mesh::connect_all(session, ctx.global));
  if (f.contexts.empty()) {
    // A subset of the clusters (--context) may well lack the Service that others have.
    TRY(mesh::require_service(service, mesh::lookup_service(session, clients, service),
                              "check the name: kubectl get services -A"));
  }
  check::CollectOptions options;
  options.service = service;
  options.from = f.from;
  options.exec_timeout = ctx.global.timeout;
  options.timeout = ctx.global.timeout;
  options.on_start = [&](const check::MeshFacts& known) {
    if (header_early) {
      // A person at a terminal sees what is being verified at once; the sections follow.
      std::fputs(check::format_report_header(known).c_str(), stdout);
      std::fflush(stdout);
    }
    log::status_title("verify " + service.name + "." + service.namespace_);
  };
  return check::collect_facts(session, clients, options);
}

Result<ExitCode> run_verify(const Context& ctx, const VerifyFlags& f) {
  TRY(check_no_wide(ctx, "verify", "its report is not a table (-o json has every field)"));
  TRY_ASSIGN(const auto fail_on, check::parse_fail_on(f.fail_on));
  // On a terminal the table's header is printed before the clusters are read; in a pipe the
  // output is the same as ever, in one piece.
  const bool header_early = ctx.global.output != OutputFormat::k_json &&
                            ctx.global.output != OutputFormat::k_yaml && f.from_bundle.empty() &&
                            isatty(STDOUT_FILENO) != 0;
  TRY_ASSIGN(const auto facts, collect(ctx, f, header_early));
  if (!f.save_bundle.empty()) {
    TRY_CTX(check::save_bundle(facts, f.save_bundle), "--save-bundle");
    log::info("bundle written to {}", f.save_bundle);
  }
  const auto report = check::build_report(facts);
  print_result(
      ctx, [&] { return check::report_json(report, fail_on); },
      [&] {
        return header_early ? check::format_report_sections(report, fail_on, ctx.global.color)
                            : check::format_report(report, fail_on, ctx.global.color);
      });
  return check::report_exit_code(report, fail_on);
}

} // namespace

void register_verify(CLI::App& app, Context& ctx) {
  const auto [sub, f] = add_verb<VerifyFlags>(
      app, "verify", "Check a service across every cluster, with a hint for each problem");
  sub->add_option("service", f->service, "The service, as SERVICE.NAMESPACE (or SERVICE -n NS)");
  sub->add_option("-n,--namespace", f->namespace_,
                  "Namespace of the service (and of --from's pod) when SERVICE does not name one");
  add_context_option(sub, f->contexts, "Cluster to check (repeatable; default: all)");
  sub->add_option("--from", f->from,
                  "Client pod (POD.NAMESPACE) whose Envoy shows the endpoints (default: a pod "
                  "with istio-proxy in the service's namespace, e.g. sleep)");
  sub->add_option("--fail-on", f->fail_on, "Exit 1 on: error (default) or warning")
      ->capture_default_str();
  sub->add_option("--save-bundle", f->save_bundle,
                  "Also write what verify read (no secret values) to DIR, for a ticket");
  sub->add_option("--from-bundle", f->from_bundle,
                  "Check a bundle written by --save-bundle instead of the clusters");
  sub->footer("Exit codes: 0 no error, 1 an error (or a warning with --fail-on warning), 3 a "
              "cluster could not be reached (the others are still checked).\n"
              "Examples:\n  meshctl verify helloworld.dev\n  meshctl verify helloworld -n dev\n  "
              "meshctl verify helloworld.dev "
              "--from sleep-7656cf8794-k3m9r.dev -o json\n  meshctl verify helloworld.dev "
              "--save-bundle ./ticket-123 && meshctl verify --from-bundle ./ticket-123");
  set_action(sub, ctx, f, run_verify);
}

} // namespace meshctl::cmd

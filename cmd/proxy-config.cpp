// meshctl proxy-config listener|endpoints|eds|clusters: istioctl's proxy-config tables, read from a
// saved admin dump (-f FILE, "-" = stdin) or, once the live source exists, from a pod.

#include "context.hpp"
#include "envoy/config_dump.hpp"
#include "envoy/dump_source.hpp"
#include "envoy/json_reader.hpp"
#include "envoy/proto_json.hpp"
#include "envoy/summary.hpp"

#include <cstdio>
#include <memory>

namespace meshctl::cmd {

namespace {

constexpr const char *k_listener_path = "config_dump?mask=dynamic_listeners,static_listeners";
constexpr const char *k_eds_path = "config_dump?include_eds=true";
constexpr const char *k_cluster_path = "config_dump?mask=dynamic_active_clusters,static_clusters";
constexpr const char *k_clusters_status_path = "clusters?format=json";

struct Target {
  std::string pod; // POD[.NAMESPACE]
  std::string file;
};

struct Args {
  Target target;
  std::string address;
  int port = 0;
  std::string type;
  bool verbose = true;
  std::string cluster;
  std::string status;
  std::string fqdn;
  std::string subset;
  std::string direction;
};

// Exactly one of POD and -f, as istioctl requires. A pod needs the live (exec) source, which is not
// built yet: say so and show the equivalent file workflow.
Result<std::unique_ptr<envoy::DumpSource>> open_source(const std::string &verb, const Target &t,
                                                       const std::string &admin_path) {
  if (t.pod.empty() == t.file.empty()) {
    return usage_error("proxy-config " + verb + " needs a pod (POD[.NAMESPACE]) or -f FILE",
                       "e.g. meshctl proxy-config " + verb + " -f dump.json");
  }
  if (!t.file.empty()) {
    return std::unique_ptr<envoy::DumpSource>(std::make_unique<envoy::FileDumpSource>(t.file));
  }
  const auto dot = t.pod.find('.');
  const std::string pod = t.pod.substr(0, dot);
  const std::string ns = dot == std::string::npos ? "default" : t.pod.substr(dot + 1);
  return usage_error(
      "proxy-config " + verb + " " + t.pod + ": reading a live pod is not implemented yet",
      "save the proxy's admin output and pass it with -f: kubectl exec " + pod + " -n " + ns +
          " -c istio-proxy -- pilot-agent request GET '" + admin_path + "' > dump.json");
}

Result<envoy::DumpBytes> fetch(const std::string &verb, const Target &t, const std::string &path) {
  auto source = open_source(verb, t, path);
  if (!source) {
    return tl::make_unexpected(source.error());
  }
  return (*source)->get(path);
}

void print(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
}

const envoy::TableSink k_stdout = [](std::string_view chunk) { print(chunk); };

bool structured(OutputFormat f) {
  return f == OutputFormat::k_json || f == OutputFormat::k_yaml;
}

Result<ExitCode> print_messages(OutputFormat format, const std::vector<std::string_view> &raw) {
  std::string json = envoy::protojson_array(raw);
  print(format == OutputFormat::k_yaml ? envoy::json_to_yaml(json) : json);
  return ExitCode::k_ok;
}

template <class F> Result<ExitCode> guarded(F &&f) {
  try {
    return f();
  } catch (const envoy::JsonError &e) {
    return fail(std::string("cannot render the dump: ") + e.what());
  } catch (const std::exception &e) { // nlohmann::json errors
    return fail(std::string("cannot render the dump: ") + e.what());
  }
}

Result<ExitCode> run_listener(const Context &ctx, const Args &a) {
  auto dump = fetch("listener", a.target, k_listener_path);
  if (!dump) {
    return tl::make_unexpected(dump.error());
  }
  const envoy::ListenerFilter filter{a.address, static_cast<std::uint32_t>(a.port), a.type};
  const bool raw = structured(ctx.global.output);
  auto listeners = envoy::read_listeners(*dump, filter, {.keep_raw = raw});
  if (!listeners) {
    return tl::make_unexpected(listeners.error());
  }
  if (raw) {
    std::vector<std::string_view> messages;
    for (const auto &l : *listeners) {
      if (l.state == envoy::ConfigState::k_active || l.state == envoy::ConfigState::k_static) {
        messages.emplace_back(l.raw);
      }
    }
    return guarded([&] { return print_messages(ctx.global.output, messages); });
  }
  envoy::listener_summary(*listeners, {.verbose = a.verbose}, k_stdout);
  return ExitCode::k_ok;
}

Result<ExitCode> run_clusters(const Context &ctx, const Args &a) {
  auto dump = fetch("clusters", a.target, k_cluster_path);
  if (!dump) {
    return tl::make_unexpected(dump.error());
  }
  const bool raw = structured(ctx.global.output);
  auto clusters = envoy::read_clusters(*dump, {.keep_raw = raw});
  if (!clusters) {
    return tl::make_unexpected(clusters.error());
  }
  const auto selected =
      envoy::select_clusters(std::move(*clusters), {a.fqdn, a.port, a.subset, a.direction});
  if (raw) {
    std::vector<std::string_view> messages;
    for (const auto &c : selected) {
      messages.emplace_back(c.raw);
    }
    return guarded([&] { return print_messages(ctx.global.output, messages); });
  }
  envoy::cluster_summary(selected, {}, k_stdout);
  return ExitCode::k_ok;
}

envoy::EndpointFilter endpoint_filter(const Args &a) {
  return {a.address, static_cast<std::uint32_t>(a.port), a.cluster, a.status};
}

Result<ExitCode> run_eds(const Context &ctx, const Args &a) {
  auto dump = fetch("eds", a.target, k_eds_path);
  if (!dump) {
    return tl::make_unexpected(dump.error());
  }
  const bool raw = structured(ctx.global.output);
  auto configs = envoy::read_endpoint_configs(*dump, {.keep_raw = raw});
  if (!configs) {
    return tl::make_unexpected(configs.error());
  }
  const auto selected = envoy::select_endpoint_configs(std::move(*configs), endpoint_filter(a));
  if (raw) {
    return guarded([&] {
      std::vector<std::string> filtered;
      for (const auto &cla : selected) {
        filtered.push_back(envoy::keep_lb_endpoints(cla));
      }
      return print_messages(ctx.global.output,
                            std::vector<std::string_view>(filtered.begin(), filtered.end()));
    });
  }
  envoy::eds_summary(selected, {.wide = ctx.global.output == OutputFormat::k_wide}, k_stdout);
  return ExitCode::k_ok;
}

Result<ExitCode> run_endpoints(const Context &ctx, const Args &a) {
  auto dump = fetch("endpoints", a.target, k_clusters_status_path);
  if (!dump) {
    return tl::make_unexpected(dump.error());
  }
  const bool raw = structured(ctx.global.output);
  auto statuses = envoy::read_cluster_statuses(*dump, {.keep_raw = raw});
  if (!statuses) {
    return tl::make_unexpected(statuses.error());
  }
  const auto filter = endpoint_filter(a);
  if (raw) {
    const auto selected = envoy::select_cluster_statuses(*statuses, filter);
    std::vector<std::string_view> messages;
    for (const auto &c : selected) {
      messages.emplace_back(c.raw);
    }
    return guarded([&] { return print_messages(ctx.global.output, messages); });
  }
  envoy::endpoints_summary(*statuses, filter, {.wide = ctx.global.output == OutputFormat::k_wide},
                           k_stdout);
  return ExitCode::k_ok;
}

void add_target(CLI::App *sub, Args &a, const std::string &admin_path) {
  sub->add_option("pod", a.target.pod, "POD[.NAMESPACE] whose Envoy to read (not yet available)");
  sub->add_option("-f,--file", a.target.file,
                  "Envoy admin output saved to a file (\"-\" = stdin), e.g. from `pilot-agent "
                  "request GET '" +
                      admin_path + "'`");
}

void add_endpoint_filters(CLI::App *sub, Args &a) {
  sub->add_option("--address", a.address, "Filter endpoints by address field");
  sub->add_option("--port", a.port, "Filter endpoints by Port field")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--cluster", a.cluster, "Filter endpoints by cluster name field");
  sub->add_option("--status", a.status, "Filter endpoints by status field");
}

} // namespace

void register_proxy_config(CLI::App &app, Context &ctx) {
  auto args = std::make_shared<Args>();
  auto *pc = app.add_subcommand(
      "proxy-config", "Show an Envoy's listeners, endpoints and clusters (istioctl proxy-config)");
  pc->alias("pc");
  pc->require_subcommand(1);
  pc->footer("Tables are byte-identical to istioctl's; -o json|yaml prints the matching objects, "
             "-o wide adds LOCALITY and PRIORITY to endpoints and eds.");

  auto *listener = pc->add_subcommand("listener", "Listeners: ADDRESSES PORT MATCH DESTINATION");
  listener->alias("listeners");
  listener->alias("l");
  add_target(listener, *args, k_listener_path);
  listener->add_option("--address", args->address, "Filter listeners by address field");
  listener->add_option("--port", args->port, "Filter listeners by Port field")
      ->check(CLI::NonNegativeNumber);
  listener->add_option("--type", args->type, "Filter listeners by type field (HTTP, TCP, ...)");
  listener->add_flag(
      "--verbose", args->verbose,
      "Show MATCH and DESTINATION per filter chain (default; --verbose=false: TYPE)");
  listener->callback(
      [&ctx, args] { ctx.action = [&ctx, args] { return run_listener(ctx, *args); }; });

  auto *endpoints = pc->add_subcommand(
      "endpoints", "Endpoints from /clusters: ENDPOINT STATUS OUTLIER CHECK CLUSTER");
  endpoints->alias("endpoint");
  endpoints->alias("ep");
  add_target(endpoints, *args, k_clusters_status_path);
  add_endpoint_filters(endpoints, *args);
  endpoints->callback(
      [&ctx, args] { ctx.action = [&ctx, args] { return run_endpoints(ctx, *args); }; });

  auto *eds =
      pc->add_subcommand("eds", "Endpoints from the EDS config: NAME STATUS LOCALITY CLUSTER");
  add_target(eds, *args, k_eds_path);
  add_endpoint_filters(eds, *args);
  eds->callback([&ctx, args] { ctx.action = [&ctx, args] { return run_eds(ctx, *args); }; });

  auto *clusters = pc->add_subcommand(
      "clusters", "Clusters: SERVICE FQDN PORT SUBSET DIRECTION TYPE DESTINATION RULE");
  clusters->alias("cluster");
  clusters->alias("c");
  add_target(clusters, *args, k_cluster_path);
  clusters->add_option("--fqdn", args->fqdn, "Filter clusters by substring of Service FQDN field");
  clusters->add_option("--direction", args->direction, "Filter clusters by Direction field");
  clusters->add_option("--subset", args->subset, "Filter clusters by substring of Subset field");
  clusters->add_option("--port", args->port, "Filter clusters by Port field")
      ->check(CLI::NonNegativeNumber);
  clusters->callback(
      [&ctx, args] { ctx.action = [&ctx, args] { return run_clusters(ctx, *args); }; });
}

} // namespace meshctl::cmd

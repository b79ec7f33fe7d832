// meshctl proxy-config listener|endpoints|eds|clusters: istioctl's proxy-config tables, read from a
// saved admin dump (-f FILE, "-" = stdin) or from a live pod (exec `pilot-agent request GET`).

#include "common.hpp"
#include "config/config.hpp"
#include "config/kubeconfig.hpp"
#include "context.hpp"
#include "core/shown.hpp"
#include "core/try.hpp"
#include "envoy/config_dump.hpp"
#include "envoy/dump_source.hpp"
#include "envoy/json_reader.hpp"
#include "envoy/pod_source.hpp"
#include "envoy/proto_json.hpp"
#include "envoy/summary.hpp"
#include "kube/client.hpp"
#include "mesh/join_live.hpp"
#include "mesh/session.hpp"

#include <cstdio>
#include <memory>

namespace meshctl::cmd {

namespace {

const std::string k_listener_path(envoy::k_listeners_path);
const std::string k_eds_path(envoy::k_eds_path);
const std::string k_cluster_path(envoy::k_clusters_config_path);
const std::string k_clusters_status_path(envoy::k_cluster_status_path);

struct Target {
  std::string pod;        // POD[.NAMESPACE]
  std::string namespace_; // -n: the pod's namespace when POD names none
  std::string file;
  std::string context; // meshctl cluster name or kubeconfig context; "" = current context
};

// A pod source that owns the client it execs through.
class LivePodSource final : public envoy::DumpSource {
public:
  LivePodSource(std::unique_ptr<kube::Client> client, std::string ns, std::string pod,
                std::chrono::milliseconds timeout)
      : m_client(std::move(client)), m_source(*m_client, std::move(ns), std::move(pod), timeout) {}
  Result<envoy::DumpBytes> get(const std::string& admin_path) override {
    return m_source.get(admin_path);
  }
  [[nodiscard]] std::string describe() const override { return m_source.describe(); }

private:
  std::unique_ptr<kube::Client> m_client;
  envoy::PodDumpSource m_source;
};

// --context names a meshctl cluster (its context) or a kubeconfig context directly.
Result<std::unique_ptr<envoy::DumpSource>> open_pod(const GlobalOptions& global, const Target& t) {
  TRY_ASSIGN(const auto cfg, config::load_config(global.config_file));
  TRY_ASSIGN(const auto kubeconfig, config::load_kubeconfig(global.kubeconfig));
  std::string context = t.context;
  if (const auto* c = cfg.find(t.context); c != nullptr && !t.context.empty()) {
    context = c->context;
  }
  TRY_ASSIGN(const auto resolved, kubeconfig.resolve(context));
  const auto [pod, named] = envoy::split_pod_name(t.pod, "");
  TRY_ASSIGN(const auto ns,
             mesh::choose_namespace(t.pod, named, t.namespace_, resolved.namespace_));
  const auto opts = mesh::client_options(global);
  TRY_ASSIGN(auto client, kube::Client::connect(resolved, opts));
  // --timeout bounds the exec too (a large dump may need more: the error says to raise it).
  return std::unique_ptr<envoy::DumpSource>(
      std::make_unique<LivePodSource>(std::move(client), ns, pod, global.timeout));
}

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

// Exactly one of POD and -f, as istioctl requires.
Result<std::unique_ptr<envoy::DumpSource>> open_source(const GlobalOptions& global,
                                                       const std::string& verb, const Target& t) {
  if (t.pod.empty() && t.file.empty()) {
    return usage_error("proxy-config " + verb + " needs a pod (POD[.NAMESPACE]) or -f FILE",
                       "e.g. meshctl proxy-config " + verb +
                           " sleep-7656cf8794-k3m9r.dev, or -f "
                           "dump.json");
  }
  if (!t.pod.empty() && !t.file.empty()) {
    return usage_error("proxy-config " + verb + " got both a pod (" + shown_quoted(t.pod) +
                           ") and -f " + shown(t.file) + "; it reads one of them",
                       "drop the pod to read the file, or -f to read the pod's Envoy");
  }
  if (!t.file.empty()) {
    if (!t.context.empty() || !t.namespace_.empty()) {
      return usage_error(std::string(t.context.empty() ? "-n" : "--context") +
                         " applies to a pod, not to -f " + shown(t.file));
    }
    return std::unique_ptr<envoy::DumpSource>(std::make_unique<envoy::FileDumpSource>(t.file));
  }
  return open_pod(global, t);
}

Result<envoy::DumpBytes> fetch(const Context& ctx, const std::string& verb, const Target& t,
                               const std::string& path) {
  TRY_ASSIGN(const auto source, open_source(ctx.global, verb, t));
  return source->get(path);
}

void print(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
}

const envoy::TableSink k_stdout = [](std::string_view chunk) { print(chunk); };

bool structured(OutputFormat f) {
  return f == OutputFormat::k_json || f == OutputFormat::k_yaml;
}

Result<ExitCode> print_messages(OutputFormat format, const std::vector<std::string_view>& raw) {
  std::string json = envoy::protojson_array(raw);
  print(format == OutputFormat::k_yaml ? envoy::json_to_yaml(json) : json);
  return ExitCode::k_ok;
}

template <class F> Result<ExitCode> guarded(F&& f) {
  try {
    return f();
  } catch (const envoy::JsonError& e) {
    return fail("cannot render the dump: " + shown(e.what(), k_message_max));
  } catch (const std::exception& e) { // nlohmann::json errors
    return fail("cannot render the dump: " + shown(e.what(), k_message_max));
  }
}

// The raw messages of the `items` that `keep` accepts, as -o json|yaml asks.
template <class Items, class Keep>
Result<ExitCode> print_raw(OutputFormat format, const Items& items, Keep keep) {
  std::vector<std::string_view> messages;
  for (const auto& item : items) {
    if (keep(item)) {
      messages.emplace_back(item.raw);
    }
  }
  return guarded([&] { return print_messages(format, messages); });
}

Result<ExitCode> run_listener(const Context& ctx, const Args& a) {
  TRY(check_no_wide(ctx, "proxy-config listener", "istioctl's listener table has no wide form"));
  TRY_ASSIGN(const auto dump, fetch(ctx, "listener", a.target, k_listener_path));
  const envoy::ListenerFilter filter{a.address, static_cast<std::uint32_t>(a.port), a.type};
  const bool raw = structured(ctx.global.output);
  TRY_ASSIGN(auto listeners, envoy::read_listeners(dump, filter, {.keep_raw = raw}));
  if (raw) {
    return print_raw(ctx.global.output, listeners, [](const auto& l) {
      return l.state == envoy::ConfigState::k_active || l.state == envoy::ConfigState::k_static;
    });
  }
  envoy::listener_summary(listeners, {.verbose = a.verbose}, k_stdout);
  return ExitCode::k_ok;
}

Result<ExitCode> run_clusters(const Context& ctx, const Args& a) {
  TRY(check_no_wide(ctx, "proxy-config clusters", "istioctl's cluster table has no wide form"));
  TRY_ASSIGN(const auto dump, fetch(ctx, "clusters", a.target, k_cluster_path));
  const bool raw = structured(ctx.global.output);
  TRY_ASSIGN(auto clusters, envoy::read_clusters(dump, {.keep_raw = raw}));
  const auto selected =
      envoy::select_clusters(std::move(clusters), {a.fqdn, a.port, a.subset, a.direction});
  if (raw) {
    return print_raw(ctx.global.output, selected, [](const auto&) { return true; });
  }
  envoy::cluster_summary(selected, {}, k_stdout);
  return ExitCode::k_ok;
}

envoy::EndpointFilter endpoint_filter(const Args& a) {
  return {a.address, static_cast<std::uint32_t>(a.port), a.cluster, a.status};
}

Result<ExitCode> run_eds(const Context& ctx, const Args& a) {
  TRY_ASSIGN(const auto dump, fetch(ctx, "eds", a.target, k_eds_path));
  const bool raw = structured(ctx.global.output);
  TRY_ASSIGN(auto configs, envoy::read_endpoint_configs(dump, {.keep_raw = raw}));
  const auto selected = envoy::select_endpoint_configs(std::move(configs), endpoint_filter(a));
  if (raw) {
    return guarded([&] {
      std::vector<std::string> filtered;
      filtered.reserve(selected.size());
      for (const auto& cla : selected) {
        filtered.push_back(envoy::keep_lb_endpoints(cla));
      }
      return print_messages(ctx.global.output,
                            std::vector<std::string_view>(filtered.begin(), filtered.end()));
    });
  }
  envoy::eds_summary(selected, {.wide = ctx.global.output == OutputFormat::k_wide}, k_stdout);
  return ExitCode::k_ok;
}

Result<ExitCode> run_endpoints(const Context& ctx, const Args& a) {
  TRY_ASSIGN(const auto dump, fetch(ctx, "endpoints", a.target, k_clusters_status_path));
  const bool raw = structured(ctx.global.output);
  TRY_ASSIGN(auto statuses, envoy::read_cluster_statuses(dump, {.keep_raw = raw}));
  const auto filter = endpoint_filter(a);
  if (raw) {
    return print_raw(ctx.global.output, envoy::select_cluster_statuses(statuses, filter),
                     [](const auto&) { return true; });
  }
  envoy::endpoints_summary(statuses, filter, {.wide = ctx.global.output == OutputFormat::k_wide},
                           k_stdout);
  return ExitCode::k_ok;
}

void add_target(CLI::App* sub, Args& a, const std::string& admin_path) {
  sub->add_option("pod", a.target.pod,
                  "POD[.NAMESPACE] whose Envoy to read (namespace: the context's)");
  sub->add_option("-n,--namespace", a.target.namespace_,
                  "Namespace of the pod when POD names none (default: the context's)");
  sub->add_option("--context", a.target.context,
                  "Cluster (meshctl.yaml name or kubeconfig context) of the pod");
  sub->add_option("-f,--file", a.target.file,
                  "Envoy admin output saved to a file (\"-\" = stdin), e.g. from `pilot-agent "
                  "request GET '" +
                      admin_path + "'`");
}

void add_endpoint_filters(CLI::App* sub, Args& a) {
  sub->add_option("--address", a.address, "Filter endpoints by address field");
  sub->add_option("--port", a.port, "Filter endpoints by Port field")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--cluster", a.cluster, "Filter endpoints by cluster name field");
  sub->add_option("--status", a.status, "Filter endpoints by status field");
}

} // namespace

void register_proxy_config(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<Args>();
  auto* pc = app.add_subcommand(
      "proxy-config", "Show an Envoy's listeners, endpoints and clusters (istioctl proxy-config)");
  pc->alias("pc");
  pc->require_subcommand(1);
  pc->footer("Tables are byte-identical to istioctl's; -o json|yaml prints the matching objects, "
             "-o wide adds LOCALITY and PRIORITY to endpoints and eds.");

  auto* listener = pc->add_subcommand("listener", "Listeners: ADDRESSES PORT MATCH DESTINATION");
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

  auto* endpoints = pc->add_subcommand(
      "endpoints", "Endpoints from /clusters: ENDPOINT STATUS OUTLIER CHECK CLUSTER");
  endpoints->alias("endpoint");
  endpoints->alias("ep");
  add_target(endpoints, *args, k_clusters_status_path);
  add_endpoint_filters(endpoints, *args);
  endpoints->callback(
      [&ctx, args] { ctx.action = [&ctx, args] { return run_endpoints(ctx, *args); }; });

  auto* eds =
      pc->add_subcommand("eds", "Endpoints from the EDS config: NAME STATUS LOCALITY CLUSTER");
  add_target(eds, *args, k_eds_path);
  add_endpoint_filters(eds, *args);
  eds->callback([&ctx, args] { ctx.action = [&ctx, args] { return run_eds(ctx, *args); }; });

  auto* clusters = pc->add_subcommand(
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

  // istioctl's other proxy-config subcommands: refused with what meshctl has (exit 2), rather than
  // CLI11's "A subcommand is required". Hidden from the help.
  const std::vector<std::vector<std::string>> k_istioctl_only = {{"route", "routes", "r"},
                                                                 {"secret", "secrets"},
                                                                 {"bootstrap"},
                                                                 {"all", "a"},
                                                                 {"log"},
                                                                 {"ecds"},
                                                                 {"rootca-compare"}};
  for (const auto& names : k_istioctl_only) {
    auto* other = pc->add_subcommand(names.front(), "");
    other->group("");
    for (std::size_t i = 1; i < names.size(); ++i) {
      other->alias(names[i]);
    }
    other->prefix_command(); // what follows is istioctl's (args.cpp drops it)
    const std::string word = names.front();
    other->callback([&ctx, word] {
      ctx.action = [word]() -> Result<ExitCode> {
        return usage_error("meshctl proxy-config does not support \"" + word +
                               "\": it has listener, endpoints, eds and clusters",
                           "for " + word + " use istioctl proxy-config " + word +
                               " POD[.NAMESPACE]");
      };
    });
  }
}

} // namespace meshctl::cmd

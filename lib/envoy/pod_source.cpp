#include "envoy/pod_source.hpp"

#include "core/log.hpp"

#include <algorithm>

namespace meshctl::envoy {

namespace {

// Envoy dumps of big gateways exceed exec's 64 MB default; the client's own response bound is the
// same order of magnitude, so a dump this size is still one that fits in memory.
constexpr std::size_t k_max_dump = std::size_t{1} << 30U;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

} // namespace

std::pair<std::string, std::string> split_pod_name(std::string_view text,
                                                   std::string_view default_namespace) {
  const auto dot = text.rfind('.');
  if (dot == std::string_view::npos) {
    return {std::string(text), std::string(default_namespace)};
  }
  return {std::string(text.substr(0, dot)), std::string(text.substr(dot + 1))};
}

PodDumpSource::PodDumpSource(kube::Client& client, std::string namespace_, std::string pod,
                             std::chrono::milliseconds timeout)
    : m_client(client), m_namespace(std::move(namespace_)), m_pod(std::move(pod)),
      m_timeout(timeout) {}

std::string PodDumpSource::describe() const {
  return "pod " + m_pod + "." + m_namespace + " in " + m_client.context().name;
}

Result<DumpBytes> PodDumpSource::get(const std::string& admin_path) {
  kube::ExecRequest req;
  req.namespace_ = m_namespace;
  req.pod = m_pod;
  req.container = std::string(k_proxy_container);
  req.command = {"pilot-agent", "request", "GET", admin_path};
  req.timeout = m_timeout;
  req.max_output = k_max_dump;
  const std::string what = "reading " + admin_path + " of " + describe();
  log::info("{} (exec pilot-agent request GET in container {})", what, k_proxy_container);
  auto r = m_client.exec(req);
  if (!r) {
    Error e = r.error();
    if (r.error().not_found()) {
      e = Error(ExitCode::k_failed,
                "pod " + m_pod + " not found in namespace " + m_namespace + " of " +
                    m_client.context().name,
                "list the pods: kubectl --context " + m_client.context().name + " get pods -n " +
                    m_namespace);
    } else if (!r.error().forbidden() && !r.error().unreachable()) {
      e.with_hint("is " + m_pod +
                  " part of the mesh? Only pods with an istio-proxy container "
                  "(sidecar or gateway) have an Envoy to read");
    }
    return tl::make_unexpected(e.with_context(what));
  }
  if (r->exit_code != 0) {
    std::string err = trim(r->stderr_data.empty() ? r->stdout_data : r->stderr_data);
    if (err.size() > 400) {
      err = err.substr(0, 400) + "…";
    }
    return fail(what + ": pilot-agent exited with " + std::to_string(r->exit_code) +
                    (err.empty() ? "" : ": " + err),
                "is the proxy running? kubectl --context " + m_client.context().name + " -n " +
                    m_namespace + " logs " + m_pod + " -c istio-proxy");
  }
  if (std::all_of(r->stdout_data.begin(), r->stdout_data.end(),
                  [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; })) {
    return fail(what + ": the proxy answered with nothing",
                "the proxy may still be starting; try again in a few seconds");
  }
  return DumpBytes::from_string(std::move(r->stdout_data), describe() + " " + admin_path);
}

} // namespace meshctl::envoy

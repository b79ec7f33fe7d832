// The cloud provider's service controller (cloud-controller-manager's `service` loop): it
// provisions a load balancer for every Service of type LoadBalancer and writes its address into
// status.loadBalancer.ingress through the status subresource; when the Service stops being a
// LoadBalancer it releases it and clears the status. kubesim has no cloud, so `--load-balancer`
// says which one to pretend (load_balancer.hpp has the names and addresses):
//   pending   no controller at all — bare metal without MetalLB, the default: status stays
//             empty, `kubectl get svc` shows EXTERNAL-IP <pending> for ever.
//   ip        one ingress entry {ip, ipMode: VIP} (GCP, Azure, MetalLB; ipMode is what
//             controllers set since Kubernetes 1.29).
//   hostname  one ingress entry {hostname} and no IP (AWS ELB/NLB).
// A Service whose status already holds an ingress (seeded, or written by a test through
// services/status) is left alone, as a controller leaves a provisioned load balancer; only a
// Service that stops being a LoadBalancer loses it.

#include "api_impl.hpp"
#include "fields.hpp"
#include "load_balancer.hpp"

#include <fmt/format.h>

#include <cstdint>

namespace kubesim {

namespace {

std::uint32_t fnv1a(const std::string& s) {
  std::uint32_t h = 2166136261U;
  for (const unsigned char c : s) {
    h ^= c;
    h *= 16777619U;
  }
  return h;
}

constexpr std::string_view k_elb_suffix = ".elb.kubesim.local";

} // namespace

std::string elb_hostname(const std::string& cluster, const std::string& ns,
                         const std::string& name) {
  std::string base = name.substr(0, 32);
  while (!base.empty() && base.back() == '-') {
    base.pop_back();
  }
  return fmt::format("{}-{:08x}{}", base, fnv1a(cluster + "/" + ns + "/" + name), k_elb_suffix);
}

std::optional<std::string> elb_resolve(const std::string& hostname) {
  std::string h = hostname;
  if (!h.empty() && h.back() == '.') {
    h.pop_back(); // a fully qualified name
  }
  if (h.size() <= k_elb_suffix.size() || !h.ends_with(k_elb_suffix)) {
    return std::nullopt;
  }
  const std::uint32_t offset = 1 + fnv1a(h) % 131070U; // 198.18.0.0/15 without its ends
  const std::uint32_t ip = (198U << 24U) + (18U << 16U) + offset;
  return fmt::format("{}.{}.{}.{}", ip >> 24U, (ip >> 16U) & 255U, (ip >> 8U) & 255U, ip & 255U);
}

void Api::Impl::reconcile_load_balancer(const std::string& ns, const std::string& name,
                                        bool was_load_balancer) {
  const std::string& mode = api.m_options.load_balancer;
  if (mode != "ip" && mode != "hostname") {
    return; // no cloud controller
  }
  const json* cur = store.get("services", ns, name);
  if (cur == nullptr) {
    return;
  }
  const json spec = cur->value("spec", json::object());
  const json ingress = cur->value("status", json::object())
                           .value("loadBalancer", json::object())
                           .value("ingress", json::array());
  const bool is_lb = spec.value("type", "ClusterIP") == "LoadBalancer";
  json next = *cur;
  if (is_lb && ingress.empty()) {
    const std::string host = elb_hostname(api.m_options.cluster_name, ns, name);
    json entry = mode == "hostname"
                     ? json{{"hostname", host}}
                     : json{{"ip", elb_resolve(host).value_or("")}, {"ipMode", "VIP"}};
    next["status"]["loadBalancer"] = {{"ingress", json::array({entry})}};
  } else if (!is_lb && was_load_balancer && !ingress.empty()) {
    next["status"]["loadBalancer"] = json::object(); // released
  } else {
    return;
  }
  record_update(next, *cur, "cloud-controller-manager", json(), "v1", "status");
  store.put("services", next, false);
}

} // namespace kubesim

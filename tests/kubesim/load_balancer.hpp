#pragma once
// kubesim's cloud load balancers: the names and addresses its service controller hands out
// (loadbalancer_controller.cpp, flag --load-balancer) and the one resolver that knows them, which
// the istiod model uses as real istiod uses DNS for hostname gateways (RESOLVE_HOSTNAME_GATEWAYS).
//
// Both are pure functions of their input, so two kubesims agree without talking to each other:
//   hostname  <name, at most 32 characters>-<8 hex digits>.elb.kubesim.local, the hex digits the
//             FNV-1a hash of "<cluster>/<namespace>/<name>" (AWS's ELB names look alike:
//             <name>-<hash>.<region>.elb.amazonaws.com);
//   address   any name under .elb.kubesim.local resolves to one IPv4 address in 198.18.0.0/15
//             (RFC 2544, never routed): 198.18.0.0 + 1 + FNV-1a(name) mod 131070.
// In `ip` mode a Service gets the address its hostname would resolve to.

#include <optional>
#include <string>

namespace kubesim {

/// The load balancer name kubesim's cloud gives Service ns/name of `cluster`.
std::string elb_hostname(const std::string& cluster, const std::string& ns,
                         const std::string& name);

/// The address a name under .elb.kubesim.local resolves to; nullopt for any other name.
std::optional<std::string> elb_resolve(const std::string& hostname);

} // namespace kubesim

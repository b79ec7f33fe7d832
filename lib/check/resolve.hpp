#pragma once
// Hostname lookups for verify: a gateway published as a name (an AWS-style LoadBalancer hostname)
// is resolved where meshctl runs, only to tell the user what it resolves to here. istiod does its
// own resolution (pilot/pkg/model/network.go, RESOLVE_HOSTNAME_GATEWAYS, on by default) through
// the DNS servers of its pod and sends proxies the IPs, so a name that does not resolve here may
// still resolve in the cluster — verify says so instead of failing.

#include "check/facts.hpp"

#include <chrono>
#include <string>

namespace meshctl::check {

/// Whether `address` is an IPv4 or IPv6 literal (Istio's IsValidIPAddress).
bool is_ip_literal(const std::string& address);

/// getaddrinfo(name) for TCP, IPv4 and IPv6, sorted and without duplicates; gives up after
/// `timeout` (the lookup thread is left to finish on its own) and says so in `error`.
HostLookup lookup_host(const std::string& name, std::chrono::milliseconds timeout);

} // namespace meshctl::check

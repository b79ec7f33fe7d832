#pragma once
// What a meshctl.yaml value must look like: IP addresses, DNS names, label values, SPIFFE trust
// domains, the host of an API server URL. Pure checks, as Istio and Kubernetes validate them.

#include <optional>
#include <string>
#include <string_view>

namespace meshctl::config::detail {

/// An IPv4 or IPv6 address.
bool is_ip_address(const std::string& s);
/// A DNS name as Istio's ValidateFQDN takes a gateway hostname.
bool is_dns_name(std::string s);
/// A Kubernetes label value.
bool is_label_value(std::string_view s);
/// A SPIFFE trust domain: lower-case letters, digits, '.', '-', '_'.
bool is_trust_domain(std::string_view s);
/// The host part of an http(s) URL, or nullopt when `url` is not one.
std::optional<std::string> url_host(const std::string& url);

} // namespace meshctl::config::detail

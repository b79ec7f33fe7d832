#pragma once
// What an API server URL (a kubeconfig's or a remote secret's `server`) says about where it leads:
// its host, and whether that host is this machine. A loopback server works for whoever wrote the
// kubeconfig but, handed to another cluster's istiod, points that istiod at itself.

#include <string>

namespace meshctl::kube {

/// Host of a URL: "https://a.b:6443/x" -> "a.b", "https://[::1]:6443" -> "::1". User info,
/// port, path, query and fragment are dropped; a string without "://" is read as "host[:port]".
std::string url_host(const std::string& url);

/// Whether a URL's host is 127.0.0.0/8, ::1, localhost or a name under .localhost.
bool is_loopback_url(const std::string& url);

} // namespace meshctl::kube

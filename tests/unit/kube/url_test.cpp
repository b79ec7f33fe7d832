// The host of an API server URL and whether it is this machine: what decides that a remote
// secret's server would point another cluster's istiod at itself.

#include "kube/url.hpp"

#include <catch2/catch.hpp>

using namespace meshctl::kube;

TEST_CASE("url_host takes the host out of an API server URL", "[kube][url]") {
  CHECK(url_host("https://a.b:6443/x") == "a.b");
  CHECK(url_host("https://a.b") == "a.b");
  CHECK(url_host("https://10.18.10.10:6443") == "10.18.10.10");
  CHECK(url_host("https://[::1]:6443") == "::1");
  CHECK(url_host("https://[fd00::5]/api") == "fd00::5");
  CHECK(url_host("https://user:pw@host.example:443/") == "host.example");
  CHECK(url_host("https://host.example?x=1") == "host.example");
  CHECK(url_host("host.example:6443") == "host.example");
}

TEST_CASE("is_loopback_url knows 127/8, ::1 and localhost, and nothing else", "[kube][url]") {
  for (const auto* url : {"https://127.0.0.1:6443", "https://127.3.2.1", "https://[::1]:6443",
                          "https://localhost:6443", "https://api.localhost", "http://localhost"}) {
    INFO(url);
    CHECK(is_loopback_url(url));
  }
  for (const auto* url : {"https://10.18.10.10:6443", "https://128.0.0.1", "https://[::2]:6443",
                          "https://localhost.example.com", "https://mylocalhost", ""}) {
    INFO(url);
    CHECK_FALSE(is_loopback_url(url));
  }
}

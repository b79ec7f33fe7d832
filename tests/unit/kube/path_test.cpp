#include "kube/path.hpp"
#include "kube/proxy.hpp"
#include "kube/status.hpp"
#include "support/testing.hpp"

using namespace meshctl::kube;

TEST_CASE("resource paths put the core group under /api and others under /apis", "[kube]") {
  CHECK(resource_path({"", "v1", "services", "dev", "helloworld", ""}) ==
        "/api/v1/namespaces/dev/services/helloworld");
  CHECK(resource_path({"", "v1", "namespaces", "", "istio-system", ""}) ==
        "/api/v1/namespaces/istio-system");
  CHECK(resource_path({"", "v1", "nodes", "", "", ""}) == "/api/v1/nodes");
  CHECK(resource_path({"networking.istio.io", "v1", "gateways", "istio-system",
                       "cross-network-gateway", ""}) ==
        "/apis/networking.istio.io/v1/namespaces/istio-system/gateways/cross-network-gateway");
  CHECK(resource_path({"apps", "v1", "deployments", "", "", ""}) == "/apis/apps/v1/deployments");
  CHECK(resource_path({"apps", "v1", "deployments", "istio-system", "istiod", "status"}) ==
        "/apis/apps/v1/namespaces/istio-system/deployments/istiod/status");
  // A subresource without a name would address the collection: it is dropped, not misplaced.
  CHECK(resource_path({"", "v1", "pods", "dev", "", "exec"}) == "/api/v1/namespaces/dev/pods");
}

TEST_CASE("names are escaped so they can never add a path level", "[kube]") {
  CHECK(resource_path({"", "v1", "secrets", "ns", "a/b", ""}) ==
        "/api/v1/namespaces/ns/secrets/a%2Fb");
  CHECK(resource_path({"", "v1", "secrets", "ns", "..", ""}) ==
        "/api/v1/namespaces/ns/secrets/%2E%2E");
  CHECK(escape_path_segment("a b?c#d%") == "a%20b%3Fc%23d%25");
  CHECK(escape_path_segment("istiod-7d4b9:15014") == "istiod-7d4b9:15014");
  CHECK(escape_path_segment("ünï") == "%C3%BCn%C3%AF");
}

TEST_CASE("query components escape everything but unreserved characters", "[kube]") {
  CHECK(escape_query_component("app=helloworld,version in (v1,v2)") ==
        "app%3Dhelloworld%2Cversion%20in%20%28v1%2Cv2%29");
  CHECK(escape_query_component("a+b&c") == "a%2Bb%26c");
  CHECK(escape_query_component("Az09-._~") == "Az09-._~");
  CHECK(encode_query({{"labelSelector", "istio=eastwestgateway"},
                      {"limit", "500"},
                      {"command", "pilot-agent"},
                      {"command", "request"}}) ==
        "labelSelector=istio%3Deastwestgateway&limit=500&command=pilot-agent&command=request");
  CHECK(encode_query({}).empty());
}

TEST_CASE("pod proxy and exec paths", "[kube]") {
  CHECK(pod_proxy_path("istio-system", "istiod-5f4d9c7b8-x2x7q", 15014, "/debug/clusterz") ==
        "/api/v1/namespaces/istio-system/pods/istiod-5f4d9c7b8-x2x7q:15014/proxy/debug/clusterz");
  CHECK(pod_proxy_path("ns", "p", 8080, "a b/c") ==
        "/api/v1/namespaces/ns/pods/p:8080/proxy/a%20b/c");
  CHECK(pod_proxy_path("ns", "p", 8080, "") == "/api/v1/namespaces/ns/pods/p:8080/proxy/");
  CHECK(pod_exec_path("dev", "sleep-1") == "/api/v1/namespaces/dev/pods/sleep-1/exec");
}

TEST_CASE("apiVersion splits into group and version and joins back", "[kube]") {
  CHECK(split_api_version("networking.istio.io/v1") ==
        std::pair<std::string, std::string>{"networking.istio.io", "v1"});
  CHECK(split_api_version("v1") == std::pair<std::string, std::string>{"", "v1"});
  CHECK(join_api_version("", "v1") == "v1");
  CHECK(join_api_version("apps", "v1") == "apps/v1");
  ResourceRef ref{"networking.istio.io", "v1", "gateways", "istio-system", "x", ""};
  CHECK(ref.qualified_resource() == "gateways.networking.istio.io");
  CHECK(ref.describe() == "istio-system/x");
  CHECK(ResourceRef{"", "v1", "services", "dev", "", ""}.describe() == "services in dev");
}

TEST_CASE("requests are described with their Kubernetes verb and resource", "[kube]") {
  auto describe = [](std::string method, std::string path) {
    RequestInfo info;
    info.method = std::move(method);
    info.path = std::move(path);
    describe_request(info);
    return info;
  };
  auto a = describe("GET", "/api/v1/namespaces/dev/services/helloworld");
  CHECK(a.verb == "get");
  CHECK(a.resource == "services");
  CHECK(a.namespace_ == "dev");
  CHECK(a.name == "helloworld");
  auto b = describe("GET", "/apis/networking.istio.io/v1/namespaces/istio-system/gateways");
  CHECK(b.verb == "list");
  CHECK(b.resource == "gateways.networking.istio.io");
  CHECK(b.namespace_ == "istio-system");
  auto c = describe("POST", "/api/v1/namespaces/istio-system/secrets");
  CHECK(c.verb == "create");
  CHECK(c.resource == "secrets");
  auto d = describe("GET", "/api/v1/namespaces/dev/pods/sleep-1/exec");
  CHECK(d.resource == "pods/exec");
  CHECK(d.name == "sleep-1");
  auto e = describe("DELETE", "/api/v1/namespaces/dev");
  CHECK(e.verb == "delete");
  CHECK(e.resource == "namespaces");
  CHECK(e.name == "dev");
  CHECK(e.namespace_.empty());
  auto f = describe("PUT", "/api/v1/namespaces/dev/finalize");
  CHECK(f.resource == "namespaces/finalize");
  CHECK(f.verb == "update");
  auto g = describe("PATCH", "/apis/rbac.authorization.k8s.io/v1/clusterroles/reader");
  CHECK(g.verb == "patch");
  CHECK(g.resource == "clusterroles.rbac.authorization.k8s.io");
  CHECK(describe("DELETE", "/api/v1/namespaces/dev/pods").verb == "deletecollection");
  CHECK(describe("GET", "/version").verb.empty());
}

TEST_CASE("NO_PROXY matching follows Go's rules", "[kube]") {
  CHECK(no_proxy_matches("*", "anything.example", 443));
  CHECK(no_proxy_matches("example.com", "example.com", 443));
  CHECK(no_proxy_matches("example.com", "api.example.com", 443));
  CHECK_FALSE(no_proxy_matches("example.com", "notexample.com", 443));
  CHECK(no_proxy_matches(".example.com", "api.example.com", 443));
  CHECK_FALSE(no_proxy_matches(".example.com", "example.com", 443));
  CHECK(no_proxy_matches("*.example.com", "api.example.com", 443));
  CHECK_FALSE(no_proxy_matches("*.example.com", "example.com", 443));
  CHECK(no_proxy_matches(" Example.COM ", "API.example.com", 443));
  CHECK(no_proxy_matches("example.com:6443", "api.example.com", 6443));
  CHECK_FALSE(no_proxy_matches("example.com:6443", "api.example.com", 443));
  CHECK(no_proxy_matches("10.0.0.0/8", "10.1.2.3", 6443));
  CHECK_FALSE(no_proxy_matches("10.0.0.0/8", "11.1.2.3", 6443));
  CHECK_FALSE(no_proxy_matches("10.0.0.0/8", "tenhost", 6443));
  CHECK(no_proxy_matches("192.168.1.10", "192.168.1.10", 6443));
  CHECK(no_proxy_matches("192.168.1.10:6443", "192.168.1.10", 6443));
  CHECK_FALSE(no_proxy_matches("192.168.1.10:443", "192.168.1.10", 6443));
  CHECK(no_proxy_matches("fd00::/8", "fd00::1", 443));
  CHECK(no_proxy_matches("[fd00::1]:443", "fd00::1", 443));
  CHECK_FALSE(no_proxy_matches("fd00::/8", "10.0.0.1", 443));
  CHECK(no_proxy_matches("a.com,,b.com", "b.com", 443));
  CHECK_FALSE(no_proxy_matches("", "b.com", 443));
}

TEST_CASE("the proxy is chosen like client-go chooses it", "[kube]") {
  const ProxyEnvironment env{"http://proxy.corp:3128", "http://plain.corp:3128",
                             "internal.corp,10.0.0.0/8"};
  CHECK(select_proxy("https", "api.cloud.example", 6443, "", env) == "http://proxy.corp:3128");
  CHECK(select_proxy("http", "api.cloud.example", 8080, "", env) == "http://plain.corp:3128");
  CHECK(select_proxy("https", "k8s.internal.corp", 6443, "", env).empty());
  CHECK(select_proxy("https", "10.20.30.40", 6443, "", env).empty());
  // Loopback is never proxied (Go's rule; libcurl would proxy it).
  CHECK(select_proxy("https", "127.0.0.1", 6443, "", env).empty());
  CHECK(select_proxy("https", "::1", 6443, "", env).empty());
  CHECK(select_proxy("https", "localhost", 6443, "", env).empty());
  // The kubeconfig's proxy-url wins over everything, loopback included.
  CHECK(select_proxy("https", "127.0.0.1", 6443, "socks5://jump:1080", env) ==
        "socks5://jump:1080");
  CHECK(select_proxy("https", "k8s.internal.corp", 6443, "jump:3128", env) == "http://jump:3128");
  CHECK(select_proxy("https", "api.cloud.example", 6443, "", ProxyEnvironment{}).empty());
  const ProxyEnvironment bare{"proxy.corp:3128", "", ""};
  CHECK(select_proxy("https", "api.cloud.example", 6443, "", bare) == "http://proxy.corp:3128");
}

#include "kube/status.hpp"
#include "support/testing.hpp"

using namespace meshctl;
using namespace meshctl::kube;

namespace {

RequestInfo request(std::string method, std::string path) {
  RequestInfo info;
  info.context = "wuxi";
  info.server = "https://10.0.0.1:6443";
  info.method = std::move(method);
  info.path = std::move(path);
  describe_request(info);
  info.auth = "token";
  info.has_ca = true;
  return info;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

// Status bodies below are shaped exactly like kube-apiserver's (apimachinery StatusError JSON).

TEST_CASE("NotFound keeps the API message and is branchable", "[kube]") {
  const auto e = error_from_response(
      request("GET", "/api/v1/namespaces/dev/services/helloworld"), 404,
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"services \"helloworld\" not found","reason":"NotFound","details":{"name":"helloworld","kind":"services"},"code":404})");
  CHECK(e.not_found());
  CHECK_FALSE(e.unreachable());
  CHECK(e.reason == "NotFound");
  CHECK(e.error.message() == "services \"helloworld\" not found");
  CHECK(e.error.code() == ExitCode::k_failed);
  CHECK(e.status["details"]["name"] == "helloworld");
  // Converts to a plain Error for callers that only pass it up.
  Result<int> r = tl::make_unexpected(e);
  CHECK(r.error().message() == e.error.message());
}

TEST_CASE("a missing namespace on write says to create it", "[kube]") {
  const auto e = error_from_response(
      request("POST", "/api/v1/namespaces/istio-system/secrets"), 404,
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"namespaces \"istio-system\" not found","reason":"NotFound","details":{"name":"istio-system","kind":"namespaces"},"code":404})");
  CHECK(contains(e.error.hint(), "create it first"));
}

TEST_CASE("a 404 without a Status says the API is not served", "[kube]") {
  const auto e = error_from_response(request("GET", "/apis/networking.istio.io/v1/gateways"), 404,
                                     "404 page not found\n");
  CHECK(e.not_found());
  CHECK(e.reason == "NotFound");
  CHECK(contains(e.error.message(), "404 page not found"));
  CHECK(contains(e.error.hint(), "not be installed"));
  const auto proxied = error_from_response(
      request("GET", "/api/v1/namespaces/istio-system/pods/istiod-1:15014/proxy/debug/nope"), 404,
      "404 page not found\n");
  CHECK(contains(proxied.error.hint(), "the pod answered 404"));
  // The pod itself is gone (istiod restarted between the list and the read): the API server's
  // own NotFound, not the pod's.
  const auto gone = error_from_response(
      request("GET", "/api/v1/namespaces/istio-system/pods/istiod-1:15014/proxy/debug/clusterz"),
      404,
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"istiod-1\" not found","reason":"NotFound","details":{"name":"istiod-1","kind":"pods"},"code":404})");
  CHECK(gone.not_found());
  CHECK(contains(gone.error.message(), "pods \"istiod-1\" not found"));
  CHECK_FALSE(contains(gone.error.hint(), "the pod answered 404"));
}

TEST_CASE("Forbidden carries the RBAC message, the verb and the resource", "[kube]") {
  const auto e = error_from_response(
      request("POST", "/api/v1/namespaces/istio-system/secrets"), 403,
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"secrets is forbidden: User \"system:serviceaccount:istio-system:istio-reader-service-account\" cannot create resource \"secrets\" in API group \"\" in the namespace \"istio-system\"","reason":"Forbidden","details":{"kind":"secrets"},"code":403})");
  CHECK(e.forbidden());
  CHECK(contains(e.error.message(), "cannot create resource \"secrets\""));
  CHECK(contains(e.error.hint(), "may not create secrets in namespace istio-system"));
  CHECK(
      contains(e.error.hint(), "kubectl auth can-i create secrets -n istio-system --context wuxi"));
}

TEST_CASE("Forbidden exec names create on pods/exec", "[kube]") {
  auto info = request("GET", "/api/v1/namespaces/dev/pods/sleep-1/exec");
  info.verb = "create";
  const auto e = error_from_response(
      info, 403,
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"sleep-1\" is forbidden: User \"alice\" cannot create resource \"pods/exec\" in API group \"\" in the namespace \"dev\"","reason":"Forbidden","details":{"name":"sleep-1","kind":"pods"},"code":403})");
  CHECK(contains(e.error.hint(), "may not create pods/exec in namespace dev"));
  CHECK(contains(e.error.hint(), "kubectl auth can-i create pods/exec -n dev"));
}

TEST_CASE("Invalid lists every cause as field: message", "[kube]") {
  const auto e = error_from_response(
      request("POST", "/api/v1/namespaces/dev/services"), 422,
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Service \"helloworld\" is invalid: [spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive, spec.ports[0].name: Required value]","reason":"Invalid","details":{"name":"helloworld","kind":"Service","causes":[{"reason":"FieldValueInvalid","message":"Invalid value: 0: must be between 1 and 65535, inclusive","field":"spec.ports[0].port"},{"reason":"FieldValueRequired","message":"Required value","field":"spec.ports[0].name"}]},"code":422})");
  CHECK(e.invalid());
  CHECK(e.error.message() ==
        "Service \"helloworld\" is invalid: spec.ports[0].port: Invalid value: 0: must be "
        "between 1 and 65535, inclusive; spec.ports[0].name: Required value");
  CHECK(contains(e.error.hint(), "validation"));
}

TEST_CASE("409s tell AlreadyExists, apply conflicts and stale updates apart", "[kube]") {
  const auto exists = error_from_response(
      request("POST", "/api/v1/namespaces/istio-system/secrets"), 409,
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"secrets \"cacerts\" already exists","reason":"AlreadyExists","details":{"name":"cacerts","kind":"secrets"},"code":409})");
  CHECK(exists.already_exists());
  CHECK_FALSE(exists.conflict());
  CHECK(contains(exists.error.hint(), "apply"));

  const auto apply = error_from_response(
      request("PATCH", "/apis/apps/v1/namespaces/istio-system/deployments/istio-eastwestgateway"),
      409,
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas","reason":"Conflict","details":{"causes":[{"reason":"FieldManagerConflict","message":"conflict with \"kubectl-client-side-apply\" using apps/v1","field":".spec.replicas"}]},"code":409})");
  CHECK(apply.conflict());
  CHECK(contains(apply.error.message(), ".spec.replicas"));
  CHECK(contains(apply.error.hint(), "force"));

  const auto stale = error_from_response(
      request("PUT", "/api/v1/namespaces/dev/services/helloworld"), 409,
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Operation cannot be fulfilled on services \"helloworld\": the object has been modified; please apply your changes to the latest version and try again","reason":"Conflict","details":{"name":"helloworld","kind":"services"},"code":409})");
  CHECK(stale.conflict());
  CHECK(contains(stale.error.hint(), "read it again"));
}

TEST_CASE("Unauthorized hints at the kind of credentials", "[kube]") {
  const std::string body =
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})";
  auto info = request("GET", "/api/v1/namespaces");
  const auto token = error_from_response(info, 401, body);
  CHECK(token.unauthorized());
  CHECK(contains(token.error.hint(), "expired or was revoked"));
  info.auth = "exec plugin";
  CHECK(contains(error_from_response(info, 401, body).error.hint(), "exec plugin"));
  info.auth = "client certificate";
  CHECK(contains(error_from_response(info, 401, body).error.hint(), "client certificate"));
  info.auth = "none";
  CHECK(contains(error_from_response(info, 401, body).error.hint(), "no credentials"));
}

TEST_CASE("429 and 5xx say how often they were tried", "[kube]") {
  auto info = request("GET", "/api/v1/namespaces/dev/services");
  info.attempts = 5;
  const auto busy = error_from_response(
      info, 429,
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Too many requests, please try again later.","reason":"TooManyRequests","details":{"retryAfterSeconds":1},"code":429})");
  CHECK(busy.reason == "TooManyRequests");
  CHECK(busy.error.message() == "Too many requests, please try again later. (after 5 attempts)");
  const auto down = error_from_response(info, 503, "upstream connect error\n");
  CHECK(down.reason == "ServiceUnavailable");
  CHECK(contains(down.error.message(), "HTTP 503"));
  CHECK(contains(down.error.message(), "after 5 attempts"));
  CHECK(contains(down.error.hint(), "wuxi"));
}

TEST_CASE("a non-JSON error body is quoted, not parsed", "[kube]") {
  const auto e = error_from_response(request("GET", "/api/v1/namespaces"), 502,
                                     "<html><body>Bad Gateway</body></html>");
  CHECK(e.http_status == 502);
  CHECK(e.status.is_null());
  CHECK(contains(e.error.message(), "<html><body>Bad Gateway"));
}

TEST_CASE("transport failures are unreachable errors that say what to check", "[kube]") {
  auto info = request("GET", "/api/v1/namespaces");
  const auto resolve = error_from_transport(info, TransportFailure::k_resolve,
                                            "Could not resolve host: api.wuxi.example");
  CHECK(resolve.unreachable());
  CHECK(resolve.error.code() == ExitCode::k_unreachable);
  CHECK(contains(resolve.error.hint(), "server address of context wuxi"));

  const auto refused = error_from_transport(info, TransportFailure::k_connect,
                                            "Failed to connect to 10.0.0.1 port 6443");
  CHECK(refused.error.code() == ExitCode::k_unreachable);
  CHECK(contains(refused.error.message(), "https://10.0.0.1:6443"));

  const auto ca =
      error_from_transport(info, TransportFailure::k_tls_verify,
                           "SSL certificate problem: unable to get local issuer certificate");
  CHECK(ca.error.code() == ExitCode::k_unreachable);
  CHECK(contains(ca.error.message(), "CA mismatch"));
  CHECK(contains(ca.error.hint(), "certificate-authority"));
  CHECK(contains(ca.error.hint(), "tls-server-name"));

  const auto name = error_from_transport(
      info, TransportFailure::k_tls_verify,
      "SSL: no alternative certificate subject name matches target host name '10.0.0.1'");
  CHECK(contains(name.error.message(), "not valid for the address it is reached by"));
  CHECK(contains(name.error.hint(), "set tls-server-name"));

  const auto cert = error_from_transport(
      info, TransportFailure::k_tls_handshake,
      "OpenSSL SSL_read: error:0A00045C:SSL routines::tlsv13 alert certificate required");
  CHECK(contains(cert.error.hint(), "presents none"));
  info.auth = "client certificate";
  CHECK(contains(error_from_transport(info, TransportFailure::k_tls_handshake,
                                      "tlsv13 alert certificate required")
                     .error.hint(),
                 "rejected the client certificate"));

  const auto config =
      error_from_transport(info, TransportFailure::k_tls_config, "unable to set private key file");
  CHECK(config.error.code() == ExitCode::k_usage);
}

TEST_CASE("invalid JSON in a 2xx body names the request and the byte", "[kube]") {
  const auto r = parse_json_body(request("GET", "/api/v1/namespaces"), "{\"items\": [}");
  REQUIRE_FALSE(r);
  CHECK(contains(r.error().error.message(), "GET /api/v1/namespaces"));
  CHECK(contains(r.error().error.message(), "byte 12"));
  CHECK(parse_json_body(request("GET", "/api"), R"({"versions":["v1"]})").value()["versions"][0] ==
        "v1");
}

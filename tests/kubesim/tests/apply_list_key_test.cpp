// Server-side apply on kubesim when the key of an associative-list item changes (a Service port
// renumbered): the old item goes away whole, as kube-apiserver does — found by sync-svc, whose
// copies follow their source's ports.

#include "kubesim_process.hpp"

#include <catch2/catch.hpp>

namespace {
using kubesim::testing::KubesimProcess;
using json = nlohmann::json;

json service(int port) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", "web"}, {"namespace", "default"}}},
          {"spec",
           {{"type", "ClusterIP"},
            {"ports",
             {{{"name", "http"}, {"port", port}, {"protocol", "TCP"}, {"targetPort", 9000}}}}}}};
}
} // namespace

TEST_CASE("apply replaces a list item whose key changed", "[kubesim][apply]") {
  KubesimProcess k;
  k.start("keys");
  const std::string path = "/api/v1/namespaces/default/services/web?fieldManager=m";
  REQUIRE(k.request("PATCH", path, service(8080).dump(), "application/apply-patch+yaml").first ==
          201);
  auto [status, body] =
      k.request("PATCH", path, service(8081).dump(), "application/apply-patch+yaml");
  INFO(body);
  REQUIRE(status == 200);
  const json ports = json::parse(body)["spec"]["ports"];
  REQUIRE(ports.size() == 1);
  CHECK(ports[0]["port"] == 8081);
  CHECK(ports[0]["name"] == "http");
}

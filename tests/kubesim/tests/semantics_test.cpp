// kube-apiserver semantics of kubesim, driven in process through Api (no sockets): status shapes,
// selectors, paging, apply, patches, allocation, RBAC, the token controller, CRDs and exec.

#include "api.hpp"
#include "quantity.hpp"
#include "selectors.hpp"
#include "table.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <vector>

namespace {

using kubesim::Api;
using kubesim::HttpRequest;
using kubesim::HttpResponse;
using kubesim::RequestInfo;
using json = nlohmann::json;

// An Api whose scheduled work (the token controller) runs when the test says so.
struct Fixture {
  std::vector<std::function<void()>> pending;
  Api api{kubesim::ApiOptions{}, [this](std::chrono::milliseconds, std::function<void()> fn) {
            pending.push_back(std::move(fn));
          }};

  void run_pending() {
    auto jobs = std::move(pending);
    pending.clear();
    for (auto& j : jobs) {
      j();
    }
  }

  HttpResponse call(const std::string& method, const std::string& target,
                    const json& body = nullptr,
                    const std::string& content_type = "application/json",
                    const std::string& token = "") {
    HttpRequest r;
    r.method = method;
    r.target = target;
    r.headers["authorization"] = "Bearer " + (token.empty() ? api.admin_token() : token);
    r.headers["content-type"] = content_type;
    r.headers["user-agent"] = "kubesim-test/v0";
    if (!body.is_null()) {
      r.body = body.is_string() ? body.get<std::string>() : body.dump();
    }
    RequestInfo info;
    return api.handle(r, info);
  }

  json call_json(const std::string& method, const std::string& target, const json& body = nullptr,
                 const std::string& content_type = "application/json") {
    return json::parse(call(method, target, body, content_type).body);
  }
};

json cm(const std::string& name, const std::string& ns, const json& data) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"data", data}};
}

} // namespace

TEST_CASE("kubesim answers NotFound, AlreadyExists and missing namespaces like kube-apiserver",
          "[kubesim]") {
  Fixture f;
  auto r = f.call("GET", "/api/v1/namespaces/default/configmaps/nope");
  CHECK(r.status == 404);
  CHECK(json::parse(r.body) == json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},
    "status":"Failure","message":"configmaps \"nope\" not found","reason":"NotFound",
    "details":{"name":"nope","kind":"configmaps"},"code":404})"));

  r = f.call("POST", "/api/v1/namespaces/ghost/configmaps", cm("a", "ghost", {{"k", "v"}}));
  CHECK(r.status == 404);
  CHECK(json::parse(r.body)["message"] == "namespaces \"ghost\" not found");

  REQUIRE(f.call("POST", "/api/v1/namespaces/default/configmaps", cm("a", "default", {{"k", "v"}}))
              .status == 201);
  r = f.call("POST", "/api/v1/namespaces/default/configmaps", cm("a", "default", {{"k", "v"}}));
  CHECK(r.status == 409);
  CHECK(json::parse(r.body)["reason"] == "AlreadyExists");
  CHECK(json::parse(r.body)["message"] == "configmaps \"a\" already exists");

  r = f.call("GET", "/apis/apps/v1/namespaces/default/deployments/x");
  CHECK(json::parse(r.body)["message"] == "deployments.apps \"x\" not found");
  CHECK(json::parse(r.body)["details"]["group"] == "apps");
}

TEST_CASE("kubesim rejects invalid objects with 422 and kube's causes", "[kubesim]") {
  Fixture f;
  json svc = {{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", {{"name", "Bad_Name"}}},
              {"spec", {{"ports", json::array({{{"port", 80}}})}}}};
  auto r = f.call("POST", "/api/v1/namespaces/default/services", svc);
  REQUIRE(r.status == 422);
  const json s = json::parse(r.body);
  CHECK(s["reason"] == "Invalid");
  CHECK(s["details"]["kind"] == "Service");
  CHECK(s["details"]["causes"][0]["field"] == "metadata.name");
  CHECK(s["details"]["causes"][0]["reason"] == "FieldValueInvalid");
  CHECK(s["message"].get<std::string>().rfind(
            "Service \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a "
            "DNS-1035 label must consist of lower case alphanumeric characters",
            0) == 0);

  json nameless = cm("", "default", json::object());
  r = f.call("POST", "/api/v1/namespaces/default/configmaps", nameless);
  CHECK(r.status == 422);
  CHECK(
      json::parse(r.body)["message"] ==
      "ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is required");

  json wrong = cm("x", "default", json::object());
  wrong["apiVersion"] = "apps/v1";
  CHECK(f.call("POST", "/api/v1/namespaces/default/configmaps", wrong).status == 400);
}

TEST_CASE("kubesim updates with optimistic concurrency and skips no-op writes", "[kubesim]") {
  Fixture f;
  json created = f.call_json("POST", "/api/v1/namespaces/default/configmaps",
                             cm("c", "default", {{"k", "1"}}));
  const std::string rv = created["metadata"]["resourceVersion"];
  json next = created;
  next["data"]["k"] = "2";
  auto r = f.call("PUT", "/api/v1/namespaces/default/configmaps/c", next);
  REQUIRE(r.status == 200);
  const std::string rv2 = json::parse(r.body)["metadata"]["resourceVersion"];
  CHECK(rv2 != rv);
  // Stale resourceVersion: 409 Conflict with kube's message.
  next["data"]["k"] = "3";
  r = f.call("PUT", "/api/v1/namespaces/default/configmaps/c", next);
  CHECK(r.status == 409);
  CHECK(json::parse(r.body)["message"] ==
        "Operation cannot be fulfilled on configmaps \"c\": the object has been modified; please "
        "apply your changes to the latest version and try again");
  // Same content again: no new resourceVersion.
  json same = json::parse(f.call("GET", "/api/v1/namespaces/default/configmaps/c").body);
  r = f.call("PUT", "/api/v1/namespaces/default/configmaps/c", same);
  CHECK(json::parse(r.body)["metadata"]["resourceVersion"] == rv2);
}

TEST_CASE("kubesim parses label and field selectors like kube", "[kubesim]") {
  std::string err;
  const json labels = {{"app", "web"}, {"tier", "front"}, {"env", "prod"}};
  auto m = [&](const std::string& s) {
    auto sel = kubesim::parse_label_selector(s, err);
    REQUIRE(sel);
    return sel->matches(labels);
  };
  CHECK(m("app=web"));
  CHECK(m("app==web"));
  CHECK_FALSE(m("app!=web"));
  CHECK(m("app in (web, api)"));
  CHECK_FALSE(m("app notin (web,api)"));
  CHECK(m("tier"));
  CHECK_FALSE(m("!tier"));
  CHECK(m("!missing,app=web,env in (prod)"));
  CHECK_FALSE(m("app=web,missing"));
  CHECK_FALSE(kubesim::parse_label_selector("app in web", err));

  Fixture f;
  for (const auto& [name, app] : {std::pair{"a", "web"}, {"b", "api"}, {"c", "web"}}) {
    json o = cm(name, "default", json::object());
    o["metadata"]["labels"] = {{"app", app}};
    REQUIRE(f.call("POST", "/api/v1/namespaces/default/configmaps", o).status == 201);
  }
  auto names = [&](const std::string& q) {
    std::vector<std::string> out;
    const json list = f.call_json("GET", "/api/v1/namespaces/default/configmaps?" + q);
    for (const auto& i : list["items"]) {
      out.push_back(i["metadata"]["name"]);
    }
    return out;
  };
  CHECK(names("labelSelector=app%3Dweb") == std::vector<std::string>{"a", "c"});
  // notin also matches objects without the label, as in kube.
  CHECK(names("labelSelector=app%20notin%20(web)") ==
        std::vector<std::string>{"b", "kube-root-ca.crt"});
  CHECK(names("fieldSelector=metadata.name%3Db") == std::vector<std::string>{"b"});
  CHECK(names("fieldSelector=metadata.name!%3Db&labelSelector=app") ==
        std::vector<std::string>{"a", "c"});
  CHECK(f.call("GET", "/api/v1/configmaps?fieldSelector=spec.bogus%3D1").status == 400);
}

TEST_CASE("kubesim pages lists with limit and continue", "[kubesim]") {
  Fixture f;
  for (int i = 0; i < 5; ++i) {
    REQUIRE(f.call("POST", "/api/v1/namespaces/default/configmaps",
                   cm("p" + std::to_string(i), "default", json::object()))
                .status == 201);
  }
  std::vector<std::string> seen;
  std::string cont;
  int pages = 0;
  do {
    json page = f.call_json("GET", "/api/v1/namespaces/default/configmaps?limit=2" +
                                       (cont.empty() ? "" : "&continue=" + cont));
    for (const auto& i : page["items"]) {
      seen.push_back(i["metadata"]["name"]);
    }
    cont = page["metadata"].value("continue", "");
    ++pages;
  } while (!cont.empty() && pages < 10);
  CHECK(pages == 3);
  // kube-root-ca.crt is in default too (the root-CA publisher), so 6 in all.
  CHECK(seen == std::vector<std::string>{"kube-root-ca.crt", "p0", "p1", "p2", "p3", "p4"});
}

TEST_CASE("kubesim server-side apply records managers, keeps no-op applies and detects conflicts",
          "[kubesim]") {
  Fixture f;
  const std::string url = "/api/v1/namespaces/default/configmaps/app?fieldManager=";
  const std::string yaml =
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  a: \"1\"\n  b: x\n";
  auto r = f.call("PATCH", url + "alice", yaml, "application/apply-patch+yaml");
  REQUIRE(r.status == 201);
  const json first = json::parse(r.body);
  CHECK(first["data"] == json{{"a", "1"}, {"b", "x"}});
  CHECK(first["metadata"]["managedFields"][0]["manager"] == "alice");
  CHECK(first["metadata"]["managedFields"][0]["operation"] == "Apply");
  CHECK(first["metadata"]["managedFields"][0]["fieldsV1"] ==
        json::parse(R"({"f:data":{"f:a":{},"f:b":{}}})"));

  r = f.call("PATCH", url + "alice", yaml, "application/apply-patch+yaml");
  CHECK(r.status == 200);
  CHECK(json::parse(r.body)["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]);

  const std::string other =
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  a: \"2\"\n";
  r = f.call("PATCH", url + "bob", other, "application/apply-patch+yaml");
  REQUIRE(r.status == 409);
  const json conflict = json::parse(r.body);
  CHECK(conflict["message"] == "Apply failed with 1 conflict: conflict with \"alice\": .data.a");
  CHECK(conflict["details"]["causes"][0] == json{{"reason", "FieldManagerConflict"},
                                                 {"message", "conflict with \"alice\""},
                                                 {"field", ".data.a"}});

  // Same value: shared ownership, no conflict.
  const std::string shared =
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  b: x\n";
  CHECK(f.call("PATCH", url + "bob", shared, "application/apply-patch+yaml").status == 200);

  r = f.call("PATCH", url + "bob&force=true", other, "application/apply-patch+yaml");
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body)["data"]["a"] == "2");

  // alice stops applying b: bob no longer holds it either (his last apply dropped it), so it goes.
  const std::string only_a =
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  a: \"2\"\n";
  r = f.call("PATCH", url + "alice", only_a, "application/apply-patch+yaml");
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body)["data"] == json{{"a", "2"}});
}

TEST_CASE("kubesim applies merge, strategic merge and JSON patches", "[kubesim]") {
  Fixture f;
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "p"}, {"labels", {{"a", "1"}, {"b", "2"}}}}},
              {"spec",
               {{"containers", json::array({{{"name", "app"}, {"image", "app:1"}},
                                            {{"name", "proxy"}, {"image", "proxy:1"}}})}}}};
  REQUIRE(f.call("POST", "/api/v1/namespaces/default/pods", pod).status == 201);
  auto r = f.call(
      "PATCH", "/api/v1/namespaces/default/pods/p",
      json{{"spec", {{"containers", json::array({{{"name", "proxy"}, {"image", "proxy:2"}}})}}}},
      "application/strategic-merge-patch+json");
  REQUIRE(r.status == 200);
  json got = json::parse(r.body);
  REQUIRE(got["spec"]["containers"].size() == 2);
  CHECK(got["spec"]["containers"][1]["image"] == "proxy:2");
  CHECK(got["spec"]["containers"][0]["image"] == "app:1");

  r = f.call("PATCH", "/api/v1/namespaces/default/pods/p",
             json{{"metadata", {{"labels", {{"a", nullptr}, {"c", "3"}}}}}},
             "application/merge-patch+json");
  got = json::parse(r.body);
  CHECK(got["metadata"]["labels"] == json{{"b", "2"}, {"c", "3"}});

  r = f.call("PATCH", "/api/v1/namespaces/default/pods/p",
             json::array({{{"op", "replace"}, {"path", "/metadata/labels/b"}, {"value", "9"}}}),
             "application/json-patch+json");
  CHECK(json::parse(r.body)["metadata"]["labels"]["b"] == "9");
}

TEST_CASE("kubesim allocates Service cluster IPs and node ports", "[kubesim]") {
  Fixture f;
  auto svc = [](const std::string& name, const std::string& type, const json& ports) {
    return json{{"apiVersion", "v1"},
                {"kind", "Service"},
                {"metadata", {{"name", name}}},
                {"spec", {{"type", type}, {"ports", ports}}}};
  };
  json a = f.call_json("POST", "/api/v1/namespaces/default/services",
                       svc("a", "NodePort", json::array({{{"name", "tls"}, {"port", 15443}}})));
  CHECK(a["spec"]["clusterIP"].get<std::string>().rfind("10.96.", 0) == 0);
  CHECK(a["spec"]["clusterIPs"] == json::array({a["spec"]["clusterIP"]}));
  const int np = a["spec"]["ports"][0]["nodePort"];
  CHECK(np >= 30000);
  CHECK(np <= 32767);
  CHECK(a["spec"]["ports"][0]["targetPort"] == 15443);
  CHECK(a["spec"]["ports"][0]["protocol"] == "TCP");

  json b = f.call_json("POST", "/api/v1/namespaces/default/services",
                       svc("b", "NodePort", json::array({{{"port", 80}, {"nodePort", 31000}}})));
  CHECK(b["spec"]["ports"][0]["nodePort"] == 31000);
  auto r = f.call("POST", "/api/v1/namespaces/default/services",
                  svc("c", "NodePort", json::array({{{"port", 80}, {"nodePort", 31000}}})));
  CHECK(r.status == 422);
  CHECK(json::parse(r.body)["details"]["causes"][0]["message"] ==
        "Invalid value: 31000: provided port is already allocated");
  // An apply that leaves the node port out keeps the allocated one.
  r = f.call("PATCH", "/api/v1/namespaces/default/services/a?fieldManager=m",
             svc("a", "NodePort", json::array({{{"name", "tls"}, {"port", 15443}}})),
             "application/apply-patch+yaml");
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body)["spec"]["ports"][0]["nodePort"] == np);
  CHECK(json::parse(r.body)["spec"]["clusterIP"] == a["spec"]["clusterIP"]);
}

TEST_CASE("kubesim's token controller fills ServiceAccount token Secrets asynchronously and RBAC "
          "limits what the token may do",
          "[kubesim]") {
  Fixture f;
  REQUIRE(f.call("POST", "/api/v1/namespaces",
                 json{{"apiVersion", "v1"},
                      {"kind", "Namespace"},
                      {"metadata", {{"name", "istio-system"}}}})
              .status == 201);
  REQUIRE(f.call("POST", "/api/v1/namespaces/istio-system/serviceaccounts",
                 json{{"apiVersion", "v1"},
                      {"kind", "ServiceAccount"},
                      {"metadata", {{"name", "reader"}}}})
              .status == 201);
  REQUIRE(f.call("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
                 json{{"apiVersion", "rbac.authorization.k8s.io/v1"},
                      {"kind", "ClusterRole"},
                      {"metadata", {{"name", "reader"}}},
                      {"rules", json::array({{{"apiGroups", {""}},
                                              {"resources", {"services", "pods"}},
                                              {"verbs", {"get", "list", "watch"}}}})}})
              .status == 201);
  REQUIRE(f.call("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                 json{{"apiVersion", "rbac.authorization.k8s.io/v1"},
                      {"kind", "ClusterRoleBinding"},
                      {"metadata", {{"name", "reader"}}},
                      {"roleRef",
                       {{"apiGroup", "rbac.authorization.k8s.io"},
                        {"kind", "ClusterRole"},
                        {"name", "reader"}}},
                      {"subjects", json::array({{{"kind", "ServiceAccount"},
                                                 {"name", "reader"},
                                                 {"namespace", "istio-system"}}})}})
              .status == 201);
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"type", "kubernetes.io/service-account-token"},
                 {"metadata",
                  {{"name", "reader-token"},
                   {"annotations", {{"kubernetes.io/service-account.name", "reader"}}}}}};
  json created = f.call_json("POST", "/api/v1/namespaces/istio-system/secrets", secret);
  CHECK_FALSE(created.contains("data")); // not yet: the controller runs later
  REQUIRE(f.pending.size() == 1);
  f.run_pending();
  json filled = f.call_json("GET", "/api/v1/namespaces/istio-system/secrets/reader-token");
  REQUIRE(filled["data"].contains("token"));
  CHECK(kubesim::base64_decode(filled["data"]["namespace"]) == "istio-system");
  CHECK(kubesim::base64_decode(filled["data"]["ca.crt"]) == f.api.pki().ca_pem());
  CHECK(filled["metadata"]["annotations"].contains("kubernetes.io/service-account.uid"));
  const std::string token = *kubesim::base64_decode(filled["data"]["token"]);

  CHECK(f.call("GET", "/api/v1/services", nullptr, "application/json", token).status == 200);
  auto r = f.call("POST", "/api/v1/namespaces/istio-system/secrets",
                  json{{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", "x"}}}},
                  "application/json", token);
  CHECK(r.status == 403);
  CHECK(json::parse(r.body)["message"] ==
        "secrets is forbidden: User \"system:serviceaccount:istio-system:reader\" cannot create "
        "resource \"secrets\" in API group \"\" in the namespace \"istio-system\"");
  CHECK(f.call("GET", "/api/v1/namespaces", nullptr, "application/json", token).status == 403);
  CHECK(f.call("GET", "/api/v1/namespaces/default/pods/x/exec?command=ls", nullptr,
               "application/json", token)
            .status == 403);
  // Deleting the Secret revokes its token.
  REQUIRE(f.call("DELETE", "/api/v1/namespaces/istio-system/secrets/reader-token").status == 200);
  CHECK(f.call("GET", "/api/v1/services", nullptr, "application/json", token).status == 401);
  CHECK(f.call("GET", "/api/v1/services", nullptr, "application/json", "garbage").status == 401);
}

TEST_CASE("kubesim serves a CRD's kinds once it exists and validates them against its schema",
          "[kubesim]") {
  Fixture f;
  CHECK(f.call("GET", "/apis/example.com/v1/namespaces/default/widgets").status == 404);
  json crd = {
      {"apiVersion", "apiextensions.k8s.io/v1"},
      {"kind", "CustomResourceDefinition"},
      {"metadata", {{"name", "widgets.example.com"}}},
      {"spec",
       {{"group", "example.com"},
        {"scope", "Namespaced"},
        {"names", {{"kind", "Widget"}, {"plural", "widgets"}}},
        {"versions",
         json::array({{{"name", "v1"},
                       {"served", true},
                       {"storage", true},
                       {"schema",
                        {{"openAPIV3Schema",
                          {{"type", "object"},
                           {"properties",
                            {{"spec",
                              {{"type", "object"},
                               {"required", {"size"}},
                               {"properties",
                                {{"size", {{"type", "integer"}}},
                                 {"color",
                                  {{"type", "string"}, {"enum", {"red", "blue"}}}}}}}}}}}}}}}})}}}};
  auto r = f.call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
  REQUIRE(r.status == 201);
  CHECK(json::parse(r.body)["status"]["conditions"][1]["type"] == "Established");
  const json list = f.call_json("GET", "/apis/example.com/v1");
  CHECK(list["resources"][0]["kind"] == "Widget");
  bool in_groups = false;
  const json groups = f.call_json("GET", "/apis");
  for (const auto& g : groups["groups"]) {
    in_groups = in_groups || g["name"] == "example.com";
  }
  CHECK(in_groups);

  auto widget = [](const json& spec) {
    return json{{"apiVersion", "example.com/v1"},
                {"kind", "Widget"},
                {"metadata", {{"name", "w"}}},
                {"spec", spec}};
  };
  r = f.call("POST", "/apis/example.com/v1/namespaces/default/widgets", widget({{"size", "big"}}));
  CHECK(r.status == 422);
  CHECK(json::parse(r.body)["details"]["causes"][0]["field"] == "spec.size");
  r = f.call("POST", "/apis/example.com/v1/namespaces/default/widgets", widget({{"color", "red"}}));
  CHECK(r.status == 422);
  CHECK(json::parse(r.body)["details"]["causes"][0]["message"] == "Required value");
  r = f.call("POST", "/apis/example.com/v1/namespaces/default/widgets",
             widget({{"size", 1}, {"color", "green"}}));
  CHECK(r.status == 422);
  CHECK(json::parse(r.body)["details"]["causes"][0]["reason"] == "FieldValueNotSupported");
  r = f.call("POST", "/apis/example.com/v1/namespaces/default/widgets",
             widget({{"size", 1}, {"color", "red"}, {"extra", true}}));
  REQUIRE(r.status == 201);
  CHECK_FALSE(json::parse(r.body)["spec"].contains("extra")); // pruned
  CHECK(json::parse(r.body)["metadata"]["generation"] == 1);

  // Deleting the CRD takes its objects and its API away.
  REQUIRE(f.call("DELETE",
                 "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com")
              .status == 200);
  CHECK(f.call("GET", "/apis/example.com/v1/namespaces/default/widgets").status == 404);
}

TEST_CASE("kubesim serves a CRD's versions as kube-apiserver does with conversion None",
          "[kubesim]") {
  // Istio 1.21's shape: v1alpha3 stored, v1beta1 served; plus a v1 that is not served (yet).
  Fixture f;
  const json schema = {
      {"openAPIV3Schema",
       {{"type", "object"},
        {"properties",
         {{"spec", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}}}}};
  auto version = [&](const std::string& name, bool served, bool storage) {
    return json{{"name", name}, {"served", served}, {"storage", storage}, {"schema", schema}};
  };
  json crd = {
      {"apiVersion", "apiextensions.k8s.io/v1"},
      {"kind", "CustomResourceDefinition"},
      {"metadata", {{"name", "gateways.example.io"}}},
      {"spec",
       {{"group", "example.io"},
        {"scope", "Namespaced"},
        {"names", {{"kind", "Gateway"}, {"plural", "gateways"}}},
        {"versions", json::array({version("v1alpha3", true, true), version("v1beta1", true, false),
                                  version("v1", false, false)})}}}};
  auto r = f.call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
  REQUIRE(r.status == 201);
  CHECK(json::parse(r.body)["spec"]["conversion"]["strategy"] == "None");
  CHECK(json::parse(r.body)["status"]["storedVersions"] == json({"v1alpha3"}));

  // Discovery: served versions only, by kube's version priority; the preferred one first.
  json group;
  const json groups = f.call_json("GET", "/apis");
  for (const auto& g : groups["groups"]) {
    if (g["name"] == "example.io") {
      group = g;
    }
  }
  REQUIRE(group.is_object());
  CHECK(group["versions"].size() == 2);
  CHECK(group["versions"][0]["version"] == "v1beta1");
  CHECK(group["versions"][1]["version"] == "v1alpha3");
  CHECK(group["preferredVersion"]["version"] == "v1beta1");
  CHECK(f.call("GET", "/apis/example.io/v1").status == 404);
  CHECK(f.call("GET", "/apis/example.io/v1/namespaces/default/gateways").status == 404);

  // One object, read at any served version: only apiVersion differs.
  json gw = {{"apiVersion", "example.io/v1beta1"},
             {"kind", "Gateway"},
             {"metadata", {{"name", "g"}}},
             {"spec", {{"hosts", {"*.local"}}}}};
  r = f.call("POST", "/apis/example.io/v1beta1/namespaces/default/gateways", gw);
  REQUIRE(r.status == 201);
  CHECK(json::parse(r.body)["apiVersion"] == "example.io/v1beta1");
  json beta = f.call_json("GET", "/apis/example.io/v1beta1/namespaces/default/gateways/g");
  json alpha = f.call_json("GET", "/apis/example.io/v1alpha3/namespaces/default/gateways/g");
  CHECK(beta["apiVersion"] == "example.io/v1beta1");
  CHECK(alpha["apiVersion"] == "example.io/v1alpha3");
  alpha["apiVersion"] = beta["apiVersion"];
  CHECK(alpha == beta);
  const json alpha_list =
      f.call_json("GET", "/apis/example.io/v1alpha3/namespaces/default/gateways");
  CHECK(alpha_list["items"][0]["apiVersion"] == "example.io/v1alpha3");
  CHECK(f.call("GET", "/apis/example.io/v1/namespaces/default/gateways/g").status == 404);

  // Serving v1 (and storing it, as a later Istio does): the object is there at v1 at once, and
  // storedVersions keeps v1alpha3, whose objects are not migrated.
  crd = f.call_json("GET",
                    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gateways.example.io");
  crd["spec"]["versions"] =
      json::array({version("v1alpha3", true, false), version("v1beta1", true, false),
                   version("v1", true, true)});
  r = f.call("PUT", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gateways.example.io",
             crd);
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body)["status"]["storedVersions"] == json({"v1alpha3", "v1"}));
  CHECK(f.call_json("GET", "/apis/example.io")["preferredVersion"]["version"] == "v1");
  json v1 = f.call_json("GET", "/apis/example.io/v1/namespaces/default/gateways/g");
  CHECK(v1["apiVersion"] == "example.io/v1");
  CHECK(v1["spec"] == beta["spec"]);
  CHECK(v1["metadata"]["uid"] == beta["metadata"]["uid"]);
}

TEST_CASE("kubesim honours dryRun=All and deletes a namespace's objects with it", "[kubesim]") {
  Fixture f;
  REQUIRE(f.call("POST", "/api/v1/namespaces",
                 json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "tmp"}}}})
              .status == 201);
  auto r =
      f.call("POST", "/api/v1/namespaces/tmp/configmaps?dryRun=All", cm("d", "tmp", {{"k", "v"}}));
  CHECK(r.status == 201);
  CHECK(json::parse(r.body)["metadata"].contains("uid"));
  CHECK(f.call("GET", "/api/v1/namespaces/tmp/configmaps/d").status == 404);
  REQUIRE(
      f.call("POST", "/api/v1/namespaces/tmp/configmaps", cm("d", "tmp", {{"k", "v"}})).status ==
      201);
  r = f.call("DELETE", "/api/v1/namespaces/tmp");
  CHECK(r.status == 200);
  CHECK(json::parse(r.body)["status"]["phase"] == "Terminating");
  CHECK(f.call("GET", "/api/v1/namespaces/tmp/configmaps/d").status == 404);
  CHECK(f.call("DELETE", "/api/v1/namespaces/tmp").status == 404);
  CHECK(f.call("DELETE", "/api/v1/namespaces/default").status == 403);
}

TEST_CASE("kubesim bumps a Deployment's generation on spec changes only", "[kubesim]") {
  Fixture f;
  json d = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "web"}}},
      {"spec",
       {{"selector", {{"matchLabels", {{"app", "web"}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", "web"}}}}},
          {"spec", {{"containers", json::array({{{"name", "web"}, {"image", "web:1"}}})}}}}}}}};
  json created = f.call_json("POST", "/apis/apps/v1/namespaces/default/deployments", d);
  CHECK(created["metadata"]["generation"] == 1);
  CHECK(created["spec"]["replicas"] == 1);
  json r =
      f.call_json("PATCH", "/apis/apps/v1/namespaces/default/deployments/web",
                  json{{"metadata", {{"labels", {{"x", "y"}}}}}}, "application/merge-patch+json");
  CHECK(r["metadata"]["generation"] == 1);
  r = f.call_json(
      "PATCH", "/apis/apps/v1/namespaces/default/deployments/web",
      json{{"spec",
            {{"template",
              {{"metadata", {{"annotations", {{"kubectl.kubernetes.io/restartedAt", "now"}}}}}}}}}},
      "application/merge-patch+json");
  CHECK(r["metadata"]["generation"] == 2);
  d["spec"]["selector"]["matchLabels"]["app"] = "other";
  d["metadata"]["name"] = "bad";
  CHECK(f.call("POST", "/apis/apps/v1/namespaces/default/deployments", d).status == 422);
}

TEST_CASE(
    "kubesim answers SelfSubjectAccessReview and impersonation like kubectl auth can-i expects",
    "[kubesim]") {
  Fixture f;
  json review = {{"apiVersion", "authorization.k8s.io/v1"},
                 {"kind", "SelfSubjectAccessReview"},
                 {"spec",
                  {{"resourceAttributes",
                    {{"verb", "list"}, {"resource", "pods"}, {"namespace", "default"}}}}}};
  HttpRequest r;
  r.method = "POST";
  r.target = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
  r.headers["authorization"] = "Bearer " + f.api.admin_token();
  r.headers["content-type"] = "application/json";
  r.body = review.dump();
  RequestInfo info;
  auto res = f.api.handle(r, info);
  CHECK(res.status == 201);
  CHECK(json::parse(res.body)["status"]["allowed"] == true);
  r.headers["impersonate-user"] = "system:serviceaccount:default:default";
  res = f.api.handle(r, info);
  CHECK(json::parse(res.body)["status"]["allowed"] == false);
  CHECK(info.user == "system:serviceaccount:default:default");
}

TEST_CASE("kubesim runs its built-in exec commands", "[kubesim]") {
  Fixture f;
  json pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", "p"}}},
      {"spec", {{"containers", json::array({{{"name", "istio-proxy"}, {"image", "proxy"}}})}}}};
  REQUIRE(f.call("POST", "/api/v1/namespaces/default/pods", pod).status == 201);
  json data = cm("kubesim-pod-data-p", "default",
                 {{"15000.config_dump_include_eds_true", "{\"configs\":[]}"}});
  REQUIRE(f.call("POST", "/api/v1/namespaces/default/configmaps", data).status == 201);
  kubesim::ExecRequest e{"default", "p",  "istio-proxy", {"echo", "hi", "there"},
                         false,     true, true,          false};
  auto r = f.api.run_exec(e, "");
  CHECK(r.out == "hi there\n");
  CHECK(r.exit_code == 0);
  e.command = {"sh", "-c", "echo out; echo err >&2; exit 3"};
  r = f.api.run_exec(e, "");
  CHECK(r.out == "out\n");
  CHECK(r.err == "err\n");
  CHECK(r.exit_code == 3);
  e.command = {"cat"};
  CHECK(f.api.run_exec(e, "stdin text").out == "stdin text");
  e.command = {"pilot-agent", "request", "GET", "config_dump?include_eds=true"};
  r = f.api.run_exec(e, "");
  CHECK(r.out == "{\"configs\":[]}");
  // Not canned: the istiod model answers what Envoy serves, and nothing else.
  e.command = {"pilot-agent", "request", "GET", "clusters?format=json"};
  r = f.api.run_exec(e, "");
  CHECK(r.exit_code == 0);
  CHECK(json::parse(r.out).contains("cluster_statuses"));
  e.command = {"pilot-agent", "request", "GET", "stats"};
  CHECK(f.api.run_exec(e, "").exit_code == 1);
  e.command = {"nosuch"};
  CHECK_FALSE(f.api.run_exec(e, "").failure.empty());
}

TEST_CASE("kubesim's Table answers carry kubectl's columns", "[kubesim]") {
  Fixture f;
  HttpRequest r;
  r.method = "GET";
  r.target = "/api/v1/namespaces";
  r.headers["authorization"] = "Bearer " + f.api.admin_token();
  r.headers["accept"] = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
  RequestInfo info;
  const json t = json::parse(f.api.handle(r, info).body);
  CHECK(t["kind"] == "Table");
  CHECK(t["columnDefinitions"][0]["name"] == "Name");
  CHECK(t["columnDefinitions"][1]["name"] == "Status");
  CHECK(t["rows"][0]["cells"][1] == "Active");
  CHECK(t["rows"][0]["object"]["kind"] == "PartialObjectMetadata");
  CHECK(kubesim::human_duration(59) == "59s");
  CHECK(kubesim::human_duration(150) == "2m30s");
  CHECK(kubesim::human_duration(3 * 3600 + 60) == "3h1m");
  CHECK(kubesim::human_duration(50 * 3600) == "2d2h");
}

TEST_CASE("kubesim's controllers run Deployments' Pods and keep Endpoints", "[kubesim]") {
  Fixture f;
  json d = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "gw"}}},
      {"spec",
       {{"replicas", 2},
        {"selector", {{"matchLabels", {{"app", "gw"}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", "gw"}}}}},
          {"spec",
           {{"containers",
             json::array(
                 {{{"name", "proxy"},
                   {"image", "proxy"},
                   {"ports", json::array({{{"name", "tls"}, {"containerPort", 15443}}})}}})}}}}}}}};
  REQUIRE(f.call("POST", "/apis/apps/v1/namespaces/default/deployments", d).status == 201);
  json svc = {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", {{"name", "gw"}}},
      {"spec",
       {{"selector", {{"app", "gw"}}},
        {"ports", json::array({{{"name", "tls"}, {"port", 15443}, {"targetPort", "tls"}}})}}}};
  REQUIRE(f.call("POST", "/api/v1/namespaces/default/services", svc).status == 201);
  for (int i = 0; i < 4; ++i) {
    f.run_pending(); // controller, then kubelet
  }
  json pods = f.call_json("GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dgw");
  REQUIRE(pods["items"].size() == 2);
  CHECK(pods["items"][0]["status"]["phase"] == "Running");
  CHECK(pods["items"][0]["metadata"]["labels"].contains("pod-template-hash"));
  json dep = f.call_json("GET", "/apis/apps/v1/namespaces/default/deployments/gw");
  CHECK(dep["status"]["readyReplicas"] == 2);
  CHECK(dep["status"]["observedGeneration"] == 1);
  json ep = f.call_json("GET", "/api/v1/namespaces/default/endpoints/gw");
  REQUIRE(ep["subsets"][0]["addresses"].size() == 2);
  CHECK(ep["subsets"][0]["ports"][0]["port"] == 15443);
  CHECK(ep["subsets"][0]["ports"][0]["name"] == "tls");

  // A rollout restart replaces the Pods.
  const std::string old_name = pods["items"][0]["metadata"]["name"];
  REQUIRE(f.call("PATCH", "/apis/apps/v1/namespaces/default/deployments/gw",
                 json{{"spec",
                       {{"template",
                         {{"metadata",
                           {{"annotations", {{"kubectl.kubernetes.io/restartedAt", "now"}}}}}}}}}},
                 "application/strategic-merge-patch+json")
              .status == 200);
  for (int i = 0; i < 4; ++i) {
    f.run_pending();
  }
  pods = f.call_json("GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dgw");
  REQUIRE(pods["items"].size() == 2);
  CHECK(pods["items"][0]["metadata"]["name"] != old_name);
  CHECK(pods["items"][1]["metadata"]["name"] != old_name);

  // Deleting the Deployment removes its Pods and empties the Endpoints.
  REQUIRE(f.call("DELETE", "/apis/apps/v1/namespaces/default/deployments/gw").status == 200);
  CHECK(f.call_json("GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dgw")["items"]
            .empty());
  CHECK_FALSE(f.call_json("GET", "/api/v1/namespaces/default/endpoints/gw").contains("subsets"));
}

TEST_CASE("kubesim answers malformed bodies with 400 and keeps serving", "[kubesim]") {
  Fixture f;
  const std::string url = "/api/v1/namespaces/default/configmaps";
  for (const std::string body :
       {R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":5}})",
        R"({"apiVersion":"v1","kind":"ConfigMap","metadata":"x"})", R"([1,2])",
        R"("just a string")",
        R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ok","labels":["a"]}})",
        "{not json", R"({"apiVersion":7})"}) {
    const auto r = f.call("POST", url, body);
    CHECK(r.status >= 400);
    CHECK(r.status < 500);
    CHECK(json::parse(r.body)["kind"] == "Status");
  }
  CHECK(f.call("PATCH", url + "/x?fieldManager=m", "kind: [", "application/apply-patch+yaml")
            .status == 400);
  CHECK(f.call("POST", url, cm("fine", "default", {{"k", "v"}})).status == 201);
}

TEST_CASE("kubesim answers metadata-only requests with PartialObjectMetadata", "[kubesim]") {
  Fixture f;
  HttpRequest r;
  r.method = "GET";
  r.target = "/api/v1/namespaces";
  r.headers["authorization"] = "Bearer " + f.api.admin_token();
  r.headers["accept"] = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
  RequestInfo info;
  json list = json::parse(f.api.handle(r, info).body);
  CHECK(list["kind"] == "PartialObjectMetadataList");
  CHECK(list["items"][0]["kind"] == "PartialObjectMetadata");
  CHECK_FALSE(list["items"][0].contains("spec"));
  r.target = "/api/v1/namespaces/default";
  r.headers["accept"] = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
  json one = json::parse(f.api.handle(r, info).body);
  CHECK(one["kind"] == "PartialObjectMetadata");
  CHECK(one["metadata"]["name"] == "default");
}

TEST_CASE("kubesim stores quantities as apimachinery's resource.Quantity prints them",
          "[kubesim][quantity]") {
  // Rows of k8s.io/apimachinery's quantity_test.go (TestQuantityString's alternates,
  // TestQuantityParseEmit) and the forms ParseQuantity keeps as written.
  const std::vector<std::pair<std::string, std::string>> table{{"2000m", "2"},
                                                               {"1024Mi", "1Gi"},
                                                               {"1000Mi", "1000Mi"},
                                                               {"0.5", "500m"},
                                                               {"1e3", "1e3"},
                                                               {"1.5Gi", "1536Mi"},
                                                               {"307200Ki", "300Mi"},
                                                               {"5000m", "5"},
                                                               {"1.08", "1080m"},
                                                               {"1000E", "1e21"},
                                                               {".001e12", "1e9"},
                                                               {"1000e-12", "1e-9"},
                                                               {"00", "0"},
                                                               {".001Ki", "1024m"},
                                                               {".000000000001Ki", "2n"},
                                                               {"-1024Mi", "-1Gi"},
                                                               {"+100m", "+100m"},
                                                               {"1E3", "1E3"},
                                                               {"0.1n", "1n"},
                                                               {"9Ei", "9223372036854775807"}};
  for (const auto& [in, out] : table) {
    INFO(in);
    std::string error;
    CHECK(kubesim::canonical_quantity(in, error) == out);
  }
  std::string error;
  CHECK_FALSE(kubesim::canonical_quantity("1K", error).has_value());
  CHECK(error == "unable to parse quantity's suffix");
  CHECK_FALSE(kubesim::canonical_quantity("1.1.M", error).has_value());

  json deploy = {
      {"spec",
       {{"template",
         {{"spec",
           {{"containers", json::array({{{"name", "a"},
                                         {"resources",
                                          {{"limits", {{"cpu", "2000m"}, {"memory", 1073741824}}},
                                           {"requests", {{"cpu", " 0.1 "}}}}}}})},
            {"volumes",
             json::array({{{"name", "v"}, {"emptyDir", {{"sizeLimit", "1024Ki"}}}}})}}}}}}}};
  CHECK_FALSE(kubesim::canonicalize_quantities("Deployment", deploy).has_value());
  const auto& pod = deploy["spec"]["template"]["spec"];
  CHECK(pod["containers"][0]["resources"]["limits"]["cpu"] == "2");
  CHECK(pod["containers"][0]["resources"]["limits"]["memory"] == "1073741824");
  CHECK(pod["containers"][0]["resources"]["requests"]["cpu"] == "100m");
  CHECK(pod["volumes"][0]["emptyDir"]["sizeLimit"] == "1Mi");
  // Only Quantity fields: a ConfigMap's values stay as written.
  json cm = {{"data", {{"cpu", "2000m"}}}};
  CHECK_FALSE(kubesim::canonicalize_quantities("ConfigMap", cm).has_value());
  CHECK(cm["data"]["cpu"] == "2000m");
  json bad = {
      {"spec", {{"containers", json::array({{{"resources", {{"limits", {{"cpu", true}}}}}}})}}}};
  CHECK(kubesim::canonicalize_quantities("Pod", bad).has_value());
}

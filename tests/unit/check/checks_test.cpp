// verify's checks on hand-built snapshots: the healthy story passes, and each pitfall of the seed
// (and then some) yields its finding with a hint that fixes it.

#include "check/checks.hpp"
#include "check/collect.hpp"
#include "check/report.hpp"
#include "check/views.hpp"
#include "unit/check/snapshot.hpp"

#include <algorithm>

using namespace meshctl::check;
using namespace meshctl::testing::check;

namespace {

int count(const Findings& fs, Severity s) {
  return static_cast<int>(
      std::count_if(fs.begin(), fs.end(), [&](const Finding& f) { return f.severity == s; }));
}

// The finding must be there, an error (unless said otherwise), with a hint holding `fix`.
#define REQUIRE_FINDING(findings, id, cluster, sev, fix)                                           \
  do {                                                                                             \
    const auto& fs_ = (findings);                                                                  \
    INFO(dump_findings(fs_));                                                                      \
    const Finding* f_ = find(fs_, id, cluster);                                                    \
    REQUIRE(f_ != nullptr);                                                                        \
    CHECK(f_->severity == (sev));                                                                  \
    CHECK_THAT(f_->hint, Catch::Matchers::Contains(fix));                                          \
  } while (false)

} // namespace

TEST_CASE("verify: the healthy snapshot passes every check", "[check][verify]") {
  const auto facts = healthy_facts();
  const auto findings = run_checks(facts);
  INFO(dump_findings(findings));
  CHECK(count(findings, Severity::k_error) == 0);
  CHECK(count(findings, Severity::k_warning) == 0);
  for (const auto* id :
       {"cluster.reachable", "istio.crds", "istiod.ready", "istiod.identity", "cacerts.ok",
        "root-configmap.ok", "remote-secret.ok", "clusterz.synced", "gateway.ok", "expose.ok",
        "service.present", "service.workloads", "sni.ok", "traffic.localized", "endpoints.ok"}) {
    for (const auto* cluster : {"cn-shanghai", "wuxi"}) {
      INFO(id << " in " << cluster);
      CHECK(find(findings, id, cluster) != nullptr);
    }
  }
  const auto report = build_report(facts);
  CHECK(report_exit_code(report, FailOn::k_warning) == meshctl::ExitCode::k_ok);
}

TEST_CASE("verify trap: a nodeSelector that is not JSON", "[check][verify]") {
  auto facts = healthy_facts();
  // The seed's first attempt: key=value, no externalIPs.
  shanghai(facts).gateway_services[0] =
      gateway_service("cn-shanghai", {}, std::string("kubernetes.io/hostname=cn-shanghai-node-1"));
  const auto fs = check_gateways(facts);
  REQUIRE_FINDING(fs, "gateway.node-selector-not-json", "cn-shanghai", Severity::k_error,
                  "'{\"kubernetes.io/hostname\":\"NODE\"}'");
  CHECK_THAT(find(fs, "gateway.node-selector-not-json", "cn-shanghai")->message,
             Catch::Matchers::Contains("publishes no gateway address"));
  CHECK(find(fs, "gateway.ok", "cn-shanghai") == nullptr);
  // And the client in wuxi then sees no endpoint leading to cn-shanghai... once istiod drops it.
  const auto views = gateway_views(shanghai(facts));
  REQUIRE(views.size() == 1);
  CHECK(views[0].addresses.empty());
  // With externalIPs the gateway still has an address: the ignored selector is only a warning.
  shanghai(facts).gateway_services[0] = gateway_service(
      "cn-shanghai", {"192.168.0.11"}, std::string("kubernetes.io/hostname=cn-shanghai-node-1"));
  REQUIRE_FINDING(check_gateways(facts), "gateway.node-selector-not-json", "cn-shanghai",
                  Severity::k_warning, "--overwrite");
  // A LoadBalancer gateway never reads the annotation.
  shanghai(facts).gateway_services[0] =
      gateway_service("cn-shanghai", {"192.168.0.11"}, std::string("not json"), "LoadBalancer");
  CHECK(find(check_gateways(facts), "gateway.node-selector-not-json", "cn-shanghai") == nullptr);
}

TEST_CASE("verify trap: nodes selected by the nodeSelector have no ExternalIP", "[check][verify]") {
  auto facts = healthy_facts();
  wuxi(facts).gateway_services[0] = gateway_service("wuxi", {}, std::string("{}"));
  const auto fs = check_gateways(facts);
  REQUIRE_FINDING(fs, "gateway.nodes-without-external-ip", "wuxi", Severity::k_error,
                  "spec.externalIPs");
  CHECK_THAT(find(fs, "gateway.nodes-without-external-ip", "wuxi")->message,
             Catch::Matchers::Contains("wuxi-node-1, wuxi-node-2"));
  // Give one node an ExternalIP: istiod uses it with the 15443 nodePort.
  wuxi(facts).nodes[1] = node("wuxi-node-2", "10.30.1.12", "203.0.113.7");
  const auto views = gateway_views(wuxi(facts));
  REQUIRE(views[0].addresses.size() == 1);
  CHECK(views[0].addresses[0].address == "203.0.113.7");
  CHECK(views[0].addresses[0].port == 30443);
  CHECK(find(check_gateways(facts), "gateway.ok", "wuxi") != nullptr);
}

TEST_CASE("verify trap: a missing remote secret", "[check][verify]") {
  auto facts = healthy_facts();
  wuxi(facts).remote_secrets.clear();
  wuxi(facts).clusterz->clear();
  const auto fs = check_remote_secrets(facts);
  REQUIRE_FINDING(fs, "remote-secret.missing", "wuxi", Severity::k_error,
                  "meshctl join wuxi cn-shanghai");
  CHECK(find(fs, "remote-secret.ok", "cn-shanghai") != nullptr);
}

TEST_CASE("verify trap: different roots", "[check][verify]") {
  auto facts = healthy_facts();
  auto& w = wuxi(facts);
  w.cacerts->root_cert = cert("root-b.pem");
  w.cacerts->ca_cert = cert("ca-b-wuxi.pem");
  w.cacerts->cert_chain = cert("ca-b-wuxi.pem") + cert("root-b.pem");
  w.root_configmap = cert("root-b.pem");
  const auto fs = check_trust(facts);
  REQUIRE_FINDING(fs, "cacerts.root-differs", "", Severity::k_error, "--force-ca");
  CHECK(find(fs, "cacerts.ok", "wuxi") != nullptr); // its own chain is consistent
  CHECK(find(fs, "root-configmap.ok", "wuxi") != nullptr);
}

TEST_CASE("verify trap: the service is missing in one cluster", "[check][verify]") {
  auto facts = healthy_facts();
  wuxi(facts).service = nullptr;
  wuxi(facts).workloads.clear();
  const auto fs = check_service(facts);
  REQUIRE_FINDING(fs, "service.missing", "wuxi", Severity::k_error, "meshctl sync-svc");
  CHECK_THAT(find(fs, "service.missing", "wuxi")->message,
             Catch::Matchers::Contains("DNS will not resolve helloworld.dev in wuxi"));
}

TEST_CASE("verify trap: a locality rule without outlierDetection", "[check][verify]") {
  auto facts = healthy_facts();
  shanghai(facts).destination_rules[0] = destination_rule(true, false);
  const auto fs = check_endpoints(facts);
  REQUIRE_FINDING(fs, "destination-rule.no-outlier-detection", "cn-shanghai", Severity::k_error,
                  "outlierDetection");
  // The rule does nothing, so traffic is spread.
  REQUIRE_FINDING(fs, "traffic.spread", "cn-shanghai", Severity::k_warning,
                  "meshctl localize helloworld.dev");
  CHECK(find(fs, "traffic.localized", "wuxi") != nullptr);
}

TEST_CASE("verify trap: the host is not exposed on 15443", "[check][verify]") {
  auto facts = healthy_facts();
  auto& s = shanghai(facts);
  s.gateways[0] = expose_gateway({"other.prod.svc.cluster.local"});
  s.gateway_dumps[0].listeners.bytes =
      bytes(gateway_listener_dump({"outbound_.80_._.other.prod.svc.cluster.local"}), "listeners");
  digest(facts);
  REQUIRE_FINDING(check_gateways(facts), "expose.host-not-covered", "cn-shanghai",
                  Severity::k_error, "meshctl expose helloworld.dev");
  const auto sni = check_sni_routes(facts);
  REQUIRE_FINDING(sni, "sni.missing", "cn-shanghai", Severity::k_error,
                  "meshctl expose helloworld.dev");
  const auto rows = sni_rows(facts, s);
  REQUIRE(rows.size() == 1);
  CHECK_FALSE(rows[0].present);
  CHECK(rows[0].sni == "outbound_.5000_._.helloworld.dev.svc.cluster.local");
}

TEST_CASE("verify trap: istiod was not restarted after cacerts", "[check][verify]") {
  auto facts = healthy_facts();
  wuxi(facts).root_configmap = cert("root-b.pem"); // istiod's old self-signed root, say
  const auto fs = check_trust(facts);
  REQUIRE_FINDING(fs, "root-configmap.stale", "wuxi", Severity::k_error,
                  "rollout restart deployment/istiod");
  // The hint's first command does the restart: join restarts istiod where its root is stale.
  CHECK_THAT(find(fs, "root-configmap.stale", "wuxi")->hint,
             Catch::Matchers::StartsWith("meshctl join cn-shanghai wuxi restarts istiod"));
  CHECK_THAT(find(fs, "root-configmap.stale", "wuxi")->message,
             Catch::Matchers::StartsWith("istiod was not restarted after cacerts changed"));
}

TEST_CASE("verify: workloads in both clusters without a rule spread traffic", "[check][verify]") {
  auto facts = healthy_facts();
  for (auto& c : facts.clusters) {
    c.destination_rules.clear();
  }
  set_client(wuxi(facts), {{"10.30.0.12", 5000, 0, "helloworld-v2;dev;helloworld;v2;wuxi"},
                           {"192.168.0.11", 30443, 0, ";;;;cn-shanghai"}});
  digest(facts);
  const auto fs = check_endpoints(facts);
  REQUIRE_FINDING(fs, "traffic.spread", "wuxi", Severity::k_warning,
                  "meshctl localize helloworld.dev");
  CHECK(find(fs, "endpoints.ok", "wuxi") != nullptr); // endpoints themselves are fine
  CHECK(report_exit_code(build_report(facts), FailOn::k_error) == meshctl::ExitCode::k_ok);
  CHECK(report_exit_code(build_report(facts), FailOn::k_warning) == meshctl::ExitCode::k_failed);
}

TEST_CASE("verify: a rule whose priorities are not in the client's Envoy", "[check][verify]") {
  auto facts = healthy_facts();
  set_client(wuxi(facts),
             {{"10.30.0.12", 5000, 0, "x"}, {"192.168.0.11", 30443, 0, ";;;;cn-shanghai"}});
  digest(facts);
  REQUIRE_FINDING(check_endpoints(facts), "endpoints.priority", "wuxi", Severity::k_error,
                  "proxy-status");
}

TEST_CASE("verify: endpoints classify local pods and remote gateways", "[check][verify]") {
  auto facts = healthy_facts();
  const auto rows = endpoint_rows(facts, wuxi(facts));
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].kind == EndpointKind::k_local_pod);
  CHECK(rows[0].what == "pod helloworld-v2-10.30");
  CHECK(rows[0].endpoint.priority == 0);
  CHECK(rows[1].kind == EndpointKind::k_remote_gateway);
  CHECK(rows[1].peer_cluster == "cn-shanghai");
  CHECK(rows[1].endpoint.priority == 1);
  CHECK(rows[1].endpoint.workload == ";;;;cn-shanghai"); // merged from the EDS dump

  // Without its remote gateway the client cannot reach cn-shanghai.
  set_client(wuxi(facts), {{"10.30.0.12", 5000, 0, "x"}});
  digest(facts);
  REQUIRE_FINDING(check_endpoints(facts), "endpoints.missing-remote", "wuxi", Severity::k_error,
                  "remote-secret");
  CHECK_THAT(find(check_endpoints(facts), "endpoints.missing-remote", "wuxi")->message,
             Catch::Matchers::Contains("192.168.0.11:30443 (externalIPs)"));
}

TEST_CASE("verify: an unreachable cluster is reported and the rest still checked",
          "[check][verify]") {
  auto facts = healthy_facts();
  auto& w = wuxi(facts);
  w.reachable = false;
  w.connect_error = ReadError{"connection refused", "", 0, true};
  const auto report = build_report(facts);
  CHECK(report_exit_code(report, FailOn::k_error) == meshctl::ExitCode::k_unreachable);
  CHECK(report.unreachable == std::vector<std::string>{"wuxi"});
  REQUIRE(report.clusters[1].findings.size() == 1);
  CHECK(report.clusters[1].findings[0].id == "cluster.unreachable");
  CHECK(find(report.clusters[0].findings, "cacerts.ok", "cn-shanghai") != nullptr);
  // Rejected credentials are a failure, not "unreachable".
  w.connect_error = ReadError{"Unauthorized", "refresh the token", 401, false};
  const auto r2 = build_report(facts);
  CHECK(r2.unreachable.empty());
  CHECK(report_exit_code(r2, FailOn::k_error) == meshctl::ExitCode::k_failed);
  CHECK(find(r2.clusters[1].findings, "cluster.unauthorized", "wuxi") != nullptr);
}

TEST_CASE("verify: what could not be read is not claimed absent", "[check][verify]") {
  auto facts = healthy_facts();
  auto& s = shanghai(facts);
  s.cacerts.reset();
  s.errors["cacerts"] =
      ReadError{"secrets \"cacerts\" is forbidden", "kubectl auth can-i get secrets", 403, false};
  const auto fs = run_checks(facts);
  CHECK(find(fs, "cacerts.missing", "cn-shanghai") == nullptr);
  REQUIRE_FINDING(fs, "cluster.forbidden", "cn-shanghai", Severity::k_warning, "can-i");
}

TEST_CASE("verify: an unread part does not hide what was read beside it", "[check][verify]") {
  const ReadError forbidden{"forbidden", "use a context that may read it", 403, false};
  SECTION("istiod's ConfigMaps: readiness still checked, no identity compared") {
    auto facts = healthy_facts();
    wuxi(facts).istiod->mesh_id.clear(); // what an unread ConfigMap leaves
    wuxi(facts).istiod->network.clear();
    wuxi(facts).errors["istiod config"] = forbidden;
    const auto fs = run_checks(facts);
    INFO(dump_findings(fs));
    CHECK(find(fs, "istiod.ready", "wuxi") != nullptr);
    CHECK(find(fs, "istiod.identity-mismatch", "wuxi") == nullptr);
    CHECK(find(fs, "istiod.identity", "wuxi") == nullptr);
    CHECK(find(fs, "network.namespace-label", "wuxi") == nullptr); // still checked, and fine
    CHECK(find(fs, "clusterz.synced", "wuxi") != nullptr);
    CHECK_THAT(find(fs, "cluster.forbidden", "wuxi")->message,
               Catch::Matchers::Contains("istiod config"));
  }
  SECTION("the namespace's pods: the Service is still checked, no workload verdict") {
    auto facts = healthy_facts();
    for (auto& c : facts.clusters) {
      c.workloads.clear();
      c.errors["service pods"] = forbidden;
    }
    const auto fs = check_service(facts);
    INFO(dump_findings(fs));
    CHECK(find(fs, "service.present", "wuxi") != nullptr);
    CHECK(find(fs, "service.no-workloads", "") == nullptr); // not "calls fail everywhere"
    CHECK(find(fs, "service.no-workloads", "wuxi") == nullptr);
  }
  SECTION("the gateway's pods: the SNI finding says why it has no listeners") {
    auto facts = healthy_facts();
    shanghai(facts).gateway_dumps.clear();
    shanghai(facts).errors["gateway-pods"] = ReadError{"pods is forbidden", "", 403, false};
    const auto fs = check_sni_routes(facts);
    INFO(dump_findings(fs));
    REQUIRE(find(fs, "sni.unavailable", "cn-shanghai") != nullptr);
    CHECK_THAT(find(fs, "sni.unavailable", "cn-shanghai")->message,
               Catch::Matchers::EndsWith(": pods is forbidden"));
  }
}

TEST_CASE("verify: cacerts expiry, chain and identity", "[check][verify]") {
  auto facts = healthy_facts();
  auto& w = wuxi(facts);
  w.cacerts->ca_cert = cert("ca-a-wuxi-expiring.pem");
  w.cacerts->cert_chain = cert("ca-a-wuxi-expiring.pem") + cert("root-a.pem");
  auto fs = check_trust(facts);
  // join reissues an intermediate only once it no longer chains, so the hint has it moved aside
  // first; the root stays, so istiod needs --restart-istiod to load the new intermediate.
  REQUIRE_FINDING(fs, "cacerts.expiring", "wuxi", Severity::k_warning,
                  "meshctl join cn-shanghai wuxi --restart-istiod issues a new intermediate");
  CHECK_THAT(find(fs, "cacerts.expiring", "wuxi")->hint,
             Catch::Matchers::Contains("move the PKI dir's wuxi/ directory"));
  CHECK_THAT(find(fs, "cacerts.expiring", "wuxi")->message,
             Catch::Matchers::Contains("2025-06-20 (in 19 days)"));
  facts.collected_at = *parse_time("2025-07-01T00:00:00Z");
  REQUIRE_FINDING(check_trust(facts), "cacerts.expired", "wuxi", Severity::k_error,
                  "--restart-istiod issues a new intermediate");

  facts = healthy_facts();
  wuxi(facts).cacerts->ca_cert = cert("ca-b-wuxi.pem"); // signed by another root
  REQUIRE_FINDING(check_trust(facts), "cacerts.chain-invalid", "wuxi", Severity::k_error,
                  "--force-ca");

  facts = healthy_facts();
  wuxi(facts).istiod->network = "network1";
  wuxi(facts).istiod->cluster_id = "Kubernetes";
  fs = check_istio(facts);
  REQUIRE_FINDING(fs, "istiod.identity-mismatch", "wuxi", Severity::k_error,
                  "--set values.global.multiCluster.clusterName=wuxi --set "
                  "values.global.network=wuxi");
}

TEST_CASE("verify: remote secret details (label, loopback, token, clusterz)", "[check][verify]") {
  auto facts = healthy_facts();
  auto& k = wuxi(facts).remote_secrets[0].kubeconfigs[0];
  k.server = "https://127.0.0.1:6443";
  REQUIRE_FINDING(check_remote_secrets(facts), "remote-secret.loopback", "wuxi", Severity::k_error,
                  "apiServer");
  // The same address named on purpose in meshctl.yaml (every cluster on one host) is accepted.
  shanghai(facts).api_server = "https://127.0.0.1:6443";
  auto loopback_ok = check_remote_secrets(facts);
  CHECK(find(loopback_ok, "remote-secret.loopback", "wuxi") == nullptr);
  REQUIRE(find(loopback_ok, "remote-secret.ok", "wuxi") != nullptr);
  CHECK_THAT(find(loopback_ok, "remote-secret.ok", "wuxi")->message,
             Catch::Matchers::Contains("loopback, as meshctl.yaml sets it"));
  {
    // The same with cn-shanghai left out by --context: meshctl.yaml's address still counts.
    auto subset = facts;
    subset.clusters.erase(subset.clusters.begin());
    subset.mesh_clusters = {"cn-shanghai", "wuxi"};
    CHECK(find(check_remote_secrets(subset), "remote-secret.loopback", "wuxi") != nullptr);
    subset.unchecked_api_servers["cn-shanghai"] = "https://127.0.0.1:6443";
    CHECK(find(check_remote_secrets(subset), "remote-secret.loopback", "wuxi") == nullptr);
  }

  facts = healthy_facts();
  wuxi(facts).remote_secrets[0].labels.clear();
  REQUIRE_FINDING(check_remote_secrets(facts), "remote-secret.label", "wuxi", Severity::k_error,
                  "istio/multiCluster=true");

  facts = healthy_facts();
  wuxi(facts).remote_secrets[0].kubeconfigs[0].token_check->error =
      ReadError{"Unauthorized", "", 401, false};
  REQUIRE_FINDING(check_remote_secrets(facts), "remote-secret.token-rejected", "wuxi",
                  Severity::k_error, "meshctl join wuxi cn-shanghai");

  facts = healthy_facts();
  auto& access = wuxi(facts).remote_secrets[0].kubeconfigs[0].token_check->access;
  access[2].allowed = false;    // list nodes
  access.back().allowed = true; // create secrets
  auto fs = check_remote_secrets(facts);
  REQUIRE_FINDING(fs, "remote-secret.permissions", "wuxi", Severity::k_error,
                  "istio-reader-clusterrole-istio-system");
  CHECK_THAT(find(fs, "remote-secret.permissions", "wuxi")->message,
             Catch::Matchers::Contains("list nodes"));
  REQUIRE_FINDING(fs, "remote-secret.too-powerful", "wuxi", Severity::k_warning, "reader");

  // A review the API server did not answer (503 after retries) is no verdict: "could not check".
  facts = healthy_facts();
  auto& unanswered = wuxi(facts).remote_secrets[0].kubeconfigs[0].token_check->access[2];
  unanswered.allowed = false;
  unanswered.unanswered = true;
  unanswered.http_status = 503;
  fs = check_remote_secrets(facts);
  CHECK(find(fs, "remote-secret.permissions", "wuxi") == nullptr);
  CHECK(find(fs, "remote-secret.ok", "wuxi") == nullptr);
  REQUIRE_FINDING(fs, "remote-secret.unchecked", "wuxi", Severity::k_warning,
                  "no verdict on the token's permissions");
  CHECK_THAT(find(fs, "remote-secret.unchecked", "wuxi")->message,
             Catch::Matchers::Contains("could not check whether the token") &&
                 Catch::Matchers::Contains("list nodes (HTTP 503)"));

  facts = healthy_facts();
  (*wuxi(facts).clusterz)[0].sync_status = "timeout";
  REQUIRE_FINDING(check_remote_secrets(facts), "clusterz.not-synced", "wuxi", Severity::k_error,
                  "logs deploy/istiod");
}

TEST_CASE("verify: service sameness (FACTS 8)", "[check][verify]") {
  auto facts = healthy_facts();
  wuxi(facts).service["spec"]["ports"][0]["name"] = "grpc";
  wuxi(facts).service["spec"]["clusterIP"] = "None";
  const auto fs = check_service(facts);
  // Neither Service is a copy of sync-svc's, which never changes another's: fixed by hand.
  REQUIRE_FINDING(fs, "service.ports-differ", "wuxi", Severity::k_error,
                  "make them identical by hand: meshctl sync-svc never changes a Service it did "
                  "not create");
  REQUIRE_FINDING(fs, "service.type-differs", "wuxi", Severity::k_error, "delete the one in wuxi");
  // wuxi's is a copy: sync-svc rewrites it.
  wuxi(facts).service["metadata"]["labels"]["app.kubernetes.io/managed-by"] = "meshctl";
  REQUIRE_FINDING(check_service(facts), "service.ports-differ", "wuxi", Severity::k_error,
                  "meshctl sync-svc rewrites the copy it made (in wuxi)");

  facts = healthy_facts();
  wuxi(facts).workloads[0] =
      pod("dev", "helloworld-v2-x", {{"app", "helloworld"}}, "10.30.0.12", true, false);
  REQUIRE_FINDING(check_service(facts), "workload.no-sidecar", "wuxi", Severity::k_error,
                  "istio-injection=enabled");
}

TEST_CASE("verify views: gateway addresses as istiod computes them (FACTS 4)", "[check][verify]") {
  ClusterFacts c;
  c.network = "n1";
  c.nodes = {node("a", "10.0.0.1", "198.51.100.1"), node("b", "10.0.0.2")};
  auto lb = gateway_service("n1", {}, std::nullopt, "LoadBalancer");
  lb["status"]["loadBalancer"]["ingress"] = {{{"ip", "203.0.113.10"}},
                                             {{"hostname", "gw.example"}}};
  c.gateway_services = {lb};
  auto v = gateway_views(c);
  REQUIRE(v[0].addresses.size() == 2);
  CHECK(v[0].addresses[0].address == "203.0.113.10");
  CHECK(v[0].addresses[0].port == 15443);
  CHECK(v[0].addresses[1].address == "gw.example");

  // NodePort + JSON selector: selected nodes' ExternalIP with the nodePort; others skipped.
  c.gateway_services = {
      gateway_service("n1", {}, std::string("{\"kubernetes.io/hostname\":\"a\"}"))};
  v = gateway_views(c);
  CHECK(v[0].node_selector_valid);
  CHECK(v[0].selected_nodes == std::vector<std::string>{"a"});
  REQUIRE(v[0].addresses.size() == 1);
  CHECK(v[0].addresses[0].address == "198.51.100.1");
  CHECK(v[0].addresses[0].port == 30443);

  // NodePort without the annotation: externalIPs with the service port.
  c.gateway_services = {gateway_service("n1", {"10.9.9.9"}, std::nullopt)};
  v = gateway_views(c);
  REQUIRE(v[0].addresses.size() == 1);
  CHECK(v[0].addresses[0].port == 15443);

  // Non-object JSON is as useless as key=value.
  c.gateway_services = {gateway_service("n1", {}, std::string("[\"a\"]"))};
  CHECK_FALSE(gateway_views(c)[0].node_selector_valid);
}

TEST_CASE("verify --context: a subset is judged against the whole mesh", "[check][verify]") {
  // verify helloworld.dev --context wuxi, with v1 only in cn-shanghai: wuxi runs no pods and its
  // client reaches cn-shanghai's gateway. cn-shanghai was not checked, so nothing may be concluded
  // about it, but wuxi's secret for it is still checked and hints still name the whole mesh.
  auto facts = healthy_facts();
  facts.clusters.erase(facts.clusters.begin());
  facts.mesh_clusters = {"cn-shanghai", "wuxi"};
  auto& w = facts.clusters[0];
  w.workloads.clear();
  set_client(w, {{"192.168.0.11", 30443, 1, ";;;;cn-shanghai"}});
  digest(facts);
  CHECK(facts.unchecked() == std::vector<std::string>{"cn-shanghai"});
  auto fs = run_checks(facts);
  INFO(dump_findings(fs));
  CHECK(count(fs, Severity::k_error) == 0);
  CHECK(count(fs, Severity::k_warning) == 0);
  CHECK(find(fs, "remote-secret.ok", "wuxi") != nullptr);
  CHECK(find(fs, "clusterz.synced", "wuxi") != nullptr);
  const Finding* none = find(fs, "service.no-workloads", "");
  REQUIRE(none != nullptr);
  CHECK(none->severity == Severity::k_info);
  CHECK_THAT(none->message, Catch::Matchers::Contains("no checked cluster") &&
                                Catch::Matchers::Contains("not checked: cn-shanghai"));
  CHECK_THAT(find(fs, "service.no-workloads", "wuxi")->message,
             Catch::Matchers::Contains("calls can only go to cn-shanghai (not checked)"));
  const auto report = build_report(facts);
  CHECK(report.unchecked == std::vector<std::string>{"cn-shanghai"});
  CHECK(report_json(report, FailOn::k_error)["summary"]["unchecked"] ==
        nlohmann::json::array({"cn-shanghai"}));
  CHECK_THAT(format_report(report, FailOn::k_error, false),
             Catch::Matchers::StartsWith("Verifying helloworld.dev "
                                         "(helloworld.dev.svc.cluster.local) in 1 of 2 clusters "
                                         "(not checked: cn-shanghai), "));

  // A missing secret for the unchecked cluster is found, and the fix names both clusters.
  w.remote_secrets.clear();
  REQUIRE_FINDING(check_remote_secrets(facts), "remote-secret.missing", "wuxi", Severity::k_error,
                  "meshctl join wuxi cn-shanghai");
  w.cacerts.reset();
  REQUIRE_FINDING(check_trust(facts), "cacerts.missing", "wuxi", Severity::k_error,
                  "meshctl join cn-shanghai wuxi");

  // v2 deployed in wuxi, no rule: the client's endpoints show pods elsewhere too.
  facts = healthy_facts();
  facts.clusters.erase(facts.clusters.begin());
  facts.mesh_clusters = {"cn-shanghai", "wuxi"};
  facts.clusters[0].destination_rules.clear();
  set_client(facts.clusters[0], {{"10.30.0.12", 5000, 0, "helloworld-v2;dev;helloworld;v2;wuxi"},
                                 {"192.168.0.11", 30443, 0, ";;;;cn-shanghai"}});
  digest(facts);
  fs = check_endpoints(facts);
  REQUIRE_FINDING(fs, "traffic.spread", "wuxi", Severity::k_warning,
                  "meshctl localize helloworld.dev");
  CHECK_THAT(find(fs, "traffic.spread", "wuxi")->message,
             Catch::Matchers::Contains("run in cn-shanghai, wuxi"));
}

TEST_CASE("verify: no pods anywhere in the whole mesh is an error", "[check][verify]") {
  auto facts = healthy_facts();
  for (auto& c : facts.clusters) {
    c.workloads.clear();
  }
  facts.mesh_clusters = {"cn-shanghai", "wuxi"};
  REQUIRE_FINDING(check_service(facts), "service.no-workloads", "", Severity::k_error,
                  "kubectl get pods -n dev --show-labels");
}

TEST_CASE("verify: run_checks runs every area once, in order, each with its own ids",
          "[check][verify]") {
  // Each area's file makes only findings of its own id prefixes; run_checks is their concatenation
  // in the order checks.hpp lists them. A healthy and a broken snapshot, so that every area says
  // something.
  using Check = Findings (*)(const MeshFacts&);
  const std::vector<std::pair<Check, std::vector<std::string>>> areas = {
      {&check_reachability, {"cluster."}},
      {&check_istio, {"istio.", "istiod.", "network."}},
      {&check_trust, {"cacerts.", "root-configmap."}},
      {&check_remote_secrets, {"remote-secret.", "clusterz."}},
      {&check_gateways, {"gateway.", "expose."}},
      {&check_service, {"service.", "workload."}},
      {&check_sni_routes, {"sni."}},
      {&check_endpoints, {"endpoints.", "traffic.", "destination-rule."}},
  };
  auto broken = healthy_facts();
  wuxi(broken).remote_secrets.clear();
  wuxi(broken).service = nullptr;
  wuxi(broken).cacerts->keys.pop_back();
  shanghai(broken).destination_rules[0] = destination_rule(true, false);
  for (const auto& facts : {healthy_facts(), broken}) {
    Findings all;
    for (const auto& [check, prefixes] : areas) {
      const auto found = check(facts);
      CHECK_FALSE(found.empty());
      for (const auto& f : found) {
        INFO(f.id);
        CHECK(std::any_of(prefixes.begin(), prefixes.end(),
                          [&](const std::string& p) { return f.id.starts_with(p); }));
      }
      all.insert(all.end(), found.begin(), found.end());
    }
    CHECK(run_checks(facts) == all);
  }
}

TEST_CASE("verify: a trust domain other than meshctl.yaml's is an error with the fix",
          "[check][verify][trust-domain]") {
  auto facts = healthy_facts();
  wuxi(facts).istiod->trust_domain = "wuxi.local";
  const auto findings = run_checks(facts);
  REQUIRE_FINDING(findings, "istiod.trust-domain-differs", "wuxi", Severity::k_error,
                  "--set meshConfig.trustDomain=cluster.local");
  const Finding* f = find(findings, "istiod.trust-domain-differs", "wuxi");
  CHECK_THAT(f->message, Catch::Matchers::Contains("\"wuxi.local\""));
  CHECK_THAT(f->hint, Catch::Matchers::Contains("ConfigMap istio-system/istio, key mesh"));
  CHECK_THAT(f->hint, Catch::Matchers::Contains("trustDomainAliases"));
  // Across clusters: cn-shanghai does not accept wuxi's identities.
  REQUIRE_FINDING(findings, "istiod.trust-domain-differs", "", Severity::k_error,
                  "trustDomainAliases");
  CHECK_THAT(find(findings, "istiod.trust-domain-differs", "")->message,
             Catch::Matchers::Contains("cn-shanghai does not accept wuxi.local of wuxi"));
  CHECK(find(findings, "istiod.trust-domain", "cn-shanghai") != nullptr);
  CHECK(find(findings, "istiod.trust-domain-differs", "cn-shanghai") == nullptr);
}

TEST_CASE("verify: trust domains covered by aliases are accepted across clusters",
          "[check][verify][trust-domain]") {
  auto facts = healthy_facts();
  facts.trust_domain = "wuxi.local";
  wuxi(facts).istiod->trust_domain = "wuxi.local";
  wuxi(facts).istiod->trust_domain_aliases = {"cluster.local"};
  shanghai(facts).istiod->trust_domain_aliases = {"wuxi.local"};
  const auto findings = run_checks(facts);
  INFO(dump_findings(findings));
  // cn-shanghai still differs from meshctl.yaml, but the clusters accept each other.
  CHECK(find(findings, "istiod.trust-domain-differs", "cn-shanghai") != nullptr);
  CHECK(find(findings, "istiod.trust-domain-differs", "wuxi") == nullptr);
  CHECK(find(findings, "istiod.trust-domain-differs", "") == nullptr);
  CHECK(find(findings, "istiod.trust-domain", "") != nullptr);
}

TEST_CASE("verify: a revisioned istiod is checked and shown with its version",
          "[check][verify][revision]") {
  auto facts = healthy_facts();
  for (auto& c : facts.clusters) {
    c.istiod->revision = "1-24";
    c.istiod->deployment["metadata"]["name"] = "istiod-1-24";
    c.istiod_revisions = {"1-24"};
  }
  wuxi(facts).istiod->pods.clear();
  const auto findings = run_checks(facts);
  const Finding* ready = find(findings, "istiod.ready", "cn-shanghai");
  REQUIRE(ready != nullptr);
  CHECK_THAT(ready->message, Catch::Matchers::Contains("revision 1-24, version 1.24.2"));
  REQUIRE_FINDING(findings, "istiod.not-ready", "wuxi", Severity::k_error,
                  "describe pods -l app=istiod,istio.io/rev=1-24");
  CHECK_THAT(find(findings, "istiod.not-ready", "wuxi")->hint,
             Catch::Matchers::Contains("logs deploy/istiod-1-24"));
  const auto report = report_json(build_report(facts), FailOn::k_error);
  CHECK(report["clusters"][0]["istiod"] ==
        json({{"revision", "1-24"}, {"version", "1.24.2"}, {"trustDomain", "cluster.local"}}));
}

TEST_CASE("verify: several istiod revisions and none configured", "[check][verify][revision]") {
  auto facts = healthy_facts();
  wuxi(facts).istiod.reset();
  wuxi(facts).istiod_revisions = {"1-23", "1-24"};
  wuxi(facts).revision_error = ReadError{
      "wuxi runs several istiod revisions (1-23, 1-24): meshctl cannot tell which one to work "
      "with",
      "choose one with istio.revision in meshctl.yaml", 0, false};
  auto findings = run_checks(facts);
  REQUIRE_FINDING(findings, "istiod.revision-ambiguous", "wuxi", Severity::k_error,
                  "istio.revision");
  CHECK(find(findings, "istiod.missing", "wuxi") == nullptr);
  wuxi(facts).configured_revision = "1-25";
  findings = run_checks(facts);
  CHECK(find(findings, "istiod.revision-missing", "wuxi") != nullptr);
}

TEST_CASE("verify: istiod's mesh config is read as istiod reads it", "[check][verify]") {
  IstiodFacts i;
  i.deployment = json::parse(R"({"metadata": {"name": "istiod-1-24"}, "spec": {"template": {
      "spec": {"containers": [{"name": "discovery", "image": "docker.io/istio/pilot:1.24.2",
                               "env": [{"name": "CLUSTER_ID", "value": "wuxi"}]}]}}}})");
  fill_istiod_identity(i, R"({"global": {"network": "wuxi"}})",
                       "defaultConfig:\n  meshId: mesh1\ntrustDomain: wuxi.local\n"
                       "trustDomainAliases: [cluster.local, old.local]\n");
  CHECK(i.version == "1.24.2");
  CHECK(i.cluster_id == "wuxi");
  CHECK(i.mesh_id == "mesh1"); // no global.meshID: the mesh config's defaultConfig.meshId
  CHECK(i.mesh_config_mesh_id == "mesh1");
  CHECK(i.trust_domain == "wuxi.local");
  CHECK(i.trust_domain_aliases == std::vector<std::string>{"cluster.local", "old.local"});
  fill_istiod_identity(i, "", "defaultConfig: {}\n");
  CHECK(i.trust_domain == "cluster.local"); // istiod's default
  CHECK(i.trust_domain_aliases.empty());
}

TEST_CASE("verify: a LoadBalancer gateway with a hostname (AWS ELB)", "[check][verify]") {
  const json sh = json::array({{{"hostname", "gw-sh.elb.example"}}});
  const json wx = json::array({{{"hostname", "gw-wx.elb.example"}}});

  SECTION("resolved here: says to what, and that istiod resolves it itself") {
    auto facts = lb_facts(sh, wx);
    facts.host_lookups["gw-sh.elb.example"] = {{"198.18.0.7"}, ""};
    facts.host_lookups["gw-wx.elb.example"] = {{"198.18.0.8", "2001:db8::8"}, ""};
    const auto fs = check_gateways(facts);
    INFO(dump_findings(fs));
    CHECK(count(fs, Severity::k_warning) == 0);
    CHECK(count(fs, Severity::k_error) == 0);
    const Finding* ok = find(fs, "gateway.ok", "cn-shanghai");
    REQUIRE(ok != nullptr);
    CHECK_THAT(ok->message, Catch::Matchers::Contains(
                                "gw-sh.elb.example:15443 (LoadBalancer ingress hostname)"));
    const Finding* h = find(fs, "gateway.hostname", "wuxi");
    REQUIRE(h != nullptr);
    CHECK_THAT(h->message, Catch::Matchers::Contains("resolves to 198.18.0.8, 2001:db8::8"));
    CHECK_THAT(h->message, Catch::Matchers::Contains("istiod resolves it itself"));
  }

  SECTION("not resolved here, nothing shows istiod did: a warning, not an error") {
    auto facts = lb_facts(sh, wx);
    for (auto& c : facts.clusters) {
      c.client.reset(); // no client: nothing proves the other istiod resolved it
    }
    facts.host_lookups["gw-sh.elb.example"] = {{}, "Name or service not known"};
    facts.host_lookups["gw-wx.elb.example"] = {{}, "Name or service not known"};
    const auto fs = check_gateways(facts);
    REQUIRE_FINDING(fs, "gateway.hostname-unresolved", "wuxi", Severity::k_warning,
                    "nslookup gw-wx.elb.example");
    const Finding* f = find(fs, "gateway.hostname-unresolved", "wuxi");
    CHECK_THAT(f->message,
               Catch::Matchers::Contains("does not resolve from here (Name or service not known)"));
    CHECK_THAT(f->message, Catch::Matchers::Contains("may well resolve there"));
    CHECK(find(fs, "gateway.ok", "wuxi") != nullptr);
    CHECK(count(fs, Severity::k_error) == 0);
  }

  SECTION("not resolved here, but a client elsewhere reaches the gateway: istiod resolved it") {
    auto facts = lb_facts(sh, wx);
    facts.host_lookups["gw-sh.elb.example"] = {{}, "Name or service not known"};
    const auto fs = check_gateways(facts);
    INFO(dump_findings(fs));
    CHECK(find(fs, "gateway.hostname-unresolved", "cn-shanghai") == nullptr);
    const Finding* h = find(fs, "gateway.hostname", "cn-shanghai");
    REQUIRE(h != nullptr);
    CHECK_THAT(h->message, Catch::Matchers::Contains("istiod in the other clusters resolved it"));
    CHECK_THAT(h->message,
               Catch::Matchers::Contains("reached by wuxi's client through 192.168.0.11:30443"));
    // A bundle without lookups (older meshctl) says so instead of guessing.
    CHECK_THAT(find(fs, "gateway.hostname", "wuxi")->message,
               Catch::Matchers::Contains("it was not looked up"));
  }
}

TEST_CASE("verify: a LoadBalancer gateway still pending", "[check][verify]") {
  auto facts = lb_facts(json::array(), json::array({{{"ip", "203.0.113.9"}}}));
  const auto fs = check_gateways(facts);
  REQUIRE_FINDING(fs, "gateway.loadbalancer-pending", "cn-shanghai", Severity::k_error,
                  "kubectl --context cn-shanghai -n istio-system describe service "
                  "istio-eastwestgateway");
  const Finding* f = find(fs, "gateway.loadbalancer-pending", "cn-shanghai");
  CHECK_THAT(f->message, Catch::Matchers::Contains("EXTERNAL-IP <pending>"));
  CHECK_THAT(f->hint, Catch::Matchers::Contains("get service istio-eastwestgateway -w"));
  CHECK_THAT(f->hint, Catch::Matchers::Contains("gateway.externalIPs"));
  CHECK(find(fs, "gateway.ok", "cn-shanghai") == nullptr);
  CHECK_THAT(find(fs, "gateway.ok", "wuxi")->message,
             Catch::Matchers::Contains("203.0.113.9:15443 (LoadBalancer ingress)"));
}

TEST_CASE("verify: externalIPs give a pending LoadBalancer an address (any Service type)",
          "[check][verify]") {
  auto facts = lb_facts(json::array(), json::array());
  auto& svc = shanghai(facts).gateway_services[0];
  svc["spec"]["externalIPs"] = {"192.168.0.11"};
  const auto fs = check_gateways(facts);
  INFO(dump_findings(fs));
  CHECK(find(fs, "gateway.loadbalancer-pending", "cn-shanghai") == nullptr);
  CHECK_THAT(find(fs, "gateway.ok", "cn-shanghai")->message,
             Catch::Matchers::Contains("192.168.0.11:15443 (externalIPs)"));
  CHECK(find(fs, "gateway.loadbalancer-pending", "wuxi") != nullptr);
}

TEST_CASE("verify: gateway.addresses reach other clusters through their meshNetworks",
          "[check][verify]") {
  // wuxi's gateway sits behind a NAT at 203.0.113.7:31443: its Service publishes nothing, and
  // meshctl.yaml gives the address.
  auto facts = healthy_facts();
  auto& w = wuxi(facts);
  w.gateway_services = {gateway_service("wuxi", {}, std::nullopt)};
  w.gateway_addresses = {"203.0.113.7"};
  w.gateway_port = 31443;
  const std::string networks = "networks:\n  wuxi:\n    gateways:\n"
                               "      - address: 203.0.113.7\n        port: 31443\n";

  SECTION("known to the other istiod: the gateway is reachable at that address") {
    shanghai(facts).istiod->mesh_networks = networks;
    const auto fs = check_gateways(facts);
    INFO(dump_findings(fs));
    CHECK(count(fs, Severity::k_error) == 0);
    CHECK(count(fs, Severity::k_warning) == 0);
    CHECK_THAT(find(fs, "gateway.ok", "wuxi")->message,
               Catch::Matchers::Contains("203.0.113.7:31443 (meshNetworks)"));
    CHECK_THAT(find(fs, "gateway.mesh-networks", "cn-shanghai")->message,
               Catch::Matchers::Contains("istiod in cn-shanghai knows the gateway of network wuxi "
                                         "from meshNetworks: 203.0.113.7:31443"));
  }
  SECTION("missing from the other istiod's meshNetworks: an error there, join fixes it") {
    shanghai(facts).istiod->mesh_networks = "networks: {}\n";
    REQUIRE_FINDING(check_gateways(facts), "gateway.mesh-networks-missing", "cn-shanghai",
                    Severity::k_error, "meshctl join cn-shanghai wuxi");
  }
  SECTION("the Service publishes an address too: istiod ignores gateway.addresses") {
    shanghai(facts).istiod->mesh_networks = networks;
    w.gateway_services = {gateway_service("wuxi", {"10.20.0.21"}, std::nullopt)};
    REQUIRE_FINDING(check_gateways(facts), "gateway.addresses-shadowed", "wuxi",
                    Severity::k_warning, "remove gateway.addresses");
  }
}

TEST_CASE("verify views: meshNetworks as istiod reads it", "[check][verify]") {
  const auto gws = mesh_network_gateways(
      "networks:\n  n1:\n    endpoints: [{fromRegistry: c1}]\n    gateways:\n"
      "    - address: 1.2.3.4\n      port: 15443\n"
      "    - registryServiceName: istio-eastwestgateway.istio-system.svc.cluster.local\n"
      "      port: 15443\n  n2: {}\n");
  CHECK(gws.at("n1") == std::vector<std::string>{"1.2.3.4:15443"});
  CHECK(gws.at("n2").empty());
  CHECK(mesh_network_gateways("").empty());
  CHECK(mesh_network_gateways("networks: [").empty());
}

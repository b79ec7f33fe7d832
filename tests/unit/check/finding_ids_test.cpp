// Every finding id verify can report (checks.hpp's k_finding_ids) is produced by a test: one
// fixture per way of producing it, each the healthy snapshot (snapshot.hpp) with one thing broken,
// run through every check. A new FindingId without a fixture fails here, and so does a fixture
// whose finding a check stopped producing, or produces with another severity or without a hint.

#include "check/checks.hpp"
#include "check/facts.hpp"
#include "envoy/dump_source.hpp"
#include "unit/check/snapshot.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

using namespace meshctl::check;
using namespace meshctl::testing::check;
using meshctl::envoy::DumpBytes;

namespace {

struct Fixture {
  FindingId id;
  Severity severity;
  std::string cluster;                    ///< the cluster the finding is about; "" = the mesh
  std::string situation;                  ///< what the fixture sets up, for failure output
  std::function<void(MeshFacts&)> breaks; ///< applied to the healthy snapshot; null = as is
};

const ReadError k_forbidden{"nodes is forbidden", "use a context that may read it", 403, false};

void not_ready(json& pod) {
  pod["status"]["conditions"] = ready_condition(false);
}

// The healthy mesh with wuxi's east-west gateway Service replaced by `svc`.
std::function<void(MeshFacts&)> wuxi_gateway(json svc) {
  return [svc](MeshFacts& f) { wuxi(f).gateway_services = {svc}; };
}

// wuxi's gateway.addresses (meshctl.yaml) at 203.0.113.7:31443, and what cn-shanghai's istiod
// has in meshNetworks.
void wuxi_gateway_addresses(MeshFacts& f, const std::string& shanghai_mesh_networks) {
  wuxi(f).gateway_services = {gateway_service("wuxi", {}, std::nullopt)};
  wuxi(f).gateway_addresses = {"203.0.113.7"};
  wuxi(f).gateway_port = 31443;
  shanghai(f).istiod->mesh_networks = shanghai_mesh_networks;
}

// wuxi's cacerts with the intermediate in tests/data/check/`file` (and the chain to root A).
void wuxi_intermediate(MeshFacts& f, const std::string& file) {
  wuxi(f).cacerts->ca_cert = cert(file);
  wuxi(f).cacerts->cert_chain = cert(file) + cert("root-a.pem");
}

const std::string k_wuxi_mesh_networks =
    "networks:\n  wuxi:\n    gateways:\n      - address: 203.0.113.7\n        port: 31443\n";

// wuxi's client sees `eps` (its own pod is 10.30.0.12, cn-shanghai's gateway 192.168.0.11:30443).
std::function<void(MeshFacts&)> wuxi_client_sees(std::vector<Endpoint> eps) {
  return [eps](MeshFacts& f) { set_client(wuxi(f), eps); };
}

const Endpoint k_wuxi_pod{"10.30.0.12", 5000, 0, "helloworld-v2;dev;helloworld;v2;wuxi"};
const Endpoint k_shanghai_gateway{"192.168.0.11", 30443, 1, ";;;;cn-shanghai"};

const std::vector<Fixture>& fixtures() {
  using F = FindingId;
  using S = Severity;
  static const std::vector<Fixture> all = {
      // check_reachability
      {F::k_cluster_reachable, S::k_info, "wuxi", "healthy", nullptr},
      {F::k_cluster_unreachable, S::k_error, "wuxi", "connection refused",
       [](MeshFacts& f) {
         wuxi(f).reachable = false;
         wuxi(f).connect_error = ReadError{"connection refused", "", 0, true};
       }},
      {F::k_cluster_unauthorized, S::k_error, "wuxi", "401 from the API server",
       [](MeshFacts& f) {
         wuxi(f).reachable = false;
         wuxi(f).connect_error = ReadError{"Unauthorized", "", 401, false};
       }},
      {F::k_cluster_forbidden, S::k_warning, "wuxi", "nodes forbidden",
       [](MeshFacts& f) { wuxi(f).errors["nodes"] = k_forbidden; }},
      {F::k_cluster_read_failed, S::k_warning, "wuxi", "nodes timed out",
       [](MeshFacts& f) {
         wuxi(f).errors["nodes"] = ReadError{"the server was unable to return a response", "",
                                             504, false};
       }},
      {F::k_cluster_slow, S::k_warning, "wuxi", "/version took 3.5 s",
       [](MeshFacts& f) { wuxi(f).latency_ms = 3500; }},

      // check_istio
      {F::k_istio_crds, S::k_info, "wuxi", "healthy", nullptr},
      {F::k_istio_crds_missing, S::k_error, "wuxi", "no networking.istio.io kinds",
       [](MeshFacts& f) { wuxi(f).istio_kinds.clear(); }},
      {F::k_istio_crds_too_old, S::k_error, "wuxi", "networking.istio.io/v1alpha3 only",
       [](MeshFacts& f) {
         for (auto& [kind, version] : wuxi(f).istio_kinds) {
           version = "networking.istio.io/v1alpha3";
         }
       }},
      {F::k_istiod_ready, S::k_info, "wuxi", "healthy", nullptr},
      {F::k_istiod_missing, S::k_error, "wuxi", "no istiod Deployment",
       [](MeshFacts& f) {
         wuxi(f).istiod.reset();
         wuxi(f).istiod_revisions.clear();
       }},
      {F::k_istiod_not_ready, S::k_error, "wuxi", "istiod's only pod not ready",
       [](MeshFacts& f) { not_ready(wuxi(f).istiod->pods[0]); }},
      {F::k_istiod_identity, S::k_info, "wuxi", "healthy", nullptr},
      {F::k_istiod_identity_mismatch, S::k_error, "wuxi", "istiod's network is network1",
       [](MeshFacts& f) { wuxi(f).istiod->network = "network1"; }},
      {F::k_istiod_mesh_id_differs, S::k_error, "", "wuxi's istiod in mesh2",
       [](MeshFacts& f) { wuxi(f).istiod->mesh_id = "mesh2"; }},
      {F::k_istiod_cluster_id_duplicate, S::k_error, "", "both istiods without CLUSTER_ID",
       [](MeshFacts& f) {
         for (auto& c : f.clusters) {
           c.istiod->cluster_id = "Kubernetes";
         }
       }},
      {F::k_istiod_revision_ambiguous, S::k_error, "wuxi", "two revisions, none configured",
       [](MeshFacts& f) {
         wuxi(f).istiod.reset();
         wuxi(f).istiod_revisions = {"1-23", "1-24"};
         wuxi(f).revision_error =
             ReadError{"wuxi runs several istiod revisions", "set istio.revision", 0, false};
       }},
      {F::k_istiod_revision_missing, S::k_error, "wuxi", "configured revision 1-25 absent",
       [](MeshFacts& f) {
         wuxi(f).istiod.reset();
         wuxi(f).configured_revision = "1-25";
         wuxi(f).revision_error =
             ReadError{"istiod revision 1-25 is not installed in wuxi", "install it", 0, false};
       }},
      {F::k_istiod_trust_domain, S::k_info, "wuxi", "healthy", nullptr},
      {F::k_istiod_trust_domain, S::k_info, "", "trust domains differ, covered by aliases",
       [](MeshFacts& f) {
         wuxi(f).istiod->trust_domain = "wuxi.local";
         wuxi(f).istiod->trust_domain_aliases = {"cluster.local"};
         shanghai(f).istiod->trust_domain_aliases = {"wuxi.local"};
       }},
      {F::k_istiod_trust_domain_differs, S::k_error, "wuxi", "wuxi's trust domain wuxi.local",
       [](MeshFacts& f) { wuxi(f).istiod->trust_domain = "wuxi.local"; }},
      {F::k_istiod_trust_domain_differs, S::k_error, "", "wuxi.local not accepted elsewhere",
       [](MeshFacts& f) { wuxi(f).istiod->trust_domain = "wuxi.local"; }},
      {F::k_istiod_version_skew, S::k_warning, "", "wuxi's istiod 1.25.1, cn-shanghai's 1.24.2",
       [](MeshFacts& f) { wuxi(f).istiod->version = "1.25.1"; }},
      {F::k_istiod_version_skew_unsupported, S::k_error, "",
       "wuxi's istiod 1.26.0, cn-shanghai's 1.24.2",
       [](MeshFacts& f) { wuxi(f).istiod->version = "1.26.0"; }},
      {F::k_istiod_version_skew_unsupported, S::k_error, "", "wuxi's istiod 2.0.0 (a major apart)",
       [](MeshFacts& f) { wuxi(f).istiod->version = "2.0.0"; }},
      {F::k_network_namespace_label, S::k_error, "wuxi", "istio-system labelled network1",
       [](MeshFacts& f) {
         wuxi(f).istio_system_namespace["metadata"]["labels"]["topology.istio.io/network"] =
             "network1";
       }},
      {F::k_network_namespace_label, S::k_error, "wuxi", "no namespace istio-system",
       [](MeshFacts& f) { wuxi(f).istio_system_namespace = nullptr; }},

      // check_trust
      {F::k_cacerts_ok, S::k_info, "wuxi", "healthy", nullptr},
      {F::k_cacerts_missing, S::k_error, "wuxi", "no Secret cacerts",
       [](MeshFacts& f) { wuxi(f).cacerts.reset(); }},
      {F::k_cacerts_incomplete, S::k_error, "wuxi", "cacerts without ca-key.pem",
       [](MeshFacts& f) { wuxi(f).cacerts->keys = {"ca-cert.pem", "cert-chain.pem", "root-cert.pem"}; }},
      {F::k_cacerts_unreadable, S::k_error, "wuxi", "ca-cert.pem is not a certificate",
       [](MeshFacts& f) { wuxi(f).cacerts->ca_cert = "not a certificate"; }},
      {F::k_cacerts_root_differs, S::k_error, "", "wuxi on another root",
       [](MeshFacts& f) {
         auto& ca = *wuxi(f).cacerts;
         ca.root_cert = cert("root-b.pem");
         ca.ca_cert = cert("ca-b-wuxi.pem");
         ca.cert_chain = cert("ca-b-wuxi.pem") + cert("root-b.pem");
         wuxi(f).root_configmap = cert("root-b.pem");
       }},
      {F::k_cacerts_chain_invalid, S::k_error, "wuxi", "intermediate of another root",
       [](MeshFacts& f) { wuxi_intermediate(f, "ca-b-wuxi.pem"); }},
      {F::k_cacerts_cert_chain_stale, S::k_warning, "wuxi", "cert-chain.pem of cn-shanghai",
       [](MeshFacts& f) {
         wuxi(f).cacerts->cert_chain = cert("ca-a-cn-shanghai.pem") + cert("root-a.pem");
       }},
      {F::k_cacerts_expiring, S::k_warning, "wuxi", "intermediate expiring in 19 days",
       [](MeshFacts& f) { wuxi_intermediate(f, "ca-a-wuxi-expiring.pem"); }},
      {F::k_cacerts_expired, S::k_error, "wuxi", "intermediate expired",
       [](MeshFacts& f) {
         wuxi_intermediate(f, "ca-a-wuxi-expiring.pem");
         f.collected_at = *parse_time("2025-07-01T00:00:00Z");
       }},
      {F::k_root_configmap_ok, S::k_info, "wuxi", "healthy", nullptr},
      {F::k_root_configmap_missing, S::k_warning, "wuxi", "no istio-ca-root-cert in dev",
       [](MeshFacts& f) { wuxi(f).root_configmap.reset(); }},
      {F::k_root_configmap_stale, S::k_error, "wuxi", "istiod serves an old root",
       [](MeshFacts& f) { wuxi(f).root_configmap = cert("root-b.pem"); }},

      // check_remote_secrets
      {F::k_remote_secret_ok, S::k_info, "wuxi", "healthy", nullptr},
      {F::k_remote_secret_missing, S::k_error, "wuxi", "no secret for cn-shanghai",
       [](MeshFacts& f) { wuxi(f).remote_secrets.clear(); }},
      {F::k_remote_secret_label, S::k_error, "wuxi", "secret without istio/multiCluster",
       [](MeshFacts& f) { wuxi(f).remote_secrets[0].labels.clear(); }},
      {F::k_remote_secret_annotation, S::k_warning, "wuxi", "secret without its annotation",
       [](MeshFacts& f) { wuxi(f).remote_secrets[0].annotations.clear(); }},
      {F::k_remote_secret_key, S::k_error, "wuxi", "istio-remote-secret-cn-shanghai keyed shanghai",
       [](MeshFacts& f) {
         auto& s = wuxi(f).remote_secrets[0];
         s.keys = {"shanghai"};
         s.kubeconfigs[0].key = "shanghai";
       }},
      {F::k_remote_secret_kubeconfig, S::k_error, "wuxi", "value not a kubeconfig",
       [](MeshFacts& f) {
         wuxi(f).remote_secrets[0].kubeconfigs[0].parse_error = "the value is not base64";
       }},
      {F::k_remote_secret_kubeconfig, S::k_error, "wuxi", "kubeconfig without a token",
       [](MeshFacts& f) {
         auto& k = wuxi(f).remote_secrets[0].kubeconfigs[0];
         k.has_token = false;
         k.token_check.reset();
       }},
      {F::k_remote_secret_loopback, S::k_error, "wuxi", "server https://127.0.0.1:6443",
       [](MeshFacts& f) {
         wuxi(f).remote_secrets[0].kubeconfigs[0].server = "https://127.0.0.1:6443";
       }},
      {F::k_remote_secret_token_rejected, S::k_error, "wuxi", "token answered 401",
       [](MeshFacts& f) {
         wuxi(f).remote_secrets[0].kubeconfigs[0].token_check->error =
             ReadError{"Unauthorized", "", 401, false};
       }},
      {F::k_remote_secret_server_unreachable, S::k_warning, "wuxi", "token's server unreachable",
       [](MeshFacts& f) {
         wuxi(f).remote_secrets[0].kubeconfigs[0].token_check->error =
             ReadError{"connection timed out", "", 0, true};
       }},
      {F::k_remote_secret_permissions, S::k_error, "wuxi", "token may not list nodes",
       [](MeshFacts& f) {
         wuxi(f).remote_secrets[0].kubeconfigs[0].token_check->access[2].allowed = false;
       }},
      {F::k_remote_secret_unchecked, S::k_warning, "wuxi", "no answer on may it list nodes",
       [](MeshFacts& f) {
         auto& access = wuxi(f).remote_secrets[0].kubeconfigs[0].token_check->access[2];
         access.allowed = false;
         access.unanswered = true;
         access.http_status = 503;
       }},
      {F::k_remote_secret_too_powerful, S::k_warning, "wuxi", "token may create secrets",
       [](MeshFacts& f) {
         wuxi(f).remote_secrets[0].kubeconfigs[0].token_check->access.back().allowed = true;
       }},
      {F::k_remote_secret_unknown_cluster, S::k_info, "wuxi", "a secret for hangzhou too",
       [](MeshFacts& f) {
         wuxi(f).remote_secrets.push_back(
             remote_secret("hangzhou", "https://hangzhou.example:6443"));
       }},
      {F::k_remote_secret_self, S::k_warning, "wuxi", "a secret for wuxi itself",
       [](MeshFacts& f) {
         wuxi(f).remote_secrets.push_back(remote_secret("wuxi", "https://wuxi.example:6443"));
       }},
      {F::k_remote_secret_duplicate, S::k_warning, "wuxi", "two secrets for cn-shanghai",
       [](MeshFacts& f) {
         auto s = remote_secret("cn-shanghai", "https://cn-shanghai.example:6443");
         s.name = "cn-shanghai-by-hand";
         wuxi(f).remote_secrets.push_back(s);
       }},
      {F::k_clusterz_synced, S::k_info, "wuxi", "healthy", nullptr},
      {F::k_clusterz_unavailable, S::k_warning, "wuxi", "clusterz not read",
       [](MeshFacts& f) {
         wuxi(f).clusterz.reset();
         wuxi(f).errors["clusterz"] = ReadError{"service unavailable", "", 503, false};
       }},
      {F::k_clusterz_not_synced, S::k_error, "wuxi", "cn-shanghai timeout",
       [](MeshFacts& f) { (*wuxi(f).clusterz)[0].sync_status = "timeout"; }},
      {F::k_clusterz_missing, S::k_error, "wuxi", "clusterz lists nothing",
       [](MeshFacts& f) { wuxi(f).clusterz->clear(); }},

      // check_gateways
      {F::k_gateway_ok, S::k_info, "wuxi", "healthy", nullptr},
      {F::k_gateway_missing, S::k_error, "wuxi", "no gateway Service",
       [](MeshFacts& f) { wuxi(f).gateway_services.clear(); }},
      {F::k_gateway_wrong_network, S::k_error, "wuxi", "gateway labelled network1",
       wuxi_gateway(gateway_service("network1", {"10.20.0.21"}, "{}"))},
      {F::k_gateway_no_pods, S::k_error, "wuxi", "no gateway pod",
       [](MeshFacts& f) { wuxi(f).gateway_pods.clear(); }},
      {F::k_gateway_pods_not_ready, S::k_error, "wuxi", "gateway pod not ready",
       [](MeshFacts& f) { not_ready(wuxi(f).gateway_pods[0]); }},
      {F::k_gateway_node_selector_not_json, S::k_error, "wuxi", "key=value, no externalIPs",
       wuxi_gateway(gateway_service("wuxi", {}, std::string("kubernetes.io/hostname=wuxi-node-1")))},
      {F::k_gateway_node_selector_not_json, S::k_warning, "wuxi", "key=value with externalIPs",
       wuxi_gateway(
           gateway_service("wuxi", {"10.20.0.21"}, std::string("kubernetes.io/hostname=n1")))},
      {F::k_gateway_nodes_without_external_ip, S::k_error, "wuxi", "nodeSelector {}, no ExternalIP",
       wuxi_gateway(gateway_service("wuxi", {}, std::string("{}")))},
      {F::k_gateway_node_selector_selects_nothing, S::k_error, "wuxi", "selects no node",
       wuxi_gateway(gateway_service("wuxi", {}, std::string(R"({"kubernetes.io/hostname":"x"})")))},
      {F::k_gateway_loadbalancer_pending, S::k_error, "wuxi", "LoadBalancer without ingress",
       wuxi_gateway(gateway_service("wuxi", {}, std::nullopt, "LoadBalancer"))},
      {F::k_gateway_no_address, S::k_error, "wuxi", "NodePort without externalIPs or selector",
       wuxi_gateway(gateway_service("wuxi", {}, std::nullopt))},
      {F::k_gateway_hostname, S::k_info, "wuxi", "ingress hostname resolved here",
       [](MeshFacts& f) {
         f = lb_facts(json::array({{{"ip", "192.168.0.11"}}}),
                      json::array({{{"hostname", "gw-wx.elb.example"}}}));
         f.host_lookups["gw-wx.elb.example"] = {{"198.18.0.8"}, ""};
       }},
      {F::k_gateway_hostname_unresolved, S::k_warning, "wuxi", "ingress hostname unresolved",
       [](MeshFacts& f) {
         f = lb_facts(json::array({{{"ip", "192.168.0.11"}}}),
                      json::array({{{"hostname", "gw-wx.elb.example"}}}));
         shanghai(f).client.reset(); // nothing shows that cn-shanghai's istiod resolved it
         f.host_lookups["gw-wx.elb.example"] = {{}, "Name or service not known"};
       }},
      {F::k_gateway_addresses_shadowed, S::k_warning, "wuxi", "gateway.addresses and externalIPs",
       [](MeshFacts& f) {
         wuxi_gateway_addresses(f, k_wuxi_mesh_networks);
         wuxi(f).gateway_services = {gateway_service("wuxi", {"10.20.0.21"}, std::nullopt)};
       }},
      {F::k_gateway_mesh_networks, S::k_info, "cn-shanghai", "meshNetworks has wuxi's gateway",
       [](MeshFacts& f) { wuxi_gateway_addresses(f, k_wuxi_mesh_networks); }},
      {F::k_gateway_mesh_networks_missing, S::k_error, "cn-shanghai", "meshNetworks lacks it",
       [](MeshFacts& f) { wuxi_gateway_addresses(f, "networks: {}\n"); }},
      {F::k_expose_ok, S::k_info, "wuxi", "healthy", nullptr},
      {F::k_expose_missing, S::k_error, "wuxi", "no expose Gateway, pods run",
       [](MeshFacts& f) { wuxi(f).gateways.clear(); }},
      {F::k_expose_missing, S::k_warning, "wuxi", "no expose Gateway, no pods",
       [](MeshFacts& f) {
         wuxi(f).gateways.clear();
         wuxi(f).workloads.clear();
       }},
      {F::k_expose_host_not_covered, S::k_error, "wuxi", "Gateway exposes another host",
       [](MeshFacts& f) {
         wuxi(f).gateways = {expose_gateway({"other.prod.svc.cluster.local"})};
       }},

      // check_service
      {F::k_service_present, S::k_info, "wuxi", "healthy", nullptr},
      {F::k_service_missing, S::k_error, "wuxi", "no Service in wuxi",
       [](MeshFacts& f) {
         wuxi(f).service = nullptr;
         wuxi(f).workloads.clear();
       }},
      {F::k_service_missing, S::k_error, "", "no Service anywhere",
       [](MeshFacts& f) {
         for (auto& c : f.clusters) {
           c.service = nullptr;
           c.workloads.clear();
         }
       }},
      {F::k_service_type_differs, S::k_error, "wuxi", "headless in wuxi",
       [](MeshFacts& f) { wuxi(f).service["spec"]["clusterIP"] = "None"; }},
      {F::k_service_ports_differ, S::k_error, "wuxi", "port named grpc in wuxi",
       [](MeshFacts& f) { wuxi(f).service["spec"]["ports"][0]["name"] = "grpc"; }},
      {F::k_service_no_workloads, S::k_info, "wuxi", "no pods in wuxi",
       [](MeshFacts& f) { wuxi(f).workloads.clear(); }},
      {F::k_service_no_workloads, S::k_error, "", "no pods anywhere",
       [](MeshFacts& f) {
         for (auto& c : f.clusters) {
           c.workloads.clear();
         }
       }},
      {F::k_service_no_workloads, S::k_info, "", "no pods in the checked subset",
       [](MeshFacts& f) {
         f.clusters.erase(f.clusters.begin());
         f.mesh_clusters = {"cn-shanghai", "wuxi"};
         f.clusters[0].workloads.clear();
       }},
      {F::k_service_workloads, S::k_info, "wuxi", "healthy", nullptr},
      {F::k_workload_no_sidecar, S::k_error, "wuxi", "pod without istio-proxy",
       [](MeshFacts& f) {
         wuxi(f).workloads[0] =
             pod("dev", "helloworld-v2-x", {{"app", "helloworld"}}, "10.30.0.12", true, false);
       }},
      {F::k_workload_not_ready, S::k_warning, "wuxi", "pod not ready",
       [](MeshFacts& f) { not_ready(wuxi(f).workloads[0]); }},

      // check_sni_routes
      {F::k_sni_ok, S::k_info, "wuxi", "healthy", nullptr},
      {F::k_sni_missing, S::k_error, "wuxi", "listener without the host's chain",
       [](MeshFacts& f) {
         wuxi(f).gateway_dumps[0].listeners.bytes =
             bytes(gateway_listener_dump({"outbound_.80_._.other.prod.svc.cluster.local"}),
                   "listeners");
       }},
      {F::k_sni_unavailable, S::k_warning, "wuxi", "gateway pods forbidden",
       [](MeshFacts& f) {
         wuxi(f).gateway_dumps.clear();
         wuxi(f).errors["gateway-pods"] = k_forbidden;
       }},
      {F::k_sni_unavailable, S::k_warning, "wuxi", "exec into the gateway failed",
       [](MeshFacts& f) {
         auto& l = wuxi(f).gateway_dumps[0].listeners;
         l.bytes.reset();
         l.error = ReadError{"pods/exec is forbidden", "", 403, false};
       }},
      {F::k_sni_unavailable, S::k_warning, "wuxi", "listener dump not JSON",
       [](MeshFacts& f) {
         wuxi(f).gateway_dumps[0].listeners.bytes = bytes("{not json", "listeners");
       }},

      // check_endpoints
      {F::k_endpoints_ok, S::k_info, "wuxi", "healthy", nullptr},
      {F::k_endpoints_from_not_found, S::k_error, "", "--from names no pod",
       [](MeshFacts& f) { f.from = "sleep-nowhere.dev"; }},
      {F::k_endpoints_no_client, S::k_warning, "wuxi", "no pod with a sidecar in dev",
       [](MeshFacts& f) { wuxi(f).client.reset(); }},
      {F::k_endpoints_unavailable, S::k_warning, "wuxi", "the --from pod forbidden",
       [](MeshFacts& f) {
         wuxi(f).client.reset();
         wuxi(f).errors["client"] = ReadError{"pods is forbidden", "", 403, false};
       }},
      {F::k_endpoints_unavailable, S::k_warning, "wuxi", "exec into the client failed",
       [](MeshFacts& f) {
         auto& cl = *wuxi(f).client;
         cl.cluster_status.bytes.reset();
         cl.cluster_status.error = ReadError{"container istio-proxy not found", "", 0, false};
         cl.eds.bytes.reset();
       }},
      {F::k_endpoints_unavailable, S::k_warning, "wuxi", "the client's dump not JSON",
       [](MeshFacts& f) { wuxi(f).client->cluster_status.bytes = bytes("{not json", "clusters"); }},
      {F::k_endpoints_none, S::k_error, "wuxi", "the client sees no endpoint",
       wuxi_client_sees({})},
      {F::k_endpoints_missing_local, S::k_error, "wuxi", "the client lacks the local pod",
       wuxi_client_sees({k_shanghai_gateway})},
      {F::k_endpoints_missing_remote, S::k_error, "wuxi", "the client lacks cn-shanghai",
       wuxi_client_sees({k_wuxi_pod})},
      {F::k_endpoints_remote_pod, S::k_warning, "wuxi", "cn-shanghai's pod IP, not its gateway",
       wuxi_client_sees({k_wuxi_pod,
                         k_shanghai_gateway,
                         {"10.10.0.12", 5000, 1, "helloworld-v1;dev;helloworld;v1;cn-shanghai"}})},
      {F::k_endpoints_unhealthy, S::k_warning, "wuxi", "the gateway endpoint UNHEALTHY",
       wuxi_client_sees({k_wuxi_pod, {"192.168.0.11", 30443, 1, ";;;;cn-shanghai", "UNHEALTHY"}})},
      {F::k_endpoints_priority, S::k_error, "wuxi", "a rule, but everything at priority 0",
       wuxi_client_sees({k_wuxi_pod, {"192.168.0.11", 30443, 0, ";;;;cn-shanghai"}})},
      {F::k_traffic_spread, S::k_warning, "wuxi", "pods in both clusters, no rule",
       [](MeshFacts& f) {
         wuxi(f).destination_rules.clear();
         set_client(wuxi(f), {k_wuxi_pod, {"192.168.0.11", 30443, 0, ";;;;cn-shanghai"}});
       }},
      {F::k_traffic_localized, S::k_info, "wuxi", "healthy", nullptr},
      {F::k_destination_rule_no_outlier_detection, S::k_error, "wuxi", "locality, no outliers",
       [](MeshFacts& f) { wuxi(f).destination_rules = {destination_rule(true, false)}; }},
  };
  return all;
}

// The fixture's snapshot: the healthy one with the fixture's change, digested again.
MeshFacts facts_of(const Fixture& fx) {
  auto facts = healthy_facts();
  if (fx.breaks) {
    fx.breaks(facts);
    digest(facts);
  }
  return facts;
}

const Finding* find_as(const Findings& fs, const Fixture& fx) {
  const auto name = std::string(finding_id_name(fx.id));
  const auto it = std::find_if(fs.begin(), fs.end(), [&](const Finding& f) {
    return f.id == name && f.cluster == fx.cluster && f.severity == fx.severity;
  });
  return it == fs.end() ? nullptr : &*it;
}

std::string describe(const Fixture& fx) {
  return std::string(finding_id_name(fx.id)) + " (" + std::string(severity_name(fx.severity)) +
         ", cluster \"" + fx.cluster + "\"): " + fx.situation;
}

} // namespace

TEST_CASE("finding ids: the table names every id once, as <area>.<what>", "[check][verify][ids]") {
  std::set<std::string> names;
  for (const auto& [id, name] : k_finding_ids) {
    const std::string n = name;
    INFO(n);
    CHECK(names.insert(n).second);
    const auto dot = n.find('.');
    REQUIRE(dot != std::string::npos);
    CHECK(dot > 0);
    CHECK(dot + 1 < n.size());
    CHECK(n.find_first_not_of("abcdefghijklmnopqrstuvwxyz-.") == std::string::npos);
    CHECK(finding_id(n) == id);
    CHECK(finding_id_name(id) == n);
  }
  CHECK(names.size() == static_cast<std::size_t>(FindingId::k_count));
  CHECK_FALSE(finding_id("no.such-id").has_value());
}

TEST_CASE("finding ids: every id has a fixture that produces it", "[check][verify][ids]") {
  std::map<FindingId, int> fixtures_of;
  for (const auto& fx : fixtures()) {
    ++fixtures_of[fx.id];
  }
  std::vector<std::string> without;
  for (const auto& [id, name] : k_finding_ids) {
    if (!fixtures_of.contains(id)) {
      without.emplace_back(name);
    }
  }
  std::string list;
  for (const auto& name : without) {
    list += " " + name;
  }
  INFO("ids no test produces:" << list);
  CHECK(without.empty());
}

TEST_CASE("finding ids: each fixture yields its finding with its severity and a hint",
          "[check][verify][ids]") {
  const auto healthy = run_checks(healthy_facts());
  for (const auto& fx : fixtures()) {
    INFO(describe(fx));
    const auto findings = run_checks(facts_of(fx));
    INFO(dump_findings(findings));
    const Finding* f = find_as(findings, fx);
    REQUIRE(f != nullptr);
    CHECK_FALSE(f->message.empty());
    // Info says what is fine; a warning or an error says what to run or change.
    CHECK(f->hint.empty() == (fx.severity == Severity::k_info));
    // What the fixture breaks is what produces the finding: the healthy mesh has no problem.
    const bool caused_by_fixture =
        fx.breaks == nullptr || fx.severity == Severity::k_info || find_as(healthy, fx) == nullptr;
    CHECK(caused_by_fixture);
  }
}

TEST_CASE("finding ids: each fixture gives the same findings from a bundle",
          "[check][verify][ids][bundle]") {
  // verify --bundle checks a saved snapshot offline: nothing a finding depends on may be lost.
  for (const auto& fx : fixtures()) {
    INFO(describe(fx));
    const auto facts = facts_of(fx);
    // Each dump read back under its own name, which parse errors quote.
    std::map<std::string, std::pair<std::string, std::string>> dumps; // file -> text, name
    const auto saved = facts_to_json(facts, [&](const ClusterFacts& c, const DumpFacts& d) {
      const std::string file = c.name + "/" + std::to_string(dumps.size()) + ".json";
      dumps[file] = {std::string(d.bytes->text()), d.bytes->name()};
      return file;
    });
    auto loaded = facts_from_json(json::parse(saved.dump()),
                                  [&](const std::string& file) -> meshctl::Result<DumpBytes> {
                                    const auto& [text, name] = dumps.at(file);
                                    return DumpBytes::from_string(text, name);
                                  });
    INFO((loaded ? std::string() : loaded.error().what()));
    REQUIRE(loaded);
    const auto offline = run_checks(*loaded);
    const auto live = run_checks(facts);
    INFO("live:\n" << dump_findings(live) << "from the bundle:\n" << dump_findings(offline));
    CHECK(offline == live);
  }
}

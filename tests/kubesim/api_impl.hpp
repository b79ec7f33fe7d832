#pragma once
// The API server's internal state and the helpers its handlers share (not part of kubesim's
// interface: api.hpp is). Api::Impl is defined here; its functions live in the file named after
// what they do (README.md, "Where things are").

#include "api.hpp"
#include "istiod.hpp"
#include "rootcert_controller.hpp"
#include "selectors.hpp"
#include "store.hpp"
#include "validate.hpp"
#include "watch.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace YAML {
class Node;
} // namespace YAML

namespace kubesim {

// ----- HTTP helpers (api_http.cpp) -----

using Query = std::multimap<std::string, std::string>;

std::string q_get(const Query& q, const std::string& k, const std::string& def = "");
std::vector<std::string> q_all(const Query& q, const std::string& k);
bool q_true(const Query& q, const std::string& k);
Query parse_query(const std::string& qs);
std::vector<std::string> split_path(const std::string& path);
HttpResponse json_response(int status, const json& body);
HttpResponse status_response(int code, const std::string& reason, const std::string& message,
                             const json& details = nullptr);
json details_for(const ResourceType& t, const std::string& name);
HttpResponse not_found(const ResourceType& t, const std::string& name);
HttpResponse namespace_not_found(const std::string& ns);
HttpResponse already_exists(const ResourceType& t, const std::string& name);
HttpResponse conflict(const ResourceType& t, const std::string& name);
HttpResponse bad_request(const std::string& message);
HttpResponse invalid(const ResourceType& t, const std::string& name,
                     const std::vector<Cause>& causes);
HttpResponse not_found_path();
HttpResponse method_not_allowed();
/// A YAML node as JSON, scalars typed as the API server types a YAML body.
json yaml_to_json(const YAML::Node& n);
// Parses a body that may be JSON or YAML; nullopt with `error` set when it is neither.
std::optional<json> parse_body(const std::string& body, std::string& error);
bool is_protobuf(const HttpRequest& req);
// The request body as JSON, from JSON, YAML or (for a few kinds) protobuf.
std::optional<json> parse_request_body(const HttpRequest& req, std::string& error);
HttpResponse body_error(const HttpRequest& req, const std::string& error);
std::uint32_t ip_to_u32(const std::string& ip);
std::string u32_to_ip(std::uint32_t v);
std::string generate_suffix();
// What the URL says.
struct Target {
  bool resource = false;
  std::string group;
  std::string version;
  std::string ns;
  std::string resource_name; // plural
  std::string name;
  std::string subresource;
  std::string rest; // after the subresource (pod proxy path)
};

std::optional<Target> parse_target(const std::vector<std::string>& parts);

// ---------------------------------------------------------------------------------------------

struct Api::Impl {
  Api& api;
  Scheduler scheduler;
  Store store;
  std::mutex mu;
  WatchHub watches; ///< open watches (watch.hpp)
  std::uint32_t svc_base = 0;
  std::uint32_t svc_size = 0;
  std::uint32_t next_pod_ip = 0;
  // True while bootstrapping and loading seeds: the Deployment controller leaves seeded
  // Deployments and their seeded Pods alone.
  bool seeding = false;
  // Deployment key -> hash of its template as seeded: while the template is unchanged, every Pod
  // its selector matches counts as current (seeded Pods carry made-up pod-template-hash labels).
  std::map<std::string, std::string> seeded_templates;
  // The istiod model behind exec `pilot-agent request` and istiod's pod proxy (istiod.hpp).
  istiod::Istiod istiod;
  // The root istiod publishes as istio-ca-root-cert (rootcert_controller.hpp).
  RootCertController rootcert;

  Impl(Api& a, Scheduler s)
      : api(a), scheduler(std::move(s)),
        istiod(istiod::IstiodOptions{a.m_options.cluster_name,
                                     std::chrono::milliseconds(a.m_options.istiod_cache_ms)}) {}

  // ----- identity (api.cpp) -----

  std::optional<Identity> token_identity(const std::string& token);

  // ----- admission.cpp -----

  static std::optional<HttpResponse> check_meta_types(const json& obj);
  std::optional<HttpResponse> check_type(const ResourceType& t, json& obj);
  /// Admission, defaulting and validation before the store; every write passes here.
  std::optional<HttpResponse> admit(const ResourceType& t, json& obj, const json& old, bool strict,
                                    std::vector<std::string>* warnings);
  void keep_server_fields(const ResourceType& t, json& obj, const json& old);
  void bump_generation(const ResourceType& t, json& obj, const json& old);
  std::string storage_api_version(const ResourceType& t);
  json present(const ResourceType& t, json obj);
  void inject_sidecar(json& pod, const std::string& ns);
  /// The injector's "gateway" template merged into a gateway Pod (inject.istio.io/templates).
  static void inject_gateway(json& pod, const std::string& image, const std::string& cluster,
                             const json& global, const std::string& revision);

  // ----- api_create.cpp -----

  const ResourceType* type_for(const json& obj);
  void create_internal(json obj);
  HttpResponse do_create(const ResourceType& t, const std::string& ns, json obj,
                         const std::string& manager, bool dry_run, bool keep_status,
                         bool strict = false);

  // ----- api_update.cpp -----

  std::string manager_of(const HttpRequest& req, const Query& q, const std::string& fallback);
  HttpResponse commit_update(const ResourceType& t, json obj, const json& old, bool dry_run,
                             int created_status = 200);
  HttpResponse do_update(const ResourceType& t, const Target& tg, const HttpRequest& req,
                         const Query& q);
  HttpResponse do_patch(const ResourceType& t, const Target& tg, const HttpRequest& req,
                        const Query& q);

  // ----- api_delete.cpp -----

  HttpResponse do_delete(const ResourceType& t, const Target& tg, const HttpRequest& req,
                         const Query& q);
  HttpResponse do_delete_collection(const ResourceType& t, const Target& tg, const HttpRequest& req,
                                    const Query& q);

  // ----- api_read.cpp -----

  bool wants_table(const HttpRequest& req);
  bool wants_metadata(const HttpRequest& req);
  static json partial(const json& obj);
  HttpResponse do_get(const ResourceType& t, const Target& tg, const HttpRequest& req,
                      const Query& q);
  bool field_matches(const ResourceType& t, const Selector& sel, const json& obj,
                     std::string& error);
  HttpResponse do_list(const ResourceType& t, const Target& tg, const HttpRequest& req,
                       const Query& q);

  // ----- api_watch.cpp -----

  HttpResponse do_watch(const ResourceType& t, const Target& tg, const HttpRequest& req,
                        const Query& q, RequestInfo& info);

  // ----- api_subresources.cpp -----

  HttpResponse do_access_review(const ResourceType& t, const Identity& who, const HttpRequest& req);
  HttpResponse do_token_request(const Target& tg, const HttpRequest& req);
  std::optional<std::string> pod_http(const std::string& ns, const std::string& pod, int port,
                                      const std::string& path, std::unique_lock<std::mutex>& lock);
  HttpResponse do_pod_proxy(const Target& tg, const Query& q, const std::string& raw_query,
                            std::unique_lock<std::mutex>& lock);

  // ----- bootstrap.cpp -----

  void bootstrap();

  // ----- controllers.cpp -----

  void after_create(const ResourceType& t, const json& obj);
  void after_update(const ResourceType& t, const json& obj, const json& old);
  void after_delete(const ResourceType& t, const json& obj);
  void fill_token(const std::string& ns, const std::string& name, const std::string& uid);
  void register_crd(const json& crd);
  /// A CRD's status as kube's CRD strategy keeps it; `old` is the stored CRD (null on create).
  void crd_status(json& crd, const json& old);
  bool istiod_running();
  void publish_root_cert(const std::string& ns);

  // ----- service_allocation.cpp -----

  // Which Service holds each cluster IP and node port, kept by a store listener so that
  // allocation does not scan every Service (sync-svc benchmarks create thousands).
  std::map<std::uint32_t, std::string> ip_owner;
  std::map<int, std::string> port_owner;
  std::map<std::string, std::pair<std::uint32_t, std::vector<int>>> service_holdings;

  void index_service(const Event& ev);
  bool ip_taken(std::uint32_t ip, const std::string& self) const;
  bool port_taken(int port, const std::string& self) const;
  std::vector<Cause> allocate_service(json& svc, const json& old);

  // ----- loadbalancer_controller.cpp -----

  /// The cloud's service controller (--load-balancer): fills or clears status.loadBalancer.
  void reconcile_load_balancer(const std::string& ns, const std::string& name,
                               bool was_load_balancer);

  // ----- endpoints_controller.cpp -----

  void reconcile_endpoints(const std::string& ns, const std::string& only = "");

  // ----- deployment_controller.cpp -----

  static std::string template_hash(const json& deployment);
  std::string pick_node();
  std::string node_ip(const std::string& node);
  std::string allocate_pod_ip(const std::string& node);
  void start_pod_later(const std::string& ns, const std::string& name, const std::string& uid);
  void reconcile_deployment_later(const std::string& ns, const std::string& name);
  std::vector<json> pods_of(const json& deployment);
  bool is_current(const json& deployment, const json& pod, const std::string& hash);
  void reconcile_deployment(const std::string& ns, const std::string& name);
  void update_deployment_status(const std::string& ns, const std::string& name);
};

} // namespace kubesim

// What a fresh cluster holds before anyone writes to it: the system namespaces, Service
// default/kubernetes and the bootstrap RBAC roles and bindings.

#include "api_impl.hpp"

namespace kubesim {

void Api::Impl::bootstrap() {
  for (const auto& t : builtin_types()) {
    store.add_type(t);
  }
  const auto slash = api.m_options.service_cidr.find('/');
  svc_base = ip_to_u32(api.m_options.service_cidr.substr(0, slash));
  const int bits = std::stoi(api.m_options.service_cidr.substr(slash + 1));
  svc_size = bits >= 32 ? 1 : (1u << (32 - bits));
  next_pod_ip = ip_to_u32("10.244.0.10");
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    create_internal(
        json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
  }
  create_internal(json{
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata",
       {{"name", "kubernetes"},
        {"namespace", "default"},
        {"labels", {{"component", "apiserver"}, {"provider", "kubernetes"}}}}},
      {"spec",
       {{"clusterIP", u32_to_ip(svc_base + 1)},
        {"ports",
         json::array(
             {{{"name", "https"}, {"port", 443}, {"protocol", "TCP"}, {"targetPort", 6443}}})}}}});
  const std::string rbac = "rbac.authorization.k8s.io/v1";
  auto cluster_role = [&](const std::string& name, const json& rules) {
    create_internal(
        json{{"apiVersion", rbac},
             {"kind", "ClusterRole"},
             {"metadata",
              {{"name", name}, {"labels", {{"kubernetes.io/bootstrapping", "rbac-defaults"}}}}},
             {"rules", rules}});
  };
  auto binding = [&](const std::string& name, const std::string& role, const json& subjects) {
    create_internal(
        json{{"apiVersion", rbac},
             {"kind", "ClusterRoleBinding"},
             {"metadata",
              {{"name", name}, {"labels", {{"kubernetes.io/bootstrapping", "rbac-defaults"}}}}},
             {"roleRef",
              {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", role}}},
             {"subjects", subjects}});
  };
  auto group = [](const std::string& g) {
    return json{{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Group"}, {"name", g}};
  };
  cluster_role("cluster-admin",
               json::array({{{"apiGroups", {"*"}}, {"resources", {"*"}}, {"verbs", {"*"}}},
                            {{"nonResourceURLs", {"*"}}, {"verbs", {"*"}}}}));
  cluster_role("system:discovery",
               json::array({{{"nonResourceURLs",
                              {"/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
                               "/openapi", "/openapi/*", "/readyz", "/version", "/version/"}},
                             {"verbs", {"get"}}}}));
  cluster_role(
      "system:public-info-viewer",
      json::array({{{"nonResourceURLs", {"/healthz", "/livez", "/readyz", "/version", "/version/"}},
                    {"verbs", {"get"}}}}));
  cluster_role("system:basic-user",
               json::array({{{"apiGroups", {"authorization.k8s.io"}},
                             {"resources", {"selfsubjectaccessreviews", "selfsubjectrulesreviews"}},
                             {"verbs", {"create"}}},
                            {{"apiGroups", {"authentication.k8s.io"}},
                             {"resources", {"selfsubjectreviews"}},
                             {"verbs", {"create"}}}}));
  const json read = {"get", "list", "watch"};
  cluster_role(
      "view",
      json::array(
          {{{"apiGroups", {""}},
            {"resources",
             {"configmaps", "endpoints", "pods", "services", "serviceaccounts", "namespaces"}},
            {"verbs", read}},
           {{"apiGroups", {"apps"}}, {"resources", {"deployments"}}, {"verbs", read}}}));
  binding("cluster-admin", "cluster-admin", json::array({group("system:masters")}));
  binding("system:discovery", "system:discovery", json::array({group("system:authenticated")}));
  binding("system:basic-user", "system:basic-user", json::array({group("system:authenticated")}));
  binding("system:public-info-viewer", "system:public-info-viewer",
          json::array({group("system:authenticated"), group("system:unauthenticated")}));
}

} // namespace kubesim

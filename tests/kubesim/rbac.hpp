#pragma once
// RBAC authorisation over the stored Roles, ClusterRoles and their bindings, as kube's RBAC
// authorizer evaluates them (system:masters is allowed everything before RBAC is consulted).

#include "store.hpp"

#include <string>
#include <vector>

namespace kubesim {

/// What a request wants to do (kube's authorizer.Attributes).
struct Attributes {
  std::string user;
  std::vector<std::string> groups;
  std::string verb;
  bool resource_request = true;
  std::string api_group;
  std::string resource;
  std::string subresource;
  std::string ns;
  std::string name;
  std::string path; ///< non-resource requests
};

struct Decision {
  bool allowed = false;
  std::string
      reason; ///< e.g. RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to User "z"
};

/// Evaluates the request against the store's RBAC objects.
Decision authorize(const Store& store, const Attributes& a);

/// kube's 403 message: `secrets is forbidden: User "u" cannot create resource "secrets" in API
/// group "" in the namespace "ns"` (or `forbidden: User "u" cannot get path "/x"`).
std::string forbidden_message(const Attributes& a);

} // namespace kubesim

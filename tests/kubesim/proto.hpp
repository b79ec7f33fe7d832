#pragma once
// Decoding of Kubernetes protobuf request bodies (Content-Type application/vnd.kubernetes.protobuf)
// into JSON, for the kinds kubectl's typed clients send: `kubectl auth can-i` (SelfSubjectAccess-
// Review), `kubectl create token` (TokenRequest) and the `kubectl create <kind>` generators
// (Namespace, ServiceAccount, ConfigMap, Secret, Deployment, Service, Pod, Role, ClusterRole,
// RoleBinding, ClusterRoleBinding, SubjectAccessReview). Only the fields kubesim uses are decoded;
// other kinds are refused with 415 by the caller. Envelope: "k8s\0" + runtime.Unknown{typeMeta,
// raw}.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace kubesim {

/// The object in a protobuf body, or nullopt with `error` set.
std::optional<nlohmann::json> decode_k8s_protobuf(const std::string& body, std::string& error);

} // namespace kubesim

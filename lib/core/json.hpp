#pragma once
// Tolerant readers for JSON from API servers and Envoy: a missing key, a null or a value of the
// wrong type reads as "absent" (a null, "", an empty array/object, 0), never an exception. Checks
// and planners use them so that a strange object yields a finding, not a crash.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace meshctl {

/// j[key] when j is an object holding key, else a null.
const nlohmann::json& member(const nlohmann::json& j, std::string_view key);

/// The member at a path of keys (member(member(j, "metadata"), "labels") as at(j, {"metadata",
/// "labels"})).
const nlohmann::json& member_at(const nlohmann::json& j,
                                std::initializer_list<std::string_view> path);

/// j[key] when it is a string, else "".
std::string str(const nlohmann::json& j, std::string_view key);

/// j[key] when it is an array, else an empty array.
const nlohmann::json& array_of(const nlohmann::json& j, std::string_view key);

/// j[key] when it is an object, else an empty object.
const nlohmann::json& object_of(const nlohmann::json& j, std::string_view key);

/// j[key] when it is an integer (or a whole number), else `fallback`.
std::int64_t int_of(const nlohmann::json& j, std::string_view key, std::int64_t fallback = 0);

} // namespace meshctl

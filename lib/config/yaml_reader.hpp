#pragma once
// Typed, position-aware reading of YAML documents for meshctl.yaml and kubeconfig files.
// Every error names `origin:line:col` (1-based, as editors count) and the key path
// ("clusters[1].gateway.externalIPs"), so a user can jump straight to the mistake.
// Internal to lib/config: the rest of the project sees only config.hpp and kubeconfig.hpp.

#include "core/error.hpp"
#include "core/strings.hpp"

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshctl::config::detail {

/// Which documents of a YAML stream parse_yaml() reads.
enum class Documents {
  k_first,    ///< the first; others are ignored (as client-go reads a kubeconfig)
  k_only_one, ///< the first, and a second one is an error naming its line (meshctl.yaml)
};

/// Parses YAML text; a syntax error becomes a usage Error with origin:line:col. Invalid UTF-8, a
/// control character and nesting deeper than any real configuration are refused before yaml-cpp
/// sees the text, with where they are. Never throws.
Result<YAML::Node> parse_yaml(const std::string& text, const std::string& origin,
                              Documents documents = Documents::k_first);

/// "a map", "a list", "a string", "null": what a node is, for "must be X (got Y)" messages.
std::string describe(const YAML::Node& node);

/// Reads typed values out of YAML nodes, turning every mismatch into an exit-2 Error that points
/// at the offending node. A null or absent value reads as "not set".
class Reader {
public:
  explicit Reader(std::string origin) : m_origin(std::move(origin)) {}

  [[nodiscard]] const std::string& origin() const { return m_origin; }
  /// "origin:line:col" of a node (just "origin" when the node has no position).
  [[nodiscard]] std::string where(const YAML::Node& node) const;
  /// A usage Error located at `node`.
  [[nodiscard]] tl::unexpected<Error> error_at(const YAML::Node& node, const std::string& message,
                                               std::string hint = {}) const;

  /// Checks that `map` is a map (or null) without duplicate keys; with `allowed` non-empty, every
  /// key must be one of them (unknown keys get "did you mean").
  [[nodiscard]] Result<void> check_map(const YAML::Node& map, const std::string& path,
                                       const std::vector<std::string>& allowed) const;

  /// The value under `key` of a map node (a null node when absent). `map` must be a map or null.
  [[nodiscard]] static YAML::Node get(const YAML::Node& map, std::string_view key);
  /// The key node itself (for error positions), or the map when absent.
  [[nodiscard]] static YAML::Node key_node(const YAML::Node& map, std::string_view key);

  /// A scalar string; absent or null gives nullopt.
  [[nodiscard]] Result<std::optional<std::string>>
  string(const YAML::Node& map, std::string_view key, const std::string& path) const;
  /// A boolean (true/false); absent or null gives nullopt.
  [[nodiscard]] Result<std::optional<bool>> boolean(const YAML::Node& map, std::string_view key,
                                                    const std::string& path) const;
  /// A plain (unquoted) integer scalar; absent or null gives nullopt.
  [[nodiscard]] Result<std::optional<long long>>
  integer(const YAML::Node& map, std::string_view key, const std::string& path) const;
  /// A list of scalar strings; absent or null gives nullopt.
  [[nodiscard]] Result<std::optional<std::vector<std::string>>>
  string_list(const YAML::Node& map, std::string_view key, const std::string& path) const;
  /// A map of scalar strings; absent or null gives nullopt.
  [[nodiscard]] Result<std::optional<std::map<std::string, std::string>>>
  string_map(const YAML::Node& map, std::string_view key, const std::string& path) const;
  /// A list node (absent or null gives an undefined/null node and no error).
  [[nodiscard]] Result<YAML::Node> list(const YAML::Node& map, std::string_view key,
                                        const std::string& path) const;

private:
  std::string m_origin;
};

/// Kubernetes' DNS-1123 label (core/strings.hpp).
using meshctl::is_dns1123_label;

} // namespace meshctl::config::detail

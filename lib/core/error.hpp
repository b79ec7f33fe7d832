#pragma once
// Errors that travel through meshctl as values (tl::expected), each with a hint the user can act on
// and the context every layer adds on its way up ("applying Secret istio-system/cacerts to wuxi:
// …").

#include <tl/expected.hpp>

#include <string>
#include <utility>
#include <vector>

namespace meshctl {

/// Process exit codes. Stable: scripts depend on them (documented in README and `meshctl --help`).
enum class ExitCode : int {
  k_ok = 0,          ///< success
  k_failed = 1,      ///< the operation or a check failed
  k_usage = 2,       ///< usage or configuration error
  k_unreachable = 3, ///< a cluster could not be reached
};

/// A failure with a message, an optional hint and outer-to-inner context.
class Error {
public:
  Error() = default;
  Error(ExitCode code, std::string message, std::string hint = {})
      : m_code(code), m_message(std::move(message)), m_hint(std::move(hint)) {}

  /// Adds an outer layer of context; the rendered message reads "outer: inner: message".
  Error& with_context(std::string context) {
    m_context.insert(m_context.begin(), std::move(context));
    return *this;
  }
  /// Makes the rendered message start with "<cluster>: " (adding it as the outermost context
  /// unless it already starts so), for reports that give one line per cluster.
  /// It also records the cluster (cluster()), so -o json can put the error in its entry.
  Error& with_cluster(const std::string& cluster) {
    if (!what().starts_with(cluster + ":")) {
      with_context(cluster);
    }
    m_cluster = cluster;
    return *this;
  }
  /// Replaces the hint unless one is already set by an inner layer (inner layers know better).
  Error& with_hint(std::string hint) {
    if (m_hint.empty()) {
      m_hint = std::move(hint);
    }
    return *this;
  }

  [[nodiscard]] ExitCode code() const { return m_code; }
  [[nodiscard]] const std::string& message() const { return m_message; }
  [[nodiscard]] const std::string& hint() const { return m_hint; }
  [[nodiscard]] const std::vector<std::string>& context() const { return m_context; }
  /// The cluster with_cluster() named, or "" when the error is about no one cluster.
  [[nodiscard]] const std::string& cluster() const { return m_cluster; }
  /// One line: context chain then the message. The hint is not included.
  [[nodiscard]] std::string what() const;

private:
  ExitCode m_code = ExitCode::k_failed;
  std::string m_message;
  std::string m_hint;
  std::vector<std::string> m_context;
  std::string m_cluster;
};

template <class T> using Result = tl::expected<T, Error>;

/// Shorthands that build an unexpected Error of each exit-code class.
inline tl::unexpected<Error> fail(std::string message, std::string hint = {}) {
  return tl::make_unexpected(Error(ExitCode::k_failed, std::move(message), std::move(hint)));
}
inline tl::unexpected<Error> usage_error(std::string message, std::string hint = {}) {
  return tl::make_unexpected(Error(ExitCode::k_usage, std::move(message), std::move(hint)));
}
inline tl::unexpected<Error> unreachable(std::string message, std::string hint = {}) {
  return tl::make_unexpected(Error(ExitCode::k_unreachable, std::move(message), std::move(hint)));
}

/// Adds context to the error of a failed result and passes success through unchanged.
template <class T> Result<T> context(Result<T> r, const std::string& ctx) {
  if (!r) {
    r.error().with_context(ctx);
  }
  return r;
}

} // namespace meshctl

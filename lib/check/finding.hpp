#pragma once
// What a check says: one finding per thing that is right, suspicious or wrong, with a hint that
// says what to run or change. Ids are stable ("remote-secret.missing"): scripts and the JSON
// report's readers may match on them; messages may be reworded.

#include <string>
#include <string_view>
#include <vector>

namespace meshctl::check {

enum class Severity {
  k_info,    ///< something verified and fine (✔)
  k_warning, ///< works, but not as the user probably wants, or could not be verified (⚠)
  k_error,   ///< broken (✖)
};

/// "info", "warning", "error".
std::string_view severity_name(Severity s);

struct Finding {
  std::string id; ///< stable, "<area>.<what>": "gateway.node-selector-not-json"
  Severity severity = Severity::k_info;
  std::string cluster; ///< the cluster it is about; "" = the mesh as a whole
  std::string message; ///< one sentence, no trailing period
  std::string hint;    ///< what to run or change; "" for info findings

  bool operator==(const Finding&) const = default;
};

using Findings = std::vector<Finding>;

} // namespace meshctl::check

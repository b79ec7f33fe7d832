#include "core/envelope.hpp"

#include <algorithm>
#include <iterator>

namespace meshctl {

nlohmann::json envelope(std::string_view kind) {
  return {{"apiVersion", std::string(k_api_version)}, {"kind", std::string(kind)}};
}

nlohmann::json error_json(const Error& e) {
  return {{"message", e.what()}, {"hint", e.hint()}};
}

void attach_errors(nlohmann::json& out, nlohmann::json& clusters,
                   const std::vector<Error>& errors) {
  for (auto& c : clusters) {
    if (!c.contains("errors")) {
      c["errors"] = nlohmann::json::array();
    }
  }
  for (const auto& e : errors) {
    if (e.cluster().empty()) {
      out["errors"].push_back(error_json(e));
      continue;
    }
    auto it = std::find_if(clusters.begin(), clusters.end(), [&](const nlohmann::json& c) {
      return c.value("name", "") == e.cluster();
    });
    if (it == clusters.end()) {
      clusters.push_back({{"name", e.cluster()}, {"errors", nlohmann::json::array()}});
      it = std::prev(clusters.end());
    }
    (*it)["errors"].push_back(error_json(e));
  }
}

} // namespace meshctl

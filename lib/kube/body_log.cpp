#include "kube/body_log.hpp"

#include "core/redact.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace meshctl::kube {
namespace {

// Bodies larger than this are not parsed for -vvv (a list of thousands of objects).
constexpr std::size_t k_parse_limit = std::size_t{1} << 20;

void hide(nlohmann::json& j, const char* key) {
  if (j.is_object() && j.contains(key) && j[key].is_string()) {
    j[key] = k_redacted;
  }
}

void scrub(nlohmann::json& j) {
  if (j.is_array()) {
    for (auto& e : j) {
      scrub(e);
    }
    return;
  }
  if (!j.is_object()) {
    return;
  }
  const auto kind = j.value("kind", "");
  if (kind == "Secret") {
    for (const char* field : {"data", "stringData"}) {
      if (auto it = j.find(field); it != j.end() && it->is_object()) {
        for (auto& [k, v] : it->items()) {
          v = k_redacted;
        }
      }
    }
  } else if (kind == "TokenReview" && j.contains("spec")) {
    hide(j["spec"], "token");
  } else if (kind == "TokenRequest" && j.contains("status")) {
    hide(j["status"], "token");
  }
  for (auto& [k, v] : j.items()) {
    if (v.is_structured()) {
      scrub(v);
    }
  }
}

} // namespace

std::string loggable_body(std::string_view body, std::size_t limit) {
  if (body.empty()) {
    return "(empty)";
  }
  std::string text;
  if (body.size() <= k_parse_limit) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_discarded()) {
      scrub(j);
      text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  if (text.empty()) {
    if (body.size() > limit) {
      return fmt::format("({} bytes, not shown)", body.size());
    }
    text = std::string(body);
  }
  text = redact(text);
  if (text.size() > limit) {
    text = fmt::format("{}… ({} bytes)", std::string_view(text).substr(0, limit), body.size());
  }
  return text;
}

} // namespace meshctl::kube

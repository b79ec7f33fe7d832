#pragma once
// Validates objects against a CustomResourceDefinition's openAPIV3Schema the way the API server
// does with strict field validation (kubectl apply --validate=strict), as far as valijson allows.
//
// A CRD schema is OpenAPI v3 (JSON Schema draft 4 with extensions). valijson implements the
// JSON Schema part; the rest is translated or checked here, never silently dropped:
//   - nullable: true           -> the type also admits null
//   - format: int32 / int64    -> minimum/maximum bounds; byte -> a base64 pattern; date-time is
//                                 checked by valijson; double/float add nothing beyond the type
//   - x-kubernetes-int-or-string -> anyOf integer | string (the CRDs already carry that anyOf)
//   - x-kubernetes-preserve-unknown-fields -> the object stays open; every other object with
//                                 `properties` gets additionalProperties: false, because strict
//                                 field validation rejects unknown fields (pruning would drop them)
//   - x-kubernetes-list-type / list-map-keys / map-type -> dropped (uniqueness of list entries;
//                                 none of meshctl's objects has such a list with duplicates)
//   - x-kubernetes-validations (CEL) -> checked by check_cel() for the rule texts it knows; a rule
//                                 it does not know, on a field the object sets, is reported as
//                                 unevaluated so that a test fails instead of trusting it.
// apiVersion, kind and metadata are added at the root (the API server validates them itself).

#include "render/object.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <limits>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace meshctl::testing::crd {

/// One served version of one CRD: the raw schema (for CEL rules) and the valijson-ready one.
struct CrdSchema {
  nlohmann::json raw;
  nlohmann::json prepared;
};

/// Keywords valijson (draft 4) acts on; anything else left in a prepared schema would be ignored.
inline const std::set<std::string>& known_keywords() {
  static const std::set<std::string> k{"type",
                                       "properties",
                                       "additionalProperties",
                                       "items",
                                       "required",
                                       "enum",
                                       "minimum",
                                       "maximum",
                                       "minItems",
                                       "maxItems",
                                       "minLength",
                                       "maxLength",
                                       "minProperties",
                                       "maxProperties",
                                       "pattern",
                                       "format",
                                       "allOf",
                                       "anyOf",
                                       "oneOf",
                                       "not",
                                       "description",
                                       "uniqueItems",
                                       "exclusiveMinimum",
                                       "exclusiveMaximum",
                                       "multipleOf",
                                       "default",
                                       "title"};
  return k;
}

inline void prepare(nlohmann::json& s, bool structural, std::vector<std::string>& unknown) {
  if (!s.is_object()) {
    return;
  }
  bool preserve = false;
  if (s.contains("nullable")) {
    if (s["nullable"] == true && s.contains("type") && s["type"].is_string()) {
      s["type"] = nlohmann::json::array({s["type"], "null"});
    }
    s.erase("nullable");
  }
  if (s.contains("format")) {
    const std::string f = s["format"];
    if (f == "int32" || f == "int64") {
      const bool is32 = f == "int32";
      if (!s.contains("minimum")) {
        s["minimum"] = is32 ? std::numeric_limits<std::int32_t>::min()
                            : std::numeric_limits<std::int64_t>::min();
      }
      if (!s.contains("maximum")) {
        s["maximum"] = is32 ? std::numeric_limits<std::int32_t>::max()
                            : std::numeric_limits<std::int64_t>::max();
      }
      s.erase("format");
    } else if (f == "byte") {
      s["pattern"] = "^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$";
      s.erase("format");
    } else if (f == "double" || f == "float") {
      s.erase("format");
    } else if (f != "date-time") {
      unknown.push_back("format: " + f);
      s.erase("format");
    }
  }
  if (s.contains("x-kubernetes-int-or-string")) {
    if (!s.contains("anyOf")) {
      s["anyOf"] = nlohmann::json::array({{{"type", "integer"}}, {{"type", "string"}}});
    }
    s.erase("x-kubernetes-int-or-string");
  }
  if (s.contains("x-kubernetes-preserve-unknown-fields")) {
    preserve = s["x-kubernetes-preserve-unknown-fields"] == true;
    s.erase("x-kubernetes-preserve-unknown-fields");
  }
  for (const char* k : {"x-kubernetes-validations", "x-kubernetes-list-type",
                        "x-kubernetes-list-map-keys", "x-kubernetes-map-type"}) {
    s.erase(k);
  }
  if (structural && s.contains("properties") && !s.contains("additionalProperties") && !preserve) {
    s["additionalProperties"] = false;
  }
  for (auto it = s.begin(); it != s.end(); ++it) {
    if (known_keywords().count(it.key()) == 0) {
      unknown.push_back(it.key());
    }
  }
  if (s.contains("properties")) {
    for (auto& [name, sub] : s["properties"].items()) {
      (void)name;
      prepare(sub, true, unknown);
    }
  }
  if (s.contains("items")) {
    prepare(s["items"], true, unknown);
  }
  if (s.contains("additionalProperties") && s["additionalProperties"].is_object()) {
    prepare(s["additionalProperties"], true, unknown);
  }
  for (const char* k : {"allOf", "anyOf", "oneOf"}) {
    if (s.contains(k)) {
      for (auto& sub : s[k]) {
        prepare(sub, false, unknown);
      }
    }
  }
  if (s.contains("not")) {
    prepare(s["not"], false, unknown);
  }
}

/// Loads the openAPIV3Schema of `kind` in `group`, version `version` (which must be served), from
/// a multi-document CRD file. Throws when absent; FAILs the test if a keyword stays unknown.
inline CrdSchema load(const std::filesystem::path& crd_file, const std::string& group,
                      const std::string& kind, const std::string& version) {
  for (const auto& doc : YAML::LoadAllFromFile(crd_file.string())) {
    if (!doc.IsMap() || !doc["spec"] || doc["spec"]["group"].as<std::string>("") != group ||
        doc["spec"]["names"]["kind"].as<std::string>("") != kind) {
      continue;
    }
    for (const auto& v : doc["spec"]["versions"]) {
      if (v["name"].as<std::string>("") != version) {
        continue;
      }
      if (!v["served"].as<bool>(false)) {
        throw std::runtime_error(kind + " " + version + " is not served");
      }
      CrdSchema out;
      out.raw = render::to_json(v["schema"]["openAPIV3Schema"]);
      out.prepared = out.raw;
      auto& props = out.prepared["properties"];
      props["apiVersion"] = {{"type", "string"}};
      props["kind"] = {{"type", "string"}};
      props["metadata"] = {{"type", "object"}};
      std::vector<std::string> unknown;
      prepare(out.prepared, true, unknown);
      INFO("keywords the validator would ignore: " << nlohmann::json(unknown).dump());
      REQUIRE(unknown.empty());
      return out;
    }
  }
  throw std::runtime_error("no CRD " + kind + "." + group + " version " + version);
}

/// Parses a Go duration ("10s", "1m30s", "1.5h", "0"); nullopt when invalid. Unit: nanoseconds.
inline std::optional<double> go_duration_ns(const std::string& text) {
  static const std::regex k_part(R"(([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h))");
  if (text == "0") {
    return 0.0;
  }
  std::string rest = text;
  double sign = 1;
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) {
    sign = rest[0] == '-' ? -1 : 1;
    rest.erase(0, 1);
  }
  if (rest.empty()) {
    return std::nullopt;
  }
  double total = 0;
  std::smatch m;
  while (!rest.empty()) {
    if (!std::regex_search(rest, m, k_part, std::regex_constants::match_continuous)) {
      return std::nullopt;
    }
    const double n = std::stod(m[1].str());
    const std::string unit = m[2].str();
    const double scale = unit == "ns"   ? 1
                         : unit == "ms" ? 1e6
                         : unit == "s"  ? 1e9
                         : unit == "m"  ? 60e9
                         : unit == "h"  ? 3600e9
                                        : 1e3;
    total += n * scale;
    rest = m.suffix();
  }
  return sign * total;
}

/// Evaluates the x-kubernetes-validations rules this file knows on the fields `instance` sets.
/// Violations go to `errors`, rules it cannot evaluate to `unevaluated` (both as "path: text").
inline void check_cel(const nlohmann::json& schema, const nlohmann::json& instance,
                      const std::string& path, std::vector<std::string>& errors,
                      std::vector<std::string>& unevaluated) {
  if (!schema.is_object()) {
    return;
  }
  static const std::regex k_at_most_one(
      R"(^\(has\(self\.\w+\) \? 1 : 0\)( \+ \(has\(self\.\w+\) \? 1 : 0\))+ <= 1$)");
  static const std::regex k_has(R"(has\(self\.(\w+)\))");
  if (schema.contains("x-kubernetes-validations")) {
    for (const auto& v : schema["x-kubernetes-validations"]) {
      const std::string rule = v.value("rule", "");
      bool ok = true;
      if (rule == "duration(self) >= duration('1ms')") {
        const auto ns =
            instance.is_string() ? go_duration_ns(instance.get<std::string>()) : std::nullopt;
        ok = ns && *ns >= 1e6;
      } else if (rule == R"(!self.contains("*"))") {
        ok = !instance.is_string() || instance.get<std::string>().find('*') == std::string::npos;
      } else if (rule == R"(self.all(key, !key.contains("*")))") {
        for (const auto& [k, unused] : instance.items()) {
          (void)unused;
          ok = ok && k.find('*') == std::string::npos;
        }
      } else if (rule == "self.all(key, key.size() != 0)") {
        for (const auto& [k, unused] : instance.items()) {
          (void)unused;
          ok = ok && !k.empty();
        }
      } else if (std::regex_match(rule, k_at_most_one)) {
        int present = 0;
        for (auto it = std::sregex_iterator(rule.begin(), rule.end(), k_has);
             it != std::sregex_iterator(); ++it) {
          present += instance.is_object() && instance.contains((*it)[1].str()) ? 1 : 0;
        }
        ok = present <= 1;
      } else {
        unevaluated.push_back(path + ": " + rule);
        continue;
      }
      if (!ok) {
        errors.push_back(path + ": " + v.value("message", rule));
      }
    }
  }
  if (instance.is_object() && schema.contains("properties")) {
    for (const auto& [k, sub] : instance.items()) {
      if (schema["properties"].contains(k)) {
        check_cel(schema["properties"][k], sub, path + "." + k, errors, unevaluated);
      }
    }
  }
  if (instance.is_object() && schema.contains("additionalProperties") &&
      schema["additionalProperties"].is_object()) {
    for (const auto& [k, sub] : instance.items()) {
      check_cel(schema["additionalProperties"], sub, path + "." + k, errors, unevaluated);
    }
  }
  if (instance.is_array() && schema.contains("items")) {
    for (std::size_t i = 0; i < instance.size(); ++i) {
      check_cel(schema["items"], instance[i], path + "[" + std::to_string(i) + "]", errors,
                unevaluated);
    }
  }
}

/// Validation problems of `instance` ("" path = root); empty when valid. Rules that could not be
/// evaluated are reported as problems too (prefixed "unevaluated CEL rule").
inline std::vector<std::string> validate(const CrdSchema& crd, const nlohmann::json& instance) {
  valijson::Schema schema;
  valijson::SchemaParser parser(valijson::SchemaParser::kDraft4);
  valijson::adapters::NlohmannJsonAdapter schema_adapter(crd.prepared);
  parser.populateSchema(schema_adapter, schema);
  valijson::Validator validator(valijson::Validator::kStrongTypes);
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(instance);
  std::vector<std::string> problems;
  if (!validator.validate(schema, target, &results)) {
    valijson::ValidationResults::Error e;
    while (results.popError(e)) {
      std::string where;
      for (const auto& c : e.context) {
        where += c;
      }
      problems.push_back(where + ": " + e.description);
    }
  }
  std::vector<std::string> unevaluated;
  check_cel(crd.raw, instance, "", problems, unevaluated);
  for (const auto& u : unevaluated) {
    problems.push_back("unevaluated CEL rule " + u);
  }
  return problems;
}

} // namespace meshctl::testing::crd

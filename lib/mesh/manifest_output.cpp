#include "mesh/manifest_output.hpp"

#include "core/base64.hpp"
#include "core/envelope.hpp"
#include "core/files.hpp"
#include "core/redact.hpp"
#include "core/try.hpp"
#include "render/manifests.hpp"

#include <filesystem>

namespace meshctl::mesh {
namespace {

// With --show-secrets a placeholder would otherwise appear base64-encoded; show it readable.
render::Object readable_placeholders(const render::Object& obj) {
  if (obj.kind() != "Secret" || obj.api_version() != "v1" || !obj.node["data"] ||
      !obj.node["data"].IsMap()) {
    return obj;
  }
  render::Object copy{YAML::Clone(obj.node)};
  for (auto kv : copy.node["data"]) {
    auto decoded = meshctl::base64_decode(kv.second.as<std::string>());
    if (decoded && render::is_placeholder(*decoded)) {
      kv.second = *decoded;
    }
  }
  return copy;
}

} // namespace

std::string format_manifests(const std::vector<ClusterObjects>& clusters, OutputFormat format,
                             bool show_secrets) {
  if (format == OutputFormat::k_json) {
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& c : clusters) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& d : c.objects) {
        nlohmann::json obj = render::to_json(readable_placeholders(d.object).node);
        if (!show_secrets && d.object.kind() == "Secret") {
          for (const char* field : {"data", "stringData"}) {
            if (obj.contains(field) && obj[field].is_object()) {
              for (auto& [k, v] : obj[field].items()) {
                v = std::string(k_redacted);
              }
            }
          }
        }
        list.push_back(std::move(obj));
      }
      entries.push_back({{"name", c.cluster}, {"objects", std::move(list)}});
    }
    nlohmann::json out = envelope("ManifestList");
    out["dryRun"] = "offline";
    out["clusters"] = std::move(entries);
    return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  std::string out;
  for (const auto& c : clusters) {
    for (const auto& d : c.objects) {
      out += "---\n# cluster: " + c.cluster + "\n";
      out += render::to_yaml_text(readable_placeholders(d.object), show_secrets);
    }
  }
  return out;
}

Result<std::vector<std::string>> write_manifests(const std::vector<ClusterObjects>& clusters,
                                                 OutputFormat format, bool show_secrets,
                                                 const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return fail("cannot create --output-dir " + dir + ": " + ec.message(),
                "pick a directory you may write to");
  }
  const char* extension = format == OutputFormat::k_json ? ".json" : ".yaml";
  std::vector<std::string> written;
  for (const auto& c : clusters) {
    const auto path = std::filesystem::path(dir) / (safe_file_name(c.cluster) + extension);
    TRY(write_file(path, format_manifests({c}, format, show_secrets)));
    written.push_back(path.string());
  }
  return written;
}

} // namespace meshctl::mesh

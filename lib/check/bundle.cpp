#include "check/bundle.hpp"

#include "core/files.hpp"
#include "core/redact.hpp"

#include <filesystem>
#include <set>

namespace meshctl::check {

namespace fs = std::filesystem;

namespace {

std::string what_of(const std::string& path) {
  if (path.starts_with("clusters")) {
    return "clusters";
  }
  if (path.find("include_eds") != std::string::npos) {
    return "eds";
  }
  if (path.find("listeners") != std::string::npos) {
    return "listeners";
  }
  return safe_file_name(path);
}

} // namespace

Result<void> save_bundle(const MeshFacts& facts, const std::string& dir) {
  const fs::path root(dir);
  std::error_code ec;
  fs::create_directories(root / "dumps", ec);
  if (ec) {
    return fail("cannot create " + (root / "dumps").string() + ": " + ec.message(),
                "pick a directory you may write to");
  }
  std::vector<std::pair<std::string, const DumpFacts*>> dumps;
  std::set<std::string> used;
  const auto namer = [&](const ClusterFacts& c, const DumpFacts& d) {
    std::string rel = "dumps/" + safe_file_name(c.name) + "/" + safe_file_name(d.namespace_) + "." +
                      safe_file_name(d.pod) + "." + what_of(d.path) + ".json";
    for (int i = 2; used.contains(rel); ++i) {
      rel = rel.substr(0, rel.size() - 5) + "-" + std::to_string(i) + ".json";
    }
    used.insert(rel);
    dumps.emplace_back(rel, &d);
    return rel;
  };
  const std::string text =
      redact(facts_to_json(facts, namer)
                 .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)) +
      "\n";
  for (const auto& [rel, d] : dumps) {
    const fs::path p = root / rel;
    fs::create_directories(p.parent_path(), ec);
    if (ec) {
      return fail("cannot create " + p.parent_path().string() + ": " + ec.message());
    }
    if (auto w = write_file(p, d->bytes->text()); !w) {
      return w;
    }
  }
  return write_file(root / "facts.json", text);
}

Result<MeshFacts> load_bundle(const std::string& dir) {
  const fs::path root(dir);
  const fs::path facts_path = root / "facts.json";
  auto bytes = envoy::DumpBytes::from_file(facts_path.string());
  if (!bytes) {
    return usage_error("no verify bundle in " + dir + ": cannot read facts.json",
                       "pass a directory written by meshctl verify --save-bundle");
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(bytes->text());
  } catch (const nlohmann::json::exception& e) {
    return usage_error(facts_path.string() + ": " + e.what(),
                       "the bundle is damaged; write it again with --save-bundle");
  }
  const auto reader = [&](const std::string& rel) -> Result<envoy::DumpBytes> {
    const fs::path p(rel);
    for (const auto& part : p) {
      if (part == "..") {
        return usage_error("facts.json names a dump outside the bundle: " + rel);
      }
    }
    if (p.is_absolute()) {
      return usage_error("facts.json names a dump outside the bundle: " + rel);
    }
    return envoy::DumpBytes::from_file((root / p).string());
  };
  return context(facts_from_json(j, reader), "reading bundle " + dir);
}

} // namespace meshctl::check

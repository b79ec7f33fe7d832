// Fuzz target: parse_config must never crash or throw, and whatever it accepts must survive the
// trip through `config view -o json` unchanged (the printed config is itself a valid config).

#include "config/config.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto cfg = meshctl::config::parse_config(text, "/fuzz/dir/meshctl.yaml");
  if (!cfg) {
    (void)cfg.error().what();
    return 0;
  }
  const std::string json = meshctl::config::to_json_text(*cfg);
  auto again = meshctl::config::parse_config(json, "/fuzz/dir/view.json");
  if (!again) {
    std::fprintf(stderr, "config view output does not load back: %s\n%s",
                 again.error().what().c_str(), json.c_str());
    std::abort();
  }
  if (meshctl::config::to_json_text(*again) != json) {
    std::fprintf(stderr, "config view output changes on reload:\n%s", json.c_str());
    std::abort();
  }
  (void)meshctl::config::select_clusters(*cfg, {}, {});
  (void)meshctl::config::select_clusters(*cfg, {"wuxi", "cn-shanghai"}, {"wuxi"});
  return 0;
}

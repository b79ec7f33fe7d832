// Fuzz target: parse_kubeconfig must never crash or throw, whatever the bytes; every context of a
// file that parses must resolve or fail cleanly, and exec info must serialise.

#include "config/kubeconfig.hpp"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto kc = meshctl::config::parse_kubeconfig(text, "/fuzz/dir/kubeconfig");
  if (!kc) {
    (void)kc.error().what();
    return 0;
  }
  for (const auto& name : kc->context_names()) {
    if (auto ctx = kc->resolve(name)) {
      (void)meshctl::config::exec_info_json(*ctx);
    }
  }
  (void)kc->resolve("");
  (void)kc->resolve("no-such-context");
  return 0;
}

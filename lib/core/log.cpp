#include "core/log.hpp"

#include "core/redact.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace meshctl::log {
namespace {
std::atomic<int> g_level{0};
std::atomic<bool> g_color{false};
std::mutex g_mutex;
} // namespace

void set_verbosity(int level) {
  g_level = level;
}
int verbosity() {
  return g_level;
}
void set_color(bool enabled) {
  g_color = enabled;
}
bool color() {
  return g_color;
}

void write(int level, std::string_view prefix, std::string_view message) {
  if (level > g_level) {
    return;
  }
  const std::string line = redact(message);
  std::lock_guard lock(g_mutex);
  std::fprintf(stderr, "%.*s%s\n", static_cast<int>(prefix.size()), prefix.data(), line.c_str());
}

} // namespace meshctl::log

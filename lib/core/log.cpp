#include "core/log.hpp"

#include "core/redact.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace meshctl::log {
namespace {
std::atomic<int> g_level{0};
std::atomic<bool> g_color{false};
std::mutex g_mutex;

// The status line; guarded by g_mutex.
std::atomic<bool> g_status_on{false};
std::string g_title;
std::vector<std::pair<std::string, std::string>> g_states;
bool g_drawn = false;

void to_stderr(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}
void (*g_sink)(std::string_view) = to_stderr;

std::size_t columns() {
  winsize ws{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10) {
    return ws.ws_col;
  }
  return 80;
}

// Cuts `s` to `width` display columns, counting UTF-8 continuation bytes as no column.
std::string fit(const std::string& s, std::size_t width) {
  std::size_t cols = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0U) != 0x80U && ++cols > width) {
      return s.substr(0, i);
    }
  }
  return s;
}

// Erases the drawn line (caller holds g_mutex).
void erase_locked() {
  if (g_drawn) {
    g_sink("\r\033[K");
    g_drawn = false;
  }
}

// Draws the line anew (caller holds g_mutex).
void draw_locked() {
  if (!g_status_on || (g_title.empty() && g_states.empty())) {
    return;
  }
  std::string line = g_title;
  const char* sep = "  ";
  for (const auto& [cluster, state] : g_states) {
    line += sep + cluster + ": " + state;
    sep = " · ";
  }
  g_sink("\r\033[K" + fit(line, columns() - 1));
  g_drawn = true;
}

} // namespace

void enable_status(bool on) {
  g_status_on = on;
}
bool status_enabled() {
  return g_status_on;
}
void set_status_sink(void (*sink)(std::string_view text)) {
  std::lock_guard lock(g_mutex);
  g_sink = sink != nullptr ? sink : to_stderr;
}
void status_title(std::string_view title) {
  if (!g_status_on) {
    return;
  }
  std::lock_guard lock(g_mutex);
  g_title = title;
  g_states.clear();
  draw_locked();
}
void status(std::string_view cluster, std::string_view state) {
  if (!g_status_on) {
    return;
  }
  std::lock_guard lock(g_mutex);
  bool found = false;
  for (auto& [c, s] : g_states) {
    if (c == cluster) {
      s = state;
      found = true;
    }
  }
  if (!found) {
    g_states.emplace_back(cluster, state);
  }
  draw_locked();
}
void clear_status() {
  if (!g_status_on) {
    return;
  }
  std::lock_guard lock(g_mutex);
  erase_locked();
  g_title.clear();
  g_states.clear();
}

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
  erase_locked();
  std::fprintf(stderr, "%.*s%s\n", static_cast<int>(prefix.size()), prefix.data(), line.c_str());
  draw_locked();
}

} // namespace meshctl::log

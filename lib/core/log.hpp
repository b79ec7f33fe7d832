#pragma once
// Logs and progress go to stderr, data to stdout. Every log line passes through redact().

#include <fmt/format.h>

#include <string_view>

namespace meshctl::log {

/// 0 = warnings and errors only (default), 1 = info (-v), 2 = debug (-vv), 3 = trace (-vvv).
void set_verbosity(int level);
int verbosity();
/// Whether stderr gets ANSI colour: only on a TTY, never with NO_COLOR or --no-color.
void set_color(bool enabled);
bool color();

void write(int level, std::string_view prefix, std::string_view message);

template <class... A> void info(fmt::format_string<A...> f, A&&... a) {
  write(1, "", fmt::format(f, std::forward<A>(a)...));
}
template <class... A> void debug(fmt::format_string<A...> f, A&&... a) {
  write(2, "debug: ", fmt::format(f, std::forward<A>(a)...));
}
template <class... A> void trace(fmt::format_string<A...> f, A&&... a) {
  write(3, "trace: ", fmt::format(f, std::forward<A>(a)...));
}
template <class... A> void warn(fmt::format_string<A...> f, A&&... a) {
  write(0, "warning: ", fmt::format(f, std::forward<A>(a)...));
}

} // namespace meshctl::log

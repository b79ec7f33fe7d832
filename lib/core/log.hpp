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

// Progress on a terminal: one status line on stderr ("join  cn-shanghai: phase 2 of 3 · wuxi:
// done"), redrawn in place, erased before any other line is written and by clear_status(). Off
// unless enable_status(true): main turns it on only where stderr is a terminal, TERM is not dumb
// and -v is not given, so a pipe or a log file never sees it.
void enable_status(bool on);
bool status_enabled();
/// Where the status line is drawn (tests); by default stderr.
void set_status_sink(void (*sink)(std::string_view text));
/// The line's title (the verb and what it works on); forgets the clusters' states.
void status_title(std::string_view title);
/// One cluster's state, in the order clusters first appear; redraws the line.
void status(std::string_view cluster, std::string_view state);
/// Erases the line and forgets it (before the result is printed).
void clear_status();

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

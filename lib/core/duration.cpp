#include "core/duration.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace meshctl {

namespace {

struct Unit {
  std::string_view name;
  double ms;
};

// Longest names first, so "ms" is not read as "m" followed by junk.
constexpr Unit k_units[] = {{"ms", 1.0},          {"us", 1e-3},       {"µs", 1e-3}, {"ns", 1e-6},
                            {"h", 3600.0 * 1000}, {"m", 60.0 * 1000}, {"s", 1000.0}};

} // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text, std::string_view what) {
  auto bad = [&](const std::string& why) {
    return usage_error(fmt::format("{} {}: \"{}\"", what, why, text),
                       fmt::format("give a duration such as 30s, 2m, 1m30s or 90 (seconds), e.g. "
                                   "{} 2m",
                                   what));
  };
  if (text.empty()) {
    return bad("needs a value");
  }
  double total_ms = 0;
  std::string_view s = text;
  bool bare = true; // no unit anywhere: plain seconds
  while (!s.empty()) {
    std::size_t i = 0;
    bool digits = false;
    bool dot = false;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || (s[i] == '.' && !dot))) {
      dot = dot || s[i] == '.';
      digits = digits || s[i] != '.';
      ++i;
    }
    if (!digits) {
      return bad(s.front() == '-' ? "must be positive" : "is not a duration");
    }
    const double number = std::stod(std::string(s.substr(0, i)));
    s.remove_prefix(i);
    if (s.empty() && bare) {
      total_ms += number * 1000.0; // "30": seconds
      break;
    }
    const Unit* unit = nullptr;
    for (const auto& u : k_units) {
      if (s.starts_with(u.name)) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) {
      return bad("has an unknown unit (use h, m, s or ms)");
    }
    bare = false;
    total_ms += number * unit->ms;
    s.remove_prefix(unit->name.size());
  }
  if (total_ms <= 0) {
    return bad("must be positive");
  }
  if (total_ms > static_cast<double>(std::numeric_limits<int>::max())) {
    return bad("is too long");
  }
  return std::chrono::milliseconds(static_cast<long long>(std::ceil(total_ms)));
}

std::string format_duration(std::chrono::milliseconds d) {
  const long long ms = d.count();
  if (ms < 1000) {
    return fmt::format("{}ms", ms);
  }
  if (ms < 60000) {
    return ms % 1000 == 0 ? fmt::format("{}s", ms / 1000)
                          : fmt::format("{:g}s", static_cast<double>(ms) / 1000.0);
  }
  const long long total_s = ms / 1000;
  std::string out;
  if (total_s >= 3600) {
    out += fmt::format("{}h", total_s / 3600);
  }
  if ((total_s % 3600) / 60 != 0) {
    out += fmt::format("{}m", (total_s % 3600) / 60);
  }
  if (total_s % 60 != 0) {
    out += fmt::format("{}s", total_s % 60);
  }
  return out;
}

} // namespace meshctl

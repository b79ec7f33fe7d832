#pragma once
// Durations as people type them on a command line: Go's time.ParseDuration forms ("30s", "2m",
// "1m30s", "1.5s", "500ms", "1h") plus a plain number, which means seconds ("30"), so that
// `--timeout 30` keeps working.

#include "core/error.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace meshctl {

/// Parses a positive duration; anything else (empty, zero, negative, an unknown unit, junk) is a
/// usage error (exit 2) naming `what` ("--timeout") with examples. Sub-millisecond parts are
/// rounded up, so a positive input never becomes zero.
Result<std::chrono::milliseconds> parse_duration(std::string_view text, std::string_view what);

/// The shortest readable form: "1m30s", "45s", "1.5s", "250ms".
std::string format_duration(std::chrono::milliseconds d);

} // namespace meshctl

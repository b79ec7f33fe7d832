#pragma once
// Text that came from outside (arguments, files, API servers, Envoy dumps) on its way to a person
// or into JSON/YAML output. Such text may hold terminal escape sequences, invalid UTF-8 or a
// hundred kilobytes pasted by mistake: every message that echoes it goes through shown(), and
// every string written as JSON or YAML through valid_utf8().

#include <cstddef>
#include <string>
#include <string_view>

namespace meshctl {

/// How many bytes of an echoed value a message keeps by default (head and tail, see shown()).
inline constexpr std::size_t k_shown_max = 120;
/// How many bytes one whole message line keeps: the last bound, where an error reaches stderr.
inline constexpr std::size_t k_message_max = 1000;

/// `value` as a message may show it: control characters (C0, DEL, C1) and bytes that are not
/// valid UTF-8 escaped as \x1b / \u009b, and a value longer than `max` bytes shortened to its head
/// and tail around "…" (about `max` bytes in all), so that it can neither drive the terminal nor
/// flood it. Valid UTF-8 text without control characters passes unchanged when short.
std::string shown(std::string_view value, std::size_t max = k_shown_max);

/// shown() in double quotes, for a value in a message: "\"" + shown(value) + "\"".
std::string shown_quoted(std::string_view value, std::size_t max = k_shown_max);

/// Offset of the first byte of `text` that does not begin a valid UTF-8 sequence (overlong forms,
/// surrogates and code points above U+10FFFF are invalid), or npos when all of it is valid.
std::size_t invalid_utf8_at(std::string_view text);

/// The length of the valid UTF-8 sequence that starts at text[i] (1 for ASCII), or 0 when the
/// byte there begins none.
std::size_t utf8_length_at(std::string_view text, std::size_t i);

/// `text` with every byte that does not begin a valid UTF-8 sequence replaced by U+FFFD, as Go's
/// encoding/json and nlohmann's replacing dump do: what JSON and YAML output write for it.
std::string valid_utf8(std::string_view text);

} // namespace meshctl

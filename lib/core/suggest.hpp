#pragma once
// "Did you mean …" for verbs, flags, contexts and config keys (ninja's spell-check).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshctl {

/// Levenshtein distance between two strings (case-sensitive).
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The closest candidate within a distance that scales with the word's length, or nothing;
/// never the word itself.
std::optional<std::string> did_you_mean(std::string_view word,
                                        const std::vector<std::string>& candidates);

/// " (did you mean \"x\"?)" or an empty string; ready to append to an error message.
std::string did_you_mean_suffix(std::string_view word, const std::vector<std::string>& candidates);

} // namespace meshctl

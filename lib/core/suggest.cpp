#include "core/suggest.hpp"

#include "core/shown.hpp"

#include <algorithm>

namespace meshctl {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: Levenshtein plus adjacent transpositions ("jion" -> "join" is 1).
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) {
    d[i][0] = i;
  }
  for (std::size_t j = 0; j <= m; ++j) {
    d[0][j] = j;
  }
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

std::optional<std::string> did_you_mean(std::string_view word,
                                        const std::vector<std::string>& candidates) {
  // Allow roughly one edit per three characters, at least one, at most three.
  const std::size_t limit = std::clamp<std::size_t>((word.size() + 2) / 3, 1, 3);
  std::optional<std::string> best;
  std::size_t best_distance = limit + 1;
  for (const auto& c : candidates) {
    if (c == word) {
      continue; // suggesting the word itself helps no one
    }
    // A length difference alone costs that many edits: skip the quadratic distance of a word
    // (say a 100 KB argument) that cannot be close.
    const std::size_t gap =
        word.size() > c.size() ? word.size() - c.size() : c.size() - word.size();
    const bool prefix = word.size() >= 3 && c.rfind(word, 0) == 0;
    if (gap > limit && !prefix) {
      continue;
    }
    const std::size_t d = edit_distance(word, c);
    const std::size_t score = prefix ? std::min<std::size_t>(d, 1) : d;
    if (score < best_distance) {
      best_distance = score;
      best = c;
    }
  }
  return best;
}

std::string did_you_mean_suffix(std::string_view word, const std::vector<std::string>& candidates) {
  if (auto s = did_you_mean(word, candidates)) {
    return " (did you mean " + shown_quoted(*s) + "?)";
  }
  return {};
}

} // namespace meshctl

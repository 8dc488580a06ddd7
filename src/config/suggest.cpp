// "Did you mean" suggestions for misspelt keys and runtime names.
#include <algorithm>
#include <cctype>
#include <limits>
#include <vector>

#include "config/service_config.hpp"

namespace ignite::config {
namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// Case-insensitive Levenshtein distance, two rows: keys are short, so O(n*m) is nothing.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1);
  std::vector<std::size_t> cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitute = prev[j - 1] + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, substitute});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string suggest(std::string_view word, std::span<const std::string_view> candidates) {
  if (word.empty()) return "";
  const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  std::size_t best = std::numeric_limits<std::size_t>::max();
  std::string_view best_candidate;
  for (std::string_view candidate : candidates) {
    const std::size_t d = edit_distance(word, candidate);
    // A distance equal to the longer length means nothing in common ("x" vs "go"): that is a
    // replacement, not a typo, so it is never suggested. Ties keep the earlier candidate.
    if (d <= limit && d < std::max(word.size(), candidate.size()) && d < best) {
      best = d;
      best_candidate = candidate;
    }
  }
  return std::string(best_candidate);
}

}  // namespace ignite::config

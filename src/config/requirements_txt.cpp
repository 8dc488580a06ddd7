// Dependency detection from a python service's requirements.txt (what preflight counts and
// `ignite report` lists; pip itself reads the file in the install step).
#include <algorithm>
#include <cctype>
#include <set>

#include "config/service_files.hpp"

namespace ignite::config::detail {

namespace {

constexpr std::uintmax_t kMaxRequirementsBytes = 1u << 20;
constexpr std::size_t kMaxRequirementText = 200;  // a URL requirement, as listed

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// pip's comment rule: '#' at the start of a line or after whitespace.
std::string_view without_comment(std::string_view line) {
  for (std::size_t i = 0; i < line.size(); ++i)
    if (line[i] == '#' && (i == 0 || std::isspace(static_cast<unsigned char>(line[i - 1]))))
      return line.substr(0, i);
  return line;
}

bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'; }

}  // namespace

Result<std::vector<std::string>> detect_requirements(const std::filesystem::path& dir) {
  IGNITE_TRY_ASSIGN(const std::optional<std::string> read,
                    read_service_file(dir, "requirements.txt", kMaxRequirementsBytes));
  std::set<std::string> found;
  if (!read) return std::vector<std::string>{};
  std::string_view text = *read;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = trimmed(without_comment(text.substr(0, end)));
    text.remove_prefix(std::min(end + 1, text.size()));
    if (line.empty() || line.front() == '-') continue;
    std::size_t n = 0;
    while (n < line.size() && name_char(line[n])) ++n;
    // "pkg==1.0", "pkg[extra]>=2", "pkg @ https://…": the name; a bare URL or path: itself.
    const bool named = n > 0 && (n == line.size() || std::string_view("<>=!~;[ @\t").find(line[n]) != std::string_view::npos);
    std::string item(named ? line.substr(0, n) : line.substr(0, std::min(line.size(), kMaxRequirementText)));
    if (named) std::transform(item.begin(), item.end(), item.begin(), [](unsigned char c) { return std::tolower(c); });
    found.insert(std::move(item));
  }
  return std::vector<std::string>(found.begin(), found.end());
}

}  // namespace ignite::config::detail

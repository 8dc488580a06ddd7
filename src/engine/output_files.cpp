#include "engine/output_files.hpp"

#include <array>
#include <utility>

#include "core/utf8.hpp"
#include "sys/files.hpp"

namespace ignite::engine {

void add_program_output(SandboxSpec& spec) {
  OutputDir o;
  o.target = "/out";
  o.max_bytes = kOutMaxBytes;
  o.max_entries = kOutMaxEntries;
  o.lenient = true;
  spec.output = std::move(o);
}

void collect_output_files(const std::filesystem::path& dir, const ExecutionResult& result, JobReport& report,
                          std::uint64_t max_bytes) {
  report.files_error = result.output_error;
  std::uint64_t taken = 0;
  for (const FileEntry& e : result.output.entries) {
    if (e.kind != EntryKind::file) continue;
    if (e.size > max_bytes - taken) {
      report.files_truncated = true;
      continue;
    }
    // Our own copy, in a private dir; still, the last component is never followed.
    auto content = sys::read_plain_file(dir / e.path, e.size);
    if (!content) {
      report.files_error = "/out/" + e.path + ": " + content.error().message;
      continue;
    }
    taken += content->size();
    report.files.push_back({e.path, guess_mime_type(e.path, *content), std::move(*content)});
  }
}

std::string guess_mime_type(std::string_view path, std::string_view content) {
  if (content.starts_with("\x89PNG\r\n\x1a\n")) return "image/png";
  if (content.starts_with("\xff\xd8\xff")) return "image/jpeg";
  if (content.starts_with("GIF87a") || content.starts_with("GIF89a")) return "image/gif";
  if (content.size() >= 12 && content.starts_with("RIFF") && content.substr(8, 4) == "WEBP") return "image/webp";
  if (content.starts_with("%PDF-")) return "application/pdf";
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kByExtension = {{
      {".svg", "image/svg+xml"}, {".json", "application/json"}, {".csv", "text/csv"},
      {".html", "text/html"}, {".htm", "text/html"}, {".md", "text/markdown"},
      {".txt", "text/plain"}, {".log", "text/plain"}, {".xml", "application/xml"},
      {".yaml", "application/yaml"}, {".yml", "application/yaml"}, {".tsv", "text/tab-separated-values"},
  }};
  const auto dot = path.rfind('.');
  const auto slash = path.rfind('/');
  if (dot != std::string_view::npos && (slash == std::string_view::npos || dot > slash)) {
    const std::string_view ext = path.substr(dot);
    for (const auto& [e, type] : kByExtension)
      if (e == ext) return std::string(type);
  }
  return is_valid_utf8(content) ? "text/plain" : "application/octet-stream";
}

}  // namespace ignite::engine

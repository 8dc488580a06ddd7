#include "sandbox/common/handoff.hpp"

#include <cstdio>

#include "core/utf8.hpp"

namespace ignite::sandbox {
namespace {

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

void append_array(std::string& out, const std::vector<std::string>& items) {
  out += '[';
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, items[i]);
  }
  out += ']';
}

}  // namespace

bool job_is_encodable(const Job& job) {
  auto valid = [](const std::vector<std::string>& v) {
    for (const auto& s : v) {
      if (!is_valid_utf8(s)) return false;
    }
    return true;
  };
  return valid(job.argv) && valid(job.env) && is_valid_utf8(job.workdir.string());
}

Result<std::string> encode_job_header(const Job& job) {
  if (!job_is_encodable(job))
    return fail(ErrorCode::invalid_argument, "a warm slot takes only UTF-8 arguments and variables");
  std::string json = "{\"argv\":";
  append_array(json, job.argv);
  json += ",\"env\":";
  append_array(json, job.env);
  json += ",\"cwd\":";
  append_json_string(json, job.workdir.string());
  json += '}';
  return std::to_string(json.size()) + "\n" + json;
}

}  // namespace ignite::sandbox

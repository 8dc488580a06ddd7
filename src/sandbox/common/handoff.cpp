#include "sandbox/common/handoff.hpp"

#include <charconv>
#include <cstdio>
#include <random>

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

std::string make_nonce() {
  std::random_device rd;
  char buf[33];
  for (int i = 0; i < 4; ++i) std::snprintf(buf + 8 * i, 9, "%08x", static_cast<unsigned>(rd()));
  return std::string(buf, 32);
}

std::optional<int> exec_failure(std::string_view out, std::string_view nonce) {
  if (nonce.empty() || !out.starts_with(kExecFailedMarker)) return std::nullopt;
  out.remove_prefix(kExecFailedMarker.size());
  if (!out.starts_with(nonce) || out.size() < nonce.size() + 3 || out[nonce.size()] != ' ' || !out.ends_with('\n'))
    return std::nullopt;
  out = out.substr(nonce.size() + 1, out.size() - nonce.size() - 2);
  int err = 0;
  auto [p, ec] = std::from_chars(out.data(), out.data() + out.size(), err);
  if (ec != std::errc() || p != out.data() + out.size()) return std::nullopt;
  return err;
}

Result<std::string> encode_job_header(const Job& job, std::string_view nonce) {
  if (!job_is_encodable(job))
    return fail(ErrorCode::invalid_argument, "a warm slot takes only UTF-8 arguments and variables");
  std::string json = "{\"argv\":";
  append_array(json, job.argv);
  json += ",\"env\":";
  append_array(json, job.env);
  json += ",\"cwd\":";
  append_json_string(json, job.workdir.string());
  if (!nonce.empty()) {
    json += ",\"nonce\":";
    append_json_string(json, nonce);
  }
  json += '}';
  return std::to_string(json.size()) + "\n" + json;
}

}  // namespace ignite::sandbox

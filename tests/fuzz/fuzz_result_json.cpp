// libFuzzer target: the result document (CONTRACT §4) is always serializable JSON, whatever
// bytes the program wrote, and its output fields round-trip (literally or as base64).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/result_json.hpp"

namespace {

std::string base64_decode(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
  };
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) continue;  // '=' padding
    buffer = (buffer << 6U) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> static_cast<unsigned>(bits)) & 0xFFU);
    }
  }
  return out;
}

void check_stream(const nlohmann::json& doc, const char* key, const std::string& original) {
  const std::string wire = doc.at(key).get<std::string>();
  const std::string encoding_key = std::string(key) + "Encoding";
  const std::string decoded = doc.contains(encoding_key) ? base64_decode(wire) : wire;
  if (decoded != original) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The input is split into the fields a hostile program (or service dir) controls.
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto take = [&in]() {
    const auto cut = in.find('\x01');
    std::string part(in.substr(0, cut));
    in = cut == std::string_view::npos ? std::string_view{} : in.substr(cut + 1);
    return part;
  };
  ignite::engine::JobReport report;
  report.result.stdout_data = take();
  report.result.stderr_data = take();
  report.result.detail = take();
  report.service_name = take();
  report.result.blocked_syscall = take();
  report.runtime = take();
  report.result.exit_code = size > 0 ? data[0] : 0;
  report.result.signal = size > 1 ? data[1] % 70 : 0;
  report.result.outcome = static_cast<ignite::Outcome>(size > 2 ? data[2] % 7 : 0);
  if (size > 3 && (data[3] & 1U)) report.result.degradations.push_back(take());

  const nlohmann::json doc = ignite::api::result_document(report);
  const std::string text = doc.dump();  // throws (and so crashes) on invalid UTF-8
  const nlohmann::json back = nlohmann::json::parse(text);
  if (back != doc) std::abort();
  check_stream(back, "stdout", report.result.stdout_data);
  check_stream(back, "stderr", report.result.stderr_data);
  if (back.at("output") != back.at("stdout")) std::abort();
  if (back.at("success").get<bool>() != (back.at("status") == "ok")) std::abort();
  const std::string sanitized = ignite::api::sanitize_utf8(report.result.detail);
  if (!ignite::api::is_valid_utf8(sanitized)) std::abort();
  return 0;
}

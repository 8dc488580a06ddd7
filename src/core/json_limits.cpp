#include "core/json_limits.hpp"

#include <string>

namespace ignite {
namespace {

using nlohmann::json;

// Counts open arrays/objects; stops the parse (returns false) once `max` is exceeded. Every
// other event is accepted and dropped: nothing is built.
class DepthCheck final : public nlohmann::json_sax<json> {
 public:
  explicit DepthCheck(std::size_t max) : max_(max) {}
  bool too_deep() const { return too_deep_; }
  const std::string& syntax_error() const { return syntax_error_; }

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return open(); }
  bool key(string_t&) override { return true; }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    syntax_error_ = e.what();
    return false;
  }

 private:
  bool open() {
    if (++depth_ <= max_) return true;
    too_deep_ = true;
    return false;
  }
  bool close() {
    --depth_;
    return true;
  }

  const std::size_t max_;
  std::size_t depth_ = 0;
  bool too_deep_ = false;
  std::string syntax_error_;
};

// nlohmann's messages start with "[json.exception.parse_error.101] parse error at line 1, ...":
// the bracketed id means nothing to a client.
std::string plain(const std::string& what) {
  const auto close = what.find("] ");
  return close == std::string::npos ? what : what.substr(close + 2);
}

}  // namespace

Result<json> parse_json_bounded(std::string_view text, std::size_t max_depth) {
  DepthCheck check(max_depth);
  const bool ok = json::sax_parse(text, &check, json::input_format_t::json, /*strict=*/true);
  if (check.too_deep())
    return fail(ErrorCode::invalid_argument,
                "JSON nested deeper than " + std::to_string(max_depth) + " levels");
  if (!ok) return fail(ErrorCode::invalid_argument, "not valid JSON: " + plain(check.syntax_error()));
  // Valid and shallow: building the document now cannot fail or recurse deeply.
  return json::parse(text, nullptr, /*allow_exceptions=*/false);
}

}  // namespace ignite

// The output cap cuts bytes, not characters: a character cut in two must not turn a whole
// stream of text into base64 (issue 9, finding 18). Real programs, real pipes.
#include "api/result_json.hpp"
#include "core/utf8.hpp"
#include "sandbox_fixture.hpp"

namespace ignite::security {
namespace {

IGNITE_SECURITY_SUITE(OutputCap);

nlohmann::json document_of(const ExecutionResult& r) {
  engine::JobReport report;
  report.result = r;
  return api::result_document(report);
}

TEST_P(OutputCap, text_cut_by_the_output_cap_stays_text) {
  // '€' is 3 bytes and the cap (1 MiB) is not a multiple of 3: the cap falls inside one.
  SandboxSpec spec = python(
      "import sys\nsys.stdout.buffer.write('\\u20ac'.encode() * 400000)\n"
      "sys.stderr.buffer.write(b'e' + '\\U0001F600'.encode() * 300000)\n");
  ASSERT_EQ(spec.limits.max_output_bytes % 3, 1u);
  const auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::exited) << r.detail;
  EXPECT_TRUE(r.stdout_truncated);
  EXPECT_TRUE(r.stderr_truncated);
  // The cut character is dropped whole: never more than 3 bytes short of the cap.
  EXPECT_EQ(r.stdout_data.size(), spec.limits.max_output_bytes - 1);
  EXPECT_EQ(r.stderr_data.size(), spec.limits.max_output_bytes - 3);  // 1 + 4k, cap - 1 - 4k = 3
  EXPECT_TRUE(is_valid_utf8(r.stdout_data));
  EXPECT_TRUE(is_valid_utf8(r.stderr_data));
  const auto doc = document_of(r);
  EXPECT_FALSE(doc.contains("stdoutEncoding"));
  EXPECT_FALSE(doc.contains("stderrEncoding"));
  EXPECT_EQ(doc["stdout"].get<std::string>().substr(0, 6), "\u20ac\u20ac");
  EXPECT_EQ(doc["stdoutTruncated"], true);
}

TEST_P(OutputCap, binary_output_cut_by_the_cap_is_kept_whole_and_stays_base64) {
  // Bytes that are not text (and end in what looks like the start of a character) are not
  // trimmed: only text is cut back to a character boundary.
  SandboxSpec spec =
      python("import sys\nsys.stdout.buffer.write((b'\\xff' + b'\\xe2') * 600000)\n");
  const auto r = run(spec);
  EXPECT_TRUE(r.stdout_truncated);
  EXPECT_EQ(r.stdout_data.size(), spec.limits.max_output_bytes);
  const auto doc = document_of(r);
  EXPECT_EQ(doc["stdoutEncoding"], "base64");
}

TEST_P(OutputCap, text_that_fits_under_the_cap_is_untouched) {
  // A program that itself ends on half a character was not cut by us: its bytes are its own.
  const auto r = run(python("import sys\nsys.stdout.buffer.write(b'ok \\xe2\\x82')\n"));
  EXPECT_FALSE(r.stdout_truncated);
  EXPECT_EQ(r.stdout_data, "ok \xe2\x82");
  EXPECT_EQ(document_of(r)["stdoutEncoding"], "base64");
}

}  // namespace
}  // namespace ignite::security

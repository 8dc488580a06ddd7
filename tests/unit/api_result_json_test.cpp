#include <gtest/gtest.h>

#include <csignal>

#include "api/result_json.hpp"

namespace ignite::api {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

engine::JobReport sample_report() {
  engine::JobReport r;
  r.service_name = "data-processor";
  r.runtime = "bun@1.3.4";
  r.isolation = "native";
  r.result.stdout_data = "{\"result\":15}\n";
  r.result.usage.wall = 18'234us;
  r.result.usage.cpu = 11'049us;
  r.result.usage.peak_memory_bytes = 32'925'696;
  r.result.usage.pids_peak = 4;
  r.result.setup = 3'080us;
  r.limits = {.memory_mb = 128, .timeout_ms = 30000, .cpu_limit = 1, .network = false};
  return r;
}

TEST(ResultDocument, SuccessHasContractShape) {
  const json doc = result_document(sample_report());
  EXPECT_EQ(doc["success"], true);
  EXPECT_EQ(doc["status"], "ok");
  EXPECT_EQ(doc["serviceName"], "data-processor");
  EXPECT_EQ(doc["runtime"], "bun@1.3.4");
  EXPECT_EQ(doc["isolation"], "native");
  EXPECT_EQ(doc["output"], "{\"result\":15}\n");
  EXPECT_EQ(doc["stdout"], doc["output"]);
  EXPECT_EQ(doc["stderr"], "");
  EXPECT_EQ(doc["stdoutTruncated"], false);
  EXPECT_EQ(doc["stderrTruncated"], false);
  EXPECT_EQ(doc["exitCode"], 0);
  EXPECT_TRUE(doc["signal"].is_null());
  EXPECT_FALSE(doc.contains("stdoutEncoding"));
  EXPECT_FALSE(doc.contains("preflight"));
  EXPECT_FALSE(doc.contains("detail"));

  const json& m = doc["metrics"];
  EXPECT_DOUBLE_EQ(m["executionTimeMs"].get<double>(), 18.2);
  EXPECT_DOUBLE_EQ(m["cpuTimeMs"].get<double>(), 11.0);
  EXPECT_DOUBLE_EQ(m["memoryUsedMb"].get<double>(), 31.4);
  EXPECT_EQ(m["memoryPeakBytes"], 32925696);
  EXPECT_EQ(m["pidsPeak"], 4);
  EXPECT_EQ(m["coldStart"], true);
  EXPECT_DOUBLE_EQ(m["setupMs"].get<double>(), 3.1);
  EXPECT_FALSE(m.contains("vm")) << "only a microVM has a VMM";

  EXPECT_EQ(doc["limits"], json::parse(R"({"memoryMb":128,"timeoutMs":30000,"cpuLimit":1,
                                           "network":false})"));
  EXPECT_EQ(doc["limits"].dump(),
            R"({"cpuLimit":1,"memoryMb":128,"network":false,"timeoutMs":30000})");
}

TEST(ResultDocument, a_microvm_run_reports_its_vmm_beside_the_job) {
  engine::JobReport r = sample_report();
  r.result.vmm = VmmUsage{300u << 20, std::chrono::microseconds(1234500)};
  const json m = result_document(r)["metrics"];
  EXPECT_EQ(m["vm"]["memoryPeakBytes"], 300u << 20);
  EXPECT_DOUBLE_EQ(m["vm"]["cpuTimeMs"].get<double>(), 1234.5);
  EXPECT_EQ(m["memoryPeakBytes"], 32925696) << "the job's own peak stays the job's";
}

TEST(ResultDocument, FractionalCpuLimitStaysFractional) {
  engine::JobReport r = sample_report();
  r.limits.cpu_limit = 0.5;
  EXPECT_DOUBLE_EQ(result_document(r)["limits"]["cpuLimit"].get<double>(), 0.5);
}

TEST(ResultDocument, NonZeroExitIsRuntimeError) {
  engine::JobReport r = sample_report();
  r.result.exit_code = 3;
  r.result.stderr_data = "boom\n";
  const json doc = result_document(r);
  EXPECT_EQ(doc["success"], false);
  EXPECT_EQ(doc["status"], "runtime_error");
  EXPECT_EQ(doc["exitCode"], 3);
  EXPECT_EQ(doc["stderr"], "boom\n");
}

TEST(ResultDocument, TimeoutHasNullExitCodeAndSignalName) {
  engine::JobReport r = sample_report();
  r.result.outcome = Outcome::wall_time_exceeded;
  r.result.signal = SIGKILL;
  r.result.detail = "wall time limit 30000ms exceeded";
  const json doc = result_document(r);
  EXPECT_EQ(doc["success"], false);
  EXPECT_EQ(doc["status"], "timeout");
  EXPECT_TRUE(doc["exitCode"].is_null());
  EXPECT_EQ(doc["signal"], "SIGKILL");
  EXPECT_EQ(doc["detail"], "wall time limit 30000ms exceeded");
}

TEST(ResultDocument, OtherOutcomesMapToContractStatuses) {
  engine::JobReport r = sample_report();
  r.result.signal = SIGSEGV;
  r.result.outcome = Outcome::signaled;
  EXPECT_EQ(result_document(r)["status"], "signaled");
  EXPECT_EQ(result_document(r)["signal"], "SIGSEGV");
  r.result.outcome = Outcome::memory_exceeded;
  EXPECT_EQ(result_document(r)["status"], "memory_limit");
  r.result.outcome = Outcome::syscall_blocked;
  EXPECT_EQ(result_document(r)["status"], "syscall_blocked");
  r.result.outcome = Outcome::output_exceeded;
  EXPECT_EQ(result_document(r)["status"], "output_limit");
  r.result.outcome = Outcome::cancelled;
  EXPECT_EQ(result_document(r)["status"], "cancelled");
  EXPECT_EQ(result_document(r)["success"], false);
}

TEST(ResultDocument, InvalidUtf8OutputIsBase64AndSerializes) {
  engine::JobReport r = sample_report();
  r.result.stdout_data = std::string("\xff\xfe", 2);
  r.result.stderr_data = "fine";
  const json doc = result_document(r);
  EXPECT_EQ(doc["stdout"], "//4=");
  EXPECT_EQ(doc["output"], "//4=");
  EXPECT_EQ(doc["stdoutEncoding"], "base64");
  EXPECT_FALSE(doc.contains("outputEncoding"));
  EXPECT_FALSE(doc.contains("stderrEncoding"));
  EXPECT_NO_THROW((void)doc.dump());

  r.result.stdout_data = "ok";
  r.result.stderr_data = std::string("\xc3", 1);
  const json doc2 = result_document(r);
  EXPECT_FALSE(doc2.contains("stdoutEncoding"));
  EXPECT_EQ(doc2["stderrEncoding"], "base64");
  EXPECT_EQ(doc2["stderr"], "ww==");
}

TEST(ResultDocument, TruncationFlagsAndWarmStart) {
  engine::JobReport r = sample_report();
  r.result.stdout_truncated = true;
  r.cold_start = false;
  const json doc = result_document(r);
  EXPECT_EQ(doc["stdoutTruncated"], true);
  EXPECT_EQ(doc["metrics"]["coldStart"], false);
}

TEST(ResultDocument, IncludesPreflightWhenSet) {
  engine::JobReport r = sample_report();
  preflight::ServiceReport pf;
  pf.overall = preflight::CheckStatus::warn;
  pf.checks.push_back({.name = "Memory",
                       .status = preflight::CheckStatus::warn,
                       .message = "64MB allocated, 70MB estimated",
                       .value = 64,
                       .threshold = 70,
                       .unit = "MB",
                       .facts = {{"Allocated", "64MB"}}});
  r.preflight = pf;
  const json doc = result_document(r);
  ASSERT_TRUE(doc.contains("preflight"));
  EXPECT_EQ(doc["preflight"]["overallStatus"], "warn");
  ASSERT_EQ(doc["preflight"]["checks"].size(), 1u);
  const json& c = doc["preflight"]["checks"][0];
  EXPECT_EQ(c["name"], "Memory");
  EXPECT_EQ(c["status"], "warn");
  EXPECT_EQ(c["message"], "64MB allocated, 70MB estimated");
  EXPECT_EQ(c["value"], 64);
  EXPECT_EQ(c["threshold"], 70);
  EXPECT_EQ(c["unit"], "MB");
}

TEST(PreflightJson, EmptyReportPasses) {
  const json doc = preflight_json(preflight::ServiceReport{});
  EXPECT_EQ(doc["overallStatus"], "pass");
  EXPECT_TRUE(doc["checks"].is_array());
  EXPECT_TRUE(doc["checks"].empty());
}

TEST(SignalName, KnownRealtimeAndUnknown) {
  EXPECT_EQ(signal_name(SIGKILL), "SIGKILL");
  EXPECT_EQ(signal_name(SIGSYS), "SIGSYS");
  EXPECT_EQ(signal_name(SIGXCPU), "SIGXCPU");
  EXPECT_EQ(signal_name(SIGRTMIN), "SIGRTMIN");
  EXPECT_EQ(signal_name(SIGRTMIN + 2), "SIGRTMIN+2");
  EXPECT_EQ(signal_name(200), "SIG200");
}

TEST(Utf8, AcceptsValidText) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii\n"));
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9"));                // é
  EXPECT_TRUE(is_valid_utf8("\xe2\x9c\x93"));               // ✓
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x94\xa5"));           // 🔥
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));           // U+10FFFF
  EXPECT_TRUE(is_valid_utf8(std::string_view("a\0b", 3)));  // NUL is valid UTF-8
}

TEST(Utf8, RejectsInvalidText) {
  EXPECT_FALSE(is_valid_utf8("\x80"));              // lone continuation
  EXPECT_FALSE(is_valid_utf8("\xc3"));              // truncated
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong, 3 bytes
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // UTF-16 surrogate U+D800
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xe2\x28\xa1"));  // bad continuation
}

TEST(Utf8, SanitizeReplacesEachInvalidByte) {
  EXPECT_EQ(sanitize_utf8("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(sanitize_utf8("a\xff"
                          "b"),
            "a\uFFFD"
            "b");
  EXPECT_EQ(sanitize_utf8("\xc0\xaf"), "\uFFFD\uFFFD");
  EXPECT_TRUE(is_valid_utf8(sanitize_utf8("\xe2\x28\xa1")));
}

TEST(ResultDocument, DetailAndPreflightMessagesAreSanitized) {
  engine::JobReport r = sample_report();
  r.result.detail = "open /tmp/\xff: denied";
  preflight::ServiceReport pf;
  preflight::CheckResult c;
  c.name = "Dependency";
  c.message = "install scripts: \xfe";
  pf.checks.push_back(c);
  r.preflight = pf;
  const json doc = result_document(r);
  EXPECT_EQ(doc["detail"], "open /tmp/\uFFFD: denied");
  EXPECT_EQ(doc["preflight"]["checks"][0]["message"], "install scripts: \uFFFD");
  EXPECT_NO_THROW((void)doc.dump());
}

TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\x00\xff\xfe", 3)), "AP/+");
}

}  // namespace
}  // namespace ignite::api

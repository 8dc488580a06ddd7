// The Ignis job protocol (api/ignis.hpp): what a job may be, and what its status updates say.
#include <gtest/gtest.h>

#include "api/ignis.hpp"

namespace ignite::api {
namespace {

using nlohmann::json;

const AdhocLimits kLimits{};

TEST(IgnisProtocol, ids_must_be_usable_as_one_subject_token_and_a_key) {
  EXPECT_TRUE(usable_job_id("3f2a-9c_01"));
  EXPECT_TRUE(usable_job_id(std::string(128, 'a')));
  for (const char* bad : {"", "a.b", "a*", ">", "a b", "ü", "a/b"}) EXPECT_FALSE(usable_job_id(bad)) << bad;
  EXPECT_FALSE(usable_job_id(std::string(129, 'a')));
}

TEST(IgnisProtocol, an_ignis_job_decodes_into_an_adhoc_request) {
  auto decoded = decode_ignis_job(R"J({"id":"j1","language":"typescript","code":"console.log(1)","variant":"standard"})J",
                                  kLimits, 1000);
  ASSERT_TRUE(std::holds_alternative<IgnisJob>(decoded));
  const auto& job = std::get<IgnisJob>(decoded);
  EXPECT_EQ(job.id, "j1");
  EXPECT_EQ(job.request.runtime.name, "bun");
  EXPECT_EQ(job.request.files.at(0).name, "main.ts");
  EXPECT_EQ(job.request.memory_mb, kLimits.default_memory_mb);
}

TEST(IgnisProtocol, a_whole_adhoc_request_survives_the_trip_through_a_job_message) {
  auto decoded = decode_adhoc(R"J({"runtime":"python","version":"3","files":[{"name":"main.py","content":"print(1)"},
      {"name":"lib/x.py","content":"y = 2"}],"stdin":"in","input":{"a":[1,2]},"args":["-v"],"memoryMb":64,"timeoutMs":2000})J",
                              kLimits);
  ASSERT_TRUE(std::holds_alternative<AdhocJob>(decoded));
  const auto& sent = std::get<AdhocJob>(decoded).request;
  auto back = decode_ignis_job(job_message("rt-1", sent).dump(), kLimits, 1 << 20);
  ASSERT_TRUE(std::holds_alternative<IgnisJob>(back));
  const auto& got = std::get<IgnisJob>(back).request;
  EXPECT_EQ(std::get<IgnisJob>(back).id, "rt-1");
  EXPECT_EQ(got.runtime, sent.runtime);
  ASSERT_EQ(got.files.size(), 2u);
  EXPECT_EQ(got.files[1].name, "lib/x.py");
  EXPECT_EQ(got.files[1].content, "y = 2");
  EXPECT_EQ(got.stdin_data, "in");
  EXPECT_EQ(got.input_json, sent.input_json);
  EXPECT_EQ(got.args, sent.args);
  EXPECT_EQ(got.memory_mb, 64u);
  EXPECT_EQ(got.timeout_ms, 2000u);
}

TEST(IgnisProtocol, a_refused_field_is_named_by_its_path) {
  auto decoded = decode_adhoc(R"J({"runtime":"python","files":[{"name":"a.py","content":"1"},{"content":"2"}]})J", kLimits);
  ASSERT_TRUE(std::holds_alternative<RequestError>(decoded));
  const auto& e = std::get<RequestError>(decoded);
  EXPECT_EQ(e.field, "files[1].name");
  EXPECT_EQ(error_body(e)["error"]["field"], "files[1].name");
  auto limit = decode_adhoc(R"J({"runtime":"python","code":"1","timeoutMs":5})J", kLimits);
  EXPECT_EQ(std::get<RequestError>(limit).field, "timeoutMs");
  EXPECT_EQ(std::get<RequestError>(limit).status, 422);
  EXPECT_FALSE(error_body(bad_request("x"))["error"].contains("field"));
}

TEST(IgnisProtocol, rejected_jobs_keep_their_id_when_it_is_usable) {
  auto no_id = decode_ignis_job(R"J({"language":"python","code":"1"})J", kLimits, 1000);
  ASSERT_TRUE(std::holds_alternative<IgnisRejected>(no_id));
  EXPECT_EQ(std::get<IgnisRejected>(no_id).id, "");
  auto bad_json = decode_ignis_job("{", kLimits, 1000);
  EXPECT_EQ(std::get<IgnisRejected>(bad_json).error.code, "bad_request");
  auto lang = decode_ignis_job(R"J({"id":"x","language":"cobol","code":"1"})J", kLimits, 1000);
  EXPECT_EQ(std::get<IgnisRejected>(lang).id, "x");
  EXPECT_NE(std::get<IgnisRejected>(lang).error.message.find("cobol"), std::string::npos);
  auto big = decode_ignis_job(json{{"id", "y"}, {"language", "python"}, {"code", std::string(1001, 'x')}}.dump(), kLimits, 1000);
  EXPECT_NE(std::get<IgnisRejected>(big).error.message.find("larger than 1000 bytes"), std::string::npos);
  auto variant = decode_ignis_job(R"J({"id":"z","language":"python","code":"1","variant":7})J", kLimits, 1000);
  EXPECT_NE(std::get<IgnisRejected>(variant).error.message.find("variant"), std::string::npos);
}

TEST(IgnisProtocol, the_final_update_carries_the_ignis_fields_and_the_result_document) {
  const json ok_doc = {{"success", true}, {"status", "ok"}, {"stdout", "hi\n"}, {"stderr", ""}, {"exitCode", 0},
                       {"metrics", {{"executionTimeMs", 12.5}, {"memoryPeakBytes", 4096 * 1024}}}};
  const json done = ignis_final("j", ok_doc);
  EXPECT_EQ(done["status"], "done");
  EXPECT_EQ(done["stdout"], "hi\n");
  EXPECT_EQ(done["exec_duration"], 12.5);
  EXPECT_EQ(done["mem_usage"], 4096) << "KiB";
  EXPECT_EQ(done["result"], ok_doc);
  json timeout_doc = ok_doc;
  timeout_doc["success"] = false;
  timeout_doc["status"] = "timeout";
  const json failed = ignis_final("j", timeout_doc);
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_NE(failed["error"].get<std::string>().find("timeout"), std::string::npos);
  const json refused = ignis_failed("j", unprocessable("field 'x' is wrong"));
  EXPECT_EQ(refused["status"], "failed");
  EXPECT_EQ(refused["error"], "field 'x' is wrong");
  EXPECT_EQ(refused["result"]["error"]["code"], "invalid_request");
}

TEST(IgnisProtocol, a_final_update_is_cut_to_fit_the_message_limit_at_character_boundaries) {
  std::string big;
  for (int i = 0; i < 100000; ++i) big += "\xc3\xa9";  // é: two bytes each
  const json doc = {{"success", true}, {"status", "ok"}, {"stdout", big}, {"output", big}, {"stderr", big},
                    {"stdoutTruncated", false}, {"stderrTruncated", false}, {"files", json::array({{{"content", big}}})}};
  const json fitted = fit_status(ignis_final("j", doc), 64 * 1024);
  const std::string text = fitted.dump();  // throws on a cut inside a character
  EXPECT_LE(text.size(), 64u * 1024);
  EXPECT_EQ(fitted["status"], "done");
  EXPECT_TRUE(fitted["result"]["stdoutTruncated"].get<bool>());
  EXPECT_TRUE(fitted["result"]["stderrTruncated"].get<bool>());
  EXPECT_TRUE(fitted["result"]["filesTruncated"].get<bool>());
  EXPECT_FALSE(fitted["result"].contains("files"));
  EXPECT_GT(fitted["stdout"].get<std::string>().size(), 1000u) << "as much output as fits is kept";
  EXPECT_EQ(fitted["result"]["stdout"], fitted["result"]["output"]);
  const json small = ignis_final("j", {{"success", true}, {"stdout", "hi"}});
  EXPECT_EQ(fit_status(small, 64 * 1024), small) << "what fits is left alone";
}

TEST(IgnisProtocol, only_a_well_formed_final_for_the_same_id_may_answer_a_redelivery) {
  const json real = ignis_final("j1", {{"success", true}, {"stdout", "x"}, {"metrics", {{"executionTimeMs", 1.0}}}});
  EXPECT_TRUE(valid_final(real, "j1"));
  EXPECT_TRUE(valid_final(ignis_failed("j1", bad_request("no")), "j1"));
  EXPECT_FALSE(valid_final(real, "j2")) << "another job's result";
  EXPECT_FALSE(valid_final(ignis_progress("j1", "running", ""), "j1"));
  EXPECT_FALSE(valid_final(json{{"status", "done"}, {"stdout", "FORGED"}}, "j1"));
  json wrong = real;
  wrong["stdout"] = json::array({1e5, 1e5});
  EXPECT_FALSE(valid_final(wrong, "j1"));
  wrong = real;
  wrong["result"] = "x";
  EXPECT_FALSE(valid_final(wrong, "j1"));
  EXPECT_FALSE(valid_final(json::array(), "j1"));
}

TEST(IgnisProtocol, output_that_is_not_utf8_says_so_beside_the_ignis_fields) {
  const json out = ignis_final("j", {{"success", true}, {"stdout", "wyj//g=="}, {"stdoutEncoding", "base64"}});
  EXPECT_EQ(out["stdout_encoding"], "base64");
  EXPECT_FALSE(out.contains("stderr_encoding"));
}

}  // namespace
}  // namespace ignite::api

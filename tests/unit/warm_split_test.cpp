// The warm form of a run: what goes into the slot (and its key) and what reaches it as the job.
#include <gtest/gtest.h>

#include "engine/engine.hpp"
#include "engine/warm_split.hpp"
#include "sandbox/common/handoff.hpp"

namespace ignite::engine {
namespace {

runtime::Installed python() {
  runtime::Installed rt;
  rt.name = "python";
  rt.version = "3.11";
  rt.sandbox_binary = "/usr/bin/python3";
  return rt;
}

SandboxSpec cold_run(const std::string& input) {
  SandboxSpec s;
  s.argv = {"/usr/bin/python3", "-E", "-s", "/app/main.py", "a1", "a2"};
  s.env = {"PATH=/usr/bin", "IGNITE_SERVICE=adhoc", "IGNITE_INPUT_FILE=/run/ignite/input.json",
           "IGNITE_INPUT=" + input};
  s.mounts = {{"/usr/lib/python3", "/usr/lib/python3", false}, {"/run/ignite/work/job-1", "/app", false}};
  s.files = {{"/run/ignite/input.json", input}};
  s.stdin_data = "in";
  s.runtime_image = "python@3.11";
  return s;
}

TEST(WarmSplit, the_slot_holds_nothing_of_one_job_and_the_job_everything_it_needs) {
  auto w = warm_split(cold_run("{\"a\":1}"), python(), 2, true);
  ASSERT_TRUE(w.has_value());
  EXPECT_TRUE(w->slot.warm);
  EXPECT_EQ(w->slot.argv, (std::vector<std::string>{"/usr/bin/python3", "-E", "-s", "/opt/ignite/warm/bootstrap.py"}));
  EXPECT_EQ(w->job.argv, (std::vector<std::string>{"/app/main.py", "a1", "a2"}));
  EXPECT_EQ(w->slot.env, (std::vector<std::string>{"PATH=/usr/bin", "IGNITE_SERVICE=adhoc"}));
  EXPECT_EQ(w->job.env, cold_run("{\"a\":1}").env);
  EXPECT_EQ(w->job.stdin_data, "in");
  EXPECT_TRUE(w->slot.stdin_data.empty());
  ASSERT_EQ(w->job.trees.size(), 1u);  // the staged ad-hoc files go into the slot's /app
  EXPECT_EQ(w->job.trees[0].source, "/run/ignite/work/job-1");
  ASSERT_EQ(w->job.files.size(), 1u);
  EXPECT_EQ(w->job.files[0].target, "/run/ignite/input.json");
  for (const auto& m : w->slot.mounts) EXPECT_NE(m.target, "/app");
  EXPECT_EQ(w->slot.drop_dirs, (std::vector<std::filesystem::path>{"/app", "/run/ignite"}));
  // A backend that starts from images starts the slot from the same runtime's image.
  EXPECT_EQ(w->slot.runtime_image, "python@3.11");
}

TEST(WarmSplit, two_jobs_of_one_kind_share_a_slot_spec) {
  auto a = warm_split(cold_run("{\"a\":1}"), python(), 2, true);
  SandboxSpec other = cold_run("[2,3]");
  other.mounts[1].source = "/run/ignite/work/job-2";
  other.stdin_data = "other";
  auto b = warm_split(other, python(), 2, true);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->slot, b->slot);
}

TEST(WarmSplit, a_service_keeps_its_dir_in_the_slot) {
  auto w = warm_split(cold_run("1"), python(), 2, false);
  ASSERT_TRUE(w.has_value());
  EXPECT_TRUE(w->job.trees.empty());
  EXPECT_EQ(w->slot.mounts.back().target, "/app");
}

TEST(WarmSplit, runs_that_cannot_be_warm_are_said_so) {
  SandboxSpec step = cold_run("1");
  step.output = OutputDir{};
  step.output->seed.push_back({"package.json", "{}"});  // a build step's: it runs cold
  EXPECT_FALSE(warm_split(step, python(), 2, true).has_value());
  step.output->seed.clear();
  step.egress = Egress{};
  EXPECT_FALSE(warm_split(step, python(), 2, true).has_value());
  runtime::Installed qjs = python();
  qjs.name = "quickjs";
  EXPECT_FALSE(warm_split(cold_run("1"), qjs, 2, true).has_value());
}

// A program's /out: the slot mounts it empty (one pool for every job), the job says where its
// contents go.
TEST(WarmSplit, an_output_dir_starts_empty_in_the_slot_and_goes_where_the_job_says) {
  SandboxSpec run = cold_run("1");
  run.output = OutputDir{"/out", "/run/ignite/work/out-abc", 1 << 20, 100, {}, true};
  auto w = warm_split(run, python(), 2, true);
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE(w->slot.output.has_value());
  EXPECT_EQ(w->slot.output->target, "/out");
  EXPECT_TRUE(w->slot.output->host_dest.empty());
  EXPECT_TRUE(w->slot.output->lenient);
  EXPECT_EQ(w->job.output_dest, "/run/ignite/work/out-abc");
  EXPECT_TRUE(validate(w->slot, {}).has_value());
}

TEST(HandOff, the_header_is_the_length_then_json_with_control_characters_escaped) {
  sandbox::Job job;
  job.argv = {"/app/main.py", "a \"q\"\n"};
  job.env = {"A=\x01"};
  job.workdir = "/app";
  auto h = sandbox::encode_job_header(job);
  ASSERT_TRUE(h.has_value());
  const std::string json = R"({"argv":["/app/main.py","a \"q\"\n"],"env":["A=\u0001"],"cwd":"/app"})";
  EXPECT_EQ(*h, std::to_string(json.size()) + "\n" + json);
  job.env = {"B=\xff"};
  EXPECT_FALSE(sandbox::encode_job_header(job).has_value());
  EXPECT_FALSE(sandbox::job_is_encodable(job));
}

TEST(HandOff, only_the_exec_bootstraps_marker_with_this_jobs_nonce_is_an_exec_failure) {
  const std::string marker = std::string(sandbox::kExecFailedMarker) + "abc123 2\n";
  EXPECT_EQ(sandbox::exec_failure(marker, "abc123"), 2);
  EXPECT_FALSE(sandbox::exec_failure(marker, "abc124").has_value());   // another job's nonce
  EXPECT_FALSE(sandbox::exec_failure(marker, "").has_value());         // a cold run has none
  EXPECT_FALSE(sandbox::exec_failure(marker + "more", "abc123").has_value());
  EXPECT_FALSE(sandbox::exec_failure("x" + marker, "abc123").has_value());
  EXPECT_FALSE(sandbox::exec_failure(std::string(sandbox::kExecFailedMarker) + "abc123 x\n", "abc123").has_value());
  EXPECT_EQ(sandbox::make_nonce().size(), 32u);
  EXPECT_NE(sandbox::make_nonce(), sandbox::make_nonce());
}

}  // namespace
}  // namespace ignite::engine

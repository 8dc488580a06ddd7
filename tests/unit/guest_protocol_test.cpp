// The microvm host <-> agent protocol as pure logic: framing, the handshake's version check, and
// that everything the guest sends is checked before the host believes it.
#include <gtest/gtest.h>

#include "guest/protocol.hpp"
#include "sandbox/microvm/microvm_slot.hpp"

namespace ignite::guest {
namespace {

TEST(GuestProtocol, frames_survive_any_split_of_the_stream) {
  const std::string stream = encode_frame("first") + encode_frame("") + encode_frame(std::string(70000, 'x'));
  for (std::size_t step : {1u, 3u, 4u, 5u, 4096u}) {
    FrameReader reader;
    std::vector<std::string> frames;
    for (std::size_t i = 0; i < stream.size(); i += step) {
      reader.feed(std::string_view(stream).substr(i, step));
      for (;;) {
        auto f = reader.next();
        ASSERT_TRUE(f.has_value());
        if (!*f) break;
        frames.push_back(**f);
      }
    }
    ASSERT_EQ(frames.size(), 3u) << "step " << step;
    EXPECT_EQ(frames[0], "first");
    EXPECT_EQ(frames[1], "");
    EXPECT_EQ(frames[2].size(), 70000u);
    EXPECT_EQ(reader.buffered(), 0u);
  }
}

TEST(GuestProtocol, a_frame_over_the_limit_is_refused_before_it_is_buffered) {
  FrameReader reader(1024);
  reader.feed(std::string("\x00\x00\x04\x01", 4));  // announces 1025 bytes
  auto f = reader.next();
  ASSERT_FALSE(f.has_value());
  EXPECT_NE(f.error().message.find("over the limit"), std::string::npos);
}

TEST(GuestProtocol, base64_round_trips_every_byte_and_rejects_garbage) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t n = 0; n < 5; ++n) {
    const std::string s = all.substr(0, all.size() - n);
    auto back = base64_decode(base64_encode(s));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(base64_encode("ab"), "YWI=");
  EXPECT_FALSE(base64_decode("YWI").has_value());
  EXPECT_FALSE(base64_decode("Y!I=").has_value());
}

Result<Message> decode_frame(const std::string& frame) {
  FrameReader reader;
  reader.feed(frame);
  auto payload = reader.next();
  if (!payload) return fail(payload.error());
  return decode(**payload);
}

TEST(GuestProtocol, a_job_round_trips_with_binary_files_and_stdin) {
  JobMessage job;
  job.argv = {"/usr/bin/python3", "/app/main.py"};
  job.env = {"PATH=/usr/bin", "X=\xff\xfe"};  // not UTF-8: sent as U+FFFD, never a throw
  using sandbox::native::OpKind;
  job.plan = {{OpKind::tmpfs, "", "/job", "size=4194304,mode=0755"},
              {OpKind::bind, "/host/usr", "/job/usr"},
              {OpKind::write_file, "", "/job/run/ignite/input.json", std::string("\0\x01{}", 4)}};
  job.plan[2].executable = true;
  job.output_dir = "/out";
  job.stdin_data = std::string("\x80\x00z", 3);
  job.wall_ms = 1234;
  job.memory_bytes = 64 << 20;
  job.cpu_cores = 0.5;
  auto m = decode_frame(job_frame(job));
  ASSERT_TRUE(m.has_value()) << m.error().message;
  ASSERT_TRUE(m->job.has_value());
  EXPECT_EQ(m->job->argv, job.argv);
  ASSERT_EQ(m->job->plan.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(m->job->plan[i].kind, job.plan[i].kind);
    EXPECT_EQ(m->job->plan[i].source, job.plan[i].source);
    EXPECT_EQ(m->job->plan[i].target, job.plan[i].target);
    EXPECT_EQ(m->job->plan[i].data, job.plan[i].data);
    EXPECT_EQ(m->job->plan[i].executable, job.plan[i].executable);
  }
  EXPECT_EQ(m->job->output_dir, "/out");
  EXPECT_EQ(m->job->stdin_data, job.stdin_data);
  EXPECT_EQ(m->job->wall_ms, 1234u);
  EXPECT_EQ(m->job->cpu_cores, 0.5);
  EXPECT_EQ(m->job->env[1], "X=\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(GuestProtocol, the_handshake_refuses_another_protocol_version) {
  auto hello = decode_frame(hello_frame());
  ASSERT_TRUE(hello.has_value());
  EXPECT_EQ(hello->type, "hello");
  auto other = decode(R"({"type":"hello","version":2})");
  ASSERT_FALSE(other.has_value());
  EXPECT_NE(other.error().message.find("version 2"), std::string::npos);
  EXPECT_FALSE(decode(R"({"type":"hello"})").has_value());
}

TEST(GuestProtocol, frames_from_the_guest_are_type_checked) {
  EXPECT_FALSE(decode("[]").has_value());
  EXPECT_FALSE(decode("not json").has_value());
  EXPECT_FALSE(decode(R"({"type":"reboot-host"})").has_value());
  EXPECT_FALSE(decode(R"({"type":"job","version":1,"argv":["/x"],"plan":[{"kind":"chmod"}]})").has_value());
  EXPECT_FALSE(decode(R"({"type":"output","stream":"log","data":""})").has_value());
  EXPECT_FALSE(decode(R"({"type":"result","exitCode":"0"})").has_value());
  EXPECT_FALSE(decode(R"({"type":"result","pidsPeak":-1})").has_value());
  EXPECT_FALSE(decode(R"({"type":"result","exitCode":99999999999})").has_value());
  // Nesting is bounded: a deep document is refused, not recursed into.
  EXPECT_FALSE(decode(R"({"type":"error","message":)" + std::string(100, '[') + std::string(100, ']') + "}").has_value());
  auto out = decode_frame(output_frame(Stream::err, std::string("\0x", 2)));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->stream, Stream::err);
  EXPECT_EQ(out->data, std::string("\0x", 2));
}

TEST(GuestProtocol, a_result_from_the_guest_is_bounded_before_it_becomes_the_runs_result) {
  Limits limits;
  limits.memory_bytes = 64 << 20;
  limits.max_processes = 10;
  ResultMessage m;
  m.outcome = "memory_exceeded";
  m.signal = 9;
  m.peak_memory_bytes = 1ull << 40;  // a lie
  m.pids_peak = 100000;
  auto r = sandbox::microvm::to_execution_result(m, limits);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Outcome::memory_exceeded);
  EXPECT_EQ(r->usage.peak_memory_bytes, limits.memory_bytes);
  EXPECT_EQ(r->usage.pids_peak, 10u);
  m.outcome = "ok-trust-me";
  EXPECT_FALSE(sandbox::microvm::to_execution_result(m, limits).has_value());
  m.outcome = "exited";
  m.exit_code = 300;
  EXPECT_FALSE(sandbox::microvm::to_execution_result(m, limits).has_value());
}

}  // namespace
}  // namespace ignite::guest

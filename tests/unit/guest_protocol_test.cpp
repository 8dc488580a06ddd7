// The microvm host <-> agent protocol as pure logic: framing, the handshake's version check, and
// that everything the guest sends is checked before the host believes it; and the output dir's
// tree as the host receives it (OutputReceiver, in a temp dir): staged byte-exact, hostile
// streams refused in copy_tree_out's words.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "core/memory_thrash.hpp"
#include "guest/protocol.hpp"
#include "sandbox/common/output_dir.hpp"
#include "sandbox/microvm/microvm_slot.hpp"
#include "sandbox/microvm/output_receiver.hpp"
#include "sandbox/microvm/warm_handoff.hpp"
#include "sys/files.hpp"
#include "sys/fd.hpp"
#include "sys/temp_dir.hpp"
#include "sys/tree.hpp"

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
  job.seccomp = std::string("\x20\0\0\0\x04\0\0\0\x06\0\0\0\0\0\xff\x7f", 16);  // two instructions, NULs included
  job.seed = std::string("\0\xff", 2) + std::string(62, 's');
  job.realtime_ns = 1796000000123456789ull;
  job.seccomp_notify = true;
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
  EXPECT_EQ(m->job->seccomp, job.seccomp);
  EXPECT_EQ(m->job->seed, job.seed);
  EXPECT_EQ(m->job->realtime_ns, job.realtime_ns);
  EXPECT_TRUE(m->job->seccomp_notify);
}

// A clone of a template has its template's RNG state: a job that does not bring the host's fresh
// bytes would let two clones draw the same "random" numbers, so it is refused.
TEST(GuestProtocol, a_job_without_a_seed_of_usable_size_is_refused) {
  JobMessage job;
  job.argv = {"/bin/true"};
  job.seccomp = std::string(8, '\x06');
  for (std::size_t size : {std::size_t{0}, kMinSeedBytes - 1, kMaxSeedBytes + 1}) {
    job.seed = std::string(size, 'r');
    EXPECT_FALSE(decode_frame(job_frame(job)).has_value()) << size << " bytes";
  }
  for (std::size_t size : {kMinSeedBytes, kMaxSeedBytes}) {
    job.seed = std::string(size, 'r');
    EXPECT_TRUE(decode_frame(job_frame(job)).has_value()) << size << " bytes";
  }
}

// A warm slot (protocol 4): the job says so and names its drop dirs; the hand-off carries the
// job's files into them and its stdin.
TEST(GuestProtocol, a_warm_job_and_its_hand_off_round_trip_and_stay_inside_the_drop_dirs) {
  JobMessage job;
  job.argv = {"/usr/bin/python3", "/opt/ignite/warm/bootstrap.py"};
  job.seccomp = std::string(8, '\x06');
  job.seed = std::string(kMinSeedBytes, 's');
  job.warm = true;
  job.drops = {"/drops/0", "/drops/1"};
  auto m = decode_frame(job_frame(job));
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_TRUE(m->job->warm);
  EXPECT_EQ(m->job->drops, job.drops);
  for (const char* bad : {"/drops", "/drops/", "/drops/x", "/drops/0/a", "/drops/../0", "/tmp/0", "drops/0", "/drops//0"}) {
    job.drops = {bad};
    EXPECT_FALSE(decode_frame(job_frame(job)).has_value()) << bad;
  }

  HandOffMessage h;
  h.entries = {{"/drops/0/sub", true, false, ""},
               {"/drops/0/sub/a.bin", false, false, std::string("\0\xff\x80", 3)},
               {"/drops/1/run.sh", false, true, "#!/bin/sh\n"},
               {std::string("/drops/0/\xff name", 15), false, false, "x"}};
  h.stdin_data = std::string("12\n{\"argv\":[]}\0tail", 19);
  auto back = decode_frame(handoff_frame(h));
  ASSERT_TRUE(back.has_value()) << back.error().message;
  ASSERT_TRUE(back->handoff.has_value());
  EXPECT_EQ(back->handoff->entries, h.entries);
  EXPECT_EQ(back->handoff->stdin_data, h.stdin_data);
  for (const char* outside : {"/drops/0", "/etc/passwd", "/drops/0/../../etc/x", "/drops/0/./a", "/drops/a/b",
                              "/drops/0//a", "drops/0/a", "/drops/0/a/"}) {
    HandOffMessage hostile;
    hostile.entries = {{outside, false, false, "x"}};
    EXPECT_FALSE(decode_frame(handoff_frame(hostile)).has_value()) << outside;
  }
}

TEST(GuestProtocol, a_job_without_a_whole_seccomp_program_is_refused) {
  JobMessage job;
  job.argv = {"/bin/true"};
  job.seed = std::string(kMinSeedBytes, 'r');
  for (const std::string& program : {std::string(), std::string(12, '\x01'), std::string(8 * 4097, '\x01')}) {
    job.seccomp = program;
    auto m = decode_frame(job_frame(job));
    EXPECT_FALSE(m.has_value()) << program.size() << " bytes";
  }
  job.seccomp = std::string(8 * 4096, '\x01');
  EXPECT_TRUE(decode_frame(job_frame(job)).has_value()) << "BPF_MAXINSNS instructions";
}

TEST(GuestProtocol, the_handshake_refuses_another_protocol_version) {
  auto hello = decode_frame(hello_frame());
  ASSERT_TRUE(hello.has_value());
  EXPECT_EQ(hello->type, "hello");
  auto other = decode(R"({"type":"hello","version":1})");
  ASSERT_FALSE(other.has_value());
  EXPECT_NE(other.error().message.find("version 1"), std::string::npos);
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
  EXPECT_EQ(r->signal, SIGKILL);
  EXPECT_EQ(r->detail, "memory limit exceeded (cgroup OOM kill)") << "native's words";
  m.outcome = "ok-trust-me";
  EXPECT_FALSE(sandbox::microvm::to_execution_result(m, limits).has_value());
  m.outcome = "exited";
  m.exit_code = 300;
  EXPECT_FALSE(sandbox::microvm::to_execution_result(m, limits).has_value());
}

TEST(GuestProtocol, the_agents_outcomes_are_judged_as_native_judges_them) {
  Limits limits;
  auto judged = [&](std::string outcome, int exit_code, int signal, std::string detail = {}) {
    ResultMessage m;
    m.outcome = std::move(outcome);
    m.exit_code = exit_code;
    m.signal = signal;
    m.detail = std::move(detail);
    auto r = sandbox::microvm::to_execution_result(m, limits);
    EXPECT_TRUE(r.has_value());
    return r ? *r : ExecutionResult{};
  };
  EXPECT_EQ(judged("exited", 3, 0).outcome, Outcome::exited);
  EXPECT_EQ(judged("exited", 3, 0).exit_code, 3);
  const auto sys = judged("signaled", 0, SIGSYS);  // the in-guest seccomp filter's kill
  EXPECT_EQ(sys.outcome, Outcome::syscall_blocked);
  EXPECT_EQ(sys.signal, SIGSYS);
  EXPECT_EQ(judged("signaled", 0, SIGSEGV).detail, "killed by signal SEGV");
  const auto late = judged("wall_time_exceeded", 0, SIGKILL);
  EXPECT_EQ(late.outcome, Outcome::wall_time_exceeded);
  EXPECT_EQ(late.detail, "wall-clock time limit exceeded");
  const auto thrash = judged("memory_exceeded", 0, SIGKILL, std::string(kThrashKillDetail));
  EXPECT_EQ(thrash.outcome, Outcome::memory_exceeded);
  EXPECT_EQ(thrash.detail, kThrashKillDetail);
  // A signaled outcome without a signal is a broken report, not an exit 0.
  ResultMessage nonsense;
  nonsense.outcome = "signaled";
  EXPECT_FALSE(sandbox::microvm::to_execution_result(nonsense, limits).has_value());
}

// The agent stopped a call for a kill rule: the host names it from the two numbers, in native's
// words; a blocked outcome without a number is a broken report.
TEST(GuestProtocol, a_blocked_call_is_named_by_the_host_from_its_number_and_abi) {
  ResultMessage m;
  m.outcome = "syscall_blocked";
  m.signal = SIGSYS;
  m.blocked_nr = 246;              // kexec_load on x86_64
  m.blocked_arch = 0xC000003Eu;    // AUDIT_ARCH_X86_64
  auto decoded = decode_frame(result_frame(m));
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
  ASSERT_TRUE(decoded->result.has_value());
  EXPECT_EQ(*decoded->result, m);
  auto r = sandbox::microvm::to_execution_result(*decoded->result, Limits{});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->outcome, Outcome::syscall_blocked);
  EXPECT_EQ(r->signal, SIGSYS);
  EXPECT_EQ(r->blocked_syscall, "kexec_load");
  EXPECT_EQ(r->detail, "blocked syscall: kexec_load");
  m.blocked_nr = 20;             // getpid on i386
  m.blocked_arch = 0x40000003u;  // AUDIT_ARCH_I386
  EXPECT_EQ(sandbox::microvm::to_execution_result(m, Limits{})->blocked_syscall, "getpid (i386 ABI)");
  m.blocked_nr = -1;
  EXPECT_FALSE(sandbox::microvm::to_execution_result(m, Limits{}).has_value());
}

// ---- The output dir's tree, streamed out of the VM ("file" and "fileData" frames) ----

namespace fs = std::filesystem;
using sandbox::microvm::OutputReceiver;

TEST(GuestProtocol, file_frames_round_trip_with_binary_names_links_and_bytes) {
  FileMessage f{std::string("sub/\xff\x01name", 10), FileKind::symlink, 0755, 0, "/etc/passwd"};
  auto m = decode_frame(file_frame(f));
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(m->type, "file");
  ASSERT_TRUE(m->file.has_value());
  EXPECT_EQ(*m->file, f);  // the name is bytes (base64), not U+FFFD
  for (FileKind k : {FileKind::dir, FileKind::file, FileKind::fifo, FileKind::socket, FileKind::device, FileKind::other}) {
    f.kind = k;
    f.size = 1ull << 40;
    auto back = decode_frame(file_frame(f));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->file->kind, k);
    EXPECT_EQ(back->file->size, 1ull << 40);
  }
  const std::string bytes("\0\xff\x80zz", 5);
  auto d = decode_frame(file_data_frame(bytes));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->type, "fileData");
  EXPECT_EQ(d->data, bytes);
  // A whole chunk is far under what the host accepts from the guest.
  EXPECT_LT(file_data_frame(std::string(kFileChunkBytes, '\xff')).size(), kMaxGuestFrameBytes / 8);
  // Types and ranges are checked at decode.
  EXPECT_FALSE(decode(R"({"type":"file","path":"YQ==","kind":"hardlink"})").has_value());
  EXPECT_FALSE(decode(R"({"type":"file","path":"YQ==","kind":"file","mode":65536})").has_value());
  EXPECT_FALSE(decode(R"({"type":"file","path":"a/b","kind":"file"})").has_value());  // not base64
  EXPECT_FALSE(decode(R"({"type":"file","path":"YQ==","kind":"file","size":-1})").has_value());
  EXPECT_FALSE(decode(R"({"type":"fileData","data":7})").has_value());
  // The job carries the tree's bounds.
  JobMessage job;
  job.argv = {"/x"};
  job.output_max_bytes = 123;
  job.output_max_entries = 45;
  job.output_max_depth = 6;
  job.seccomp = std::string(8, '\x06');
  job.seed = std::string(kMinSeedBytes, 'r');
  auto j = decode_frame(job_frame(job));
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->job->output_max_bytes, 123u);
  EXPECT_EQ(j->job->output_max_entries, 45u);
  EXPECT_EQ(j->job->output_max_depth, 6u);
}

class GuestTree : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = sys::TempDir::create(fs::temp_directory_path(), "ignite-guest-tree-");
    ASSERT_TRUE(d.has_value()) << d.error().message;
    dir_.emplace(std::move(*d));
  }
  OutputReceiver receiver(sys::TreeLimits limits = {1 << 20, 100, 8}) {
    auto r = OutputReceiver::create(dir_->path(), limits);
    EXPECT_TRUE(r.has_value());
    return std::move(*r);
  }
  static FileMessage dir(std::string p) { return {std::move(p), FileKind::dir, 0755, 0, {}}; }
  static FileMessage file(std::string p, std::uint64_t size, std::uint32_t mode = 0644) {
    return {std::move(p), FileKind::file, mode, size, {}};
  }
  // The refusal of a stream, or "" when it was taken.
  static std::string refusal(OutputReceiver& rx) {
    auto fd = rx.finish();
    return fd ? std::string() : fd.error().message;
  }
  std::optional<sys::TempDir> dir_;
};

TEST_F(GuestTree, a_streamed_tree_is_staged_and_copied_out_byte_exact) {
  auto rx = receiver();
  std::string big;
  for (int i = 0; i < 200000; ++i) big.push_back(static_cast<char>(i * 7));
  rx.entry(file("a.txt", 3));
  rx.data("hi\n");
  rx.entry(dir("sub"));
  rx.entry(file("sub/b.bin", big.size(), 0755));
  for (std::size_t at = 0; at < big.size(); at += kFileChunkBytes) rx.data(std::string_view(big).substr(at, kFileChunkBytes));
  rx.entry(file("sub/empty", 0));
  rx.entry({"sub/link", FileKind::symlink, 0777, 0, "/etc/passwd"});
  auto staged = rx.finish();
  ASSERT_TRUE(staged.has_value()) << staged.error().message;
  // The same hand-over as native and docker: take_output on the staging dir's fd.
  const fs::path dest = dir_->path() / "dest";
  fs::create_directory(dest);
  OutputDir o;
  o.lenient = true;
  ExecutionResult r;
  ASSERT_TRUE(sandbox::take_output(o, dest, *staged, r).has_value());
  EXPECT_TRUE(r.output_error.empty()) << r.output_error;
  ASSERT_EQ(r.output.entries.size(), 5u);
  EXPECT_EQ(r.output.entries[0].path, "a.txt");
  EXPECT_EQ(r.output.entries[2].path, "sub/b.bin");
  EXPECT_TRUE(r.output.entries[2].executable);
  EXPECT_FALSE(r.output.entries[0].executable);
  EXPECT_EQ(r.output.entries[4].kind, EntryKind::symlink);
  EXPECT_EQ(r.output.entries[4].link, "/etc/passwd");
  EXPECT_EQ(r.output.bytes, 3 + big.size());
  std::ifstream in(dest / "sub/b.bin", std::ios::binary);
  const std::string back((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(back, big);
}

TEST_F(GuestTree, hostile_paths_are_refused_and_nothing_is_written_outside) {
  const std::string dots("a\0b", 3);
  for (const std::string& bad : {std::string(".."), std::string("/etc/x"), std::string("a/../../x"), std::string("."),
                                 std::string(""), std::string("a//b"), std::string("a/"), dots,
                                 std::string(256, 'n')}) {
    auto rx = receiver();
    rx.entry(dir("a"));
    rx.entry(file(bad, 1));
    rx.data("x");
    EXPECT_NE(refusal(rx).find("invalid path"), std::string::npos) << "accepted '" << bad << "'";
  }
  EXPECT_FALSE(fs::exists(dir_->path() / "x"));
  // A name of NAME_MAX bytes is fine.
  auto rx = receiver();
  rx.entry(file(std::string(255, 'n'), 0));
  EXPECT_EQ(refusal(rx), "");
}

TEST_F(GuestTree, order_duplicates_and_links_as_parents_are_refused) {
  {
    auto rx = receiver();
    rx.entry(file("d/x", 0));  // before its dir
    EXPECT_NE(refusal(rx).find("d/x: sent before its directory"), std::string::npos);
  }
  {
    auto rx = receiver();
    rx.entry(file("a", 1));
    rx.data("1");
    rx.entry(file("a", 1));  // again: O_EXCL
    rx.data("2");
    EXPECT_NE(refusal(rx).find("a: sent twice"), std::string::npos);
  }
  {
    auto rx = receiver();
    rx.entry(dir("a"));
    rx.entry(dir("a"));
    EXPECT_NE(refusal(rx).find("a: sent twice"), std::string::npos);
  }
  {
    // A symlink to a host dir, then an entry "through" it: never followed.
    const fs::path victim = dir_->path() / "victim";
    fs::create_directory(victim);
    auto rx = receiver();
    rx.entry({"l", FileKind::symlink, 0777, 0, victim.string()});
    rx.entry(file("l/planted", 1));
    rx.data("x");
    EXPECT_NE(refusal(rx).find("l/planted: its parent is not a directory"), std::string::npos);
    EXPECT_TRUE(fs::is_empty(victim));
  }
  {
    auto rx = receiver();
    rx.data("stray");  // bytes before any file
    EXPECT_NE(refusal(rx).find("file bytes outside a file"), std::string::npos);
  }
}

TEST_F(GuestTree, over_the_limits_is_refused_in_copy_tree_outs_words) {
  {
    auto rx = receiver({1 << 20, 100, 2});
    rx.entry(dir("a"));
    rx.entry(dir("a/b"));
    rx.entry(dir("a/b/c"));
    EXPECT_EQ(refusal(rx), "a/b/c: nested deeper than 2 directories");
  }
  {
    auto rx = receiver({1 << 20, 2, 8});
    rx.entry(file("a", 0));
    rx.entry(file("b", 0));
    rx.entry(file("c", 0));
    EXPECT_EQ(refusal(rx), "c: more than 2 entries");
  }
  {
    auto rx = receiver({10, 100, 8});
    rx.entry(file("a", 6));
    rx.data("123456");
    rx.entry(file("b", 5));  // announced: refused before a byte is written
    EXPECT_EQ(refusal(rx), "b: the tree is larger than 10 bytes");
  }
  {
    auto rx = receiver();
    rx.entry(file("a", 2));
    rx.data("123");  // more than announced
    EXPECT_EQ(refusal(rx), "a: more bytes than the guest announced");
  }
  {
    auto rx = receiver();
    rx.entry(file("a", 5));
    rx.data("12");  // fewer, then the result
    EXPECT_EQ(refusal(rx), "a: fewer bytes than the guest announced");
  }
  {
    auto rx = receiver();
    rx.entry(file("a", 0));
    rx.incomplete();
    EXPECT_NE(refusal(rx).find("could not read all"), std::string::npos);
  }
}

TEST_F(GuestTree, a_fifo_is_refused_exactly_as_copy_tree_out_refuses_it_on_native) {
  const fs::path tree = dir_->path() / "native";
  fs::create_directories(tree / "d");
  ASSERT_EQ(::mkfifo((tree / "d/pipe").c_str(), 0644), 0);
  sys::Fd src(::open(tree.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  const fs::path dest = dir_->path() / "dest";
  fs::create_directory(dest);
  auto native = sys::copy_tree_out(src.get(), dest, {1 << 20, 100, 8});
  ASSERT_FALSE(native.has_value());
  auto rx = receiver();
  rx.entry(dir("d"));
  rx.entry({"d/pipe", FileKind::fifo, 0644, 0, {}});
  EXPECT_EQ(refusal(rx), native.error().message);
  for (FileKind k : {FileKind::socket, FileKind::device, FileKind::other}) {
    auto other = receiver();
    other.entry({"x", k, 0644, 0, {}});
    EXPECT_NE(refusal(other).find("(only files, directories and symlinks are allowed)"), std::string::npos);
  }
}

// What a warm microVM slot hands over: the slot's staged drop dirs, as guest paths, each dir
// before what it holds; anything but files and dirs is refused.
TEST(WarmHandOff, the_staged_drop_dirs_become_entries_at_their_guest_paths) {
  auto tmp = sys::TempDir::create(std::filesystem::temp_directory_path(), "handoff-test-");
  ASSERT_TRUE(tmp.has_value());
  const auto a = tmp->path() / "a", b = tmp->path() / "b";
  std::filesystem::create_directories(a / "sub");
  std::filesystem::create_directories(b);
  ASSERT_TRUE(sys::write_new_file(a / "sub" / "z.txt", "zz").has_value());
  ASSERT_TRUE(sys::write_new_file(a / "main.py", "print(1)").has_value());
  ASSERT_TRUE(sys::write_new_file(b / "input.json", std::string("{\0}", 3), 0755).has_value());
  auto entries = sandbox::microvm::handoff_entries({a, b});
  ASSERT_TRUE(entries.has_value()) << entries.error().message;
  const std::vector<HandOffEntry> want = {{"/drops/0/main.py", false, false, "print(1)"},
                                          {"/drops/0/sub", true, false, ""},
                                          {"/drops/0/sub/z.txt", false, false, "zz"},
                                          {"/drops/1/input.json", false, true, std::string("{\0}", 3)}};
  EXPECT_EQ(*entries, want);
  ASSERT_EQ(::mkfifo((b / "pipe").c_str(), 0644), 0);
  auto refused = sandbox::microvm::handoff_entries({a, b});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(refused.error().message.find("pipe"), std::string::npos) << refused.error().message;
}

}  // namespace
}  // namespace ignite::guest

// Issue 9's promises at the sandbox boundary itself: what leaves a run through its output dir,
// what concurrent runs share, and where a run with egress can connect.
#include <sys/stat.h>

#include <cstring>
#include <future>
#include <thread>

#include "../common/loopback_listener.hpp"
#include "sandbox_fixture.hpp"
#include "sys/temp_dir.hpp"

namespace ignite::security {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

IGNITE_SECURITY_SUITE(Boundary);

// Runs two specs at once; `first` is started, and `second` only once `first` printed `ready`.
std::pair<ExecutionResult, ExecutionResult> run_pair(sandbox::Backend& backend, const SandboxSpec& first,
                                                     const SandboxSpec& second, const std::string& ready) {
  std::promise<void> seen;
  std::once_flag once;
  std::string out;
  auto a = std::async(std::launch::async, [&] {
    return backend.run(first, {}, [&](sandbox::Stream, std::string_view chunk) {
      out.append(chunk);
      if (out.find(ready) != std::string::npos) std::call_once(once, [&] { seen.set_value(); });
    });
  });
  if (seen.get_future().wait_for(20s) != std::future_status::ready) {
    ADD_FAILURE() << "the first run never printed '" << ready << "'";
  }
  auto b = backend.run(second, {}, {});
  auto ra = a.get();
  if (!ra || !b) {
    ADD_FAILURE() << (!ra ? ra.error().message : b.error().message);
    return {};
  }
  return {*ra, *b};
}

TEST_P(Boundary, concurrent_runs_do_not_share_file_locks) {
  // Run A holds an exclusive flock on a runtime file (it needs no write access for that); with
  // shared inodes, run B's attempt on the same file would fail with EWOULDBLOCK.
  const std::string file = "/usr/lib/python3.11/os.py";
  auto holder = python("import fcntl,time\nf=open('" + file + "')\nfcntl.flock(f, fcntl.LOCK_EX)\n"
                       "print('locked', flush=True)\ntime.sleep(2)\n");
  auto taker = python("import fcntl\nf=open('" + file + "')\n"
                      "try:\n  fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB); print('free')\n"
                      "except BlockingIOError: print('blocked')\n");
  auto [a, b] = run_pair(backend(), holder, taker, "locked");
  EXPECT_EQ(a.exit_code, 0) << a.stderr_data;
  EXPECT_EQ(b.stdout_data, "free\n") << b.stderr_data;
}

TEST_P(Boundary, inotify_does_not_see_another_runs_file_accesses) {
  // Run A watches the standard library's directory; run B imports from it meanwhile.
  auto watcher = python(R"(import ctypes, os, select, time
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(os.O_NONBLOCK)
if fd < 0: print('no inotify', ctypes.get_errno()); raise SystemExit(0)
IN_ACCESS, IN_OPEN = 0x1, 0x20
if libc.inotify_add_watch(fd, b'/usr/lib/python3.11/json', IN_ACCESS | IN_OPEN) < 0: raise SystemExit(3)
print('watching', flush=True)
seen = 0
end = time.time() + 2
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r: seen += len(os.read(fd, 65536))
print('events', seen)
)");
  auto importer = python("import json.decoder, json.encoder, json.scanner\nprint('imported')\n");
  auto [a, b] = run_pair(backend(), watcher, importer, "watching");
  EXPECT_EQ(b.stdout_data, "imported\n") << b.stderr_data;
  EXPECT_TRUE(contains(a.stdout_data, "events 0")) << a.stdout_data << a.stderr_data;
}

TEST_P(Boundary, concurrent_runs_have_their_own_uids) {
  if (rootless()) GTEST_SKIP() << "rootless runs are the invoking user's one uid (a degradation it reports)";
  if (vm()) GTEST_SKIP() << "microvm: each run has a kernel of its own, where its uid is the only one";
  auto a_spec = python("import os,time\nprint(os.getuid(), flush=True)\ntime.sleep(1)\n");
  auto b_spec = python("import os\nprint(os.getuid())\n");
  auto [a, b] = run_pair(backend(), a_spec, b_spec, "\n");
  ASSERT_FALSE(a.stdout_data.empty());
  EXPECT_NE(a.stdout_data, b.stdout_data);
  EXPECT_NE(a.stdout_data, "0\n");
}

// A run with an output dir whose program leaves `code`'s files there.
SandboxSpec with_output(SandboxSpec spec, const fs::path& dest) {
  spec.output.emplace();
  spec.output->host_dest = dest;
  return spec;
}

TEST_P(Boundary, the_output_dir_leaves_as_plain_read_only_data_owned_by_the_caller) {
  const fs::path dest = work() / "out";
  fs::create_directory(dest);
  auto spec = with_output(python(R"(import os, shutil
shutil.copy('/usr/lib/python3.11/os.py', '/out/suid')
os.chmod('/out/suid', 0o6755)
os.makedirs('/out/sub')
open('/out/sub/data', 'w').write('hello')
os.symlink('/etc/shadow', '/out/sub/escape')
print('done')
)"), dest);
  auto r = run(spec);
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  struct stat st {};
  ASSERT_EQ(::stat((dest / "suid").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0555u) << "no setuid/setgid bit, read-only";
  EXPECT_EQ(st.st_uid, ::geteuid()) << "owned by us, not by the sandbox's uid";
  ASSERT_EQ(::lstat((dest / "sub/escape").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode)) << "a link stays a link; the host never follows it";
  ASSERT_EQ(::stat((dest / "sub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0555u);
  EXPECT_EQ(r.output.entries.size(), 4u);
}

TEST_P(Boundary, special_files_in_the_output_dir_are_refused) {
  const fs::path dest = work() / "out";
  fs::create_directory(dest);
  auto r = try_run(with_output(python("import os\nos.mkfifo('/out/pipe')\n"), dest));
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error().message, "pipe: is a FIFO")) << r.error().message;
}

TEST_P(Boundary, output_dir_pages_count_against_the_memory_limit) {
  IGNITE_REQUIRE_CGROUP("the output dir's pages are charged to the run's memory cgroup");
  const fs::path dest = work() / "out";
  fs::create_directory(dest);
  auto spec = with_output(python("f = open('/out/big', 'wb')\nfor i in range(200): f.write(b'x' * (1 << 20))\n"),
                          dest);
  spec.output->max_bytes = 1ull << 30;  // only the memory limit stands in the way
  spec.limits.memory_bytes = 48ull << 20;
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::memory_exceeded) << r.stderr_data;
}

// A program that reports, one line each, what it could reach from a run with egress.
std::string egress_probe(const std::string& host_port, const std::string& abstract_name) {
  return R"(import socket
def try_connect(family, addr):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(addr); return 'connected'
    except OSError as e:
        return 'refused ' + type(e).__name__
    finally:
        s.close()
def via_proxy(target):
    s = socket.create_connection(('127.0.0.1', 3128), timeout=5)
    s.sendall(('CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n' % (target, target)).encode())
    line = s.recv(200).split(b'\r\n')[0].decode()
    s.close()
    return line
print('direct-loopback', try_connect(socket.AF_INET, ('127.0.0.1', )" + host_port + R"()))
print('abstract', try_connect(socket.AF_UNIX, '\0)" + abstract_name + R"('))
print('proxy-loopback', via_proxy('127.0.0.1:)" + host_port + R"('))
print('proxy-metadata', via_proxy('169.254.169.254:80'))
print('proxy-private', via_proxy('10.0.0.1:443'))
print('proxy-bad', via_proxy('not a host'))
)";
}

TEST_P(Boundary, egress_reaches_neither_host_loopback_nor_abstract_sockets_nor_private_networks) {
  IGNITE_REQUIRE_BUILD_STEPS();
  host::Listener listener;
  testing::AbstractListener abstract("ignite-test-" + token());
  ASSERT_TRUE(abstract.ok());

  auto spec = python(egress_probe(listener.port(), abstract.name()));
  spec.egress = Egress{};
  auto r = run(spec);
  EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_TRUE(contains(r.stdout_data, "direct-loopback refused")) << r.stdout_data;
  EXPECT_TRUE(contains(r.stdout_data, "abstract refused")) << r.stdout_data;
  EXPECT_TRUE(contains(r.stdout_data, "proxy-loopback HTTP/1.1 403")) << r.stdout_data;
  EXPECT_TRUE(contains(r.stdout_data, "proxy-metadata HTTP/1.1 403")) << r.stdout_data;
  EXPECT_TRUE(contains(r.stdout_data, "proxy-private HTTP/1.1 403")) << r.stdout_data;
  EXPECT_TRUE(contains(r.stdout_data, "proxy-bad HTTP/1.1 405")) << r.stdout_data;
  EXPECT_FALSE(listener.was_contacted());
}

}  // namespace
}  // namespace ignite::security

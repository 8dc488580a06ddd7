// The same promises kept against a JavaScript runtime (Node): hostile JS doing the damage itself.
#include "sandbox_fixture.hpp"

namespace ignite::security {
namespace {

IGNITE_SECURITY_SUITE(JavaScript);

// Each test's program runs as /app/main.js of a fresh service on node, 96 MB.
#define JS(code) script("node", "main.js", (code))

TEST_P(JavaScript, js_memory_bomb_is_killed_at_the_memory_limit) {
  IGNITE_REQUIRE_CGROUP("the cgroup memory limit");
  auto r = run(JS("const keep = [];\nfor (;;) keep.push(Buffer.alloc(1 << 20, 1));\n"));
  EXPECT_EQ(r.outcome, Outcome::memory_exceeded) << r.stderr_data << r.detail;
  EXPECT_LE(r.usage.peak_memory_bytes, 97ull << 20);
}

TEST_P(JavaScript, js_busy_loop_is_killed_at_the_timeout) {
  auto spec = JS("for (;;) {}\n");
  spec.limits.wall_time = std::chrono::milliseconds(700);
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::wall_time_exceeded) << r.stderr_data;
}

TEST_P(JavaScript, js_cannot_read_host_files) {
  auto r = run(JS(
                  "const fs = require('fs');\nfor (const p of ['/etc/shadow', '/root', '/home']) {\n"
                  "  try { fs.readdirSync(p); console.log('read', p); }\n"
                  "  catch (e) { try { fs.readFileSync(p); console.log('read', p); }\n"
                  "    catch (e2) { console.log(e2.code); } }\n}\n"));
  EXPECT_EQ(r.stdout_data, "ENOENT\nENOENT\nENOENT\n") << r.stderr_data;
}

TEST_P(JavaScript, js_sees_no_host_environment) {
  ::setenv("IGNITE_JS_HOST_SECRET", "leak", 1);
  auto r = run(JS("console.log(Object.keys(process.env).sort().join(','))\n"));
  EXPECT_FALSE(contains(r.stdout_data, "IGNITE_JS_HOST_SECRET")) << r.stdout_data;
  EXPECT_TRUE(contains(r.stdout_data, "HOME")) << r.stdout_data;
}

TEST_P(JavaScript, js_cannot_reach_a_host_service) {
  host::Listener listener;
  auto r = run(JS("const s = require('net').connect(" + listener.port() +
                             ", '127.0.0.1');\n"
                             "s.on('connect', () => { console.log('connected'); s.end(); });\n"
                             "s.on('error', (e) => console.log(e.code));\n"));
  // Native: the sandbox's loopback is down. A container's "none" network has its own loopback
  // up, with nothing listening: refused, and still never the host's.
  EXPECT_EQ(r.stdout_data, containers() ? "ECONNREFUSED\n" : "ENETUNREACH\n") << r.stderr_data;
  EXPECT_FALSE(listener.was_contacted());
}

TEST_P(JavaScript, js_cannot_spawn_a_shell) {
  auto r = run(JS(
                  "try { require('child_process').execSync('id'); console.log('spawned'); }\n"
                  "catch (e) { console.log(e.code); }\n"));
  EXPECT_EQ(r.stdout_data, "ENOENT\n") << r.stderr_data;  // there is no /bin/sh in the sandbox
}

}  // namespace
}  // namespace ignite::security

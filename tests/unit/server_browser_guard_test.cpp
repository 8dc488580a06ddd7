// browser_refusal: other sites' pages may neither post to the server (CSRF) nor reach a
// loopback server under their own name (DNS rebinding); clients without Origin are unaffected.
#include <gtest/gtest.h>

#include "server/browser_guard.hpp"

namespace ignite::server {
namespace {

TEST(BrowserGuard, hosts_and_loopback_names) {
  EXPECT_EQ(host_of("127.0.0.1:3000"), "127.0.0.1");
  EXPECT_EQ(host_of("[::1]:3000"), "[::1]");
  EXPECT_EQ(host_of("example.org"), "example.org");
  for (const char* name : {"localhost", "127.0.0.1", "127.1.2.3", "[::1]", "::1"}) EXPECT_TRUE(is_loopback_name(name)) << name;
  for (const char* name : {"localhost.evil.example", "128.0.0.1", "0.0.0.0", "10.0.0.1", "[::]", "", "127.0.0.1.nip.io"})
    EXPECT_FALSE(is_loopback_name(name)) << name;
}

TEST(BrowserGuard, a_loopback_server_answers_only_to_loopback_host_names) {
  EXPECT_FALSE(browser_refusal("127.0.0.1", "127.0.0.1:3000", ""));
  EXPECT_FALSE(browser_refusal("127.0.0.1", "localhost:3000", ""));
  EXPECT_FALSE(browser_refusal("::1", "[::1]:3000", ""));
  EXPECT_FALSE(browser_refusal("127.0.0.1", "", ""));  // HTTP/1.0 without Host
  // A rebinding page sends its own name, with or without an Origin.
  auto rebound = browser_refusal("127.0.0.1", "attacker.example:3000", "http://attacker.example:3000");
  ASSERT_TRUE(rebound);
  EXPECT_EQ(*rebound, "Host 'attacker.example:3000' does not name this server, which listens on loopback only");
  EXPECT_TRUE(browser_refusal("localhost", "attacker.example:3000", ""));
  // A server listening on every address is reached by any name.
  EXPECT_FALSE(browser_refusal("0.0.0.0", "ignite.internal:3000", ""));
}

TEST(BrowserGuard, only_this_origin_or_a_loopback_one_may_send_requests) {
  EXPECT_FALSE(browser_refusal("0.0.0.0", "ignite.internal:3000", "http://ignite.internal:3000"));
  EXPECT_FALSE(browser_refusal("0.0.0.0", "ignite.internal", "https://ignite.internal"));
  EXPECT_FALSE(browser_refusal("127.0.0.1", "127.0.0.1:3000", "http://localhost:5173"));
  for (const char* origin : {"http://evil.example", "null", "http://ignite.internal.evil.example:3000", "file://",
                             "http://ignite.internal:3001"}) {
    auto refused = browser_refusal("0.0.0.0", "ignite.internal:3000", origin);
    ASSERT_TRUE(refused) << origin;
    EXPECT_EQ(refused->rfind("cross-origin requests are refused (Origin ", 0), 0u) << *refused;
  }
}

}  // namespace
}  // namespace ignite::server

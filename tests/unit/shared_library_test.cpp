// Libraries loaded on first use (sys/shared_library, docker/curl_api, queue/nats_api): a missing
// library or symbol is an error naming what to install; the real tables load completely.
#include <gtest/gtest.h>

#include <cstring>

#include "docker/curl_api.hpp"
#include "queue/nats_api.hpp"
#include "sys/shared_library.hpp"

namespace ignite {
namespace {

TEST(SharedLibrary, a_missing_library_is_an_error_naming_the_package) {
  auto lib = sys::open_library({"libignite-no-such.so.9", "libignite-nor-this.so.1"}, "ignite-test-pkg");
  ASSERT_FALSE(lib);
  EXPECT_EQ(lib.error().code, ErrorCode::unsupported);
  EXPECT_NE(lib.error().message.find("libignite-no-such.so.9, libignite-nor-this.so.1"), std::string::npos)
      << lib.error().message;
  EXPECT_NE(lib.error().message.find("install ignite-test-pkg"), std::string::npos) << lib.error().message;
}

TEST(SharedLibrary, the_first_name_that_loads_wins) {
  auto lib = sys::open_library({"libignite-no-such.so.9", "libc.so.6"}, "libc6");
  ASSERT_TRUE(lib) << lib.error().message;
  std::size_t (*length)(const char*) = nullptr;
  ASSERT_TRUE(sys::bind_symbol(*lib, length, "strlen", "libc6"));
  EXPECT_EQ(length("ignite"), 6u);
}

TEST(SharedLibrary, a_missing_symbol_is_an_error_naming_it) {
  auto lib = sys::open_library({"libc.so.6"}, "libc6");
  ASSERT_TRUE(lib);
  void (*fn)() = nullptr;
  auto bound = sys::bind_symbol(*lib, fn, "ignite_no_such_function", "libc6");
  ASSERT_FALSE(bound);
  EXPECT_EQ(fn, nullptr);
  EXPECT_NE(bound.error().message.find("ignite_no_such_function"), std::string::npos);
  EXPECT_NE(bound.error().message.find("install libc6"), std::string::npos);
}

// Every function the docker client and the NATS transport call is in the installed libraries
// (a name missing from the X-macro lists would not compile; a name the library lacks fails here).
TEST(SharedLibrary, libcurl_and_cnats_tables_load_completely) {
  auto curl = docker::curl_api();
  ASSERT_TRUE(curl) << curl.error().message;
  EXPECT_NE((*curl)->curl_easy_init, nullptr);
  EXPECT_STREQ((*curl)->curl_easy_strerror(CURLE_OK), "No error");
  auto nats = queue::load_nats();
  ASSERT_TRUE(nats) << nats.error().message;
  EXPECT_NE((*nats)->natsConnection_Connect, nullptr);
  EXPECT_STREQ((*nats)->natsStatus_GetText(NATS_TIMEOUT), "Timeout");
  EXPECT_EQ(&queue::nats(), *nats);  // loaded once
}

}  // namespace
}  // namespace ignite

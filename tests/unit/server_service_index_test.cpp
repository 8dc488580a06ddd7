// ServiceIndex: services are read once and again only when a directory or file changed
// (issue 9, finding 14); a name declared by two directories is served by neither, and both are
// named (finding 17); nothing the index reports holds a host path.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <utime.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "../common/temp_tree.hpp"
#include "runner/service_index.hpp"

namespace ignite::server {
using runner::ServiceIndex;

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Every service.yaml below expands ${LOADS}: the lookup counts how often one was parsed.
struct CountingEnv {
  std::shared_ptr<std::atomic<int>> loads = std::make_shared<std::atomic<int>>(0);
  config::EnvLookup lookup() const {
    return [loads = loads](std::string_view name) -> std::optional<std::string> {
      if (name == "LOADS") ++*loads;
      return std::string("x");
    };
  }
  int count() const { return loads->load(); }
};

std::string yaml(const std::string& name, const std::string& extra = "") {
  return "service:\n  name: " + name + "\n  runtime: python\n  entry: main.py\n" +
         "  env:\n    L: \"${LOADS}\"\n" + extra;
}

class ServiceIndexTest : public ::testing::Test {
 protected:
  // Writes, then lets the file-timestamp clock tick on: a stamp from the tick of the read it
  // vouches for is "racy" and read again once (see service_index.cpp), which would blur the
  // load counts below.
  void add(const std::string& dir, const std::string& text) {
    tree_.write(dir + "/main.py", "print(1)\n");
    write(dir + "/service.yaml", text);
  }
  void write(const std::string& rel, const std::string& text) {
    tree_.write(rel, text);
    std::this_thread::sleep_for(50ms);
  }
  std::string body(const nlohmann::json& j) const { return j.dump(); }
  testing::TempTree tree_{"ignite-index-"};
  CountingEnv env_;
};

TEST_F(ServiceIndexTest, services_are_loaded_once_not_per_request) {
  add("a", yaml("alpha"));
  add("b", yaml("beta"));
  // recheck 0: every call stats the tree, so only "did anything change" saves the reload.
  ServiceIndex index(tree_.path(), env_.lookup(), 0ms);
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(index.list().size(), 2u);
    ASSERT_TRUE(std::holds_alternative<config::ServiceConfig>(index.find("alpha")));
    (void)index.listing();
  }
  EXPECT_EQ(env_.count(), 2);  // one load per service, for 60 lookups
}

TEST_F(ServiceIndexTest, a_changed_added_or_removed_service_is_seen_and_only_it_reloads) {
  add("a", yaml("alpha"));
  add("b", yaml("beta"));
  ServiceIndex index(tree_.path(), env_.lookup(), 0ms);
  ASSERT_EQ(index.list().size(), 2u);
  ASSERT_EQ(env_.count(), 2);

  write("a/service.yaml", yaml("alpha", "  memoryMb: 99\n"));
  auto alpha = index.find("alpha");
  ASSERT_TRUE(std::holds_alternative<config::ServiceConfig>(alpha));
  EXPECT_EQ(std::get<config::ServiceConfig>(alpha).memory_mb, 99u);
  EXPECT_EQ(env_.count(), 3);  // a only

  add("c", yaml("gamma"));
  EXPECT_EQ(index.list().size(), 3u);
  EXPECT_EQ(env_.count(), 4);

  fs::remove_all(tree_.path() / "b");
  std::this_thread::sleep_for(50ms);
  auto names = index.list();
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0].name, "alpha");
  EXPECT_EQ(names[1].name, "gamma");
  EXPECT_EQ(std::get<HttpError>(index.find("beta")).status, 404);
  EXPECT_EQ(env_.count(), 4);
}

TEST_F(ServiceIndexTest, a_rewrite_with_the_same_size_and_mtime_is_still_seen) {
  add("a", yaml("alpha", "  memoryMb: 64\n"));
  ServiceIndex index(tree_.path(), env_.lookup(), 0ms);
  ASSERT_EQ(std::get<config::ServiceConfig>(index.find("alpha")).memory_mb, 64u);
  struct stat before {};
  ASSERT_EQ(::stat((tree_.path() / "a/service.yaml").c_str(), &before), 0);
  write("a/service.yaml", yaml("alpha", "  memoryMb: 65\n"));  // same size
  const struct utimbuf back { before.st_atime, before.st_mtime };
  ASSERT_EQ(::utime((tree_.path() / "a/service.yaml").c_str(), &back), 0);
  EXPECT_EQ(std::get<config::ServiceConfig>(index.find("alpha")).memory_mb, 65u);  // ctime moved
}

TEST_F(ServiceIndexTest, a_same_size_rewrite_in_the_tick_of_the_last_read_is_still_seen) {
  add("a", yaml("alpha", "  memoryMb: 64\n"));
  ServiceIndex index(tree_.path(), env_.lookup(), 0ms);
  // No pauses: write, read and rewrite (same size) most likely share one clock tick, so the
  // second write leaves every stamp field as the read saw it.
  tree_.write("a/service.yaml", yaml("alpha", "  memoryMb: 65\n"));
  ASSERT_EQ(std::get<config::ServiceConfig>(index.find("alpha")).memory_mb, 65u);
  tree_.write("a/service.yaml", yaml("alpha", "  memoryMb: 66\n"));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(std::get<config::ServiceConfig>(index.find("alpha")).memory_mb, 66u);
}

TEST_F(ServiceIndexTest, within_the_recheck_interval_nothing_is_even_statted_again) {
  add("a", yaml("alpha"));
  ServiceIndex index(tree_.path(), env_.lookup(), 1h);
  ASSERT_EQ(index.list().size(), 1u);
  write("a/service.yaml", yaml("renamed"));
  EXPECT_EQ(index.list().at(0).name, "alpha");
  EXPECT_EQ(env_.count(), 1);
}

TEST_F(ServiceIndexTest, a_name_declared_twice_is_served_by_neither_and_both_are_named) {
  add("first", yaml("same"));
  add("second", yaml("same"));
  add("other", yaml("other"));
  ServiceIndex index(tree_.path(), env_.lookup(), 0ms);

  auto found = index.find("same");
  ASSERT_TRUE(std::holds_alternative<HttpError>(found));
  const HttpError& e = std::get<HttpError>(found);
  EXPECT_EQ(e.status, 409);
  EXPECT_EQ(e.code, "conflict");
  EXPECT_EQ(e.message,
            "service name 'same' is declared by more than one directory (first and second); names "
            "must be unique: rename all but one");

  ASSERT_EQ(index.list().size(), 1u);
  EXPECT_EQ(index.list()[0].name, "other");
  const auto bad = index.invalid();
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(bad[0].directory, "first");
  EXPECT_EQ(bad[1].directory, "second");
  EXPECT_EQ(bad[0].name, "same");
  EXPECT_EQ(bad[0].error, e.message);
  const nlohmann::json listing = index.listing();
  EXPECT_EQ(listing["services"].size(), 1u);
  EXPECT_EQ(listing["invalid"].size(), 2u);
  EXPECT_EQ(listing["invalid"][1]["directory"], "second");

  auto unique = index.check_unique_names();
  ASSERT_FALSE(unique);
  EXPECT_EQ(unique.error().message, e.message);

  // Renaming one resolves it for both.
  write("second/service.yaml", yaml("distinct"));
  EXPECT_TRUE(std::holds_alternative<config::ServiceConfig>(index.find("same")));
  EXPECT_TRUE(std::holds_alternative<config::ServiceConfig>(index.find("distinct")));
  EXPECT_TRUE(index.check_unique_names());
}

TEST_F(ServiceIndexTest, invalid_services_are_listed_with_errors_that_name_no_host_path) {
  add("broken", "service:\n  name: broken\n  entry: main.py\n  memroyMb: 1\n");
  add("good", yaml("good"));
  tree_.write("not-a-service/readme.txt", "just a directory");
  ServiceIndex index(tree_.path(), env_.lookup(), 0ms);
  const auto bad = index.invalid();
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].directory, "broken");
  EXPECT_EQ(bad[0].error,
            "broken/service.yaml:4: service.memroyMb: unknown key (did you mean 'memoryMb'?)");
  auto found = index.find("broken");
  ASSERT_TRUE(std::holds_alternative<HttpError>(found));
  EXPECT_EQ(std::get<HttpError>(found).status, 422);
  EXPECT_EQ(std::get<HttpError>(found).message, "service 'broken': " + bad[0].error);
  const std::string host = fs::canonical(tree_.path()).string();
  EXPECT_EQ(index.listing().dump().find(host), std::string::npos) << index.listing().dump();
  EXPECT_EQ(std::get<HttpError>(index.find("no-such")).status, 404);
  EXPECT_EQ(std::get<HttpError>(index.find("../broken")).status, 400);
}

TEST_F(ServiceIndexTest, the_listing_serializes_whatever_bytes_a_service_directory_holds) {
  add("bad-\xff-dir", "service:\n  name: x\n  entry: main.py\n  \xfe\xff: 1\n");
  add("good", yaml("good"));
  ServiceIndex index(tree_.path(), env_.lookup(), 0ms);
  std::string text;
  ASSERT_NO_THROW(text = index.listing().dump());
  EXPECT_NE(text.find("bad-\uFFFD-dir"), std::string::npos) << text;
  EXPECT_NE(text.find("\"good\""), std::string::npos) << text;
}

TEST_F(ServiceIndexTest, concurrent_lookups_share_one_load) {
  for (int i = 0; i < 8; ++i) add("s" + std::to_string(i), yaml("s" + std::to_string(i)));
  ServiceIndex index(tree_.path(), env_.lookup(), 0ms);
  std::vector<std::jthread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (index.list().size() != 8u) ++wrong;
        if (!std::holds_alternative<config::ServiceConfig>(index.find("s3"))) ++wrong;
      }
    });
  }
  threads.clear();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(env_.count(), 8);
}

}  // namespace
}  // namespace ignite::server

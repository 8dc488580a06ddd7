// Issue 9's promises about build steps and their cache, through `ignite run` as a user runs it:
// nothing a step builds reaches the host with privileges, steps get the run's own limits, keys
// cover every input, entries are bounded, verified and rebuilt when damaged.
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli_helpers.hpp"
#include "sys/temp_dir.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

bool installed(const std::string& name) {
  static const std::string listing = run_cli({"env", "--runtimes"}).out;
  return listing.find("\n  " + name + " ") != std::string::npos;
}

#define REQUIRE_RUNTIMES(a, b)                                                       \
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for the native sandbox";         \
  if (!installed(a) || !installed(b))                                                \
  GTEST_SKIP() << "needs the " << (a) << " and " << (b) << " runtimes (scripts/install-deps)"

// A private cache and service dirs for one test.
class BuildCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = sys::TempDir::create(fs::temp_directory_path(), "ignite-cache-test-");
    ASSERT_TRUE(dir);
    dir_.emplace(std::move(*dir));
    ::chmod(dir_->path().c_str(), 0755);  // service dirs inside must be readable by the sandbox
  }
  fs::path cache() const { return dir_->path() / "cache"; }
  std::vector<std::string> env(std::vector<std::string> extra = {}) const {
    extra.push_back("IGNITE_CACHE_DIR=" + cache().string());
    return extra;
  }
  // A service dir `name` with these files (service.yaml included).
  fs::path service(const std::string& name, const std::vector<std::pair<std::string, std::string>>& files) {
    const fs::path d = dir_->path() / name;
    for (const auto& [rel, text] : files) {
      fs::create_directories((d / rel).parent_path());
      std::ofstream(d / rel) << text;
    }
    for (auto it = fs::recursive_directory_iterator(d); it != fs::recursive_directory_iterator(); ++it)
      ::chmod(it->path().c_str(), it->is_directory() ? 0755 : 0644);
    ::chmod(d.c_str(), 0755);
    return d;
  }
  Json run_json(const fs::path& svc, std::vector<std::string> extra_env = {}) {
    auto r = run_cli({"run", svc.string(), "--json", "--skip-preflight"}, env(std::move(extra_env)));
    last_err_ = r.err;
    if (r.out.empty()) return Json{{"error", r.err}, {"exitCode", r.exit_code}};
    return Json::parse(r.out);
  }
  std::string last_err_;

 private:
  std::optional<sys::TempDir> dir_;
};

std::string quickjs_service(const std::string& name, const std::string& extra = "") {
  return "service:\n  name: " + name + "\n  runtime: quickjs\n  entry: index.ts\n" + extra;
}

TEST_F(BuildCacheTest, a_bundler_macro_cannot_leave_a_setuid_file_or_sandbox_owned_file_on_the_host) {
  REQUIRE_RUNTIMES("quickjs", "bun");
  // A Bun macro runs at bundle time; it plants a setuid file in the step's /out.
  const fs::path svc = service("macro", {{"service.yaml", quickjs_service("macro")},
                                         {"m.ts", "import { writeFileSync, chmodSync } from 'node:fs';\n"
                                                  "export function m() { writeFileSync('/out/planted', '#!/bin/sh\\nid\\n');"
                                                  " chmodSync('/out/planted', 0o6755); return 'macro ran'; }\n"},
                                         {"index.ts", "import { m } from './m.ts' with { type: 'macro' };\nconsole.log(m());\n"}});
  Json doc = run_json(svc);
  ASSERT_EQ(doc.value("status", ""), "ok") << doc.dump();
  EXPECT_EQ(doc["stdout"], "macro ran\n");
  int planted = 0;
  for (auto it = fs::recursive_directory_iterator(cache()); it != fs::recursive_directory_iterator(); ++it) {
    struct stat st {};
    ASSERT_EQ(::lstat(it->path().c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 0u) << it->path() << " is owned by a sandbox uid";
    EXPECT_EQ(st.st_mode & 06000, 0u) << it->path() << " kept a setuid/setgid bit";
    if (it->path().filename() == "planted") {
      ++planted;
      EXPECT_EQ(st.st_mode & 0222, 0u) << "artifacts are read-only";
    }
  }
  EXPECT_EQ(planted, 1) << "the macro's file is in the artifact, as plain data";
  struct stat root {};
  ASSERT_EQ(::stat(cache().c_str(), &root), 0);
  EXPECT_EQ(root.st_mode & 077, 0u) << "no other local user may reach the cache";
}

TEST_F(BuildCacheTest, a_build_step_gets_no_more_memory_or_time_than_the_run) {
  REQUIRE_RUNTIMES("quickjs", "bun");
  // The macro (the tenant's code, at build time) asks for far more than the run may use.
  const fs::path hog = service("hog", {{"service.yaml", quickjs_service("hog", "  memoryMb: 48\n")},
                                       {"m.ts", "export function m() { const a = []; for (let i = 0; i < 64; i++)"
                                                " a.push(new Uint8Array(8 << 20).fill(1)); return a.length; }\n"},
                                       {"index.ts", "import { m } from './m.ts' with { type: 'macro' };\nconsole.log(m());\n"}});
  Json doc = run_json(hog);
  EXPECT_EQ(doc["compile"].value("status", ""), "memory_limit") << doc.dump();
  const fs::path slow = service("slow", {{"service.yaml", quickjs_service("slow", "  timeoutMs: 1000\n")},
                                         {"m.ts", "export function m() { const end = Date.now() + 20000;"
                                                  " while (Date.now() < end) {} return 1; }\n"},
                                         {"index.ts", "import { m } from './m.ts' with { type: 'macro' };\nconsole.log(m());\n"}});
  const auto start = std::chrono::steady_clock::now();
  doc = run_json(slow);
  EXPECT_EQ(doc["compile"].value("status", ""), "timeout") << doc.dump();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST_F(BuildCacheTest, bundles_of_services_that_differ_only_in_node_modules_are_not_shared) {
  REQUIRE_RUNTIMES("quickjs", "bun");
  auto tenant = [&](const std::string& name, const std::string& secret) {
    return service(name, {{"service.yaml", quickjs_service("same")},
                          {"index.ts", "import v from 'lib';\nconsole.log(v);\n"},
                          {"node_modules/lib/package.json", "{\"name\":\"lib\",\"main\":\"index.js\"}"},
                          {"node_modules/lib/index.js", "export default '" + secret + "';\n"}});
  };
  Json a = run_json(tenant("tenant-a", "secret of A"));
  Json b = run_json(tenant("tenant-b", "secret of B"));
  EXPECT_EQ(a["stdout"], "secret of A\n") << a.dump();
  EXPECT_EQ(b["stdout"], "secret of B\n") << b.dump();
  EXPECT_FALSE(b["compile"].value("cached", true));
}

TEST_F(BuildCacheTest, files_rewritten_during_a_build_cannot_poison_another_services_artifact) {
  REQUIRE_RUNTIMES("quickjs", "bun");
  const std::string genuine = "console.log('genuine');\n", poisoned = "console.log('POISONED');\n";
  const fs::path victim = service("victim", {{"service.yaml", quickjs_service("same")}, {"index.ts", genuine}});
  const fs::path attacker = service("attacker", {{"service.yaml", quickjs_service("same")}, {"index.ts", genuine}});
  // The attacker flips its entry between two contents (whole-file renames) while its build runs,
  // hoping the key is taken of one and the bundle made of the other.
  auto put = [&](const std::string& text) {
    const fs::path tmp = attacker.parent_path() / "swap.tmp";
    std::ofstream(tmp) << text;
    ::chmod(tmp.c_str(), 0644);
    fs::rename(tmp, attacker / "index.ts");
  };
  for (int attempt = 0; attempt < 8; ++attempt) {
    const std::string cache_dir = "IGNITE_CACHE_DIR=" + (cache() / std::to_string(attempt)).string();
    std::atomic<bool> stop{false};
    std::thread swapper([&] {
      for (bool flip = false; !stop; flip = !flip) {
        put(flip ? poisoned : genuine);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
    run_cli({"run", attacker.string(), "--skip-preflight"}, {cache_dir});
    stop = true;
    swapper.join();
    put(genuine);
    auto r = run_cli({"run", victim.string(), "--json", "--skip-preflight"}, {cache_dir});
    ASSERT_FALSE(r.out.empty()) << r.err;
    EXPECT_EQ(Json::parse(r.out)["stdout"], "genuine\n") << "attempt " << attempt << ": another service's build";
  }
}

fs::path only_entry(const fs::path& kind_dir) {
  std::vector<fs::path> entries;
  for (const auto& e : fs::directory_iterator(kind_dir)) {
    if (e.path().filename().string().size() == 64) entries.push_back(e.path());
  }
  return entries.size() == 1 ? entries.front() : fs::path();
}

TEST_F(BuildCacheTest, a_damaged_entry_is_rebuilt_not_served) {
  REQUIRE_RUNTIMES("go", "go");
  const fs::path svc = service("go", {{"service.yaml", "service:\n  name: go-echo\n  runtime: go\n  entry: main.go\n  memoryMb: 256\n"},
                                      {"main.go", "package main\nimport \"fmt\"\nfunc main() { fmt.Println(\"built\") }\n"}});
  Json first = run_json(svc);
  ASSERT_EQ(first.value("status", ""), "ok") << first.dump();
  const fs::path entry = only_entry(cache() / "go");
  ASSERT_FALSE(entry.empty());
  // Damage the binary the way a disk or an operator's mistake would.
  ::chmod((entry / "data/main").c_str(), 0644);
  { std::ofstream(entry / "data/main", std::ios::trunc) << "garbage"; }
  Json second = run_json(svc);
  EXPECT_EQ(second.value("status", ""), "ok") << second.dump();
  EXPECT_EQ(second["stdout"], "built\n");
  EXPECT_FALSE(second["compile"].value("cached", true)) << "rebuilt";
  Json third = run_json(svc);
  EXPECT_TRUE(third["compile"].value("cached", false)) << "and the rebuilt entry is served again";
}

TEST_F(BuildCacheTest, an_unchanged_big_file_is_not_read_again_on_a_cached_run) {
  REQUIRE_RUNTIMES("go", "go");
  const fs::path svc = service("big", {{"service.yaml", "service:\n  name: go-big\n  runtime: go\n  entry: main.go\n  memoryMb: 256\n"},
                                       {"main.go", "package main\nimport \"fmt\"\nfunc main() { fmt.Println(\"ok\") }\n"}});
  {
    std::ofstream big(svc / "data.bin", std::ios::binary);
    const std::string block(1 << 20, 'x');
    for (int i = 0; i < 64; ++i) big << block;
  }
  ::chmod((svc / "data.bin").c_str(), 0644);
  // Its timestamps must have settled before a digest of it may be remembered.
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  ASSERT_EQ(run_json(svc).value("status", ""), "ok") << last_err_;
  const int in = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  ASSERT_GE(in, 0);
  ASSERT_GE(::inotify_add_watch(in, (svc / "data.bin").c_str(), IN_ACCESS | IN_OPEN), 0);
  Json again = run_json(svc);
  EXPECT_TRUE(again["compile"].value("cached", false)) << again.dump();
  char buf[4096];
  const ssize_t n = ::read(in, buf, sizeof buf);
  ::close(in);
  EXPECT_LE(n, 0) << "the cached run read the 64 MiB data file again";
}

TEST_F(BuildCacheTest, the_cache_stays_under_its_size_bound_least_recently_used_first) {
  REQUIRE_RUNTIMES("go", "go");
  // Each Go binary is ~2 MiB; a 5 MiB cache holds two of them.
  std::vector<fs::path> services;
  for (int i = 0; i < 3; ++i) {
    services.push_back(service("go" + std::to_string(i),
                               {{"service.yaml", "service:\n  name: go" + std::to_string(i) +
                                                     "\n  runtime: go\n  entry: main.go\n  memoryMb: 256\n"},
                                {"main.go", "package main\nimport \"fmt\"\nfunc main() { fmt.Println(" +
                                                std::to_string(i) + ") }\n"}}));
  }
  for (const auto& s : services) ASSERT_EQ(run_json(s, {"IGNITE_CACHE_MAX_MB=5"}).value("status", ""), "ok") << last_err_;
  std::uintmax_t total = 0;
  int entries = 0;
  for (const auto& e : fs::directory_iterator(cache() / "go")) {
    if (e.path().filename().string().size() != 64) continue;
    ++entries;
    for (const auto& f : fs::recursive_directory_iterator(e.path() / "data"))
      if (f.is_regular_file()) total += f.file_size();
  }
  EXPECT_EQ(entries, 2);
  EXPECT_LE(total, 5u << 20);
  // The newest stayed: its run is a cache hit, the oldest's is not.
  EXPECT_TRUE(run_json(services[2], {"IGNITE_CACHE_MAX_MB=5"})["compile"].value("cached", false));
  EXPECT_FALSE(run_json(services[0], {"IGNITE_CACHE_MAX_MB=5"})["compile"].value("cached", true));
}

TEST_F(BuildCacheTest, an_artifact_of_many_empty_dirs_counts_their_inodes_against_the_bound) {
  REQUIRE_RUNTIMES("quickjs", "bun");
  // No bytes at all, but 5000 dirs: 20 MB of inodes and blocks on the cache's disk.
  const fs::path svc = service("dirs", {{"service.yaml", quickjs_service("dirs", "  memoryMb: 256\n")},
                                        {"m.ts", "import { mkdirSync } from 'node:fs';\n"
                                                 "export function m() { for (let i = 0; i < 5000; i++)"
                                                 " mkdirSync('/out/d' + i); return 'made'; }\n"},
                                        {"index.ts", "import { m } from './m.ts' with { type: 'macro' };\nconsole.log(m());\n"}});
  auto r = run_cli({"run", svc.string(), "--skip-preflight"}, env({"IGNITE_CACHE_ENTRY_MAX_MB=8"}));
  EXPECT_EQ(r.exit_code, 125) << r.err;
  EXPECT_NE(r.err.find("bytes in 5001 files and dirs count as"), std::string::npos)
      << r.err;
  EXPECT_TRUE(only_entry(cache() / "ts").empty());
}

TEST_F(BuildCacheTest, an_artifact_over_the_entry_bound_is_not_kept) {
  REQUIRE_RUNTIMES("go", "go");
  const fs::path svc = service("go", {{"service.yaml", "service:\n  name: go-big\n  runtime: go\n  entry: main.go\n  memoryMb: 256\n"},
                                      {"main.go", "package main\nimport \"fmt\"\nfunc main() { fmt.Println(1) }\n"}});
  Json doc = run_json(svc, {"IGNITE_CACHE_ENTRY_MAX_MB=1"});
  EXPECT_NE(doc["compile"].value("status", "ok"), "ok") << doc.dump();
  EXPECT_TRUE(only_entry(cache() / "go").empty());
}

}  // namespace
}  // namespace ignite::testing

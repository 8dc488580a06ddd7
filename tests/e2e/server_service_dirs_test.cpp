// `ignite serve` over a --services directory someone else filled (issue 9): a service cannot
// expand the server's API key (finding 6); service.yaml files are read once, not per request,
// and a 1 MiB one is served promptly (finding 14); a name declared twice is refused, naming
// both directories (finding 17).
#include <gtest/gtest.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "../common/temp_tree.hpp"
#include "server_helpers.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using namespace std::chrono_literals;

std::string python_yaml(const std::string& name, const std::string& extra = "") {
  return "service:\n  name: " + name + "\n  runtime: python\n  entry: main.py\n  memoryMb: 64\n" +
         "  timeoutMs: 5000\n" + extra;
}

void add_service(const TempTree& tree, const std::string& dir, const std::string& yaml,
                 const std::string& code = "print('ok')\n") {
  tree.write(dir + "/main.py", code);
  tree.write(dir + "/service.yaml", yaml);
  // The sandbox user must be able to read the service (the tree itself is 0700).
  fs::permissions(tree.path(),
                  fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
}

std::string random_key() {
  std::random_device rd;
  std::ostringstream out;
  out << "k-e2e-" << std::hex << rd() << rd() << rd();
  return out.str();
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Counts opens of one file by anyone (inotify IN_OPEN), to see who re-reads it. Closes are
// watched too: inotify coalesces identical consecutive events, and open/close alternate.
class OpenCounter {
 public:
  explicit OpenCounter(const fs::path& file) : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    if (fd_ >= 0) ::inotify_add_watch(fd_, file.c_str(), IN_OPEN | IN_CLOSE);
  }
  ~OpenCounter() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  int take() {  // opens since the last call
    int n = 0;
    alignas(inotify_event) char buf[4096];
    for (ssize_t got; (got = ::read(fd_, buf, sizeof buf)) > 0;) {
      for (ssize_t off = 0; off < got;) {
        const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
        if (ev->mask & IN_OPEN) ++n;
        off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      }
    }
    return n;
  }

 private:
  int fd_;
};

// ---- finding 6 ---------------------------------------------------------------------------------

TEST(ServerServiceDirs, the_servers_api_key_never_reaches_a_service_or_a_response) {
  TempTree tree("ignite-e2e-services-");
  add_service(tree, "leak", python_yaml("leak", "  env:\n    X: \"${IGNITE_API_KEY}\"\n"),
              "import os\nprint('X=' + os.environ.get('X', ''))\n");
  add_service(tree, "spy", python_yaml("spy"),
              "import os\nprint(dict(os.environ))\n"
              "for p in ['/proc/self/environ', '/proc/1/environ']:\n"
              "    try:\n        print(open(p, 'rb').read())\n"
              "    except OSError as e:\n        print(p, e)\n");
  const std::string key = random_key();
  ServerProcess s({{"--services", tree.path().string()}, {"IGNITE_API_KEY=" + key}});
  ASSERT_TRUE(s.started()) << s.stderr_text();
  const Headers auth = {{"Authorization", "Bearer " + key}};
  std::string everything;  // every body the server sent, searched for the key at the end

  auto list = s.get("/services", auth);
  everything += list.body;
  ASSERT_EQ(list.status, 200) << list.body;
  const Json invalid = list.json()["invalid"];
  EXPECT_EQ(invalid, Json::parse(R"J([{"directory": "leak", "error": "leak/service.yaml:8: )J"
                                 R"J(service.env.X: ${IGNITE_API_KEY}: IGNITE_* variables are )J"
                                 R"J(Ignite's own and cannot be expanded"}])J"))
      << list.body;
  EXPECT_EQ(list.json()["services"].size(), 1u) << list.body;

  auto details = s.get("/services/leak", auth);
  everything += details.body;
  EXPECT_EQ(details.status, 422) << details.body;
  auto run = s.post("/services/leak/execute", "{}", auth);
  everything += run.body;
  EXPECT_EQ(run.status, 422) << run.body;
  EXPECT_NE(run.body.find("IGNITE_* variables are Ignite's own"), std::string::npos) << run.body;

  if (sandbox_available()) {
    // What a program can see: its environment, its own and its init's /proc environ.
    auto spy = s.post("/services/spy/execute", "{}", auth);
    everything += spy.body;
    EXPECT_EQ(spy.status, 200) << spy.body;
    EXPECT_NE(spy.body.find("IGNITE_SERVICE"), std::string::npos) << spy.body;
    auto adhoc =
        s.post("/v1/execute",
               R"J({"runtime":"python","code":"import os\nprint(dict(os.environ))"})J", auth);
    everything += adhoc.body;
    EXPECT_EQ(adhoc.status, 200) << adhoc.body;
  }
  EXPECT_EQ(everything.find(key), std::string::npos) << everything;
  // The server itself: gone from its environment, and wiped from the block /proc shows.
  EXPECT_EQ(read_all("/proc/" + std::to_string(s.pid()) + "/environ").find(key), std::string::npos);
  EXPECT_EQ(s.stderr_text().find(key), std::string::npos);
}

// ---- finding 14 --------------------------------------------------------------------------------

TEST(ServerServiceDirs, service_yaml_is_read_once_not_per_request_and_changes_are_seen) {
  TempTree tree("ignite-e2e-services-");
  add_service(tree, "svc", python_yaml("svc", "  cpuLimit: 0.5\n"));
  OpenCounter opens(tree.path() / "svc" / "service.yaml");
  ASSERT_TRUE(opens.ok());
  ServerProcess s({{"--services", tree.path().string()}, {}});
  ASSERT_TRUE(s.started()) << s.stderr_text();
  (void)opens.take();  // start-up reads it (the duplicate-name check)
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(s.get("/services").status, 200);
    ASSERT_EQ(s.get("/services/svc").status, 200);
  }
  EXPECT_LE(opens.take(), 1) << "20 requests, at most one read (the index's first load)";

  tree.write("svc/service.yaml", python_yaml("svc", "  cpuLimit: 0.25\n"));
  std::this_thread::sleep_for(1200ms);  // the index looks at most once a second
  auto changed = s.get("/services/svc");
  ASSERT_EQ(changed.status, 200);
  EXPECT_EQ(changed.json()["cpuLimit"], 0.25) << changed.body;
}

TEST(ServerServiceDirs, a_1_mib_service_yaml_is_listed_promptly) {
  TempTree tree("ignite-e2e-services-");
  std::string yaml = python_yaml("big", "  env:\n");
  for (int i = 0; yaml.size() < (1u << 20) - 64; ++i) yaml += "    V" + std::to_string(i) + ": x\n";
  add_service(tree, "big", yaml);
  ServerProcess s({{"--services", tree.path().string()}, {}});
  ASSERT_TRUE(s.started()) << s.stderr_text();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) {
    auto r = s.get("/services");
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(r.json()["services"].size(), 1u) << r.body.substr(0, 300);
  }
  // Loading is linear (~1 s for 1 MiB) and happens once; it took 30 s per request before.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
}

// ---- finding 17 --------------------------------------------------------------------------------

TEST(ServerServiceDirs, two_directories_declaring_one_name_stop_serve_from_starting) {
  TempTree tree("ignite-e2e-services-");
  add_service(tree, "first", python_yaml("twin"));
  add_service(tree, "second", python_yaml("twin"));
  ServerProcess s({{"--services", tree.path().string()}, {}});
  EXPECT_FALSE(s.started());
  EXPECT_EQ(s.wait_exit(10s), 125);
  EXPECT_NE(s.stderr_text().find("service name 'twin' is declared by more than one directory "
                                 "(first and second); names must be unique"),
            std::string::npos)
      << s.stderr_text();
}

TEST(ServerServiceDirs, a_duplicate_appearing_while_serving_is_a_409_naming_both_directories) {
  TempTree tree("ignite-e2e-services-");
  add_service(tree, "first", python_yaml("twin"));
  ServerProcess s({{"--services", tree.path().string()}, {}});
  ASSERT_TRUE(s.started()) << s.stderr_text();
  ASSERT_EQ(s.get("/services/twin").status, 200);

  add_service(tree, "second", python_yaml("twin"));
  std::this_thread::sleep_for(1200ms);
  const std::string both =
      "service name 'twin' is declared by more than one directory (first "
      "and second); names must be unique: rename all but one";
  for (const auto& r : {s.get("/services/twin"), s.post("/services/twin/execute", "{}"),
                        s.get("/services/twin/preflight")}) {
    EXPECT_EQ(r.status, 409) << r.body;
    if (r.status == 409) {
      EXPECT_EQ(r.json()["error"]["code"], "conflict");
      EXPECT_EQ(r.json()["error"]["message"], both);
    }
  }
  auto list = s.get("/services");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.json()["services"].size(), 0u) << list.body;
  ASSERT_EQ(list.json()["invalid"].size(), 2u) << list.body;
  EXPECT_EQ(list.json()["invalid"][0]["directory"], "first");
  EXPECT_EQ(list.json()["invalid"][1]["directory"], "second");
  EXPECT_EQ(list.json()["invalid"][1]["error"], both);

  fs::remove_all(tree.path() / "second");
  std::this_thread::sleep_for(1200ms);
  EXPECT_EQ(s.get("/services/twin").status, 200);
}

}  // namespace
}  // namespace ignite::testing

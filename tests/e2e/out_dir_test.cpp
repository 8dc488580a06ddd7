// /out (CONTRACT §1, §4): what a program leaves there comes back in the result document, and
// `--out DIR` writes it; every trick a program can play there (a symlink to a host file, a
// FIFO, a device node, 10,000 files, a huge sparse file) ends contained and flagged, with the
// host untouched. Warm slots give the same /out as cold runs. Every promise holds on every
// backend: native, and docker (containers on the test dockerd, tests/common/dockerd.hpp).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "../common/dockerd.hpp"
#include "cli_helpers.hpp"
#include "server_helpers.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// The isolation (`--isolation native|docker`) is the parameter.
class OutDir : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for the sandbox";
    if (GetParam() == "docker") {
      const auto& daemon = docker_daemon();
      if (!daemon.ready) GTEST_SKIP() << "no Docker daemon: " << daemon.why;
      env_ = {"DOCKER_HOST=unix://" + daemon.socket};
    }
  }

  CliResult cli(std::vector<std::string> args) const {
    args.insert(args.begin() + 1, {"--isolation", GetParam()});
    return run_cli(args, env_);
  }

  Json exec_json(const std::string& code) const {
    CliResult r = cli({"exec", "--runtime", "python", "--json", "--code", code});
    Json doc = Json::parse(r.out, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << r.out << r.err;
    if (!doc.is_discarded()) {
      EXPECT_EQ(doc["isolation"], GetParam()) << doc;
    }
    return doc;
  }

  std::vector<std::string> env_;
};

INSTANTIATE_TEST_SUITE_P(, OutDir, ::testing::Values("native", "docker"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

// Files under Ignite's work root now (staging and /out copies are removed after each run).
std::size_t work_entries() {
  std::error_code ec;
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator("/run/ignite/work", ec)) {
    if (e.path().filename().string().rfind("out-", 0) == 0) ++n;
  }
  return n;
}

TEST_P(OutDir, files_come_back_typed_and_symlinks_do_not) {
  const std::size_t before = work_entries();
  Json doc = exec_json(
      "import os\n"
      "os.makedirs('/out/sub')\n"
      "open('/out/hello.txt', 'w').write('hi\\n')\n"
      "open('/out/plot.png', 'wb').write(b'\\x89PNG\\r\\n\\x1a\\n' + bytes(8))\n"
      "open('/out/sub/data.bin', 'wb').write(bytes([0, 255, 1]))\n"
      "open('/out/table.csv', 'w').write('a,b\\n1,2\\n')\n"
      "os.symlink('/etc/shadow', '/out/shadow')\n"
      "print('ok')\n");
  ASSERT_EQ(doc["status"], "ok") << doc;
  const Json files = doc["files"];
  ASSERT_EQ(files.size(), 4u) << files;  // walk order: names sorted per directory
  EXPECT_EQ(files[0], Json({{"path", "hello.txt"}, {"size", 3}, {"mimeType", "text/plain"}, {"encoding", "utf8"}, {"content", "hi\n"}}));
  EXPECT_EQ(files[1], Json({{"path", "plot.png"}, {"size", 16}, {"mimeType", "image/png"}, {"encoding", "base64"},
                            {"content", "iVBORw0KGgoAAAAAAAAAAA=="}}));
  EXPECT_EQ(files[2]["path"], "sub/data.bin");
  EXPECT_EQ(files[2]["encoding"], "base64");
  EXPECT_EQ(files[2]["content"], "AP8B");
  EXPECT_EQ(files[2]["mimeType"], "application/octet-stream");
  EXPECT_EQ(files[3]["mimeType"], "text/csv");
  EXPECT_FALSE(doc["filesTruncated"].get<bool>());
  EXPECT_FALSE(doc.contains("filesError"));
  EXPECT_EQ(work_entries(), before);  // the host copy is gone with the run
}

TEST_P(OutDir, a_run_that_leaves_nothing_has_no_files_field) {
  Json doc = exec_json("print(1)");
  EXPECT_EQ(doc["status"], "ok");
  EXPECT_FALSE(doc.contains("files")) << doc;
}

TEST_P(OutDir, a_fifo_makes_the_host_refuse_out_and_says_so) {
  Json doc = exec_json("import os\nos.mkfifo('/out/pipe')\nopen('/out/a.txt', 'w').write('a')\nprint('ok')\n");
  EXPECT_EQ(doc["status"], "ok") << doc;  // the program's own status
  EXPECT_TRUE(doc["files"].empty()) << doc;
  EXPECT_NE(doc["filesError"].get<std::string>().find("FIFO"), std::string::npos) << doc;
}

TEST_P(OutDir, a_device_node_cannot_be_made) {
  Json doc = exec_json(
      "import os, stat\n"
      "try:\n  os.mknod('/out/mem', 0o666 | stat.S_IFCHR, os.makedev(1, 1)); print('made')\n"
      "except OSError as e: print('refused', e.errno)\n");
  EXPECT_EQ(doc["status"], "ok") << doc;
  EXPECT_EQ(doc["stdout"], "refused 1\n");  // EPERM: no CAP_MKNOD, and /out is nodev anyway
  EXPECT_FALSE(doc.contains("files")) << doc;
}

TEST_P(OutDir, ten_thousand_files_stop_at_the_entry_bound) {
  Json doc = exec_json(
      "n = 0\n"
      "try:\n"
      "  for i in range(10000): open(f'/out/f{i}', 'w').close(); n += 1\n"
      "except OSError as e: print('stopped', e.errno)\n"
      "print(n)\n");
  EXPECT_EQ(doc["status"], "ok") << doc;
  EXPECT_NE(doc["stdout"].get<std::string>().find("stopped 28"), std::string::npos) << doc["stdout"];  // ENOSPC
  EXPECT_LE(doc["files"].size(), 1000u);
  EXPECT_GT(doc["files"].size(), 900u);
}

TEST_P(OutDir, a_huge_sparse_file_is_bounded_and_flagged) {
  Json doc = exec_json(
      "import os\n"
      "f = open('/out/sparse', 'wb')\n"
      "try:\n  f.truncate(10 * 1024**3); print('10G')\n"
      "except OSError as e: print('10G refused', e.errno)\n"
      "f.truncate(15 * 1024**2); f.close()\n"
      "print(os.stat('/out/sparse').st_size)\n");
  EXPECT_EQ(doc["status"], "ok") << doc;
  EXPECT_NE(doc["stdout"].get<std::string>().find("10G refused"), std::string::npos) << doc["stdout"];
  // 15 MiB of holes fit the tmpfs but not the 8 MiB of content a document carries.
  EXPECT_TRUE(doc["filesTruncated"].get<bool>()) << doc["filesTruncated"];
  EXPECT_TRUE(doc["files"].empty());
}

TEST_P(OutDir, out_writes_the_files_and_never_through_a_planted_link) {
  const fs::path dir = fs::temp_directory_path() / ("ignite-out-" + GetParam() + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string code = "import os\nos.makedirs('/out/d')\nopen('/out/d/x.txt','w').write('x')\nopen('/out/r.txt','w').write('r')\n";
  CliResult r = cli({"exec", "--runtime", "python", "--out", dir.string(), "--code", code});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("2 file(s) from /out written to"), std::string::npos) << r.err;
  std::ifstream x(dir / "d/x.txt");
  std::string text((std::istreambuf_iterator<char>(x)), {});
  EXPECT_EQ(text, "x");
  // A link already in DIR named like an output file is not written through.
  const fs::path victim = dir.string() + "-victim";
  std::ofstream(victim) << "keep";
  fs::remove(dir / "r.txt");
  fs::create_symlink(victim, dir / "r.txt");
  r = cli({"exec", "--runtime", "python", "--out", dir.string(), "--code", code});
  EXPECT_EQ(r.exit_code, 125) << r.err;
  std::ifstream v(victim);
  std::string kept((std::istreambuf_iterator<char>(v)), {});
  EXPECT_EQ(kept, "keep");
  // Nor does a FIFO under the name make ignite wait for a reader.
  fs::remove(dir / "r.txt");
  ASSERT_EQ(::mkfifo((dir / "r.txt").c_str(), 0644), 0);
  r = cli({"exec", "--runtime", "python", "--out", dir.string(), "--code", code});
  EXPECT_EQ(r.exit_code, 125) << r.err;
  fs::remove_all(dir);
  fs::remove(victim);
}

// A warm slot's /out starts empty and comes back like a cold run's.
TEST_P(OutDir, warm_and_cold_runs_return_the_same_files) {
  ServerProcess warm({{"--isolation", GetParam(), "--pool", "python=1..2"}, env_});
  ServerProcess cold({{"--isolation", GetParam(), "--pool", "none"}, env_});
  ASSERT_TRUE(warm.started() && cold.started());
  const std::string body =
      R"J({"runtime":"python","code":"import os\nprint(sorted(os.listdir('/out')))\nopen('/out/r.txt','w').write('run')"})J";
  auto c = cold.post("/v1/execute", body).json();
  EXPECT_TRUE(c["metrics"]["coldStart"].get<bool>());
  ASSERT_EQ(c["files"].size(), 1u) << c;
  EXPECT_EQ(c["files"][0]["content"], "run");
  bool saw_warm = false;
  for (int i = 0; i < 6 && !saw_warm; ++i) {
    auto w = warm.post("/v1/execute", body).json();
    saw_warm = !w["metrics"]["coldStart"].get<bool>();
    EXPECT_EQ(w["stdout"], "[]\n");  // single use: nothing of the last job
    EXPECT_EQ(w["files"], c["files"]) << w;
    usleep(300000);
  }
  EXPECT_TRUE(saw_warm);
}

}  // namespace
}  // namespace ignite::testing

// `ignite init`: the scaffolded files and the refusal to overwrite.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include <filesystem>

#include "cli/context.hpp"
#include "cli/scaffold.hpp"
#include "sys/files.hpp"
#include "../common/temp_tree.hpp"

namespace ignite::cli {
namespace {

namespace fs = std::filesystem;

std::string file_names(const std::vector<ScaffoldFile>& files) {
  std::string out;
  for (const ScaffoldFile& f : files) out += (out.empty() ? "" : " ") + f.name;
  return out;
}

const ScaffoldFile& named(const std::vector<ScaffoldFile>& files, std::string_view name) {
  auto it = std::find_if(files.begin(), files.end(), [&](const auto& f) { return f.name == name; });
  if (it == files.end()) throw std::runtime_error("no file " + std::string(name));
  return *it;
}

config::RuntimeRef ref(std::string name, std::string version = "") {
  config::RuntimeRef r;
  r.name = std::move(name);
  r.version = std::move(version);
  return r;
}

TEST(Scaffold, EntryFilePerRuntime) {
  EXPECT_EQ(file_names(scaffold("svc", ref("bun"))), "service.yaml package.json index.ts");
  EXPECT_EQ(file_names(scaffold("svc", ref("deno"))), "service.yaml package.json index.ts");
  EXPECT_EQ(file_names(scaffold("svc", ref("node"))), "service.yaml package.json index.js");
  EXPECT_EQ(file_names(scaffold("svc", ref("quickjs"))), "service.yaml package.json index.js");
  EXPECT_EQ(file_names(scaffold("svc", ref("python"))), "service.yaml main.py");
  EXPECT_EQ(file_names(scaffold("svc", ref("go"))), "service.yaml main.go");
}

TEST(Scaffold, ServiceYamlHasDefaultsAndVersion) {
  EXPECT_EQ(named(scaffold("data-processor", ref("node", "20")), "service.yaml").content,
            "service:\n"
            "  name: data-processor\n"
            "  runtime: node@20\n"
            "  entry: index.js\n"
            "  memoryMb: 128\n"
            "  timeoutMs: 30000\n");
}

TEST(Scaffold, ProgramsReadIgniteInputAndNameTheService) {
  for (const char* rt : {"bun", "node", "deno", "quickjs", "python", "go"}) {
    const std::vector<ScaffoldFile> files = scaffold("my-svc", ref(rt));
    const std::string& program = files.back().content;
    EXPECT_NE(program.find("IGNITE_INPUT"), std::string::npos) << rt;
    EXPECT_NE(program.find("\"my-svc\""), std::string::npos) << rt;
    EXPECT_EQ(program.find("NAME"), std::string::npos) << rt;
  }
  EXPECT_NE(named(scaffold("my-svc", ref("bun")), "package.json").content.find("\"my-svc\""),
            std::string::npos);
}

class InitCommandTest : public ::testing::Test {
 protected:
  // Runs `ignite <args>` through CLI11 as main() would; returns the command's exit code.
  int run(const std::string& args) {
    CLI::App app;
    Context ctx;
    register_init(app, ctx);
    app.parse(args, /*program_name_included=*/false);
    return ctx.exit_code;
  }

  testing::TempTree tree_{"ignite-init-"};
  fs::path root_ = tree_.path();
};

TEST_F(InitCommandTest, CreatesTheServiceDirectory) {
  const fs::path dir = root_ / "svc";
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(run("init data-processor --path " + dir.string()), 0);
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("ignite run " + dir.string()), std::string::npos);
  for (const char* f : {"service.yaml", "package.json", "index.ts"}) {
    EXPECT_TRUE(fs::is_regular_file(dir / f)) << f;
  }
  auto yaml = sys::read_file(dir / "service.yaml");
  ASSERT_TRUE(yaml);
  EXPECT_NE(yaml->find("name: data-processor\n  runtime: bun\n"), std::string::npos);
}

TEST_F(InitCommandTest, RefusesToOverwriteAndWritesNothing) {
  const fs::path dir = root_ / "svc";
  fs::create_directories(dir);
  std::ofstream(dir / "index.ts") << "// mine\n";
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(run("init svc --path " + dir.string()), 125);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("ignite: "), std::string::npos);
  EXPECT_NE(err.find("index.ts"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "service.yaml"));
  EXPECT_FALSE(fs::exists(dir / "package.json"));
  auto kept = sys::read_file(dir / "index.ts");
  ASSERT_TRUE(kept);
  EXPECT_EQ(*kept, "// mine\n");
}

TEST_F(InitCommandTest, RejectsBadNamesAndRuntimes) {
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(run("init Bad_Name --path " + (root_ / "a").string()), 125);
  EXPECT_EQ(run("init good --runtime cobol --path " + (root_ / "b").string()), 125);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("Bad_Name"), std::string::npos);
  EXPECT_NE(err.find("cobol"), std::string::npos);
  EXPECT_FALSE(fs::exists(root_ / "a"));
  EXPECT_FALSE(fs::exists(root_ / "b"));
}

TEST_F(InitCommandTest, PythonServiceWithVersion) {
  const fs::path dir = root_ / "py";
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(run("init py-svc --runtime python@3.11 --path " + dir.string()), 0);
  ::testing::internal::GetCapturedStdout();
  EXPECT_TRUE(fs::is_regular_file(dir / "main.py"));
  EXPECT_FALSE(fs::exists(dir / "package.json"));
  auto yaml = sys::read_file(dir / "service.yaml");
  ASSERT_TRUE(yaml);
  EXPECT_NE(yaml->find("runtime: python@3.11\n  entry: main.py\n"), std::string::npos);
}

}  // namespace
}  // namespace ignite::cli

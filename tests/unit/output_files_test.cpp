// engine/output_files: what of a program's /out the result document carries (regular files in
// walk order within the cap; links and dirs are not files), the type of each, and runtime
// profiles (engine::check_profile, the python descriptor's datascience profile).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/engine.hpp"
#include "engine/output_files.hpp"
#include "runtime/descriptors.hpp"

namespace ignite::engine {
namespace {

namespace fs = std::filesystem;

class OutputFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ignite-out-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "sub");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void file(const std::string& rel, const std::string& content) {
    std::ofstream(dir_ / rel, std::ios::binary) << content;
    result_.output.entries.push_back({EntryKind::file, rel, content.size(), false, "", ""});
  }
  fs::path dir_;
  ExecutionResult result_;
};

TEST_F(OutputFiles, regular_files_in_walk_order_links_and_dirs_left_out) {
  file("a.txt", "alpha");
  result_.output.entries.push_back({EntryKind::dir, "sub", 0, false, "", ""});
  file("sub/b.png", "\x89PNG\r\n\x1a\nrest");
  result_.output.entries.push_back({EntryKind::symlink, "sub/link", 0, false, "", "/etc/passwd"});
  JobReport report;
  collect_output_files(dir_, result_, report);
  ASSERT_EQ(report.files.size(), 2u);
  EXPECT_EQ(report.files[0].path, "a.txt");
  EXPECT_EQ(report.files[0].content, "alpha");
  EXPECT_EQ(report.files[0].mime_type, "text/plain");
  EXPECT_EQ(report.files[1].path, "sub/b.png");
  EXPECT_EQ(report.files[1].mime_type, "image/png");
  EXPECT_FALSE(report.files_truncated);
  EXPECT_TRUE(report.files_error.empty());
}

TEST_F(OutputFiles, files_over_the_cap_are_left_out_and_flagged) {
  file("big.bin", std::string(600, 'x'));
  file("small.txt", "s");
  file("mid.txt", std::string(400, 'm'));
  JobReport report;
  collect_output_files(dir_, result_, report, 1000);
  ASSERT_EQ(report.files.size(), 2u);  // 600 + 1 fit; 400 more would not
  EXPECT_EQ(report.files[0].path, "big.bin");
  EXPECT_EQ(report.files[1].path, "small.txt");
  EXPECT_TRUE(report.files_truncated);
}

TEST_F(OutputFiles, a_refused_tree_is_reported_and_a_swapped_file_is_not_followed) {
  result_.output_error = "/out: fifo: is a FIFO";
  file("x.txt", "x");
  fs::remove(dir_ / "x.txt");
  fs::create_symlink("/etc/hostname", dir_ / "x.txt");  // what a race could leave: never read
  JobReport report;
  collect_output_files(dir_, result_, report);
  EXPECT_TRUE(report.files.empty());
  EXPECT_NE(report.files_error.find("x.txt"), std::string::npos) << report.files_error;
}

TEST(OutputMime, from_magic_bytes_then_the_name_then_utf8) {
  EXPECT_EQ(guess_mime_type("x.dat", "\x89PNG\r\n\x1a\n"), "image/png");
  EXPECT_EQ(guess_mime_type("x", "\xff\xd8\xff\xe0"), "image/jpeg");
  EXPECT_EQ(guess_mime_type("x", "GIF89a..."), "image/gif");
  EXPECT_EQ(guess_mime_type("x", std::string("RIFF\x10\0\0\0WEBPVP8 ", 16)), "image/webp");
  EXPECT_EQ(guess_mime_type("r.pdf", "%PDF-1.7"), "application/pdf");
  EXPECT_EQ(guess_mime_type("t.csv", "a,b"), "text/csv");
  EXPECT_EQ(guess_mime_type("d.json", "{}"), "application/json");
  EXPECT_EQ(guess_mime_type("chart.svg", "<svg/>"), "image/svg+xml");
  EXPECT_EQ(guess_mime_type("dir.csv/notes", "plain"), "text/plain");  // the dot is the dir's
  EXPECT_EQ(guess_mime_type("blob", std::string("\0\xff", 2)), "application/octet-stream");
}

TEST(RuntimeProfiles, python_has_datascience_and_unknown_or_missing_profiles_say_why) {
  const runtime::Descriptor* py = runtime::find_descriptor("python");
  ASSERT_NE(py, nullptr);
  ASSERT_TRUE(py->profiles.contains("datascience"));
  EXPECT_FALSE(py->profiles.at("datascience").extra_mounts.empty());
  EXPECT_GT(py->profiles.at("datascience").baseline_mb, 0);

  runtime::Installed rt;
  rt.name = "python";
  rt.baseline_mb = 12;
  EXPECT_TRUE(check_profile("", rt));
  auto unknown = check_profile("gpu", rt);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(unknown.error().message, "runtime python has no profile 'gpu' (it has none)");
  rt.profiles["datascience"] = {"d", false, "apt-get install x", {}, {}, 100};
  auto missing = check_profile("datascience", rt);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::failed_precondition);
  EXPECT_NE(missing.error().message.find("apt-get install x"), std::string::npos);
  EXPECT_EQ(runtime_facts(rt, "datascience").baseline_mb, 112);
  EXPECT_EQ(runtime_facts(rt).baseline_mb, 12);
  EXPECT_FALSE(runtime_facts(rt).image_bytes.has_value());  // docker's alone
  rt.profiles["datascience"].available = true;
  EXPECT_TRUE(check_profile("datascience", rt));
  EXPECT_EQ(check_profile("gpu", rt).error().message, "runtime python has no profile 'gpu' (it has: datascience)");
}

}  // namespace
}  // namespace ignite::engine

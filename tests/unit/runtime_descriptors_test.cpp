// The descriptor table compiled into the binary (descriptors_gen) against runtimes/*.json read
// with the JSON reader: same runtimes, same order, every field equal.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "runtime/descriptor_json.hpp"
#include "runtime/descriptors.hpp"
#include "sys/files.hpp"

namespace fs = std::filesystem;
using namespace ignite::runtime;

namespace {

std::vector<fs::path> descriptor_files() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(IGNITE_RUNTIMES_DIR))
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

// descriptors_gen's output for unit/data/hostile_descriptor.json (tests/CMakeLists.txt).
namespace hostile {
using ignite::runtime::Descriptor;
#include "hostile_descriptors.inc"
}  // namespace hostile

}  // namespace

TEST(RuntimeDescriptors, the_compiled_table_is_every_file_in_name_order_field_for_field) {
  const auto files = descriptor_files();
  ASSERT_GE(files.size(), 6u) << "bun, deno, go, node, python, quickjs at least";
  ASSERT_EQ(descriptors().size(), files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    auto text = ignite::sys::read_file(files[i]);
    ASSERT_TRUE(text) << files[i];
    auto parsed = parse_descriptor(*text);
    ASSERT_TRUE(parsed) << files[i] << ": " << parsed.error().message;
    EXPECT_EQ(descriptors()[i].name, parsed->name) << files[i];
    EXPECT_TRUE(descriptors()[i] == *parsed) << files[i] << " differs from its compiled entry";
    EXPECT_EQ(find_descriptor(parsed->name), &descriptors()[i]);
  }
  // Fields the comparison must have seen, non-empty in the files today.
  const Descriptor* py = find_descriptor("python");
  ASSERT_NE(py, nullptr);
  EXPECT_EQ(py->args, (std::vector<std::string>{"-E", "-s"}));
  EXPECT_EQ(py->profiles.at("datascience").baseline_mb, 120);
  EXPECT_EQ(find_descriptor("go")->system_goroot, true);
  EXPECT_EQ(find_descriptor("nope"), nullptr);
}

TEST(RuntimeDescriptors, a_document_missing_a_required_field_is_refused_naming_it) {
  auto none = parse_descriptor(R"({"name": "x"})");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("needs store or system"), std::string::npos);
  auto bad = parse_descriptor(R"({"description": "no name", "system": {"binary": "x"}})");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("name"), std::string::npos) << bad.error().message;
}

TEST(RuntimeDescriptors, strings_with_quotes_backslashes_nul_trigraphs_and_non_ascii_survive_the_generator) {
  auto text = ignite::sys::read_file(IGNITE_HOSTILE_DESCRIPTOR);
  ASSERT_TRUE(text);
  auto parsed = parse_descriptor(*text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  const auto table = hostile::generated_descriptors();
  ASSERT_EQ(table.size(), 1u);
  EXPECT_TRUE(table[0] == *parsed);
  // What the comparison covers: an embedded NUL and what follows it, a quote and a newline.
  EXPECT_EQ(table[0].default_entry, std::string("\xc3\xbf\0after-nul", 12));
  EXPECT_EQ(table[0].name, "hostile\"\\?\?=\n\x01\xc3\xa9");
  EXPECT_EQ(table[0].profiles.at("p\"q").description, std::string(1, '\0'));
  EXPECT_EQ(table[0].baseline_mb, 0.1);
}

// `ignite run` / `ignite exec` refuse, early and clearly, what would otherwise fail late or
// hurt the host (issue 9): unbounded @FILE arguments (finding 24), CPU limits the kernel
// refuses (finding 25), services expanding Ignite's own secrets (finding 6).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "../common/temp_tree.hpp"
#include "cli_helpers.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kExample = std::string(IGNITE_SOURCE_DIR) + "/examples/data-processor";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A service directory the sandbox user can read.
fs::path python_service(const TempTree& tree, const std::string& extra, const std::string& code) {
  tree.write("svc/service.yaml",
             "service:\n  name: bounds\n  runtime: python\n  entry: main.py\n"
             "  memoryMb: 64\n  timeoutMs: 5000\n" +
                 extra);
  tree.write("svc/main.py", code);
  fs::permissions(tree.path(),
                  fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  return tree.path() / "svc";
}

// ---- finding 24 --------------------------------------------------------------------------------

TEST(CliBounds, at_file_arguments_are_bounded_at_16_mib) {
  TempTree tree("ignite-e2e-bounds-");
  // Sparse: 17 MiB of zeros on disk cost nothing.
  const fs::path big = tree.write("big.bin", "");
  fs::resize_file(big, 17u << 20);
  const std::string limit = ": larger than 16777216 bytes (the limit for @FILE arguments)";
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {{"run", kExample, "--input", "@" + big.string()}, "--input: " + big.string() + limit},
      {{"run", kExample, "--input", "@/dev/zero"}, "--input: /dev/zero" + limit},
      {{"exec", "--runtime", "python", "--code", "print(1)", "--input", "@/dev/zero"},
       "--input: /dev/zero" + limit},
      {{"exec", "--runtime", "python", "--code", "print(1)", "--stdin", "@/dev/zero"},
       "--stdin: /dev/zero" + limit},
      {{"exec", "--runtime", "python", "--code", "print(1)", "--stdin", "@" + big.string()},
       "--stdin: " + big.string() + limit},
      {{"exec", "--runtime", "python", "/dev/zero"}, "program file: /dev/zero" + limit},
  };
  for (const Case& c : cases) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = run_cli(c.args);
    EXPECT_EQ(r.exit_code, 125) << c.args[0] << " " << c.args.back() << ": " << r.err;
    EXPECT_TRUE(contains(r.err, "ignite: " + c.expect)) << r.err;
    EXPECT_FALSE(contains(r.err, "bad_alloc")) << r.err;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
  }
  // Under the limit the file is read and judged as before.
  const fs::path input = tree.write("input.json", "{not json");
  auto small = run_cli({"run", kExample, "--input", "@" + input.string()});
  EXPECT_EQ(small.exit_code, 125);
  EXPECT_TRUE(contains(small.err, "ignite: --input is not valid JSON")) << small.err;
}

// ---- finding 25 --------------------------------------------------------------------------------

TEST(CliBounds, a_cpu_limit_the_kernel_refuses_is_exit_125_naming_file_line_and_key) {
  TempTree tree("ignite-e2e-bounds-");
  const fs::path svc = python_service(tree, "  cpuLimit: 0.001\n", "print('ran')\n");
  auto r = run_cli({"run", svc.string()});
  EXPECT_EQ(r.exit_code, 125) << r.err;
  EXPECT_TRUE(contains(r.err,
                       "service.yaml:7: service.cpuLimit: must be between 0.01 and 64 (the "
                       "kernel's smallest CPU quota is 1 ms per 100 ms), got 0.001"))
      << r.err;
  EXPECT_EQ(r.out, "");
}

// ---- finding 6 ---------------------------------------------------------------------------------

TEST(CliBounds, a_service_cannot_expand_ignites_own_variables) {
  TempTree tree("ignite-e2e-bounds-");
  const fs::path svc = python_service(tree, "  env:\n    X: \"${IGNITE_API_KEY}\"\n",
                                      "import os\nprint('X=' + os.environ.get('X', ''))\n");
  const std::string key = "k-cli-e2e-" + std::to_string(::getpid());
  auto r = run_cli({"run", svc.string()}, {"IGNITE_API_KEY=" + key});
  EXPECT_EQ(r.exit_code, 125) << r.out << r.err;
  EXPECT_TRUE(contains(r.err,
                       "service.yaml:8: service.env.X: ${IGNITE_API_KEY}: IGNITE_* "
                       "variables are Ignite's own and cannot be expanded"))
      << r.err;
  EXPECT_FALSE(contains(r.out + r.err, key));
}

}  // namespace
}  // namespace ignite::testing

// Host-side glue: the code that handles a service directory on the host (config loading,
// preflight, mounting, cleanup) must never follow what the untrusted side planted there.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>

#include "config/service_config.hpp"
#include "engine/engine.hpp"
#include "runtime/catalog.hpp"
#include "sandbox_fixture.hpp"
#include "sys/files.hpp"

namespace ignite::security {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class HostGlue : public SandboxTest {
 protected:
  // A python service dir under work() with main.py = `code`.
  fs::path service(const std::string& name, const std::string& code,
                   const std::string& entry = "main.py") {
    const fs::path dir = work() / name;
    fs::create_directories(dir);
    EXPECT_TRUE(sys::write_new_file(dir / "main.py", code).has_value());
    EXPECT_TRUE(sys::write_new_file(dir / "service.yaml",
                                    "service:\n  name: " + name + "\n  runtime: python\n"
                                    "  entry: " + entry + "\n  memoryMb: 96\n  timeoutMs: 10000\n")
                    .has_value());
    return dir;
  }

  // The engine's own dirs (a program's /out lands there) in this test's, which a rootless run
  // can write too, unlike /run/ignite.
  engine::EngineConfig engine_config() const {
    engine::EngineConfig c;
    c.work_root = work() / "engine";
    return c;
  }

  Result<engine::JobReport> execute(const fs::path& dir, bool skip_preflight = true) {
    IGNITE_TRY_ASSIGN(config::ServiceConfig svc, config::load_service(dir, config::process_env()));
    engine::Engine engine(backend(), runtime::Catalog(runtime::default_roots()), engine_config());
    engine::JobRequest request{svc, std::nullopt, skip_preflight, ""};  // the engine's backend: this case's
    return engine.execute(request, {});
  }
};

INSTANTIATE_TEST_SUITE_P(, HostGlue, ::testing::ValuesIn(backend_cases()),
                         backend_name);

constexpr const char* kReadSecret =
    "try:\n    print(open('/app/secret').read())\nexcept OSError as e:\n    print(type(e).__name__)\n";

TEST_P(HostGlue, a_symlink_to_a_host_secret_in_the_service_reads_nothing) {
  // A host file only root can read, linked from the service dir.
  const fs::path secret = work() / "host-secret";
  ASSERT_TRUE(sys::write_new_file(secret, token(), 0600).has_value());
  auto dir = service("link-secret", kReadSecret);
  fs::create_symlink(secret, dir / "secret");
  auto report = execute(dir);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_FALSE(contains(report->result.stdout_data, token()));
  EXPECT_EQ(report->result.stdout_data, "FileNotFoundError\n") << report->result.stderr_data;
}

TEST_P(HostGlue, a_symlink_to_etc_shadow_in_the_service_reads_nothing) {
  auto dir = service("link-shadow", kReadSecret);
  fs::create_symlink("/etc/shadow", dir / "secret");
  auto report = execute(dir);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->result.stdout_data, "FileNotFoundError\n") << report->result.stderr_data;
}

TEST_P(HostGlue, a_symlink_to_the_host_root_in_the_service_exposes_nothing) {
  auto dir = service("link-root", "import os\nprint(sorted(os.listdir('/app/hostroot')))\n");
  fs::create_symlink("/", dir / "hostroot");
  auto report = execute(dir);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  const auto& out = report->result.stdout_data;
  // It resolves inside the sandbox, to the sandbox's own root.
  EXPECT_TRUE(contains(out, "'app'")) << out << report->result.stderr_data;
  for (const char* host_only : {"'root'", "'home'", "'work'", "'var'", "'boot'"})
    EXPECT_FALSE(contains(out, host_only)) << out;
}

TEST_P(HostGlue, an_entry_symlink_pointing_outside_is_refused) {
  auto dir = service("entry-link", "print('never')\n", "run.py");
  fs::create_symlink("/etc/passwd", dir / "run.py");
  auto report = execute(dir);
  ASSERT_FALSE(report.has_value());
  EXPECT_TRUE(contains(report.error().message, "outside the service directory"))
      << report.error().message;
}

TEST_P(HostGlue, an_entry_with_dotdot_is_refused) {
  auto dir = service("entry-dotdot", "print('never')\n", "../main.py");
  auto report = execute(dir);
  ASSERT_FALSE(report.has_value());
  EXPECT_TRUE(contains(report.error().message, "'..'")) << report.error().message;
}

TEST_P(HostGlue, an_entry_with_a_nul_byte_is_refused) {
  auto dir = service("entry-nul", "print('never')\n", "\"main.py\\0.txt\"");
  auto report = execute(dir);
  ASSERT_FALSE(report.has_value());
  EXPECT_TRUE(contains(report.error().message, "NUL")) << report.error().message;
}

TEST_P(HostGlue, an_entry_swapped_for_a_symlink_after_validation_reads_nothing) {
  // Time of check vs time of use: the entry is validated, then replaced by a link to a host
  // secret. The program runs through the sandbox's /app mount, so the link resolves inside.
  const fs::path secret = work() / "swap-secret";
  ASSERT_TRUE(sys::write_new_file(secret, "print('" + token() + "')\n", 0644).has_value());
  auto dir = service("entry-swap", "print('original')\n");
  auto svc = config::load_service(dir, config::process_env());
  ASSERT_TRUE(svc.has_value()) << svc.error().message;
  fs::remove(dir / "main.py");
  fs::create_symlink(secret, dir / "main.py");
  engine::Engine engine(backend(), runtime::Catalog(runtime::default_roots()), engine_config());
  auto report = engine.execute({*svc, std::nullopt, true, ""}, {});
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_FALSE(contains(report->result.stdout_data, token()));
  EXPECT_NE(report->result.exit_code, 0);
}

TEST_P(HostGlue, a_dependency_dir_linked_to_the_host_root_is_not_walked_by_preflight) {
  auto dir = service("deps-link", "print('ok')\n");
  fs::create_symlink("/", dir / "node_modules");
  const auto t0 = std::chrono::steady_clock::now();
  auto report = execute(dir, /*skip_preflight=*/false);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);  // the whole host was not measured
  EXPECT_EQ(report->result.stdout_data, "ok\n");
  ASSERT_TRUE(report->preflight.has_value());
  for (const auto& check : report->preflight->checks) {
    if (contains(check.name, "Image") || contains(check.name, "image")) {
      EXPECT_LT(check.value, 1024.0) << check.message;  // MB: the runtime, not the host disk
    }
  }
}

TEST_P(HostGlue, the_service_directory_is_read_only_inside) {
  auto dir = service("read-only",
                     "try:\n    open('/app/planted', 'w')\n    print('written')\n"
                     "except OSError as e:\n    print(e.strerror)\n");
  auto report = execute(dir);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->result.stdout_data, "Read-only file system\n");
  EXPECT_FALSE(fs::exists(dir / "planted"));
}

TEST_P(HostGlue, symlinks_planted_inside_are_not_followed_at_cleanup) {
  // The program plants links to host paths wherever it can write; cleanup must not follow
  // them (a recursive delete through a link would wipe the host target).
  const fs::path canary = work() / "canary";
  fs::create_directories(canary);
  ASSERT_TRUE(sys::write_new_file(canary / "keep", "keep").has_value());
  auto r = run(probe({"symlink", canary.string(), "/tmp/to-canary"}));
  EXPECT_EQ(r.stdout_data, "linked\n");
  auto root = run(probe({"symlink", canary.string(), "/planted"}));
  EXPECT_EQ(root.stdout_data, "symlink: Read-only file system\n");
  EXPECT_TRUE(fs::exists(canary / "keep"));
  EXPECT_EQ(host::dir_entries(scratch()), 0);
}

// The same promise through the CLI, as a user runs it.
TEST_P(HostGlue, ignite_run_on_a_service_with_planted_symlinks_leaks_nothing) {
  const fs::path secret = work() / "cli-secret";
  ASSERT_TRUE(sys::write_new_file(secret, token(), 0600).has_value());
  auto dir = service("cli-links", kReadSecret);
  fs::create_symlink(secret, dir / "secret");
  fs::create_symlink("/", dir / "node_modules");
  std::string cmd = std::string(IGNITE_BIN) + " run " + dir.string() + " --json" +
                    (rootless() ? " --allow-degraded" : "") + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  std::array<char, 4096> buf{};
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  int status = ::pclose(p);
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_FALSE(contains(out, token())) << out;
  EXPECT_TRUE(contains(out, "FileNotFoundError")) << out;
}

}  // namespace
}  // namespace ignite::security

// The security suite's fixture: one backend per parameter (native today; docker/microvm reuse
// every test by adding a BackendCase), probe and Python specs, and host-side observers.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "sandbox/backend.hpp"

namespace ignite::security {

struct BackendCase {
  std::string name;
  // Builds the backend with its per-run scratch area under `scratch`. `rootless` is true when
  // the suite does not run as root: the backend must then accept degraded isolation.
  std::function<Result<std::unique_ptr<sandbox::Backend>>(const std::filesystem::path& scratch,
                                                          bool rootless)>
      make;
};

std::vector<BackendCase> backend_cases();
inline void PrintTo(const BackendCase& c, std::ostream* os) { *os << c.name; }
// The test-name suffix of a backend case ("native").
std::string backend_name(const ::testing::TestParamInfo<BackendCase>& param);

class SandboxTest : public ::testing::TestWithParam<BackendCase> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Skips (with the reason printed) when this run has no cgroup: rootless or degraded mode.
  // Returns true when the caller must return.
  bool skip_without_cgroup(const char* promise);
  bool rootless() const { return rootless_; }
  // Whether runs get a cgroup. Rootless runs are degraded (one uid) yet have one where a v2
  // subtree is delegated: only the memory degradation says the cgroup is missing.
  bool has_cgroup() const;
  // The program runs in a container (docker, docker_warm): where a promise is kept differently
  // there, the test says how (docs/backends.md lists each difference).
  bool containers() const { return GetParam().name.rfind("docker", 0) == 0; }
  // The program runs in a microVM (microvm, microvm_warm): under TCG here, and where a promise
  // is kept differently in a guest, the test says how (docs/microvm-status.md).
  bool vm() const { return GetParam().name.rfind("microvm", 0) == 0; }

  // /probe args... with modest limits; `token()` is unique to this test.
  SandboxSpec probe(std::vector<std::string> args) const;
  // python3 -c-like: `code` as /app/main.py of a fresh service dir, run like a service.
  SandboxSpec python(const std::string& code);
  // The same for another runtime: `code` as /app/<entry>, run with `runtime` (e.g. "node").
  SandboxSpec script(const std::string& runtime, const std::string& entry, const std::string& code,
                     unsigned memory_mb = 96);
  ExecutionResult run(const SandboxSpec& spec, const sandbox::OutputSink& sink = {});
  Result<ExecutionResult> try_run(const SandboxSpec& spec, std::stop_token stop = {},
                                  const sandbox::OutputSink& sink = {});

  const std::string& token() const { return token_; }
  std::filesystem::path scratch() const { return scratch_; }
  std::filesystem::path work() const { return work_; }  // a host dir for this test's files
  sandbox::Backend& backend() { return *backend_; }

 private:
  std::unique_ptr<sandbox::Backend> backend_;
  std::filesystem::path scratch_, work_;
  std::string token_;
  bool rootless_ = false;
  std::vector<std::string> degradations_;
};

// Host-side observers, independent of the backend.
namespace host {

// Host pids whose command line contains `token` (a probe left behind by a run).
std::vector<int> processes_with(const std::string& token);
// Number of entries of /proc/self/mountinfo, of /proc/self/fd, and of directories in `dir`.
long mount_count();
long open_fd_count();
long dir_entries(const std::filesystem::path& dir);

// A TCP listener on 127.0.0.1 (ephemeral port), closed on destruction.
class Listener {
 public:
  Listener();
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  std::string port() const { return std::to_string(port_); }
  bool was_contacted() const;  // a connection is waiting to be accepted (non-blocking check)

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A non-loopback IPv4 address of this host, or "" when it has none.
std::string primary_address();

}  // namespace host

// Lines of `text` (without the newline).
std::vector<std::string> lines(const std::string& text);
bool contains(const std::string& text, const std::string& part);

}  // namespace ignite::security

// Declares a test suite over every backend case: IGNITE_SECURITY_SUITE(Resources) then
// TEST_P(Resources, fork_bomb_is_contained_by_pids_limit) { ... }.
#define IGNITE_SECURITY_SUITE(Suite)                                                        \
  class Suite : public ::ignite::security::SandboxTest {};                                  \
  INSTANTIATE_TEST_SUITE_P(, Suite, ::testing::ValuesIn(::ignite::security::backend_cases()), \
                           ::ignite::security::backend_name)

// Skips the test (reason printed) on backends that run no build or install step (docker: those
// steps, with their seeded output dir and egress proxy, always run on the native backend).
#define IGNITE_REQUIRE_BUILD_STEPS()                                                                  \
  do {                                                                                               \
    if (containers() || vm())                                                                        \
      GTEST_SKIP() << GetParam().name << " runs programs only: build and install steps (seeded "      \
                   << "output dir, egress proxy) run on the native backend, where this is checked"; \
  } while (0)

// Skips the test (reason printed) when the run has no cgroup.
#define IGNITE_REQUIRE_CGROUP(promise) \
  do {                                 \
    if (skip_without_cgroup(promise)) return; \
  } while (0)

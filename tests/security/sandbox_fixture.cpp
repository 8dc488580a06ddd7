#include "sandbox_fixture.hpp"

#include <algorithm>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>

#include "../common/docker_backend.hpp"
#include "../common/host_processes.hpp"
#include "../common/loopback_listener.hpp"
#include "../common/probe_spec.hpp"
#include "config/service_config.hpp"
#include "engine/engine.hpp"
#include "runtime/catalog.hpp"
#include "sandbox/microvm/microvm_backend.hpp"
#include "sandbox/native/native_backend.hpp"
#include "sys/files.hpp"
#include "sys/temp_dir.hpp"
#include "warm_backend.hpp"

namespace ignite::security {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::atomic<int> g_counter{0};

Result<std::unique_ptr<sandbox::Backend>> make_native(const fs::path& scratch, bool rootless) {
  sandbox::native::NativeConfig cfg;
  cfg.scratch_root = scratch;
  // Rootless: no cgroup delegation, so the operator's explicit opt-in is needed.
  cfg.allow_degraded = rootless;
  return sandbox::native::make_native_backend(cfg);
}

Result<std::unique_ptr<sandbox::Backend>> make_docker(const fs::path& scratch, bool rootless) {
  if (rootless) return fail(ErrorCode::unsupported, "the docker backend needs root (its daemon is root's)");
  return testing::make_test_docker_backend(scratch);
}

// The microvm case: one backend for the whole suite, restoring every test's VMs from templates of
// their shape (a boot per shape for the suite, then ~0.15 s per VM under TCG instead of ~1 s).
// Its VM dirs are under one scratch dir of the process, not the test's (MicroVmSlot removes each
// with its VM; MicroVmTemplates.a_hundred_runs… proves it): the tests that count the entries of
// their own scratch dir see nothing there on this case.
class BorrowedBackend final : public sandbox::Backend {
 public:
  explicit BorrowedBackend(sandbox::Backend& inner) : inner_(inner) {}
  std::string_view name() const noexcept override { return inner_.name(); }
  Result<std::unique_ptr<sandbox::Slot>> start(const SandboxSpec& spec) override { return inner_.start(spec); }

 private:
  sandbox::Backend& inner_;
};

Result<std::unique_ptr<sandbox::Backend>> make_microvm(const fs::path&, bool rootless) {
  if (rootless)
    return fail(ErrorCode::unsupported,
                "the microvm backend needs root (QEMU's share is assembled in a mount namespace of its own)");
  // The backend (its templates), then its scratch dir, go when the process ends (members are
  // destroyed in reverse order).
  struct Shared {
    std::optional<sys::TempDir> scratch;
    std::unique_ptr<sandbox::Backend> backend;
  };
  static std::mutex mu;
  static Shared shared;
  std::lock_guard lock(mu);
  if (!shared.backend) {
    if (!std::getenv("IGNITE_GUEST_AGENT")) ::setenv("IGNITE_GUEST_AGENT", IGNITE_GUEST_AGENT, 1);
    if (!shared.scratch) {
      IGNITE_TRY_ASSIGN(sys::TempDir scratch, sys::TempDir::create(fs::temp_directory_path(), "ignite-sec-microvm-"));
      shared.scratch.emplace(std::move(scratch));
    }
    IGNITE_TRY_ASSIGN(auto config, sandbox::microvm::detect_microvm_config(shared.scratch->path()));
    config.templates = true;
    IGNITE_TRY_ASSIGN(shared.backend, sandbox::microvm::make_microvm_backend(std::move(config)));
  }
  return std::unique_ptr<sandbox::Backend>(std::make_unique<BorrowedBackend>(*shared.backend));
}

}  // namespace

std::vector<BackendCase> backend_cases() {
  return {{"native", make_native},
          // Pooled execution: the same promises hold for a program handed to a slot that was
          // started before it (warm_backend.hpp).
          {"native_warm", [](const fs::path& scratch, bool rootless) -> Result<std::unique_ptr<sandbox::Backend>> {
             IGNITE_TRY_ASSIGN(auto native, make_native(scratch, rootless));
             return make_warm_backend(std::move(native), IGNITE_WARM_EXEC);
           }},
          // The same promises in containers (docker_backend.hpp), cold and warm.
          {"docker", make_docker},
          {"docker_warm", [](const fs::path& scratch, bool rootless) -> Result<std::unique_ptr<sandbox::Backend>> {
             IGNITE_TRY_ASSIGN(auto docker, make_docker(scratch, rootless));
             return make_warm_backend(std::move(docker), IGNITE_WARM_EXEC);
           }},
          // A guest kernel in between (microvm_backend.hpp): QEMU under TCG here, cold and warm
          // (the program handed to a VM whose bootstrap was started before it).
          {"microvm", make_microvm},
          {"microvm_warm", [](const fs::path& scratch, bool rootless) -> Result<std::unique_ptr<sandbox::Backend>> {
             IGNITE_TRY_ASSIGN(auto vm, make_microvm(scratch, rootless));
             return make_warm_backend(std::move(vm), IGNITE_WARM_EXEC);
           }}};
}


std::string backend_name(const ::testing::TestParamInfo<BackendCase>& param) {
  return param.param.name;
}

void SandboxTest::SetUp() {
  rootless_ = ::geteuid() != 0;
  const std::string id = std::to_string(::getpid()) + "-" + std::to_string(g_counter++);
  token_ = "ignite-sec-token-" + id;
  scratch_ = fs::temp_directory_path() / ("ignite-sec-scratch-" + id);
  work_ = fs::temp_directory_path() / ("ignite-sec-work-" + id);
  fs::create_directories(work_);
  fs::permissions(work_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  auto b = GetParam().make(scratch_, rootless_);
  if (!b) GTEST_SKIP() << GetParam().name << " backend unavailable here: " << b.error().message;
  backend_ = std::move(*b);
  // Whether this host gives full isolation: a trivial run says (degradations are per result).
  auto probe_run = try_run(probe({"exit", "0"}));
  ASSERT_TRUE(probe_run.has_value()) << probe_run.error().message;
  degradations_ = probe_run->degradations;
}

void SandboxTest::TearDown() {
  backend_.reset();
  std::error_code ec;
  // A program's /out comes back read-only (Boundary.the_output_dir_leaves_as_plain_read_only_…):
  // its dirs are made writable again first, or an unprivileged suite (rootless) cannot empty them
  // and leaves the test's dir in /tmp.
  for (auto it = fs::recursive_directory_iterator(work_, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->is_directory(ec) && !it->is_symlink(ec))
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
  fs::remove_all(work_, ec);
  fs::remove_all(scratch_, ec);
}

bool SandboxTest::has_cgroup() const {
  return std::none_of(degradations_.begin(), degradations_.end(),
                      [](const std::string& d) { return d.rfind("memory:", 0) == 0; });
}

bool SandboxTest::skip_without_cgroup(const char* promise) {
  if (has_cgroup()) return false;
  // GTEST_SKIP returns from the enclosing function, which must be void.
  [&] {
    GTEST_SKIP() << "'" << promise << "' needs a cgroup; this run has none ("
                 << (rootless_ ? "rootless: no delegated cgroup" : "degraded isolation")
                 << ", see `ignite doctor`)";
  }();
  return true;
}

SandboxSpec SandboxTest::probe(std::vector<std::string> args) const {
  return testing::probe_spec(std::move(args));
}

SandboxSpec SandboxTest::python(const std::string& code) { return script("python", "main.py", code); }

SandboxSpec SandboxTest::script(const std::string& runtime, const std::string& entry,
                                const std::string& code, unsigned memory_mb) {
  const fs::path dir = work_ / (runtime + "-" + std::to_string(g_counter++));
  fs::create_directories(dir);
  EXPECT_TRUE(sys::write_new_file(dir / entry, code).has_value());
  EXPECT_TRUE(sys::write_new_file(dir / "service.yaml",
                                  "service:\n  name: sec-" + runtime + "\n  runtime: " + runtime +
                                      "\n  entry: " + entry + "\n  memoryMb: " +
                                      std::to_string(memory_mb) + "\n  timeoutMs: 10000\n")
                  .has_value());
  auto service = config::load_service(dir, config::process_env());
  if (!service) ADD_FAILURE() << service.error().message;
  auto rt = runtime::Catalog(runtime::default_roots()).resolve({runtime, ""});
  if (!rt || !service) {
    ADD_FAILURE() << runtime << " runtime: " << (rt ? "" : rt.error().message);
    return probe({"exit", "99"});
  }
  auto spec = engine::plan_service_run(*service, *rt, std::nullopt);
  spec.limits.max_processes = 32;
  return spec;
}

Result<ExecutionResult> SandboxTest::try_run(const SandboxSpec& spec, std::stop_token stop,
                                             const sandbox::OutputSink& sink) {
  return backend_->run(spec, stop, sink);
}

ExecutionResult SandboxTest::run(const SandboxSpec& spec, const sandbox::OutputSink& sink) {
  auto r = try_run(spec, {}, sink);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? std::move(*r) : ExecutionResult{};
}

namespace host {

std::vector<int> processes_with(const std::string& token) {
  return testing::host_processes_with(token);
}

long mount_count() {
  std::ifstream in("/proc/self/mountinfo");
  return std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n');
}

long open_fd_count() {
  return std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator());
}

long dir_entries(const fs::path& dir) {
  std::error_code ec;
  long n = 0;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); ++it) ++n;
  return n;
}

Listener::Listener() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_ANY);  // loopback and every host address
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0)
    ADD_FAILURE() << "listener: " << std::strerror(errno);
  socklen_t len = sizeof a;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
}

Listener::~Listener() {
  if (fd_ >= 0) ::close(fd_);
}

bool Listener::was_contacted() const {
  int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (c < 0) return false;
  ::close(c);
  return true;
}

std::string primary_address() { return ::ignite::testing::host_primary_address(); }

}  // namespace host

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace ignite::security

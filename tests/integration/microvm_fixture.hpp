// The microvm backend's test fixture: a backend of the test's own (its scratch dir, no machine
// cache), booting real QEMU microVMs, and a python service spec. Skips, with the reason, where
// QEMU, the guest kernel (scripts/guest-kernel) or the agent is missing.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../common/host_processes.hpp"
#include "../common/python_service.hpp"
#include "engine/output_files.hpp"
#include "sandbox/microvm/microvm_backend.hpp"

namespace ignite {

class MicroVm : public ::testing::Test {
 protected:
  void SetUp() override {
    scratch_ = std::filesystem::temp_directory_path() / ("ignite-microvm-test-" + std::to_string(::getpid()));
    work_ = scratch_.string() + "-work";
    std::filesystem::create_directories(work_);
    std::filesystem::permissions(work_, std::filesystem::perms::owner_all | std::filesystem::perms::group_exec | std::filesystem::perms::others_exec);
    if (!std::getenv("IGNITE_GUEST_AGENT")) ::setenv("IGNITE_GUEST_AGENT", IGNITE_GUEST_AGENT, 1);
    if (!vmm_.empty()) ::setenv("IGNITE_VMM", vmm_.c_str(), 1);
    auto config = sandbox::microvm::detect_microvm_config(scratch_);
    if (!vmm_.empty()) ::unsetenv("IGNITE_VMM");
    if (!config) GTEST_SKIP() << config.error().message;
    if (share_disks_ && config->mksquashfs.empty()) GTEST_SKIP() << "mksquashfs is not installed (squashfs-tools)";
    config->templates = templates_;
    config->share_disks = share_disks_;
    // Never the machine's cache: a disk of its own per test, or none (each VM copies the runtime).
    config->runtime_disks.dir = runtime_disk_ ? work_ / "runtime-disks" : std::filesystem::path();
    if (runtime_disk_ && config->runtime_disks.sqfstar.empty()) GTEST_SKIP() << "sqfstar is not installed (squashfs-tools)";
    config_ = *config;
    auto b = sandbox::microvm::make_microvm_backend(std::move(*config));
    ASSERT_TRUE(b.has_value()) << b.error().message;
    backend_ = std::move(*b);
  }
  void TearDown() override {
    backend_.reset();
    std::error_code ec;
    std::filesystem::remove_all(work_, ec);
    std::filesystem::remove_all(scratch_, ec);
  }

  // The dir and its files world-readable: the guest's 9p server reads them (QEMU is root now,
  // but the program's uid must be able to, as on native).
  SandboxSpec python(const std::string& code, unsigned memory_mb = 64, unsigned timeout_ms = 20000) {
    const std::filesystem::path dir = work_ / ("svc-" + std::to_string(counter_++));
    auto spec = testing::python_service_spec(dir, "vm", code, memory_mb, timeout_ms);
    std::filesystem::permissions(dir / "main.py", std::filesystem::perms::others_read | std::filesystem::perms::group_read, std::filesystem::perm_options::add);
    std::filesystem::permissions(dir, std::filesystem::perms::others_read | std::filesystem::perms::others_exec, std::filesystem::perm_options::add);
    return spec;
  }

  ExecutionResult run_ok(const SandboxSpec& spec, std::stop_token stop = {}) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = backend_->run(spec, stop, {});
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    std::cout << "[ microvm  ] boot " << (r ? r->setup.count() / 1000 : 0) << " ms, run "
              << (r ? r->usage.wall.count() / 1000 : 0) << " ms, total "
              << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count()
              << " ms\n";
    return r ? *r : ExecutionResult{};
  }

  // The program's /out as the engine asks for it (lenient, its bounds), landing in a fresh dir.
  SandboxSpec with_output(SandboxSpec spec, const std::filesystem::path& dest) {
    std::filesystem::create_directories(dest);
    engine::add_program_output(spec);
    spec.output->host_dest = dest;
    return spec;
  }

  static std::string read_bytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  // Processes whose command line names our scratch dir (QEMU's does: its socket, its initramfs).
  std::vector<int> our_processes() const {
    return testing::host_processes_with(scratch_.string() + "/");
  }

  void expect_nothing_left() {
    EXPECT_TRUE(our_processes().empty()) << "a QEMU process outlived its slot";
    std::error_code ec;
    EXPECT_TRUE(!std::filesystem::exists(scratch_, ec) || std::filesystem::is_empty(scratch_, ec)) << "a VM's dir (socket, initramfs) was left";
  }

  std::filesystem::path scratch_, work_;
  std::unique_ptr<sandbox::Backend> backend_;
  std::optional<sandbox::microvm::MicroVmConfig> config_;  // what backend_ was made from
  int counter_ = 0;
  bool templates_ = false;
  bool share_disks_ = false;
  bool runtime_disk_ = false;
  std::string vmm_;  // IGNITE_VMM while the backend is detected; empty: the host's choice
};

// VMs on Debian's stock cloud kernel (scripts/guest-kernel --debian), its drivers loaded from
// the initramfs by the agent, the share on disks (it has no 9p). Skips where it is not fetched.
class MicroVmStockKernel : public MicroVm {
 protected:
  MicroVmStockKernel() { runtime_disk_ = true; }  // else each VM copies the runtime onto its disk
  void SetUp() override {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(sandbox::microvm::guest_cache_dir(), ec))
      if (e.path().filename().string().rfind("debian-", 0) == 0 && std::filesystem::exists(e.path() / "vmlinuz"))
        kernel_ = e.path() / "vmlinuz";
    if (kernel_.empty()) GTEST_SKIP() << "Debian's cloud kernel is not fetched (scripts/guest-kernel --debian)";
    ::setenv("IGNITE_GUEST_KERNEL", kernel_.c_str(), 1);
    MicroVm::SetUp();
    ::unsetenv("IGNITE_GUEST_KERNEL");
  }
  std::filesystem::path kernel_;
};

class MicroVmTemplates : public MicroVm {
 protected:
  MicroVmTemplates() { templates_ = true; }
  // The template dirs under the scratch dir (one per VM shape).
  std::vector<std::filesystem::path> templates() const {
    std::vector<std::filesystem::path> found;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(scratch_, ec))
      if (e.path().filename().string().rfind("template-", 0) == 0) found.push_back(e.path());
    return found;
  }
  // The template's RAM: the memfd the backend holds, as /proc/self/fd/N (empty: none).
  static std::filesystem::path template_ram() {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd", ec))
      if (std::filesystem::read_symlink(e.path(), ec).string().rfind("/memfd:ignite-template-ram", 0) == 0) return e.path();
    return {};
  }
  // The template goes with the backend; then nothing may be left.
  void expect_nothing_left_after_the_backend() {
    backend_.reset();
    expect_nothing_left();
  }
};

}  // namespace ignite

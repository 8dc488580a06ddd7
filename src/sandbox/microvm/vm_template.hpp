// VM templates: a guest booted once, to the point where its agent has said hello and waits for
// a job, then stopped and saved; every later VM of the same shape (memory, vCPUs) is a clone
// restored from it instead of a boot. Measured on this kind of machine under TCG
// (shared/notes/microvm-on-this-machine.md §7): a clone runs ~30 ms after QEMU's spawn and its
// agent answers within ~0.15 s, against 1-3 s for a boot.
//
// How: the template's RAM lives in a memfd (memory-backend-file on /proc/self/fd/N, share=on)
// and QEMU saves only the device state (the x-ignore-shared capability skips the RAM). Then the
// memfd is sealed against writes, and a clone maps it privately (share=off): copy-on-write, so
// nothing a clone does reaches the template or another clone. Each clone's QEMU is jailed
// (vmm_jail.hpp) with a uid of its own; the memfd reaches it as a descriptor. The state travels over file descriptors we pass on QMP (fd: URIs), so QEMU's own
// seccomp filter (spawn=deny) holds: no helper process reads or writes it.
//
// Security: every clone resumes the template's kernel state, its RNG and clock included. The
// agent mixes a fresh seed from the host into the guest's pool, forces a CRNG reseed and sets
// the clock before anything of the job runs (guest/protocol.hpp: JobMessage::seed). What stays
// common to the clones of one template is what a boot fixes once: the guest kernel's KASLR
// offsets and /proc/sys/kernel/random/boot_id. A program that learns them in one clone learns
// nothing of the host, and each VM is single use.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/result.hpp"
#include "sandbox/microvm/vm_image.hpp"
#include "sandbox/microvm/vmm_jail.hpp"
#include "sandbox/microvm/vmm_process.hpp"
#include "sys/child_process.hpp"
#include "sys/fd.hpp"
#include "sys/temp_dir.hpp"

namespace ignite::sandbox::microvm {

// A restored clone, running: its QEMU and the agent's channel (the agent waits for its job; it
// sent its hello to the template's host, so the clone's host gets none).
struct RestoredVm {
  sys::ChildProcess qemu;
  sys::Fd channel;
};

class VmTemplate {
 public:
  // Boots `base` (kernel, the initramfs at base.initramfs inside `dir`, memory, vCPUs) in `jail`
  // (made for `dir`) with its RAM in a memfd, waits for the agent's hello, and saves the device
  // state to <dir>/state. QEMU and its jail are gone when this returns; `dir` (the state) and
  // the sealed RAM are the template's from then on.
  static Result<std::unique_ptr<VmTemplate>> make(VmPlan base, sys::TempDir dir, VmmJail jail, Deadline deadline);

  std::uint64_t memory_mib() const noexcept { return base_.memory_mib; }
  unsigned cpus() const noexcept { return base_.cpus; }
  int ram() const noexcept { return ram_.get(); }
  std::filesystem::path state() const { return dir_.path() / "state"; }

  // A clone in the VM dir `plan` names (socket, console, share, qmp), its QEMU in `jail`: the
  // template's kernel, initramfs, memory and vCPUs, its RAM mapped copy-on-write, restored and
  // running.
  Result<RestoredVm> restore(VmPlan plan, const std::vector<ShareEntry>& share, VmmJail& jail, Deadline deadline) const;

 private:
  VmTemplate(VmPlan base, sys::TempDir dir, sys::Fd ram)
      : base_(std::move(base)), dir_(std::move(dir)), ram_(std::move(ram)) {}
  VmPlan base_;
  sys::TempDir dir_;
  sys::Fd ram_;  // sealed: F_SEAL_WRITE, SHRINK, GROW, SEAL
};

}  // namespace ignite::sandbox::microvm

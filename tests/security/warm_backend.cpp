#include "warm_backend.hpp"

#include <mutex>

#include "sys/files.hpp"

namespace ignite::security {
namespace {

// Runs the job the test asked for (the cold spec's argv/env/cwd) in a slot started warm.
class HandOffSlot final : public sandbox::Slot {
 public:
  HandOffSlot(std::unique_ptr<sandbox::Slot> warm, sandbox::Job job) : warm_(std::move(warm)), job_(std::move(job)) {}
  Result<ExecutionResult> run(sandbox::Job job, std::stop_token stop, const sandbox::OutputSink& sink) override {
    job_.stdin_data = std::move(job.stdin_data);
    return warm_->run(std::move(job_), stop, sink);
  }

 private:
  std::unique_ptr<sandbox::Slot> warm_;
  sandbox::Job job_;
};

class WarmBackend final : public sandbox::Backend {
 public:
  WarmBackend(std::unique_ptr<sandbox::Backend> inner, std::filesystem::path warm_exec)
      : inner_(std::move(inner)), warm_exec_(std::move(warm_exec)) {}
  std::string_view name() const noexcept override { return inner_->name(); }

  Result<std::unique_ptr<sandbox::Slot>> start(const SandboxSpec& spec) override {
    // Build steps (a seeded output dir, egress) run cold, as the engine runs them.
    if ((spec.output && !spec.output->seed.empty()) || spec.egress || spec.warm) return inner_->start(spec);
    SandboxSpec slot = spec;
    sandbox::Job job;
    if (slot.output) {  // a program's /out: mounted empty in the slot, taken where the job says
      job.output_dest = slot.output->host_dest;
      slot.output->host_dest.clear();
    }
    slot.argv = {"/opt/ignite/warm/exec"};
    slot.files.push_back({"/opt/ignite/warm/exec", exec_bytes(), true});
    slot.stdin_data.clear();
    slot.warm = true;
    IGNITE_TRY_ASSIGN(auto warm, inner_->start(slot));
    job.argv = spec.argv;
    job.env = spec.env;
    job.workdir = spec.workdir;
    return std::unique_ptr<sandbox::Slot>(new HandOffSlot(std::move(warm), std::move(job)));
  }

 private:
  const std::string& exec_bytes() {
    std::call_once(read_, [&] {
      if (auto bytes = sys::read_file(warm_exec_, 16u << 20)) bytes_ = std::move(*bytes);
    });
    return bytes_;
  }

  std::unique_ptr<sandbox::Backend> inner_;
  std::once_flag read_;
  std::string bytes_;
  std::filesystem::path warm_exec_;
};

}  // namespace

std::unique_ptr<sandbox::Backend> make_warm_backend(std::unique_ptr<sandbox::Backend> inner,
                                                    std::filesystem::path warm_exec) {
  return std::make_unique<WarmBackend>(std::move(inner), std::move(warm_exec));
}

}  // namespace ignite::security

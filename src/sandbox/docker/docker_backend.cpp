#include "sandbox/docker/docker_backend.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <condition_variable>
#include <algorithm>
#include <list>
#include <map>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "init_protocol.h"
#include "sandbox/common/drop_dirs.hpp"
#include "sandbox/docker/container_config.hpp"
#include "sandbox/docker/docker_slot.hpp"
#include "sandbox/native/cgroup.hpp"
#include "sandbox/native/id_pool.hpp"
#include "sandbox/native/native_backend.hpp"
#include "sandbox/native/seccomp_filter.hpp"
#include "sys/files.hpp"
#include "sys/owned_dir.hpp"

namespace ignite::sandbox::docker {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using ignite::docker::EngineClient;

// A container's create + start takes ~0.25 s here; its init connects right after.
constexpr std::chrono::seconds kConnectTimeout{20};
constexpr std::chrono::seconds kWarmUpTimeout{20};

// Removes what slots leave, one at a time, off the callers' paths: the container (docker takes
// its cgroup with it), then the slot's dirs and, last, its uid. A removal the daemon refuses
// (under load dockerd 20.10 can leave a container half-removed for seconds, past the client's
// own retries) is tried again later, 2, 4, 8 and 16 s on, keeping the slot's dirs and uid
// until the container is gone: a leaked container would also pin its image. After that it is
// left to the next start-up's collection, said in the log.
class Reaper {
 public:
  explicit Reaper(EngineClient client) : client_(std::move(client)), thread_([this] { loop(); }) {}
  ~Reaper() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  void reap(Remains r) { queue({std::move(r)}); }

  // On the caller's thread (a failed start, start-up collection); a refusal is retried later.
  void remove_now(Remains r) { attempt({std::move(r)}); }

 private:
  static constexpr int kAttempts = 5;

  struct Pending {
    Remains remains;
    int failures = 0;
    Clock::time_point due{};
  };

  void queue(Pending p) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(p));
    }
    cv_.notify_all();
  }

  void attempt(Pending p) {
    if (!p.remains.container.empty()) {
      if (auto removed = client_.remove(p.remains.container, true); !removed) {
        const std::string id = p.remains.container.substr(0, 12);
        if (++p.failures < kAttempts) {
          if (p.failures == 1) spdlog::warn("docker: removing container {}: {} (trying again)", id, removed.error().message);
          p.due = Clock::now() + std::chrono::seconds(1 << p.failures);
          return queue(std::move(p));
        }
        spdlog::error("docker: container {} could not be removed: {}; the next start-up collects it", id,
                      removed.error().message);
      }
    }
    p.remains.scratch.reset();
    p.remains.id.reset();
  }

  void loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      if (queue_.empty()) {
        if (stopping_) return;  // everything is removed
        cv_.wait(lock);
        continue;
      }
      const auto next = std::min_element(queue_.begin(), queue_.end(),
                                         [](const Pending& a, const Pending& b) { return a.due < b.due; });
      if (next->due > Clock::now()) {
        cv_.wait_until(lock, next->due);
        continue;
      }
      Pending p = std::move(*next);
      queue_.erase(next);
      lock.unlock();
      attempt(std::move(p));
      lock.lock();
    }
  }

  EngineClient client_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::list<Pending> queue_;  // a list: Remains can be moved, not assigned
  bool stopping_ = false;
  std::thread thread_;  // last: starts once everything it uses exists
};

Status make_dir(const fs::path& p) {
  if (::mkdir(p.c_str(), 0755) != 0) return fail(Error::from_errno("mkdir " + p.string()));
  return ok();
}

Result<sys::Fd> pidfd_of(pid_t pid) {
  sys::Fd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!fd) return fail(Error::from_errno("pidfd_open of the container's init"));
  return fd;
}

// The container's output tmpfs (SandboxSpec::output), opened through its init's root while only
// our init has run in it: the fd outlives the container, and the program's files are taken out
// through it once everything in the container is dead (DockerSlot::run).
// Security: the walk from the container's root never leaves it (RESOLVE_IN_ROOT: an image's
// link at the target resolves inside, never to a host path) and follows no magic link; what it
// finds must be a tmpfs directory owned by the slot's own uid, i.e. the mount docker made for
// this slot. The init still alive afterwards means /proc/<pid> was that init, not a reused pid.
Result<sys::Fd> open_output_dir(const fs::path& proc, pid_t pid, int pidfd, const fs::path& target, unsigned uid) {
  const fs::path root_path = proc / std::to_string(pid) / "root";
  sys::Fd root(::open(root_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return fail(Error::from_errno("open the container's root"));
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  const std::string rel = target.relative_path().string();
  sys::Fd dir(static_cast<int>(::syscall(SYS_openat2, root.get(), rel.c_str(), &how, sizeof how)));
  if (!dir) return fail(Error::from_errno("open the container's " + target.string()));
  struct statfs fs_info {};
  struct stat st {};
  if (::fstatfs(dir.get(), &fs_info) != 0 || ::fstat(dir.get(), &st) != 0)
    return fail(Error::from_errno("stat the container's " + target.string()));
  if (fs_info.f_type != TMPFS_MAGIC || st.st_uid != uid || st.st_gid != uid)
    return fail(ErrorCode::internal, "the container's " + target.string() + " is not the tmpfs made for it");
  pollfd gone{pidfd, POLLIN, 0};
  if (::poll(&gone, 1, 0) != 0) return fail(ErrorCode::internal, "the container's init ended during start");
  return dir;
}

class DockerBackend final : public Backend {
 public:
  DockerBackend(DockerConfig config, native::SeccompFilter filter)
      : config_(std::move(config)),
        filter_(std::move(filter)),
        client_(config_.engine),
        ids_(config_.id_lock_dir, config_.first_id, config_.id_count),
        reaper_(std::make_shared<Reaper>(EngineClient(config_.engine))) {}

  std::string_view name() const noexcept override { return "docker"; }

  Result<std::unique_ptr<Slot>> start(const SandboxSpec& spec) override {
    IGNITE_TRY(validate(spec, config_.ceilings));
    // A program's /out, yes; a seeded output dir or egress is a build or install step.
    if ((spec.output && !spec.output->seed.empty()) || spec.egress)
      return fail(ErrorCode::unsupported,
                  "the docker backend runs programs only; build and install steps run on the native backend");
    IGNITE_TRY_ASSIGN(std::string image, config_.image_for(spec));

    DockerSlotParts p;
    p.started = Clock::now();
    p.spec = spec;
    p.spec.stdin_data.clear();
    // Whatever fails from here on, the guard removes what exists (at once: a failed start is
    // rare, and leaves nothing behind when it returns).
    struct Guard {
      std::shared_ptr<Reaper> reaper;
      Remains* remains;
      ~Guard() {
        if (remains) reaper->remove_now(std::move(*remains));
      }
    } guard{reaper_, &p.remains};
    Remains& r = p.remains;

    IGNITE_TRY_ASSIGN(native::IdPool::Lease lease, ids_.acquire());
    r.id.emplace(std::move(lease));
    const unsigned uid = r.id->id();
    IGNITE_TRY_ASSIGN(sys::TempDir scratch, sys::TempDir::create(config_.scratch_root, "dock-"));
    r.scratch.emplace(std::move(scratch));
    const fs::path dir = r.scratch->path();
    ContainerPlan plan{.image = image,
                       .init = spec.image.empty() ? std::nullopt : std::optional<fs::path>(config_.init_binary),
                       .binds = {},
                       .uid = uid,
                       .slot = config_.run_prefix + dir.filename().string()};
    IGNITE_TRY(plan_binds(spec, dir, p.drop_hosts, plan.binds));
    IGNITE_TRY(make_dir(dir / "ctl"));
    std::string env;
    for (const auto& e : spec.env) env.append(e).push_back('\0');
    IGNITE_TRY(sys::write_new_file(dir / "ctl" / kEnvFileName, env, 0644));
    IGNITE_TRY_ASSIGN(InitListener listener, InitListener::listen(dir / "ctl"));
    plan.binds.push_back({dir / "ctl", kControlDir, false, true});

    // create -> start -> the init connects
    IGNITE_TRY_ASSIGN(r.container, client_.create_container(container_config(spec, plan), "", {}));
    IGNITE_TRY(client_.start(r.container));
    IGNITE_TRY_ASSIGN(p.init, listener.accept(kConnectTimeout));
    IGNITE_TRY_ASSIGN(sys::Fd pidfd, pidfd_of(p.init.pid));
    sys::ChildProcess init(p.init.pid, std::move(pidfd));
    p.cgroup.emplace(native::Cgroup::observe(p.init.pid, config_.proc));
    if (p.cgroup->empty()) return fail(ErrorCode::unsupported, "the container's cgroup is not visible here");
    if (spec.output) {
      IGNITE_TRY_ASSIGN(p.out_dir, open_output_dir(config_.proc, p.init.pid, init.pidfd(), spec.output->target, uid));
    }

    IGNITE_TRY_ASSIGN(p.in, sys::make_pipe());
    IGNITE_TRY_ASSIGN(p.out, sys::make_pipe());
    IGNITE_TRY_ASSIGN(p.err, sys::make_pipe());
    IGNITE_TRY_ASSIGN(p.report, sys::make_pipe());
    IGNITE_TRY_ASSIGN(p.exec, sys::make_pipe());
    p.start.fds = {p.in.read.get(), p.out.write.get(), p.err.write.get(), p.report.write.get(), p.exec.write.get()};
    if (filter_.notify_kills()) {
      int sv[2];
      if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return fail(Error::from_errno("socketpair"));
      p.notify_parent.reset(sv[0]);
      p.notify_child.reset(sv[1]);
      p.start.fds.push_back(p.notify_child.get());
      p.start.listener = true;
    }
    p.start.rlimits = native::sandbox_rlimits(spec.limits, true);
    p.start.filter = filter_.program();

    guard.remains = nullptr;  // the slot owns them now
    auto slot = std::make_unique<DockerSlot>(std::move(p), std::move(init),
                                             [reaper = reaper_](Remains rest) { reaper->reap(std::move(rest)); });
    if (spec.warm) IGNITE_TRY(slot->warm_up(kWarmUpTimeout));
    return std::unique_ptr<Slot>(std::move(slot));
  }

  // Start-up: the containers of Ignites that were killed (docker removes their cgroups with them).
  void collect_stale() {
    if (!config_.stale_run) return;
    auto ids = client_.list_containers(std::string(kBackendLabel) + "=docker");
    if (!ids) {
      spdlog::warn("docker: listing containers to collect: {}", ids.error().message);
      return;
    }
    for (const auto& id : *ids) {
      auto c = client_.inspect_container(id);
      if (!c) continue;
      const auto& labels = (*c)["Config"]["Labels"];
      if (!labels.is_object() || !labels.contains(kSlotLabel) || !labels[kSlotLabel].is_string()) continue;
      const std::string slot = labels[kSlotLabel].get<std::string>();
      if (!config_.stale_run(slot)) continue;
      spdlog::info("docker: collecting container {} left by an Ignite that is gone", id.substr(0, 12));
      Remains r;
      r.container = id;
      reaper_->remove_now(std::move(r));
    }
  }

 private:
  // The spec's mounts, files and drop dirs as binds of host paths: the runtime's own files are
  // in the image; each inline file goes into a staged dir of ours bound at its parent (or into
  // the drop dir it belongs to).
  static Status plan_binds(const SandboxSpec& spec, const fs::path& dir, std::vector<fs::path>& drop_hosts,
                           std::vector<Mount>& binds) {
    for (const auto& m : spec.mounts) {
      if (!m.runtime) binds.push_back(m);
    }
    for (std::size_t i = 0; i < spec.drop_dirs.size(); ++i) {
      const fs::path host = dir / ("drop-" + std::to_string(i));
      IGNITE_TRY(make_dir(host));
      drop_hosts.push_back(host);
      binds.push_back({host, spec.drop_dirs[i], false, true});
    }
    std::map<fs::path, fs::path> staged;  // parent inside -> host dir
    for (const auto& f : spec.files) {
      const fs::path parent = f.target.parent_path();
      fs::path host;
      if (auto in_drop = drop_host_path(f.target, spec.drop_dirs, drop_hosts)) {
        host = *in_drop;
      } else {
        auto [it, fresh] = staged.try_emplace(parent, dir / ("files-" + std::to_string(staged.size())));
        if (fresh) {
          IGNITE_TRY(make_dir(it->second));
          binds.push_back({it->second, parent, false, true});
        }
        host = it->second / f.target.filename();
      }
      IGNITE_TRY(sys::write_new_file(host, f.content, f.executable ? 0755 : 0644));
    }
    return ok();
  }

  DockerConfig config_;
  native::SeccompFilter filter_;
  EngineClient client_;
  native::IdPool ids_;
  std::shared_ptr<Reaper> reaper_;
};

}  // namespace

Result<std::unique_ptr<Backend>> make_docker_backend(DockerConfig config) {
  if (!config.image_for) return fail(ErrorCode::internal, "docker backend: no image resolver");
  EngineClient client(config.engine);
  IGNITE_TRY(client.ping());
  IGNITE_TRY_ASSIGN(const nlohmann::json info, client.info());
  if (info.value("CgroupDriver", "") == "none")
    return fail(ErrorCode::unsupported, "dockerd runs without cgroups: limits cannot be enforced");
  native::SeccompFilter filter = native::default_seccomp_filter(native::kernel_has_user_notif(config.proc));
  IGNITE_TRY(sys::ensure_owned_dir(config.scratch_root, 0700));
  auto backend = std::make_unique<DockerBackend>(std::move(config), std::move(filter));
  backend->collect_stale();
  return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace ignite::sandbox::docker

#include "sandbox/docker/container_config.hpp"

#include <cmath>

#include "core/proc_masks.hpp"

namespace ignite::sandbox::docker {

using nlohmann::json;

json container_config(const SandboxSpec& spec, const ContainerPlan& plan) {
  // Our init as the entrypoint overrides whatever an image of the service's own says.
  const json cmd = spec.argv;
  json mounts = json::array();
  auto bind = [&](const std::string& source, const std::string& target, bool read_only) {
    mounts.push_back({{"Type", "bind"},
                      {"Source", source},
                      {"Target", target},
                      {"ReadOnly", read_only},
                      {"BindOptions", {{"Propagation", "rprivate"}}}});
  };
  if (plan.init) bind(plan.init->string(), kInitPath, true);
  for (const auto& m : plan.binds) bind(m.source.string(), m.target.string(), !m.writable);

  const std::string id = std::to_string(plan.uid);
  const std::uint64_t memory = spec.limits.memory_bytes;
  // /proc as native hides it (one list, core/proc_masks.hpp), and /sys, which docker always
  // mounts, covered with an empty read-only tmpfs: native mounts none.
  json masked = json::array({"/sys"});
  for (auto p : kMaskedProcFiles) masked.push_back(std::string(p));
  for (auto p : kMaskedProcDirs) masked.push_back(std::string(p));
  // As native's /tmp: size and inodes capped, programs may run from it.
  json tmpfs = {{"/tmp", "rw,exec,nosuid,nodev,size=" + std::to_string(spec.limits.tmp_bytes) +
                             ",nr_inodes=4096,mode=1777"}};
  if (spec.output) {
    // As native's output dir: the program's own, size and inodes capped. Its pages are charged
    // to the container's memory cgroup (the writer's), so the memory limit holds them too; the
    // backend takes it out through an fd it opened before the program started.
    const OutputDir& o = *spec.output;
    tmpfs[o.target.string()] = "rw,exec,nosuid,nodev,size=" + std::to_string(o.max_bytes) +
                               ",nr_inodes=" + std::to_string(o.max_entries) + ",mode=0755,uid=" + id + ",gid=" + id;
  }
  json host = {
      {"Mounts", mounts},
      {"ReadonlyRootfs", true},
      {"Tmpfs", tmpfs},
      {"NetworkMode", spec.limits.network ? "bridge" : "none"},
      {"CapDrop", json::array({"ALL"})},
      // Docker's own profile would answer some calls ours kills (kexec_load) with EPERM first
      // (an errno outranks a notification): the program gets exactly the native filter instead,
      // loaded by our init (see init.c), and init runs before any code of the program.
      {"SecurityOpt", json::array({"no-new-privileges", "seccomp=unconfined"})},
      {"Memory", memory},
      {"MemorySwap", memory},
      {"PidsLimit", spec.limits.max_processes},  // our init counts, as native's does
      {"NanoCpus", static_cast<std::int64_t>(std::llround(spec.limits.cpu_cores * 1e9))},
      {"IpcMode", "private"},
      {"ShmSize", 1 << 20},
      {"LogConfig", {{"Type", "none"}}},
      {"RestartPolicy", {{"Name", "no"}}},
      {"Init", false},
      {"Privileged", false},
      {"AutoRemove", false},
      {"OomKillDisable", false},
      {"MaskedPaths", masked},
      {"ReadonlyPaths", json::array({std::string(kReadOnlyProc)})},
  };
  return {
      {"Image", plan.image},
      {"Entrypoint", json::array({kInitPath})},
      {"Cmd", cmd},
      // The program's environment comes from our init (kEnvFile): docker's own additions
      // (HOSTNAME, a default PATH) never reach it.
      {"Env", json::array()},
      {"WorkingDir", spec.workdir.string()},
      {"User", id + ":" + id},
      {"Hostname", "ignite"},
      {"NetworkDisabled", !spec.limits.network},
      {"AttachStdin", false},
      {"AttachStdout", false},
      {"AttachStderr", false},
      {"OpenStdin", false},
      {"Tty", false},
      {"Labels", {{kBackendLabel, "docker"}, {kSlotLabel, plan.slot}}},
      {"HostConfig", host},
  };
}

}  // namespace ignite::sandbox::docker

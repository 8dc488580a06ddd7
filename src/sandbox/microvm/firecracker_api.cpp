#include "sandbox/microvm/firecracker_api.hpp"

#include <nlohmann/json.hpp>

namespace ignite::sandbox::microvm {

using nlohmann::json;

std::string firecracker_boot_args(const VmPlan& vm) {
  return "console=ttyS0 quiet loglevel=1 panic=-1 reboot=k pci=off cgroup_no_v1=all rdinit=/init " +
         agent_boot_args(vm, kAgentVsockPort);
}

FirecrackerPlan firecracker_plan(const VmPlan& vm, const std::filesystem::path& vsock) {
  // Named as the jailed firecracker, whose cwd is the VM's dir, sees them (vmm_path).
  auto at = [&](const std::filesystem::path& p) -> std::filesystem::path { return vmm_path(p, vm.cwd); };
  FirecrackerPlan plan{at(vm.kernel), at(vm.initramfs), {}, at(vsock), vm.memory_mib, vm.cpus, firecracker_boot_args(vm)};
  for (const auto& disk : vm.share_disks) plan.disks.push_back(at(disk));
  return plan;
}

std::vector<ApiCall> firecracker_calls(const FirecrackerPlan& p) {
  std::vector<ApiCall> calls;
  auto put = [&](std::string path, const json& body) { calls.push_back({"PUT", std::move(path), body.dump()}); };
  put("/machine-config", {{"vcpu_count", p.cpus}, {"mem_size_mib", p.memory_mib}, {"smt", false}});
  put("/boot-source",
      {{"kernel_image_path", p.kernel.string()}, {"initrd_path", p.initrd.string()}, {"boot_args", p.boot_args}});
  // Security: the share's images only, and read-only as Firecracker enforces it.
  for (std::size_t i = 0; i < p.disks.size(); ++i) {
    const std::string id = "share" + std::to_string(i);
    put("/drives/" + id,
        {{"drive_id", id}, {"path_on_host", p.disks[i].string()}, {"is_root_device", false}, {"is_read_only", true}});
  }
  put("/vsock", {{"guest_cid", kGuestCid}, {"uds_path", p.vsock.string()}});
  put("/actions", {{"action_type", "InstanceStart"}});
  return calls;
}

std::string fault_message(std::string_view body) {
  const json answer = json::parse(body, nullptr, false);
  if (answer.is_object() && answer.contains("fault_message") && answer["fault_message"].is_string())
    return answer["fault_message"].get<std::string>();
  return std::string(body.substr(0, 200));
}

Status check_api_answer(const ApiCall& call, long status) {
  if (status >= 200 && status < 300) return ok();
  // The fault message can name host files (a drive's image in the VM's dir): the log has it.
  return fail(ErrorCode::unavailable, "firecracker " + call.method + " " + call.path + ": HTTP " + std::to_string(status) +
                                          " (its reason is in the log)");
}

std::vector<std::string> firecracker_argv(const std::filesystem::path& binary, const std::filesystem::path& api_socket,
                                          std::string_view id) {
  return {binary.string(), "--api-sock", api_socket.string(), "--id", std::string(id), "--level", "Warning"};
}

}  // namespace ignite::sandbox::microvm

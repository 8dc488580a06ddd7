// What of /proc a sandbox must not see: the kernel-wide files and directories every backend
// masks (native with its mount plan, docker as MaskedPaths), and what stays read-only. One list,
// so the backends cannot drift apart.
#pragma once
#include <array>
#include <string_view>

namespace ignite {

inline constexpr std::array<std::string_view, 11> kMaskedProcFiles = {
    "/proc/kcore",   "/proc/keys",     "/proc/timer_list", "/proc/sched_debug",
    "/proc/latency_stats", "/proc/kallsyms", "/proc/sysrq-trigger", "/proc/kmsg",
    "/proc/config.gz", "/proc/modules", "/proc/vmallocinfo"};
inline constexpr std::array<std::string_view, 8> kMaskedProcDirs = {
    "/proc/acpi", "/proc/scsi", "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/driver", "/proc/tty"};
inline constexpr std::string_view kReadOnlyProc = "/proc/sys";

}  // namespace ignite

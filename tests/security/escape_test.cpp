// Escape and leak: the program sees its own small world, nothing of the host or the supervisor.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>

#include "core/proc_masks.hpp"
#include "sandbox_fixture.hpp"
#include "sys/files.hpp"

namespace ignite::security {
namespace {

namespace fs = std::filesystem;

IGNITE_SECURITY_SUITE(Escape);

TEST_P(Escape, host_shadow_file_is_invisible) {
  auto r = run(probe({"read", "/etc/shadow"}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.stdout_data, "open: No such file or directory\n");
}

TEST_P(Escape, host_root_and_home_directories_are_invisible) {
  auto root = run(probe({"ls", "/root"}));
  EXPECT_EQ(root.stdout_data, "opendir: No such file or directory\n");
  auto top = lines(run(probe({"ls", "/"})).stdout_data);
  const std::set<std::string> seen(top.begin(), top.end());
  for (const char* host_only : {"root", "home", "boot", "var", "srv", "sys", "work"}) {
    // A container always has /sys (docker mounts it; Ignite covers it with an empty tmpfs).
    if (containers() && std::string_view(host_only) == "sys") continue;
    EXPECT_EQ(seen.count(host_only), 0u) << host_only;
  }
  // /run, if there, is Ignite's own mount point (a container image has it).
  if (seen.count("run")) {
    EXPECT_EQ(lines(run(probe({"ls", "/run"})).stdout_data), std::vector<std::string>{"ignite"});
  }
  // /opt, if there, is Ignite's own (a warm slot's bootstrap): nothing of the host's /opt.
  if (seen.count("opt")) {
    EXPECT_EQ(lines(run(probe({"ls", "/opt"})).stdout_data), std::vector<std::string>{"ignite"});
  }
}

TEST_P(Escape, other_service_directories_are_invisible) {
  // Two services side by side on the host; the run gets only its own at /app.
  const fs::path mine = work() / "svc-a", other = work() / "svc-b";
  fs::create_directories(mine);
  fs::create_directories(other);
  ASSERT_TRUE(sys::write_new_file(other / "secret.txt", token()).has_value());
  auto spec = probe({"read", (other / "secret.txt").string()});
  spec.mounts.push_back({mine, "/app", false});
  auto r = run(spec);
  EXPECT_EQ(r.stdout_data, "open: No such file or directory\n");
  spec.argv = {"/probe", "ls", "/app/.."};
  auto up = run(spec);
  EXPECT_FALSE(contains(up.stdout_data, "svc-b")) << up.stdout_data;
}

TEST_P(Escape, nothing_outside_tmp_is_writable) {
  auto spec = probe({"write", "/x", "/app/x", "/etc/passwd", "/usr/x", "/probe", "/dev/x",
                     "/proc/x", "/proc/sys/kernel/hostname", "/tmp/ok"});
  spec.mounts.push_back({work(), "/app", false});
  auto out = lines(run(spec).stdout_data);
  ASSERT_EQ(out.size(), 9u);
  for (std::size_t i = 0; i + 1 < out.size(); ++i)
    EXPECT_FALSE(contains(out[i], "written")) << out[i];
  EXPECT_EQ(out.back(), "/tmp/ok: written");
  EXPECT_FALSE(fs::exists(work() / "x"));
}

TEST_P(Escape, host_processes_are_invisible) {
  auto r = run(probe({"ls", "/proc"}));
  int pids = 0;
  for (const auto& name : lines(r.stdout_data)) {
    if (std::isdigit(static_cast<unsigned char>(name[0]))) ++pids;
  }
  EXPECT_EQ(pids, 2) << r.stdout_data;  // the sandbox's init and the probe itself
}

TEST_P(Escape, init_environment_does_not_leak_the_supervisor_environment) {
  // The sandbox's PID 1 is a clone of the supervisor: its environ is the supervisor's.
  ::setenv("IGNITE_SUPERVISOR_SECRET", token().c_str(), 1);
  auto r = run(probe({"read", "/proc/1/environ"}));
  ::unsetenv("IGNITE_SUPERVISOR_SECRET");
  EXPECT_FALSE(contains(r.stdout_data, token())) << r.stdout_data;
  EXPECT_EQ(r.exit_code, 1) << r.stdout_data;  // not even readable
}

TEST_P(Escape, init_command_line_does_not_leak_the_supervisor_arguments) {
  // /proc/<pid>/cmdline has no access check: `ignite serve --api-key K` would be readable.
  auto self = sys::read_file("/proc/self/cmdline");
  ASSERT_TRUE(self.has_value());
  const std::string argv0 = fs::path(self->c_str()).filename();
  auto r = run(probe({"read", "/proc/1/cmdline"}));
  EXPECT_FALSE(contains(r.stdout_data, argv0)) << r.stdout_data;
}

TEST_P(Escape, init_memory_is_unreadable) {
  auto maps = run(probe({"read", "/proc/1/maps"}));
  EXPECT_EQ(maps.stdout_data, "open: Permission denied\n");
  auto mem = run(probe({"read", "/proc/1/mem"}));
  EXPECT_EQ(mem.stdout_data, "open: Permission denied\n");
}

TEST_P(Escape, mountinfo_shows_only_the_sandbox_mounts) {
  auto r = run(probe({"read", "/proc/self/mountinfo"}));
  ASSERT_EQ(r.exit_code, 0);
  std::set<std::string> allowed_prefixes = {"/", "/probe", "/tmp", "/dev", "/proc", "/etc"};
  // A container also has docker's /sys (empty) and Ignite's control dir; and docker's
  // mountinfo names the host paths behind its binds (docs/backends.md), so the scratch check
  // below is native's alone.
  if (containers()) allowed_prefixes.insert({"/sys", "/ignite", "/opt"});  // /opt/ignite: a warm bootstrap
  for (const auto& line : lines(r.stdout_data)) {
    std::istringstream in(line);
    std::string id, parent, dev, root, mountpoint;
    in >> id >> parent >> dev >> root >> mountpoint;
    const std::string top = "/" + fs::path(mountpoint).relative_path().begin()->string();
    EXPECT_TRUE(mountpoint == "/" || allowed_prefixes.count(top)) << line;
  }
  if (!containers()) {
    EXPECT_FALSE(contains(r.stdout_data, scratch().string())) << r.stdout_data;
  }
}

TEST_P(Escape, kernel_symbols_and_kernel_wide_proc_files_are_masked) {
  for (const char* f : {"/proc/kallsyms", "/proc/kcore", "/proc/keys", "/proc/timer_list",
                        "/proc/sched_debug", "/proc/modules", "/proc/vmallocinfo"}) {
    if (!fs::exists(f)) continue;
    auto r = run(probe({"read", f}));
    // The guest kernel (microvm) is built without most of these files: not there is masked too.
    if (vm() && r.stdout_data == "open: No such file or directory\n") continue;
    EXPECT_EQ(r.stdout_data, "") << f;
  }
}

TEST_P(Escape, kernel_wide_proc_dirs_are_empty_and_read_only) {
  std::vector<std::string> files;
  for (std::string_view d : kMaskedProcDirs) {
    const std::string dir(d);
    if (!fs::is_directory(dir)) continue;
    const std::string listed = run(probe({"ls", dir})).stdout_data;
    if (vm() && listed == "opendir: No such file or directory\n") continue;  // not in the guest kernel
    EXPECT_EQ(listed, "") << dir;
    files.push_back(dir + "/x");
  }
  if (files.empty()) GTEST_SKIP() << "this kernel has none of the masked /proc directories";
  std::vector<std::string> args = {"write"};
  args.insert(args.end(), files.begin(), files.end());
  const auto written = lines(run(probe(args)).stdout_data);
  ASSERT_EQ(written.size(), files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    // EACCES would only say the sandbox user may not write there; EROFS says nobody can.
    EXPECT_EQ(written[i], files[i] + ": Read-only file system");
  }
}

TEST_P(Escape, sys_is_not_mounted) {
  // In a container /sys is an empty read-only tmpfs over docker's sysfs.
  EXPECT_EQ(run(probe({"ls", "/sys"})).stdout_data, containers() ? "" : "opendir: No such file or directory\n");
  EXPECT_EQ(run(probe({"read", "/sys/kernel/notes"})).stdout_data,
            "open: No such file or directory\n");
}

TEST_P(Escape, host_environment_variables_do_not_leak) {
  ::setenv("IGNITE_HOST_SECRET", token().c_str(), 1);
  auto r = run(probe({"env"}));
  ::unsetenv("IGNITE_HOST_SECRET");
  EXPECT_EQ(r.stdout_data, "PATH=/usr/bin:/bin\nHOME=/tmp\nMARKER=inside\n");
}

TEST_P(Escape, inherited_file_descriptors_do_not_leak) {
  // A host fd without CLOEXEC, as a careless library would leave it.
  int fd = ::open("/etc/hostname", O_RDONLY);
  ASSERT_GE(fd, 0);
  auto r = run(probe({"fds"}));
  ::close(fd);
  auto out = lines(r.stdout_data);
  ASSERT_EQ(out.size(), 3u) << r.stdout_data;
  EXPECT_EQ(out[0].rfind("0 -> pipe:", 0), 0u) << out[0];
  EXPECT_EQ(out[1].rfind("1 -> pipe:", 0), 0u) << out[1];
  EXPECT_EQ(out[2].rfind("2 -> pipe:", 0), 0u) << out[2];
}

TEST_P(Escape, dev_holds_only_harmless_devices) {
  auto out = lines(run(probe({"ls", "/dev"})).stdout_data);
  const std::set<std::string> seen(out.begin(), out.end());
  std::set<std::string> expected = {"null", "zero", "random", "urandom", "fd",
                                    "stdin", "stdout", "stderr", "shm"};
  // Docker's /dev always adds these: full (writes fail), tty (no controlling terminal: ENXIO),
  // pts + ptmx (a devpts instance of the container's own), mqueue (its own IPC namespace).
  if (containers()) expected.insert({"full", "tty", "pts", "ptmx", "mqueue"});
  EXPECT_EQ(seen, expected);
}

TEST_P(Escape, the_program_has_no_capabilities_and_no_new_privs) {
  auto r = run(probe({"read", "/proc/self/status"}));
  for (const char* want : {"CapInh:\t0000000000000000", "CapPrm:\t0000000000000000",
                           "CapEff:\t0000000000000000", "CapBnd:\t0000000000000000",
                           "CapAmb:\t0000000000000000", "NoNewPrivs:\t1", "Seccomp:\t2"})
    EXPECT_TRUE(contains(r.stdout_data, want)) << want << "\n" << r.stdout_data;
}

TEST_P(Escape, the_program_runs_as_an_unprivileged_host_user) {
  auto map = run(probe({"read", "/proc/self/uid_map"}));
  if (rootless()) {
    // uid 0 inside maps to the invoking (unprivileged) user, nothing else.
    EXPECT_EQ(lines(map.stdout_data).size(), 1u) << map.stdout_data;
    std::istringstream in(map.stdout_data);
    long inside = -1, outside = -1, count = -1;
    in >> inside >> outside >> count;
    EXPECT_EQ(outside, static_cast<long>(::geteuid()));
    EXPECT_EQ(count, 1);
  } else {
    // A uid of the sandbox range (one per concurrent run), with the same gid.
    const std::string id = run(probe({"id"})).stdout_data;
    unsigned uid = 0, gid = 0;
    ASSERT_EQ(std::sscanf(id.c_str(), "uid=%u gid=%u", &uid, &gid), 2) << id;
    EXPECT_GE(uid, 60000u);
    EXPECT_LT(uid, 61000u);
    EXPECT_EQ(uid, gid);
  }
}

TEST_P(Escape, setuid_binaries_give_no_privilege) {
  if (rootless()) GTEST_SKIP() << "creating a setuid-root binary needs root";
  const fs::path suid = work() / "suid-probe";
  fs::copy_file(IGNITE_PROBE, suid);
  ASSERT_EQ(::chown(suid.c_str(), 0, 0), 0);
  ASSERT_EQ(::chmod(suid.c_str(), 04755), 0);
  auto spec = probe({"exec", "/suid", "id"});
  spec.mounts.push_back({suid, "/suid", false});
  auto r = run(spec);
  unsigned uid = 0, euid = 1;
  ASSERT_EQ(std::sscanf(r.stdout_data.c_str(), "uid=%u gid=%*u pid=%*d euid=%u", &uid, &euid), 2) << r.stdout_data;
  EXPECT_EQ(euid, uid) << r.stdout_data;  // the setuid-root bit did nothing
  EXPECT_NE(euid, 0u);
}

}  // namespace
}  // namespace ignite::security

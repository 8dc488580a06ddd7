#include "sandbox/native/cgroup_layout.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>
#include <string_view>
#include <vector>

#include "sys/files.hpp"

namespace ignite::sandbox::native {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

bool has_option(const std::string& options, std::string_view opt) {
  for (const auto& o : split(options, ',')) {
    if (o == opt) return true;
  }
  return false;
}

// The directory of our own cgroup inside a hierarchy mounted at `m`.
fs::path own_dir(const MountEntry& m, std::string_view cg_path) {
  std::string_view rel = cg_path;
  if (m.root != "/" && rel.substr(0, m.root.size()) == m.root) rel.remove_prefix(m.root.size());
  fs::path dir = m.mountpoint;
  if (!rel.empty() && rel != "/") dir /= fs::path(std::string(rel)).relative_path();
  return dir;
}

// /proc/<pid>/cgroup as controller -> that process's path in the controller's hierarchy; the
// key "" is the v2 unified hierarchy ("0::/path").
std::map<std::string, std::string> parse_proc_cgroup(const std::string& text) {
  std::map<std::string, std::string> paths;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    auto parts = split(line, ':');
    if (parts.size() < 3) continue;
    const std::string path = line.substr(parts[0].size() + parts[1].size() + 2);
    for (const auto& c : split(parts[1], ',')) paths[c] = path;  // "" splits to {""}
  }
  return paths;
}

// The v1 directories of the controllers we use, for the paths parse_proc_cgroup found.
std::vector<std::pair<std::string, fs::path>> v1_dirs(const std::vector<MountEntry>& mounts,
                                                      const std::map<std::string, std::string>& paths) {
  std::vector<std::pair<std::string, fs::path>> dirs;
  for (const char* c : {"memory", "pids", "cpu", "cpuacct"}) {
    const auto path = paths.find(c);
    if (path == paths.end()) continue;
    for (const auto& m : mounts) {
      if (m.fstype == "cgroup" && has_option(m.super_options, c)) {
        dirs.emplace_back(c, own_dir(m, path->second));
        break;
      }
    }
  }
  return dirs;
}

constexpr const char* kSupervisorLeaf = "supervisor";

// Moves every process of `from` into `to` (both v2). A process that exits meanwhile is fine.
Status move_members(const fs::path& from, const fs::path& to) {
  auto procs = sys::read_file(from / "cgroup.procs");
  if (!procs) return fail(procs.error());
  std::istringstream in(*procs);
  std::string pid;
  while (in >> pid) {
    auto moved = sys::write_file(to / "cgroup.procs", pid);
    if (!moved && ::kill(std::stoi(pid), 0) == 0)
      return fail(ErrorCode::permission_denied,
                  "cannot move process " + pid + " out of " + from.string() + " into " + to.string() +
                      " (cgroup v2 lets a cgroup with processes enable no controllers for its "
                      "children): " + moved.error().message);
  }
  return ok();
}

// memory and pids are required; cpu is optional (a quota is then not enforced).
Status enable_controllers(const fs::path& dir) {
  IGNITE_TRY(sys::write_file(dir / "cgroup.subtree_control", "+memory +pids"));
  (void)sys::write_file(dir / "cgroup.subtree_control", "+cpu");
  return ok();
}

}  // namespace

std::vector<MountEntry> parse_mountinfo(const std::string& text) {
  std::vector<MountEntry> mounts;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    auto fields = split(line, ' ');
    std::size_t dash = 0;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (dash < 5 || dash + 2 >= fields.size()) continue;
    MountEntry m{fields[3], fields[4], fields[dash + 1], dash + 3 < fields.size() ? fields[dash + 3] : "", fields[5]};
    if (m.fstype == "cgroup" || m.fstype == "cgroup2") mounts.push_back(std::move(m));
  }
  return mounts;
}


ProcessCgroups cgroups_of(int pid, const fs::path& proc) {
  ProcessCgroups out;
  auto mountinfo = sys::read_file(proc / "self/mountinfo");
  auto own = sys::read_file(proc / std::to_string(pid) / "cgroup");
  if (!mountinfo || !own) return out;
  const auto mounts = parse_mountinfo(*mountinfo);
  auto paths = parse_proc_cgroup(*own);
  out.dirs = v1_dirs(mounts, paths);
  if (!out.dirs.empty()) {
    out.version = CgroupVersion::v1;
    return out;
  }
  for (const auto& m : mounts) {
    if (m.fstype == "cgroup2" && paths.count("")) {
      out.dirs.emplace_back("", own_dir(m, paths[""]));
      out.version = CgroupVersion::v2;
      break;
    }
  }
  return out;
}

std::string CgroupLayout::describe() const {
  switch (version) {
    case CgroupVersion::v2:
      return "cgroup v2 at " + v2_base.string();
    case CgroupVersion::v1: {
      std::string s = "cgroup v1 (";
      bool first = true;
      for (const auto& [name, dir] : v1_base) {
        s += (first ? "" : ", ") + name;
        first = false;
      }
      return s + ")";
    }
    case CgroupVersion::none:
      break;
  }
  return "no usable cgroup hierarchy: " + reason;
}

CgroupLayout detect_cgroups(const fs::path& proc) {
  CgroupLayout layout;
  auto mountinfo = sys::read_file(proc / "self/mountinfo");
  auto own = sys::read_file(proc / "self/cgroup");
  if (!mountinfo || !own) {
    layout.reason = "cannot read " + (proc / "self").string() + "/{mountinfo,cgroup}";
    return layout;
  }
  auto mounts = parse_mountinfo(*mountinfo);

  auto paths = parse_proc_cgroup(*own);

  // v2 first: it is what most hosts run and the only one with cgroup.kill and memory.peak.
  for (const auto& m : mounts) {
    if (m.fstype != "cgroup2" || !paths.count("")) continue;
    fs::path dir = own_dir(m, paths[""]);
    // In the leaf prepare_cgroup_parent moved us (and our cgroup's other processes) into: the
    // cgroup we were given is its parent, which holds the per-run parent.
    std::error_code ec;
    if (dir.filename() == kSupervisorLeaf && fs::is_directory(dir.parent_path() / "ignite", ec))
      dir = dir.parent_path();
    auto controllers = sys::read_file(dir / "cgroup.controllers");
    std::string ctl = controllers ? *controllers : "";  // space-separated
    for (char& c : ctl) {
      if (c == ' ' || c == '\n') c = ',';
    }
    if (has_option(ctl, "memory") && has_option(ctl, "pids")) {
      layout.version = CgroupVersion::v2;
      layout.v2_base = dir;
      layout.reason = "unified hierarchy offers memory and pids";
      return layout;
    }
    std::string missing;
    for (const char* c : {"memory", "pids"}) {
      if (!has_option(ctl, c)) missing += std::string(missing.empty() ? "" : " and ") + c;
    }
    const bool both = missing.find(" and ") != std::string::npos;
    layout.reason = "cgroup v2: " + dir.string() + " is not given the " + missing +
                    (both ? " controllers (add them" : " controller (add it") +
                    " to the parent's cgroup.subtree_control; for a systemd unit, Delegate=yes)";
  }

  for (const auto& [controller, dir] : v1_dirs(mounts, paths)) layout.v1_base[controller] = dir / "ignite";
  if (layout.v1_base.count("memory") && layout.v1_base.count("pids")) {
    layout.version = CgroupVersion::v1;
    layout.reason = "v1 memory and pids controllers are mounted";

  } else {
    layout.v1_base.clear();
    if (layout.reason.empty()) layout.reason = "neither cgroup v2 nor v1 memory+pids is mounted";
  }
  return layout;
}

Status prepare_cgroup_parent(CgroupLayout& layout) {
  std::error_code ec;
  if (layout.version == CgroupVersion::v1) {
    for (const auto& [name, dir] : layout.v1_base) {
      fs::create_directory(dir, ec);
      if (ec) return fail(Error::from_errno("create cgroup " + dir.string(), ec.value()));
      // It may exist already (made by root earlier): we must be able to create runs in it.
      if (::access(dir.c_str(), W_OK) != 0) return fail(Error::from_errno("cgroup " + dir.string()));
    }
    return ok();
  }
  if (layout.version != CgroupVersion::v2) return fail(ErrorCode::unsupported, layout.describe());

  // cgroup v2's "no internal processes" rule: controllers can only be enabled for children of
  // a cgroup that has no processes itself. If ours has (we live in it, with whatever else the
  // service started: a systemd unit with Delegate=yes, a container's cgroup namespace), every
  // process of it moves into a leaf first, as delegation expects. The cgroup is ours to
  // manage; the processes keep every limit of the service above it.
  const fs::path own = layout.v2_base;
  if (!enable_controllers(own)) {
    const fs::path leaf = own / kSupervisorLeaf;
    fs::create_directory(leaf, ec);
    if (ec) return fail(Error::from_errno("create cgroup " + leaf.string(), ec.value()));
    Status enabled = fail(ErrorCode::internal, "not tried");
    for (int pass = 0; pass < 10 && !enabled; ++pass) {  // a process forked meanwhile: again
      IGNITE_TRY(move_members(own, leaf));
      enabled = enable_controllers(own);
    }
    if (!enabled) return enabled;
  }
  const fs::path base = own / "ignite";
  fs::create_directory(base, ec);
  if (ec) return fail(Error::from_errno("create cgroup " + base.string(), ec.value()));
  IGNITE_TRY(enable_controllers(base));
  layout.v2_base = base;
  return ok();
}

}  // namespace ignite::sandbox::native

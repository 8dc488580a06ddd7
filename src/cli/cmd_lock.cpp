// `ignite lock <dir> [--update | --check]`: pin the service's manifest and lockfiles by hash.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <system_error>

#include "cli/common.hpp"
#include "cli/context.hpp"
#include "cli/lock_file.hpp"
#include "sys/sha256.hpp"
#include "sys/files.hpp"

namespace ignite::cli {
namespace {

namespace fs = std::filesystem;

constexpr int kDrift = 1;

struct LockOptions {
  std::string dir;
  bool update = false;
  bool check = false;
};

// Replaces ignite.lock atomically, so an interrupted update never leaves half a file.
Status write_lock(const fs::path& dir, const LockMap& files) {
  const fs::path target = dir / kLockFileName;
  const fs::path tmp = dir / ".ignite.lock.tmp";
  std::error_code ec;
  fs::remove(tmp, ec);
  IGNITE_TRY(sys::write_new_file(tmp, render_lock(files)));
  fs::rename(tmp, target, ec);
  if (ec) {
    const std::string reason = ec.message();
    fs::remove(tmp, ec);
    return fail(ErrorCode::internal, "write " + target.string() + ": " + reason);
  }
  return ok();
}

Result<LockMap> read_lock(const fs::path& path) {
  IGNITE_TRY_ASSIGN(std::string text, sys::read_file(path));
  auto parsed = parse_lock(text);
  if (!parsed) return fail(std::move(parsed).error().with_context(path.string()));
  return parsed;
}

// The lifecycle of the command: validate dir -> hash -> create, update or compare.
int run_lock(const LockOptions& opt) {
  const fs::path dir = opt.dir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return report_error({ErrorCode::invalid_argument, opt.dir + ": not a directory"});
  }
  if (!fs::exists(dir / "service.yaml", ec) && !fs::exists(dir / "service.yml", ec)) {
    return report_error({ErrorCode::invalid_argument,
                         opt.dir + ": no service.yaml (create one with `ignite init`)"});
  }
  auto current = compute_lock(dir, sys::sha256_file);
  if (!current) return report_error(current.error());
  const fs::path lock_path = dir / kLockFileName;
  const bool exists = fs::exists(fs::symlink_status(lock_path, ec));

  if (opt.update || (!opt.check && !exists)) {
    if (auto st = write_lock(dir, *current); !st) return report_error(st.error());
    std::cout << (exists ? "Updated " : "Created ") << lock_path.string() << " (" << current->size()
              << " file(s) pinned)\n";
    return 0;
  }
  if (!exists) {
    std::cerr << "no " << kLockFileName << " in " << opt.dir << "; run `ignite lock " << opt.dir
              << "` to create it\n";
    return kDrift;
  }
  auto recorded = read_lock(lock_path);
  if (!recorded) return report_error(recorded.error());
  const LockDrift drift = diff_lock(*recorded, *current);
  if (drift.empty()) {
    std::cout << lock_path.string()
              << (opt.check ? " is up to date\n" : " already exists and is up to date\n");
    return 0;
  }
  std::cerr << describe(drift) << "\n"
            << "run `ignite lock " << opt.dir << " --update` to accept the changes\n";
  return kDrift;
}

}  // namespace

void register_lock(CLI::App& app, Context& ctx) {
  auto opt = std::make_shared<LockOptions>();
  CLI::App* cmd = app.add_subcommand(
      "lock", "Pin service.yaml, package.json and lockfiles by hash in <dir>/ignite.lock");
  cmd->add_option("dir", opt->dir, "Service directory")->required();
  CLI::Option* update = cmd->add_flag("--update", opt->update, "Rewrite ignite.lock");
  CLI::Option* check =
      cmd->add_flag("--check", opt->check, "Exit 1 if files changed since ignite.lock was written");
  update->excludes(check);
  cmd->callback([opt, &ctx] { ctx.exit_code = run_lock(*opt); });
}

}  // namespace ignite::cli

#include "sandbox/microvm/runtime_disk.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "docker/image_context.hpp"
#include "docker/image_contents.hpp"
#include "runtime/descriptors.hpp"
#include "sandbox/microvm/vm_image.hpp"
#include "sys/fd.hpp"
#include "sys/no_sigpipe.hpp"
#include "sys/owned_dir.hpp"
#include "sys/pipe.hpp"
#include "sys/random.hpp"
#include "sys/sha256.hpp"

namespace ignite::sandbox::microvm {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

int millis_left(Deadline deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1000));
}

// A runtime's name and version become part of a file name: nothing that could leave the dir
// or hide the file.
bool file_name_part(std::string_view text) {
  return !text.empty() && text.size() <= 80 && text.front() != '.' &&
         std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '.' || c == '-' || c == '+';
         });
}

// The cache's lock, taken before `deadline` (another process may be building the same disk).
Result<sys::Fd> lock_cache(const fs::path& dir, Deadline deadline) {
  sys::Fd lock(::open((dir / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!lock) return fail(Error::from_errno("microvm: open the runtime disks' lock"));
  while (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) return fail(Error::from_errno("microvm: lock the runtime disks"));
    if (Clock::now() >= deadline)
      return fail(ErrorCode::unavailable, "microvm: another process kept building a runtime disk too long");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return lock;
}

// Streams the build context into sqfstar's stdin while it runs; the deadline kills it.
Status run_sqfstar(const RuntimeDiskCache& cache, const docker::ImageContents& contents, const fs::path& image,
                   const fs::path& log, Deadline deadline) {
  IGNITE_TRY_ASSIGN(docker::ImageContext context, docker::ImageContext::make(contents));
  const docker::BodySource body = context.stream();
  IGNITE_TRY_ASSIGN(sys::Pipe pipe, sys::make_pipe());
  IGNITE_TRY_ASSIGN(sys::ChildProcess builder,
                    spawn_with_share(sqfstar_argv(cache.sqfstar, image), log, {}, {}, nullptr, pipe.read.get()));
  pipe.read.reset();
  if (::fcntl(pipe.write.get(), F_SETFL, O_NONBLOCK) != 0) return fail(Error::from_errno("microvm: fcntl"));
  const sys::NoSigpipe no_sigpipe;  // sqfstar may exit early: its status says why, not a signal
  std::string chunk;
  std::size_t at = 0;
  std::uint64_t unread = body.size;  // the stream must not be read past its end
  for (;;) {
    if (Clock::now() >= deadline) return fail(ErrorCode::unavailable, "microvm: building a runtime disk took too long");
    if (at == chunk.size()) {
      if (unread == 0) break;
      chunk.resize(static_cast<std::size_t>(std::min<std::uint64_t>(unread, 1 << 16)));
      IGNITE_TRY_ASSIGN(const std::size_t n, body.read(chunk.data(), chunk.size()));
      if (n == 0) return fail(ErrorCode::internal, "microvm: the runtime's archive ended early");
      chunk.resize(n);
      unread -= n;
      at = 0;
    }
    pollfd p[2] = {{pipe.write.get(), POLLOUT, 0}, {builder.pidfd(), POLLIN, 0}};
    if (::poll(p, 2, millis_left(deadline)) < 0 && errno != EINTR) return fail(Error::from_errno("microvm: poll"));
    if (p[1].revents != 0) break;  // it exited before reading everything: its status tells
    if (p[0].revents == 0) continue;
    const ssize_t n = ::write(pipe.write.get(), chunk.data() + at, chunk.size() - at);
    if (n > 0) at += static_cast<std::size_t>(n);
    else if (errno == EPIPE) break;
    else if (errno != EAGAIN && errno != EINTR) return fail(Error::from_errno("microvm: write to sqfstar"));
  }
  pipe.write.reset();  // the end of the archive
  return await_builder(std::move(builder), log, "sqfstar", "a runtime disk", deadline);
}

// Disks of the same runtime version that are not `keep` (the runtime changed since), and what
// a build that was killed left (the caller holds the lock: nobody is building now).
void tidy(const fs::path& dir, const std::string& prefix, const fs::path& keep) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const std::string rest = name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : "";
    const bool replaced = rest.size() == 12 + 5 && rest.substr(12) == ".sqfs" &&
                          rest.find_first_not_of("0123456789abcdef") == 12;
    if ((replaced && e.path() != keep) || name.rfind(".building-", 0) == 0) fs::remove(e.path(), ec);
  }
}

}  // namespace

std::vector<std::string> sqfstar_argv(const fs::path& sqfstar, const fs::path& image) {
  return {sqfstar.string(), "-noI", "-noD", "-noF", "-noX", "-no-xattrs", "-all-root", "-no-progress", "-quiet",
          image.string(),
          // The build context's Dockerfile: only rootfs/ belongs on the disk.
          "Dockerfile"};
}

Result<RuntimeDisk> ensure_runtime_disk(const RuntimeDiskCache& cache, const runtime::Installed& rt, bool rebuild,
                                        Deadline deadline) {
  if (cache.sqfstar.empty())
    return fail(ErrorCode::unavailable, "microvm: runtime disks need sqfstar (apt-get install squashfs-tools)");
  if (!file_name_part(rt.name) || !file_name_part(rt.version))
    return fail(ErrorCode::invalid_argument, "runtime " + rt.label() + ": its name or version cannot name a disk");
  const runtime::Descriptor* descriptor = runtime::find_descriptor(rt.name);
  IGNITE_TRY_ASSIGN(const docker::ImageContents contents,
                    docker::list_image_contents(rt, {}, {}, descriptor ? descriptor->image_exclude : std::vector<std::string>{}));
  sys::Sha256 h;
  docker::hash_image(h, kRuntimeDiskFormat, rt, contents);
  const std::string prefix = rt.name + "-" + rt.version + "-";
  RuntimeDisk disk;
  disk.image = cache.dir / (prefix + h.hex().substr(0, 12) + ".sqfs");
  disk.unresolved = contents.unresolved;
  for (const auto& [source, path] : contents.mount_paths)
    disk.sources.emplace(source, std::string(kGuestShare) + "/" + std::string(kRuntimeDiskRoot) + path);

  std::error_code ec;
  fs::create_directories(cache.dir.parent_path(), ec);
  IGNITE_TRY(sys::ensure_owned_dir(cache.dir, 0700));
  IGNITE_TRY_ASSIGN(const sys::Fd lock, lock_cache(cache.dir, deadline));
  struct stat st {};
  if (!rebuild && ::stat(disk.image.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    disk.size_bytes = static_cast<std::uint64_t>(st.st_size);
    return disk;
  }
  const fs::path tmp = cache.dir / (".building-" + sys::random_hex(8) + ".sqfs");
  const fs::path log = cache.dir / (".building-" + sys::random_hex(8) + ".log");
  const Status built = run_sqfstar(cache, contents, tmp, log, deadline);
  if (built && ::rename(tmp.c_str(), disk.image.c_str()) != 0) {
    fs::remove(tmp, ec);
    fs::remove(log, ec);
    return fail(Error::from_errno("microvm: put the runtime disk in place"));
  }
  fs::remove(tmp, ec);
  fs::remove(log, ec);
  if (!built) return fail(Error(built.error()).with_context("runtime " + rt.label()));
  tidy(cache.dir, prefix, disk.image);
  if (::stat(disk.image.c_str(), &st) == 0) disk.size_bytes = static_cast<std::uint64_t>(st.st_size);
  disk.built = true;
  return disk;
}

}  // namespace ignite::sandbox::microvm

// ImageContents: the files of a runtime's image as data — what goes where, from which host
// file, with which mode — listed from the host before any tar or daemon is involved (so it is
// tested on a fake tree). The image is what the native sandbox shows the same runtime: its
// mounts at their targets, the merged-/usr links, generated /etc files and the empty mount
// points of the docker backend; but of the big library directories only the shared libraries
// its ELF files need (DT_NEEDED, transitively, and their interpreter), not all 1.1 GB.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "runtime/catalog.hpp"
#include "sys/sha256.hpp"

namespace ignite::docker {

enum class ImageEntryKind { directory, file, symlink, text };

struct ImageEntry {
  ImageEntryKind kind = ImageEntryKind::file;
  std::string path;              // absolute in the image, normal ("/usr/bin/python3")
  unsigned mode = 0755;          // permission bits; setuid, setgid and sticky never (but /tmp's)
  std::filesystem::path source;  // file: the host file the bytes come from (never a symlink)
  std::string data;              // text: the bytes; symlink: the target text
  std::uint64_t size = 0;        // file: as listed; the tar stream insists on the same
  std::int64_t mtime_ns = 0;     // file: as listed
  friend bool operator==(const ImageEntry&, const ImageEntry&) = default;
};

struct ImageContents {
  std::vector<ImageEntry> entries;       // sorted by path, so parents come before children
  std::uint64_t bytes = 0;               // content of all files and texts
  std::vector<std::string> unresolved;   // "libx.so.1 (needed by /usr/lib/...): not found", at most 50
  std::uint32_t malformed_elf = 0;       // ELF files of the runtime's trees that did not parse (skipped)
  // Where each of the runtime's mounts is in the image, by its host source: a directory or file
  // entry (a library dir holds only the libraries found). A mount left out (imageExclude) or
  // whose place is not an entry is not here.
  std::map<std::string, std::string> mount_paths;
};

// Where the host's files are. Absolute paths of the ELF world (interpreters, library dirs,
// the merged-/usr links, public_files) are taken under `root`; tests aim it at a fake tree.
struct HostLayout {
  std::filesystem::path root = "/";
  // Where DT_NEEDED names are looked up, in this order. A mount of the runtime whose source is
  // one of these is not copied: only the libraries found through DT_NEEDED are.
  std::vector<std::string> library_dirs = {"/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64"};
  // Loaded with dlopen, not DT_NEEDED: glibc needs libgcc_s for pthread_exit and cancellation.
  std::vector<std::string> dlopened_libraries = {"libgcc_s.so.1"};
  // Copied when present: public data a networked service needs (TLS roots). Never /etc/ssl as
  // a whole: /etc/ssl/private holds the host's keys.
  std::vector<std::string> public_files = {"/etc/ssl/certs/ca-certificates.crt"};
  std::uint32_t max_entries = 200000;       // per copied tree
  std::uint64_t max_bytes = 4ull << 30;     // the whole image
};

// Lists the image of `rt` with `init_binary` at /ignite/init (none when it is empty: a microVM's
// runtime disk, whose init is the guest agent). Fails when a mount source or the
// init binary is missing or not a file or directory, when a tree holds a device, FIFO or socket
// or exceeds the limits, or when the runtime's own binary needs a library or interpreter that
// cannot be found in the library dirs (the image could not start it). Libraries that other
// ELF files of the trees need and that are missing only go to `unresolved`.
// `exclude`: host path globs (fnmatch; a match covers what lies beneath) left out, the
// runtime descriptor's imageExclude.
Result<ImageContents> list_image_contents(const runtime::Installed& rt, const std::filesystem::path& init_binary,
                                          const HostLayout& host = {}, const std::vector<std::string>& exclude = {});

// Feeds `h` with what identifies an image of `rt` made of `contents`: `format` (bumped when the
// code changes what goes in), the runtime's name and version, and every entry (path, kind,
// mode, size, mtime, link or text bytes), length-prefixed so no two different lists hash alike.
void hash_image(sys::Sha256& h, std::string_view format, const runtime::Installed& rt, const ImageContents& contents);

}  // namespace ignite::docker

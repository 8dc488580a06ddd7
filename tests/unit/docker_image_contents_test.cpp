// ImageContents on a fake host tree: the runtime's mounts at their targets, of the library dirs
// only what DT_NEEDED asks for (transitively, through symlinks, with the interpreter), links
// kept as links, no setuid bits, nothing from outside the runtime and the library dirs
// (src/docker/image_contents.*). Also the tag and the streamed tar context built from it.
#include "docker/image_contents.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <regex>

#include "../common/fake_elf.hpp"
#include "../common/temp_tree.hpp"
#include "docker/image_context.hpp"
#include "docker/runtime_image.hpp"

namespace ignite::docker {
namespace {

namespace fs = std::filesystem;
using testing::make_fake_elf;

// An x86-64 shared object whose program header size is wrong: it does not parse.
std::string broken_elf() {
  std::string b = make_fake_elf({"libc.so.6"}).bytes;
  testing::put_le(b, 54, 32, 2);
  return b;
}

class ImageContentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The host: merged /usr, a library dir with more than the runtime needs.
    fs::create_directories(root() / "usr/lib/x86_64-linux-gnu");
    fs::create_directories(root() / "usr/lib64");
    fs::create_directories(root() / "usr/bin");
    fs::create_directory_symlink("usr/lib", root() / "lib");
    fs::create_directory_symlink("usr/lib64", root() / "lib64");
    fs::create_directory_symlink("usr/bin", root() / "bin");
    lib("ld-linux-x86-64.so.2", {});
    fs::create_symlink("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", root() / "usr/lib64/ld-linux-x86-64.so.2");
    lib("libc.so.6", {});
    lib("libz.so.1.2.13", {"libc.so.6"});
    fs::create_symlink("libz.so.1.2.13", root() / "usr/lib/x86_64-linux-gnu/libz.so.1");
    lib("libextra.so.1", {"libc.so.6"});
    lib("libgcc_s.so.1", {"libc.so.6"});
    lib("libunused.so.1", {});
    tree.write("etc/shadow", "root:secret\n");
    tree.write("etc/ssl/certs/ca-certificates.crt", "-----BEGIN CERTIFICATE-----\n");
    tree.write("etc/ssl/private/host.key", "KEY\n");

    // The runtime: a binary and a tree.
    tree.write("usr/bin/rt", make_fake_elf({"libz.so.1"}, "/lib64/ld-linux-x86-64.so.2").bytes);
    ::chmod((root() / "usr/bin/rt").c_str(), 0755);
    tree.write("rtlib/mod.so",
               make_fake_elf({"libextra.so.1", "libmissing.so.9", "../../etc/shadow", "..", "libfake.so\n[ignite] forged"}).bytes);
    tree.write("rtlib/data.txt", "data\n");
    tree.write("rtlib/broken.so", broken_elf());
    tree.write("rtlib/sub/deeper/x.py", "print(1)\n");
    tree.write("rtlib/suid", "#!/bin/sh\n");
    ::chmod((root() / "rtlib/suid").c_str(), 06755);
    fs::create_symlink("data.txt", root() / "rtlib/link_inside");
    fs::create_symlink("/etc/shadow", root() / "rtlib/link_out");
    fs::create_symlink("../../../../../../etc/shadow", root() / "rtlib/sub/link_climb");
    fs::create_symlink("loop_b", root() / "rtlib/loop_a");
    fs::create_symlink("loop_a", root() / "rtlib/loop_b");
    init = tree.write("ignite-docker-init", "INIT");

    rt.name = "fake";
    rt.version = "1.0";
    rt.binary = root() / "usr/bin/rt";
    rt.sandbox_binary = "/usr/bin/rt";
    rt.mounts = {{root() / "usr/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"},
                 {root() / "usr/lib64", "/usr/lib64"},
                 {root() / "usr/bin/rt", "/usr/bin/rt"},
                 {root() / "rtlib", "/usr/lib/rt"}};
    host.root = root();
  }

  const fs::path& root() const { return tree.path(); }
  void lib(const std::string& name, const std::vector<std::string>& needed) {
    tree.write("usr/lib/x86_64-linux-gnu/" + name, make_fake_elf(needed).bytes);
  }

  ImageContents list() {
    auto contents = list_image_contents(rt, init, host);
    EXPECT_TRUE(contents) << contents.error().message;
    return contents ? std::move(*contents) : ImageContents{};
  }
  static const ImageEntry* entry(const ImageContents& c, const std::string& path) {
    for (const auto& e : c.entries)
      if (e.path == path) return &e;
    return nullptr;
  }

  testing::TempTree tree{"ignite-image-contents-"};
  fs::path init;
  runtime::Installed rt;
  HostLayout host;
};

TEST_F(ImageContentsTest, copies_the_runtime_and_only_the_libraries_it_needs) {
  const ImageContents c = list();
  const ImageEntry* binary = entry(c, "/usr/bin/rt");
  ASSERT_NE(binary, nullptr);
  EXPECT_EQ(binary->kind, ImageEntryKind::file);
  EXPECT_EQ(binary->mode, 0755u);
  EXPECT_EQ(binary->source, root() / "usr/bin/rt");
  for (const char* needed : {"libc.so.6", "libz.so.1.2.13", "libextra.so.1", "libgcc_s.so.1", "ld-linux-x86-64.so.2"}) {
    const ImageEntry* e = entry(c, std::string("/usr/lib/x86_64-linux-gnu/") + needed);
    ASSERT_NE(e, nullptr) << needed;
    EXPECT_EQ(e->kind, ImageEntryKind::file) << needed;
  }
  EXPECT_EQ(entry(c, "/usr/lib/x86_64-linux-gnu/libunused.so.1"), nullptr);
  // Symlinks of the library dirs stay links (to what the image has too).
  const ImageEntry* libz = entry(c, "/usr/lib/x86_64-linux-gnu/libz.so.1");
  ASSERT_NE(libz, nullptr);
  EXPECT_EQ(libz->kind, ImageEntryKind::symlink);
  EXPECT_EQ(libz->data, "libz.so.1.2.13");
  const ImageEntry* ld = entry(c, "/usr/lib64/ld-linux-x86-64.so.2");
  ASSERT_NE(ld, nullptr);
  EXPECT_EQ(ld->data, "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
  for (const char* top : {"/lib", "/lib64", "/bin"}) {
    const ImageEntry* e = entry(c, top);
    ASSERT_NE(e, nullptr) << top;
    EXPECT_EQ(e->kind, ImageEntryKind::symlink) << top;
  }
  EXPECT_EQ(entry(c, "/lib64")->data, "usr/lib64");
  // The runtime's tree at its target.
  ASSERT_NE(entry(c, "/usr/lib/rt/sub/deeper/x.py"), nullptr);
  EXPECT_EQ(entry(c, "/usr/lib/rt/data.txt")->source, root() / "rtlib/data.txt");
  EXPECT_EQ(c.malformed_elf, 1u);  // broken.so, copied but not followed
  ASSERT_NE(entry(c, "/usr/lib/rt/broken.so"), nullptr);
}

TEST_F(ImageContentsTest, the_skeleton_has_init_etc_and_the_mount_points) {
  const ImageContents c = list();
  const ImageEntry* init_entry = entry(c, "/ignite/init");
  ASSERT_NE(init_entry, nullptr);
  EXPECT_EQ(init_entry->mode, 0755u);
  for (const char* dir : {"/app", "/tmp", "/run/ignite", "/opt/ignite", "/ignite/ctl", "/node_modules", "/out"}) {
    const ImageEntry* e = entry(c, dir);
    ASSERT_NE(e, nullptr) << dir;
    EXPECT_EQ(e->kind, ImageEntryKind::directory) << dir;
  }
  EXPECT_EQ(entry(c, "/tmp")->mode, 01777u);
  EXPECT_EQ(entry(c, "/etc/hostname")->data, "ignite\n");
  EXPECT_EQ(entry(c, "/etc/passwd")->data.find("60000"), std::string::npos);
  EXPECT_NE(entry(c, "/etc/group")->data.find("nogroup:x:65534:"), std::string::npos);
  ASSERT_NE(entry(c, "/etc/ssl/certs/ca-certificates.crt"), nullptr);
  EXPECT_EQ(entry(c, "/etc/ssl/private/host.key"), nullptr);
  EXPECT_EQ(entry(c, "/etc/shadow"), nullptr);
  // Sorted, so a parent always comes before what it holds (tar order).
  for (std::size_t i = 1; i < c.entries.size(); ++i) { EXPECT_LT(c.entries[i - 1].path, c.entries[i].path); }
  for (const auto& e : c.entries) {
    if (e.path == "/") continue;
    const std::string parent = e.path.substr(0, e.path.rfind('/'));
    if (parent.empty()) continue;
    const ImageEntry* p = entry(c, parent);
    ASSERT_NE(p, nullptr) << e.path;
    EXPECT_EQ(p->kind, ImageEntryKind::directory) << e.path;
  }
}

TEST_F(ImageContentsTest, setuid_and_setgid_bits_never_reach_the_image) {
  const ImageContents c = list();
  const ImageEntry* suid = entry(c, "/usr/lib/rt/suid");
  ASSERT_NE(suid, nullptr);
  EXPECT_EQ(suid->mode, 0755u);
  for (const auto& e : c.entries)
    if (e.path != "/tmp") { EXPECT_EQ(e.mode & 07000u, 0u) << e.path; }
}

TEST_F(ImageContentsTest, links_of_the_runtime_stay_links_and_never_pull_in_host_files) {
  const ImageContents c = list();
  EXPECT_EQ(entry(c, "/usr/lib/rt/link_inside")->data, "data.txt");
  // Dangles in the image as in the native sandbox; /etc/shadow is not copied.
  EXPECT_EQ(entry(c, "/usr/lib/rt/link_out")->kind, ImageEntryKind::symlink);
  EXPECT_EQ(entry(c, "/usr/lib/rt/link_out")->data, "/etc/shadow");
  // A relative link climbing above "/" is written as what it means there (Docker would refuse it).
  EXPECT_EQ(entry(c, "/usr/lib/rt/sub/link_climb")->data, "/etc/shadow");
  // A loop is two links, not a hang.
  EXPECT_EQ(entry(c, "/usr/lib/rt/loop_a")->data, "loop_b");
  EXPECT_EQ(entry(c, "/usr/lib/rt/loop_b")->data, "loop_a");
  for (const auto& e : c.entries)
    if (e.kind == ImageEntryKind::file) { EXPECT_NE(e.source, root() / "etc/shadow") << e.path; }
}

TEST_F(ImageContentsTest, needed_names_with_a_slash_are_refused_and_missing_ones_reported) {
  const ImageContents c = list();
  std::string all;
  for (const auto& line : c.unresolved) all += line + "\n";
  EXPECT_NE(all.find("../../etc/shadow (needed by /usr/lib/rt/mod.so): refused"), std::string::npos) << all;
  EXPECT_NE(all.find("libmissing.so.9 (needed by /usr/lib/rt/mod.so): not found"), std::string::npos) << all;
  EXPECT_NE(all.find(".. (needed by /usr/lib/rt/mod.so): refused"), std::string::npos) << all;
  // A name with a newline cannot forge a line of output.
  EXPECT_NE(all.find("libfake.so\\n[ignite] forged (needed by"), std::string::npos) << all;
}

TEST_F(ImageContentsTest, the_runtime_binary_must_find_all_it_needs) {
  tree.write("usr/bin/rt", make_fake_elf({"libz.so.1", "libgone.so.2"}, "/lib64/ld-linux-x86-64.so.2").bytes);
  auto c = list_image_contents(rt, init, host);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("libgone.so.2 (needed by /usr/bin/rt)"), std::string::npos) << c.error().message;

  tree.write("usr/bin/rt", make_fake_elf({"/etc/shadow"}, "/lib64/ld-linux-x86-64.so.2").bytes);
  c = list_image_contents(rt, init, host);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("refused"), std::string::npos) << c.error().message;

  // An interpreter outside the library dirs is not copied either.
  tree.write("usr/bin/rt", make_fake_elf({"libc.so.6"}, "/etc/shadow").bytes);
  c = list_image_contents(rt, init, host);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("outside the library directories"), std::string::npos) << c.error().message;

  tree.write("usr/bin/rt", broken_elf());
  c = list_image_contents(rt, init, host);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("malformed ELF"), std::string::npos) << c.error().message;
}

TEST_F(ImageContentsTest, a_library_link_leading_out_of_the_library_dirs_is_refused) {
  fs::create_symlink("/etc/shadow", root() / "usr/lib/x86_64-linux-gnu/libesc.so.1");
  tree.write("usr/bin/rt", make_fake_elf({"libesc.so.1"}, "/lib64/ld-linux-x86-64.so.2").bytes);
  const auto c = list_image_contents(rt, init, host);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("libesc.so.1"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("outside the library directories"), std::string::npos) << c.error().message;
}

TEST_F(ImageContentsTest, a_chain_through_etc_alternatives_back_into_the_library_dirs_is_flattened) {
  fs::create_directories(root() / "etc/alternatives");
  lib("blas/libblas.so.3", {"libc.so.6"});
  fs::create_symlink("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3", root() / "etc/alternatives/libblas.so.3");
  fs::create_symlink("/etc/alternatives/libblas.so.3", root() / "usr/lib/x86_64-linux-gnu/libblas.so.3");
  tree.write("usr/bin/rt", make_fake_elf({"libblas.so.3"}, "/lib64/ld-linux-x86-64.so.2").bytes);
  const ImageContents c = list();
  const ImageEntry* blas = entry(c, "/usr/lib/x86_64-linux-gnu/libblas.so.3");
  ASSERT_NE(blas, nullptr);
  EXPECT_EQ(blas->kind, ImageEntryKind::file);
  EXPECT_EQ(blas->source, root() / "usr/lib/x86_64-linux-gnu/blas/libblas.so.3");
  EXPECT_EQ(entry(c, "/etc/alternatives/libblas.so.3"), nullptr);
}

TEST_F(ImageContentsTest, library_link_loops_end) {
  fs::create_symlink("libloop2.so", root() / "usr/lib/x86_64-linux-gnu/libloop1.so");
  fs::create_symlink("libloop1.so", root() / "usr/lib/x86_64-linux-gnu/libloop2.so");
  tree.write("rtlib/loopy.so", make_fake_elf({"libloop1.so"}).bytes);
  const ImageContents c = list();
  bool reported = false;
  for (const auto& line : c.unresolved) reported |= line.find("libloop1.so") != std::string::npos;
  EXPECT_TRUE(reported);
}

TEST_F(ImageContentsTest, what_the_runtime_excludes_stays_out_with_all_beneath_it) {
  tree.write("rtlib/config-3.11/libpython3.11.a", "!<arch>\n");
  tree.write("rtlib/config-3.11/sub/Makefile", "all:\n");
  std::vector<std::string> exclude = {(root() / "rt*/config-*").string()};
  auto c = list_image_contents(rt, init, host, exclude);
  ASSERT_TRUE(c) << c.error().message;
  for (const auto& e : c->entries) { EXPECT_EQ(e.path.find("config-3.11"), std::string::npos) << e.path; }
  EXPECT_NE(entry(*c, "/usr/lib/rt/data.txt"), nullptr);
  ASSERT_NE(entry(list(), "/usr/lib/rt/config-3.11/sub/Makefile"), nullptr);  // not excluded: there
  exclude = {(root() / "rtlib").string()};  // a whole mount
  c = list_image_contents(rt, init, host, exclude);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(entry(*c, "/usr/lib/rt/data.txt"), nullptr);
}

// What a microVM's runtime disk needs to find each mount in the image (runtime_disk.hpp).
TEST_F(ImageContentsTest, each_mount_is_found_where_the_image_put_it_and_no_init_is_asked_for) {
  auto c = list_image_contents(rt, {}, host, {(root() / "rtlib").string()});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(entry(*c, "/ignite/init"), nullptr);
  const std::map<std::string, std::string> want = {
      {(root() / "usr/lib/x86_64-linux-gnu").string(), "/usr/lib/x86_64-linux-gnu"},
      {(root() / "usr/lib64").string(), "/usr/lib64"},
      {(root() / "usr/bin/rt").string(), "/usr/bin/rt"}};  // not rtlib: excluded
  EXPECT_EQ(c->mount_paths, want);
  for (const auto& [source, path] : c->mount_paths) EXPECT_NE(entry(*c, path), nullptr) << path;
  EXPECT_EQ(list().mount_paths.at((root() / "rtlib").string()), "/usr/lib/rt");
}

TEST_F(ImageContentsTest, a_fifo_in_a_runtime_tree_is_refused) {
  ASSERT_EQ(::mkfifo((root() / "rtlib/pipe").c_str(), 0644), 0);
  const auto c = list_image_contents(rt, init, host);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("pipe"), std::string::npos) << c.error().message;
}

TEST_F(ImageContentsTest, a_missing_init_binary_is_an_error) {
  const auto c = list_image_contents(rt, root() / "nope", host);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("init"), std::string::npos) << c.error().message;
}

TEST_F(ImageContentsTest, the_tag_changes_with_the_runtime_and_the_init) {
  const ImageContents c = list();
  auto tag = runtime_image_tag(rt, c, init);
  ASSERT_TRUE(tag) << tag.error().message;
  EXPECT_TRUE(std::regex_match(*tag, std::regex("ignite-runtime/fake:1\\.0-[0-9a-f]{12}"))) << *tag;
  EXPECT_EQ(*runtime_image_tag(rt, list(), init), *tag);  // stable

  tree.write("rtlib/data.txt", "changed, and longer\n");
  EXPECT_NE(*runtime_image_tag(rt, list(), init), *tag);

  const ImageContents again = list();
  const std::string before = *runtime_image_tag(rt, again, init);
  tree.write("ignite-docker-init", "INI2");  // same size: the bytes count
  EXPECT_NE(*runtime_image_tag(rt, again, init), before);

  rt.version = "1.0+build/x";
  EXPECT_FALSE(runtime_image_tag(rt, again, init));
}

// The streamed context is a tar that GNU tar reads: the Dockerfile, rootfs/ and the entries.
TEST_F(ImageContentsTest, the_context_streams_a_tar_with_every_entry) {
  if (std::system("command -v tar >/dev/null 2>&1") != 0) GTEST_SKIP() << "no tar on PATH";
  const ImageContents c = list();
  auto context = ImageContext::make(c);
  ASSERT_TRUE(context) << context.error().message;
  const BodySource body = context->stream();
  std::string archive;
  std::vector<char> buf(1000);  // an odd size: pieces are cut anywhere
  while (archive.size() < body.size) {
    auto got = body.read(buf.data(), buf.size());
    ASSERT_TRUE(got) << got.error().message;
    ASSERT_GT(*got, 0u);
    archive.append(buf.data(), *got);
  }
  EXPECT_EQ(archive.size(), context->size());
  const fs::path file = root() / "context.tar";
  std::ofstream(file, std::ios::binary) << archive;
  FILE* list_out = ::popen(("tar -tvf " + file.string() + " 2>&1").c_str(), "r");
  ASSERT_NE(list_out, nullptr);
  std::string out;
  char line[512];
  while (std::fgets(line, sizeof line, list_out) != nullptr) out += line;
  EXPECT_EQ(::pclose(list_out), 0) << out;
  EXPECT_NE(out.find(" Dockerfile"), std::string::npos) << out;
  EXPECT_NE(out.find("rootfs/usr/lib/x86_64-linux-gnu/libz.so.1 -> libz.so.1.2.13"), std::string::npos) << out;
  // A file keeps its mode, owner root, and its own mtime (not 1970: python checks bytecode by it).
  const auto init_at = out.find(" rootfs/ignite/init\n");
  ASSERT_NE(init_at, std::string::npos) << out;
  const std::string init_line = out.substr(out.rfind('\n', init_at) + 1, init_at - out.rfind('\n', init_at) - 1);
  EXPECT_EQ(init_line.rfind("-rwxr-xr-x root/root         4 ", 0), 0u) << init_line;
  EXPECT_EQ(init_line.find("1970-01-01"), std::string::npos) << init_line;
  EXPECT_NE(out.find("drwxrwxrwt root/root         0 1970-01-01 00:00 rootfs/tmp/"), std::string::npos) << out;
  // Extracted, the file bytes are the host's.
  const fs::path into = root() / "x";
  fs::create_directory(into);
  ASSERT_EQ(std::system(("tar -xf " + file.string() + " -C " + into.string()).c_str()), 0);
  std::ifstream data(into / "rootfs/usr/lib/rt/data.txt");
  std::string text((std::istreambuf_iterator<char>(data)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "data\n");
}

TEST_F(ImageContentsTest, a_file_that_changes_or_vanishes_after_listing_fails_the_stream) {
  for (const bool vanish : {false, true}) {
    const ImageContents c = list();
    auto context = ImageContext::make(c);
    ASSERT_TRUE(context);
    if (vanish)
      fs::remove(root() / "rtlib/data.txt");
    else
      tree.write("rtlib/data.txt", "other size\n");
    const BodySource body = context->stream();
    std::vector<char> buf(1 << 16);
    std::uint64_t sent = 0;
    Status failed = ok();
    while (sent < body.size) {
      auto got = body.read(buf.data(), buf.size());
      if (!got) {
        failed = fail(got.error());
        break;
      }
      sent += *got;
    }
    ASSERT_FALSE(failed) << (vanish ? "vanished" : "changed");
    EXPECT_NE(failed.error().message.find("/usr/lib/rt/data.txt"), std::string::npos) << failed.error().message;
    EXPECT_NE(failed.error().message.find("changed since it was listed"), std::string::npos) << failed.error().message;
    tree.write("rtlib/data.txt", "data\n");
  }
}

}  // namespace
}  // namespace ignite::docker

// TarWriter: the ustar bytes a Docker build context is sent as (src/docker/tar_writer.*).
#include "docker/tar_writer.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace ignite::docker {
namespace {

std::string field(const std::string& archive, std::size_t at, std::size_t offset, std::size_t width) {
  std::string f = archive.substr(at + offset, width);
  return f.substr(0, f.find('\0'));
}

unsigned checksum_of(const std::string& archive, std::size_t at) {
  unsigned sum = 0;
  for (std::size_t i = 0; i < 512; ++i)
    sum += (i >= 148 && i < 156) ? unsigned{' '} : static_cast<unsigned char>(archive[at + i]);
  return sum;
}

TEST(DockerTarWriter, headers_carry_name_mode_size_and_a_valid_checksum) {
  TarWriter tar;
  ASSERT_TRUE(tar.add_file("Dockerfile", "FROM scratch\n", 0644));
  ASSERT_TRUE(tar.add_directory("bin", 0755));
  ASSERT_TRUE(tar.add_file("bin/probe", std::string(1000, 'p'), 0755));
  const std::string archive = tar.finish();
  // header + 1 data block, header, header + 2 data blocks, two zero blocks
  ASSERT_EQ(archive.size(), 512u * (2 + 1 + 3 + 2));

  EXPECT_EQ(field(archive, 0, 0, 100), "Dockerfile");
  EXPECT_EQ(field(archive, 0, 100, 8), "0000644");
  EXPECT_EQ(field(archive, 0, 124, 12), "00000000015");  // 13 bytes
  EXPECT_EQ(archive[156], '0');
  EXPECT_EQ(archive.substr(257, 6), std::string("ustar\0", 6));
  EXPECT_EQ(archive.substr(263, 2), "00");
  EXPECT_EQ(std::strtoul(field(archive, 0, 148, 8).c_str(), nullptr, 8), checksum_of(archive, 0));
  EXPECT_EQ(archive.substr(512, 13), "FROM scratch\n");

  EXPECT_EQ(field(archive, 1024, 0, 100), "bin/");
  EXPECT_EQ(archive[1024 + 156], '5');
  EXPECT_EQ(std::strtoul(field(archive, 1024, 148, 8).c_str(), nullptr, 8), checksum_of(archive, 1024));

  EXPECT_EQ(field(archive, 1536, 0, 100), "bin/probe");
  EXPECT_EQ(field(archive, 1536, 100, 8), "0000755");
  EXPECT_EQ(std::strtoul(field(archive, 1536, 124, 12).c_str(), nullptr, 8), 1000u);
  EXPECT_EQ(std::strtoul(field(archive, 1536, 148, 8).c_str(), nullptr, 8), checksum_of(archive, 1536));
  EXPECT_EQ(archive.substr(archive.size() - 1024), std::string(1024, '\0'));
}

TEST(DockerTarWriter, a_header_keeps_the_files_mtime) {
  // A runtime image's files keep their mtimes: Python trusts its cached bytecode only when the
  // source's mtime matches, and a read-only image cannot cache a recompiled one.
  auto header = tar_header("usr/lib/python3.11/json/__init__.py", TarType::file, 10, 0644, {}, 1700000000);
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(std::strtoull(field(*header, 0, 136, 12).c_str(), nullptr, 8), 1700000000u);
  EXPECT_EQ(std::strtoul(field(*header, 0, 148, 8).c_str(), nullptr, 8), checksum_of(*header, 0));
}

TEST(DockerTarWriter, gnu_tar_lists_what_was_written) {
  if (std::system("command -v tar >/dev/null 2>&1") != 0) GTEST_SKIP() << "no tar on PATH";
  TarWriter tar;
  const std::string deep = std::string(60, 'd') + "/" + std::string(60, 'e') + "/file.txt";  // > 100: prefix
  // A directory of 101-155 bytes with its '/': the split is at an inner '/', not the last one
  // (found by Debian's matplotlib tests in a python image: "name too long for ustar").
  const std::string deep_dir = std::string(50, 'p') + "/" + std::string(50, 'q');
  ASSERT_TRUE(tar.add_file("run.sh", "#!/bin/sh\n", 0750));
  ASSERT_TRUE(tar.add_file(deep, "x", 0600));
  ASSERT_TRUE(tar.add_directory(deep_dir, 0755));
  const std::string path = ::testing::TempDir() + "/ignite_tar_writer_test.tar";
  std::ofstream(path, std::ios::binary) << tar.finish();
  FILE* list = ::popen(("tar -tvf " + path + " 2>&1").c_str(), "r");
  ASSERT_NE(list, nullptr);
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, list) != nullptr) out += buf;
  EXPECT_EQ(::pclose(list), 0) << out;
  EXPECT_NE(out.find("-rwxr-x--- root/root        10 1970-01-01 00:00 run.sh"), std::string::npos) << out;
  EXPECT_NE(out.find("-rw------- root/root         1 1970-01-01 00:00 " + deep), std::string::npos) << out;
  EXPECT_NE(out.find("drwxr-xr-x root/root         0 1970-01-01 00:00 " + deep_dir + "/\n"), std::string::npos) << out;
  std::remove(path.c_str());
}

TEST(DockerTarWriter, symlinks_carry_their_target_text) {
  TarWriter tar;
  ASSERT_TRUE(tar.add_symlink("lib64", "usr/lib64"));
  ASSERT_TRUE(tar.add_symlink("usr/lib64/ld.so", "/lib/x86_64-linux-gnu/ld.so"));
  EXPECT_FALSE(tar.add_symlink("empty", ""));
  EXPECT_FALSE(tar.add_symlink("long", std::string(101, 'l')));  // ustar's linkname holds 100
  const std::string archive = tar.finish();
  ASSERT_EQ(archive.size(), 512u * (2 + 2));  // two headers, no data, two zero blocks
  EXPECT_EQ(archive[156], '2');
  EXPECT_EQ(field(archive, 0, 157, 100), "usr/lib64");
  EXPECT_EQ(field(archive, 0, 124, 12), "00000000000");
  EXPECT_EQ(std::strtoul(field(archive, 0, 148, 8).c_str(), nullptr, 8), checksum_of(archive, 0));
  EXPECT_EQ(field(archive, 512, 157, 100), "/lib/x86_64-linux-gnu/ld.so");
}

TEST(DockerTarWriter, refuses_names_that_climb_out_or_do_not_fit) {
  TarWriter tar;
  EXPECT_FALSE(tar.add_file("/etc/passwd", "x"));
  EXPECT_FALSE(tar.add_file("../x", "x"));
  EXPECT_FALSE(tar.add_file("a/../../x", "x"));
  EXPECT_FALSE(tar.add_file("a//b", "x"));
  EXPECT_FALSE(tar.add_file("", "x"));
  EXPECT_FALSE(tar.add_file(std::string(101, 'n'), "x"));  // no '/' to split at
  EXPECT_EQ(tar.finish().size(), 1024u);  // nothing was written
}

}  // namespace
}  // namespace ignite::docker

// `ignite doctor --json` tells the truth about this host: the same cgroup version the backend
// detects, /dev/kvm, the microvm backend's VMM and accelerator and the Docker socket as they are.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "sandbox/microvm/microvm_backend.hpp"
#include "sandbox/native/cgroup_layout.hpp"
#include "sys/fd.hpp"

namespace ignite::security {
namespace {

namespace fs = std::filesystem;

nlohmann::json doctor_json(int* exit_code) {
  FILE* p = ::popen((std::string(IGNITE_BIN) + " doctor --json").c_str(), "r");
  std::string out;
  std::array<char, 4096> buf{};
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  *exit_code = WEXITSTATUS(::pclose(p));
  EXPECT_TRUE(nlohmann::json::accept(out)) << out;
  return nlohmann::json::parse(out, nullptr, false);
}

bool docker_accepts() {
  struct stat st {};
  if (::stat("/var/run/docker.sock", &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  sys::Fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "/var/run/docker.sock");
  return ::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
}

TEST(Doctor, doctor_reports_this_host_as_it_is) {
  int code = -1;
  auto doc = doctor_json(&code);
  ASSERT_TRUE(doc.is_object());
  auto layout = sandbox::native::detect_cgroups();
  EXPECT_EQ(doc["features"]["cgroupV1"], layout.version == sandbox::native::CgroupVersion::v1);
  EXPECT_EQ(doc["features"]["cgroupV2"], layout.version == sandbox::native::CgroupVersion::v2);
  EXPECT_EQ(doc["features"]["kvm"], fs::exists("/dev/kvm"));
  EXPECT_EQ(doc["features"]["docker"], docker_accepts());
  // microvm: what the backend itself would detect, the accelerator included (with the agent
  // ignite finds beside itself).
  ::setenv("IGNITE_GUEST_AGENT", (fs::path(IGNITE_BIN).parent_path() / "ignite-guest-agent").c_str(), 1);
  const bool vm = sandbox::microvm::detect_microvm_config("/run/ignite").has_value();
  EXPECT_EQ(doc["features"]["microvm"], vm);
  EXPECT_EQ(doc["features"]["hardwareKvm"], vm && sandbox::microvm::hardware_kvm());
  EXPECT_EQ(code, doc["ok"].get<bool>() ? 0 : 1);
  const std::string expected_level = ::geteuid() == 0 ? "full" : "degraded";
  if (layout.version != sandbox::native::CgroupVersion::none) {
    EXPECT_EQ(doc["isolationLevel"], expected_level);
  }
  for (const auto& f : doc["findings"]) {
    const std::string status = f["status"];
    if (status == "warn" || status == "fail") {
      EXPECT_FALSE(f["remedy"].get<std::string>().empty()) << f.dump();
    }
  }
}

}  // namespace
}  // namespace ignite::security

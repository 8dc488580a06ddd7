// libFuzzer target: service.yaml parsing must never crash, hang or throw on any input; it
// returns a config or an error naming the line.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "config/service_config.hpp"

namespace {

namespace fs = std::filesystem;

// A real service directory (entry checks stat files): main.py, index.ts, a link to /etc. Removed
// when the fuzzer exits (static destruction runs at its exit()); each run used to leave one in /tmp.
struct ServiceDir {
  fs::path path = fs::temp_directory_path() / ("ignite-fuzz-" + std::to_string(::getpid()));
  ServiceDir() {
    fs::create_directories(path / "sub");
    std::ofstream(path / "main.py") << "print(1)\n";
    std::ofstream(path / "index.ts") << "console.log(1)\n";
    std::error_code ec;
    fs::create_symlink("/etc", path / "etc-link", ec);
  }
  ~ServiceDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

const fs::path& service_dir() {
  static const ServiceDir dir;
  return dir.path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "SET") return std::string("value");
    return std::nullopt;
  };
  auto config = ignite::config::parse_service(text, service_dir() / "service.yaml", service_dir(), env);
  if (config) {
    // Invariants of a valid config: the entry stays inside the service directory.
    const auto& c = *config;
    auto rel = fs::relative(c.entry_path, fs::canonical(service_dir()));
    if (rel.empty() || *rel.begin() == "..") std::abort();
    if (!ignite::config::valid_service_name(c.name)) std::abort();
  } else if (config.error().message.empty()) {
    std::abort();  // every error says what is wrong
  }
  return 0;
}

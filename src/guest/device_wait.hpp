// Waiting for a device the kernel may still be probing when the agent (init) already runs:
// the channel's port, the share's disks, the vsock, the NIC. One bound for all of them.
#pragma once
#include <chrono>
#include <thread>

namespace ignite::guest {

inline constexpr int kDeviceAttempts = 200;  // x 10 ms: ~2 s
inline constexpr auto kDevicePause = std::chrono::milliseconds(10);

// `look()` until what it answers is there (a non-empty string or list, an open descriptor),
// at most kDeviceAttempts times; its last answer.
template <class Look>
auto wait_for_device(Look look) {
  const auto there = [](const auto& v) {
    if constexpr (requires { v.empty(); }) return !v.empty();
    else return static_cast<bool>(v);
  };
  for (int attempt = 1;; ++attempt) {
    auto found = look();
    if (there(found) || attempt >= kDeviceAttempts) return found;
    std::this_thread::sleep_for(kDevicePause);
  }
}

}  // namespace ignite::guest

// Instance: this Ignite process, registered in the runtime dir so that whatever it leaves behind
// when it is killed (scratch dirs, staged code, cgroups, half-built cache entries) can be told
// apart from what a live Ignite is using, and collected by the next one that starts.
//
// Each process holds an exclusive flock on <runtime>/instances/<id>/lock for its whole life; the
// kernel drops the lock when the process dies, however it dies. Everything an instance creates
// outside its own dir carries its id in the name ("<id>.run-XXXXXX"), so a collector asks
// `is_live(id)` and never touches a live instance's runs.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "sys/fd.hpp"

namespace ignite::sys {

class Instance {
 public:
  // Where the runtime dir may live: where it is, or (the host's own runtime dir) in memory,
  // mounting a tmpfs over it when it is on a disk and unused (runtime_memory.hpp).
  enum class Placement { as_is, in_memory };

  // Registers a new instance under `runtime_root` (created as a private dir, see owned_dir.hpp)
  // and collects the dirs of dead ones. Fails when the runtime dir cannot be trusted or made.
  static Result<Instance> create(const std::filesystem::path& runtime_root, Placement placement = Placement::as_is);

  Instance(Instance&&) noexcept = default;
  Instance& operator=(Instance&&) = delete;
  Instance(const Instance&) = delete;
  ~Instance();  // removes this instance's dir (best effort); the lock goes with the fd

  const std::string& id() const noexcept { return id_; }
  const std::filesystem::path& runtime_root() const noexcept { return root_; }
  // <runtime>/instances/<id>: private (0700), removed when the instance ends.
  const std::filesystem::path& dir() const noexcept { return dir_; }
  // The ids whose dirs this instance removed at start-up (their owners were dead).
  const std::vector<std::string>& collected() const noexcept { return collected_; }

  // Whether the instance `id` under `runtime_root` is still running. An id that was never
  // registered, or whose dir is gone, is not live.
  static bool is_live(const std::filesystem::path& runtime_root, std::string_view id);

  // The id part of a name made by tagging ("<id>.<rest>"), or "" if the name has none.
  static std::string_view id_of(std::string_view tagged_name);
  // "<id>.<rest>": how an instance names what it creates outside its own dir.
  std::string tag(std::string_view rest) const { return id_ + "." + std::string(rest); }

 private:
  Instance() = default;
  std::filesystem::path root_, dir_;
  std::string id_;
  Fd lock_;
  std::vector<std::string> collected_;
};

}  // namespace ignite::sys

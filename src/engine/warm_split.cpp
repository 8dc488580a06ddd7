#include "engine/warm_split.hpp"

#include "engine/engine.hpp"
#include "runtime/warm.hpp"

namespace ignite::engine {
namespace {

bool is_input_variable(const std::string& kv) {
  return kv.rfind("IGNITE_INPUT=", 0) == 0 || kv.rfind("IGNITE_INPUT_FILE=", 0) == 0;
}

// Files a runtime reads from its working directory as it starts (bun: bunfig.toml and
// package.json; deno: deno.json): a warm slot started before the job's files existed would
// miss them, so ad-hoc code that brings one starts cold.
bool has_startup_config(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const char* name : {"package.json", "bunfig.toml", "tsconfig.json", "deno.json", "deno.jsonc"}) {
    if (std::filesystem::exists(dir / name, ec)) return true;
  }
  return false;
}

}  // namespace

std::optional<WarmSplit> warm_split(const SandboxSpec& cold, const runtime::Installed& rt,
                                    std::size_t user_args, bool staged_app) {
  auto bootstrap = runtime::warm_bootstrap(rt);
  // Seeded output dirs and egress belong to build and install steps, which run cold.
  if (!bootstrap || (cold.output && !cold.output->seed.empty()) || cold.egress || cold.argv.size() <= user_args)
    return std::nullopt;
  const std::filesystem::path input_dir = std::filesystem::path(kInputFile).parent_path();
  WarmSplit w;
  SandboxSpec& slot = w.slot;
  sandbox::Job& job = w.job;

  const auto entry = cold.argv.end() - static_cast<std::ptrdiff_t>(user_args) - 1;
  slot.argv.assign(cold.argv.begin(), entry);
  slot.argv.emplace_back(bootstrap->path);
  job.argv.assign(entry, cold.argv.end());

  job.env = cold.env;
  for (const auto& kv : cold.env) {
    if (!is_input_variable(kv)) slot.env.push_back(kv);
  }
  slot.workdir = job.workdir = cold.workdir;
  job.stdin_data = cold.stdin_data;
  slot.runtime_image = cold.runtime_image;  // the same runtime, on a backend that starts from images
  slot.image = cold.image;

  for (const auto& m : cold.mounts) {
    if (staged_app && m.target == "/app") {
      if (has_startup_config(m.source)) return std::nullopt;
      job.trees.push_back(m);
    } else {
      slot.mounts.push_back(m);
    }
  }
  if (staged_app) {
    slot.drop_dirs.emplace_back("/app");
    // Bun caches what it saw of its working directory as it started (an empty /app here):
    // the bootstrap starts in / and enters the job's cwd once the files are there.
    slot.workdir = "/";
  }
  for (const auto& f : cold.files) {
    if (f.target.parent_path() == input_dir) {
      job.files.push_back(f);
    } else {
      slot.files.push_back(f);
    }
  }
  // Always there, so that runs with and without input share one slot kind.
  slot.drop_dirs.push_back(input_dir);
  slot.files.push_back({std::string(bootstrap->path), std::string(bootstrap->content), bootstrap->executable});
  if (cold.output) {  // mounted empty at the slot's start; taken to the job's own dir at the end
    slot.output = cold.output;
    slot.output->host_dest.clear();
    job.output_dest = cold.output->host_dest;
  }
  slot.limits = cold.limits;
  slot.warm = true;
  return w;
}

}  // namespace ignite::engine

// `ignite images [build [RT[@VER]...] [--rebuild] [--microvm] | list] [--json]`: the docker
// backend's runtime images, built locally from the installed runtimes (the work is in
// docker/runtime_image), or with --microvm the microvm backend's runtime disks
// (sandbox/microvm/runtime_disk); this file parses and prints.
#include <chrono>
#include <filesystem>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/common.hpp"
#include "cli/context.hpp"
#include "config/service_config.hpp"
#include "docker/engine_client.hpp"
#include "docker/runtime_image.hpp"
#include "runtime/catalog.hpp"
#include "runtime/warm.hpp"
#include "sandbox/microvm/microvm_backend.hpp"
#include "sandbox/microvm/runtime_disk.hpp"

namespace ignite::cli {
namespace {

struct ImagesOptions {
  bool json = false;
  bool rebuild = false;
  bool microvm = false;
  std::vector<std::string> runtimes;
};

std::string megabytes(std::uint64_t bytes) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << static_cast<double>(bytes) / (1024.0 * 1024.0) << " MB";
  return out.str();
}

// A client whose daemon answers: its `unavailable` error names the remedy.
Result<docker::EngineClient> connect() {
  IGNITE_TRY_ASSIGN(docker::EngineClient client, docker::EngineClient::from_env());
  IGNITE_TRY(client.ping());
  return client;
}

// The runtimes named (every installed one when none is): all of them resolve before any build.
Result<std::vector<runtime::Installed>> chosen_runtimes(const std::vector<std::string>& names) {
  const runtime::Catalog catalog(runtime::default_roots());
  if (names.empty()) {
    std::vector<runtime::Installed> all = catalog.list();
    if (all.empty())
      return fail(ErrorCode::failed_precondition,
                  "no runtimes are installed; install one with scripts/install-deps or `ignite runtimes install bun`");
    return all;
  }
  std::vector<runtime::Installed> chosen;
  for (const auto& name : names) {
    IGNITE_TRY_ASSIGN(const config::RuntimeRef ref, config::parse_runtime_ref(name));
    IGNITE_TRY_ASSIGN(runtime::Installed rt, catalog.resolve(ref));
    chosen.push_back(std::move(rt));
  }
  return chosen;
}

std::string seconds_text(double seconds) {
  std::ostringstream took;
  took << std::fixed << std::setprecision(1) << seconds;
  return took.str();
}

// The microvm backend's runtime disks (sandbox/microvm/runtime_disk.hpp), and whether a guest
// kernel is there to boot them.
int build_disks(const ImagesOptions& opt) {
  auto runtimes = chosen_runtimes(opt.runtimes);
  if (!runtimes) return report_error(runtimes.error());
  const auto cache = sandbox::microvm::runtime_disk_cache();
  const auto kernel = sandbox::microvm::guest_kernel();
  if (!kernel || !std::filesystem::exists(*kernel))
    std::fprintf(stderr, "[ignite] warning: no guest kernel yet: scripts/guest-kernel builds it (or set IGNITE_GUEST_KERNEL)\n");
  int exit_code = 0;
  nlohmann::ordered_json doc = {{"disks", nlohmann::ordered_json::array()}};
  for (const runtime::Installed& rt : *runtimes) {
    if (!opt.json) std::fprintf(stderr, "[ignite] %s: checking the runtime disk\n", rt.label().c_str());
    const auto start = std::chrono::steady_clock::now();
    auto disk = sandbox::microvm::ensure_runtime_disk(cache, rt, opt.rebuild, start + std::chrono::minutes(10));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!disk) {
      report_error(Error(disk.error()).with_context(rt.label()));
      exit_code = kIgniteFailure;
      continue;
    }
    for (const auto& line : disk->unresolved)
      std::fprintf(stderr, "[ignite] %s: warning: %s\n", rt.label().c_str(), line.c_str());
    if (opt.json) {
      doc["disks"].push_back({{"runtime", rt.name},
                              {"version", rt.version},
                              {"path", disk->image.string()},
                              {"sizeBytes", disk->size_bytes},
                              {"built", disk->built},
                              {"seconds", seconds},
                              {"unresolved", disk->unresolved}});
    } else {
      std::cout << rt.label() << ": " << disk->image.string() << " (" << megabytes(disk->size_bytes) << ", "
                << (disk->built ? "built in " + seconds_text(seconds) + " s" : "present") << ")\n";
    }
  }
  if (opt.json) std::cout << doc.dump(2) << "\n";
  return exit_code;
}

int build_images(const ImagesOptions& opt) {
  if (opt.microvm) return build_disks(opt);
  auto runtimes = chosen_runtimes(opt.runtimes);
  if (!runtimes) return report_error(runtimes.error());
  const auto init = runtime::docker_init_binary();
  if (!init)
    return report_error({ErrorCode::failed_precondition,
                         "ignite-docker-init was not found next to the ignite binary (build the "
                         "ignite-docker-init target, or set IGNITE_DOCKER_INIT)",
                         0});
  auto client = connect();
  if (!client) return report_error(client.error());

  int exit_code = 0;
  nlohmann::ordered_json doc = {{"images", nlohmann::ordered_json::array()}};
  for (const runtime::Installed& rt : *runtimes) {
    if (!opt.json) std::fprintf(stderr, "[ignite] %s: checking the image\n", rt.label().c_str());
    const auto start = std::chrono::steady_clock::now();
    auto image = docker::ensure_runtime_image(*client, rt, *init, opt.rebuild);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!image) {
      report_error(Error(image.error()).with_context(rt.label()));
      exit_code = kIgniteFailure;
      // Without a daemon the others cannot be built either.
      if (image.error().code == ErrorCode::unavailable) break;
      continue;
    }
    for (const auto& line : image->unresolved)
      std::fprintf(stderr, "[ignite] %s: warning: %s\n", rt.label().c_str(), line.c_str());
    if (opt.json) {
      doc["images"].push_back({{"runtime", rt.name},
                               {"version", rt.version},
                               {"tag", image->tag},
                               {"id", image->id},
                               {"sizeBytes", image->size_bytes},
                               {"built", image->built},
                               {"seconds", seconds},
                               {"unresolved", image->unresolved}});
    } else {
      std::cout << rt.label() << ": " << image->tag << " (" << megabytes(image->size_bytes) << ", "
                << (image->built ? "built in " + seconds_text(seconds) + " s" : "present") << ")\n";
    }
  }
  if (opt.json) std::cout << doc.dump(2) << "\n";
  return exit_code;
}

int list_images(bool json) {
  auto client = connect();
  if (!client) return report_error(client.error());
  auto images = client->list_images(std::string(docker::kImageLabel) + "=runtime");
  if (!images) return report_error(images.error());
  auto label = [](const docker::ImageSummary& i, std::string_view key) {
    const auto it = i.labels.find(std::string(key));
    return it == i.labels.end() ? std::string() : it->second;
  };
  if (json) {
    nlohmann::ordered_json doc = {{"images", nlohmann::ordered_json::array()}};
    for (const auto& i : *images)
      doc["images"].push_back({{"tags", i.tags},
                               {"id", i.id},
                               {"runtime", label(i, docker::kRuntimeLabel)},
                               {"version", label(i, docker::kRuntimeVersionLabel)},
                               {"sizeBytes", i.size_bytes}});
    std::cout << doc.dump(2) << "\n";
    return 0;
  }
  if (images->empty()) {
    std::cout << "No runtime images (build them with `ignite images build`)\n";
    return 0;
  }
  std::cout << std::left << std::setw(48) << "TAG" << "SIZE\n";
  for (const auto& i : *images) {
    const std::string tag = i.tags.empty() ? "<untagged> " + i.id.substr(0, 19) : i.tags.front();
    std::cout << std::setw(48) << tag << megabytes(i.size_bytes) << "\n";
  }
  return 0;
}

}  // namespace

void register_images(CLI::App& app, Context& ctx) {
  auto opt = std::make_shared<ImagesOptions>();
  CLI::App* cmd = app.add_subcommand("images", "Runtime images: the docker backend's (build, list), the microvm backend's disks (build --microvm)");
  cmd->require_subcommand(1);
  CLI::App* build = cmd->add_subcommand(
      "build", "Build (or find) the local image of each named runtime; every installed one when none is named");
  build->add_option("runtime", opt->runtimes, "RT[@VERSION], e.g. python node@20");
  build->add_flag("--rebuild", opt->rebuild, "Build again without the daemon's cache, even when the image exists");
  build->add_flag("--json", opt->json, "One JSON document on stdout");
  build->add_flag("--microvm", opt->microvm,
                  "The microvm backend's runtime disks instead (squashfs, in $IGNITE_GUEST_CACHE/runtimes)");
  CLI::App* list = cmd->add_subcommand("list", "Local runtime images (label ignite.image=runtime): tag, size");
  list->add_flag("--json", opt->json, "One JSON document on stdout");
  build->callback([opt, &ctx] { ctx.exit_code = build_images(*opt); });
  list->callback([opt, &ctx] { ctx.exit_code = list_images(opt->json); });
}

}  // namespace ignite::cli

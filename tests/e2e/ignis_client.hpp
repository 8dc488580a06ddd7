// The Ignis client nobody here wrote (tests/nats_client/ignis_client.mjs on the npm `nats`
// package, installed by scripts/install-deps into tests/nats_client/node_modules), run from a
// test:
//
//   if (auto why = ignis_client_unavailable(); !why.empty()) GTEST_SKIP() << why;
//   auto run = run_ignis_client(nats.url(), {"--count", "5", "--code", "print(1)"});
//   ASSERT_EQ(run.exit_code, 0) << run.err << run.report;
//   run.report["jobs"][0]["statuses"] == ["received","running","done"]
//
// The report's shape is documented at the top of ignis_client.mjs.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_helpers.hpp"

namespace ignite::testing {

inline std::filesystem::path nats_client_dir() {
  return std::filesystem::path(IGNITE_SOURCE_DIR) / "tests/nats_client";
}

// The first `node` on PATH, "" when there is none.
inline std::string node_binary() {
  std::stringstream in(std::getenv("PATH") != nullptr ? std::getenv("PATH") : "");
  for (std::string dir; std::getline(in, dir, ':');) {
    const std::string candidate = dir + "/node";
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// "" when the client can run here, else why not (for GTEST_SKIP() << …).
inline std::string ignis_client_unavailable() {
  if (node_binary().empty()) return "node is not installed";
  if (!std::filesystem::exists(nats_client_dir() / "node_modules/nats/package.json"))
    return "the npm nats package is not installed in " + nats_client_dir().string() +
           "/node_modules (scripts/install-deps installs it)";
  return {};
}

struct IgnisRun {
  int exit_code = -1;      // 0: every job final; 1: some missing; 2: usage or connection error
  nlohmann::json report;   // the JSON document it printed (null when it printed none)
  std::string err;         // its stderr
};

// node ignis_client.mjs --servers SERVERS ARGS… (no shell: ARGS are passed as they are).
inline IgnisRun run_ignis_client(const std::string& servers, const std::vector<std::string>& args) {
  std::vector<std::string> argv{node_binary(), (nats_client_dir() / "ignis_client.mjs").string(), "--servers", servers};
  argv.insert(argv.end(), args.begin(), args.end());
  const CliResult r = run_program(std::move(argv));
  IgnisRun run;
  run.exit_code = r.exit_code;
  run.err = r.err;
  run.report = nlohmann::json::parse(r.out, nullptr, false);
  if (run.report.is_discarded()) {
    run.report = nullptr;
    run.err += "\n(stdout was not one JSON document: " + r.out.substr(0, 2000) + ")";
  }
  return run;
}

}  // namespace ignite::testing

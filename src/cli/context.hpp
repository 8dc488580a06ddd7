// What every subcommand receives from the composition root (main.cpp).
#pragma once
#include <cstddef>

#include <CLI/CLI.hpp>

namespace ignite::cli {

// Each subcommand registers itself on the app; its callback stores the exit code here.
struct Context {
  int exit_code = 0;
};

void register_init(CLI::App& app, Context& ctx);
void register_run(CLI::App& app, Context& ctx);
void register_exec(CLI::App& app, Context& ctx);
void register_preflight(CLI::App& app, Context& ctx);
void register_report(CLI::App& app, Context& ctx);
void register_lock(CLI::App& app, Context& ctx);
void register_env(CLI::App& app, Context& ctx);
void register_doctor(CLI::App& app, Context& ctx);
void register_mcp(CLI::App& app, Context& ctx);
void register_serve(CLI::App& app, Context& ctx);
void register_worker(CLI::App& app, Context& ctx);
void register_runtimes(CLI::App& app, Context& ctx);
void register_images(CLI::App& app, Context& ctx);

// Registers the subcommands on `app`: only the one argv[1] names, when it names one, else all.
// Why: building all thirteen, with their options and validators, was a third of the page faults
// of an `ignite exec` start (heap growth); one is enough to parse and to run a command, and
// its `--help` is its own. `ignite`, `ignite --help`, `ignite --version` and a misspelt
// command still see them all (and the same errors as before). Returns how many it registered.
std::size_t register_commands(CLI::App& app, Context& ctx, int argc, const char* const* argv);

}  // namespace ignite::cli

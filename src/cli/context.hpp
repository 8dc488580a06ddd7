// What every subcommand receives from the composition root (main.cpp).
#pragma once
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

}  // namespace ignite::cli

// ignite: the composition root. Parses the command line and hands each subcommand its parts.
#include <csignal>
#include <cstdio>

#include <CLI/CLI.hpp>
#include <spdlog/cfg/env.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/context.hpp"
#include "queue/nats_api.hpp"
#include "sandbox/native/container_cgroups.hpp"

int main(int argc, char** argv) {
  // Writing to a pipe whose reader is gone (a program that closed stdin, a client that left)
  // must be an EPIPE error for the writer, not the death of the supervisor.
  std::signal(SIGPIPE, SIG_IGN);
  // In Ignite's container image: cgroups of our own, before any thread exists.
  const auto own_cgroups = ignite::sandbox::native::own_container_cgroups();
  // Logs go to stderr so that stdout carries only program output or the JSON document.
  spdlog::set_default_logger(spdlog::stderr_color_mt("ignite"));
  spdlog::set_pattern("[ignite] %^%l%$: %v");
  spdlog::cfg::load_env_levels();  // SPDLOG_LEVEL=debug
  if (!own_cgroups) spdlog::warn("IGNITE_IN_CONTAINER: {} (cgroups stay read-only; `ignite doctor`)", own_cgroups.error().message);

  // Destroyed after the command's own objects (its NATS connections), before exit-time cleanup.
  const ignite::queue::NatsShutdown nats_shutdown;
  CLI::App app{"Ignite: run untrusted code in a sandbox, with exact measurements"};
  app.set_version_flag("--version", std::string("ignite ") + IGNITE_VERSION);
  app.require_subcommand(1);
  ignite::cli::Context ctx;
  ignite::cli::register_commands(app, ctx, argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Usage errors are Ignite's own failures: exit 125 with a one-line reason (CONTRACT §2).
    std::fprintf(stderr, "ignite: %s\n", e.what());
    return 125;
  }
  return ctx.exit_code;
}

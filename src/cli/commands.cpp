#include <cstring>
#include <iterator>

#include "cli/context.hpp"

namespace ignite::cli {
namespace {

struct Command {
  const char* name;  // as the register function names its subcommand (a unit test checks)
  void (*add)(CLI::App&, Context&);
};

constexpr Command kCommands[] = {
    {"init", register_init},         {"run", register_run},         {"exec", register_exec},
    {"preflight", register_preflight}, {"report", register_report}, {"lock", register_lock},
    {"env", register_env},           {"doctor", register_doctor},   {"serve", register_serve},
    {"worker", register_worker},     {"mcp", register_mcp},         {"runtimes", register_runtimes},
    {"images", register_images},
};

}  // namespace

std::size_t register_commands(CLI::App& app, Context& ctx, int argc, const char* const* argv) {
  if (argc > 1) {
    for (const Command& c : kCommands) {
      if (std::strcmp(argv[1], c.name) == 0) {
        c.add(app, ctx);
        return 1;
      }
    }
  }
  for (const Command& c : kCommands) c.add(app, ctx);
  return std::size(kCommands);
}

}  // namespace ignite::cli

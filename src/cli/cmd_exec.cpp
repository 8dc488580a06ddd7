// `ignite exec`: ad-hoc code without a service directory (CONTRACT §2).
#include <filesystem>
#include <memory>

#include "cli/cancel_on_signal.hpp"
#include "cli/common.hpp"
#include "cli/context.hpp"
#include "engine/engine.hpp"

namespace ignite::cli {
namespace {

struct ExecOptions {
  std::string runtime;
  std::string code;
  std::string file;
  std::string input;
  std::string stdin_arg;
  std::vector<std::string> args;
  std::uint32_t memory_mb = 128;
  std::uint32_t timeout_ms = 10000;
  bool json = false;
  bool allow_degraded = false;
  std::string isolation;
  std::string out_dir;
  std::string profile;
};

Result<engine::AdhocRequest> build_request(const ExecOptions& o) {
  engine::AdhocRequest req;
  const auto at = o.runtime.find('@');
  const std::string language = o.runtime.substr(0, at);
  IGNITE_TRY_ASSIGN(req.runtime, engine::runtime_for_language(
                                     language, at == std::string::npos ? "" : o.runtime.substr(at + 1)));
  if (o.code.empty() == o.file.empty())
    return fail(ErrorCode::invalid_argument, "give exactly one of --code TEXT or FILE");
  if (!o.file.empty()) {
    IGNITE_TRY_ASSIGN(std::string text, read_arg_file("program file", o.file));
    req.files.push_back({std::filesystem::path(o.file).filename().string(), std::move(text)});
  } else {
    req.files.push_back({engine::entry_name_for(language, req.runtime), o.code});
  }
  if (!o.input.empty()) {
    IGNITE_TRY_ASSIGN(req.input_json, read_input_arg(o.input));
  }
  if (!o.stdin_arg.empty() && o.stdin_arg[0] == '@') {
    IGNITE_TRY_ASSIGN(req.stdin_data, read_arg_file("--stdin", o.stdin_arg.substr(1)));
  } else {
    req.stdin_data = o.stdin_arg;
  }
  req.args = o.args;
  req.memory_mb = o.memory_mb;
  req.timeout_ms = o.timeout_ms;
  req.isolation = o.isolation;
  req.profile = o.profile;
  return req;
}

int exec_cmd(const ExecOptions& o) {
  auto request = build_request(o);
  if (!request) return report_error(request.error());
  auto cancel = CancelOnSignal::start();
  if (!cancel) return report_error(cancel.error());
  auto host = make_engine(o.isolation.empty() ? "native" : o.isolation, o.allow_degraded);
  if (!host) return report_error(host.error());
  auto report = host->engine->execute_adhoc(*request, (*cancel)->token(), terminal_sink(o.json));
  const int code = finish_run(report, **cancel, o.json, o.out_dir);
  cancel->reset();  // its thread ends while the sandbox's namespaces go (late_teardown)
  return code;
}

}  // namespace

void register_exec(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<ExecOptions>();
  auto* cmd = app.add_subcommand("exec", "Run ad-hoc code without a service directory");
  cmd->add_option("--runtime", o->runtime,
                  "RT[@VER]: bun node deno quickjs python go, or javascript typescript")
      ->required();
  cmd->add_option("--code", o->code, "The program text");
  cmd->add_option("file", o->file, "A program file (instead of --code)");
  cmd->add_option("--input", o->input, "Input JSON (or @file), passed as IGNITE_INPUT");
  cmd->add_option("--stdin", o->stdin_arg, "Text (or @file) for the program's stdin");
  cmd->add_option("--arg", o->args, "An argument for the program (repeatable)");
  cmd->add_option("--memory", o->memory_mb, "Memory limit in MB")->check(CLI::Range(16, 65536));
  cmd->add_option("--timeout", o->timeout_ms, "Wall-clock limit in ms")->check(CLI::Range(100, 3600000));
  add_isolation_option(cmd, o->isolation, "native | docker | microvm (default: native)");
  cmd->add_flag("--json", o->json, "Print exactly one JSON result document on stdout");
  cmd->add_option("--profile", o->profile, "A runtime profile: datascience (python: numpy, pandas, matplotlib)");
  cmd->add_option("--out", o->out_dir, "Write the files the program leaves in /out under this directory");
  cmd->add_flag("--allow-degraded", o->allow_degraded,
                "Run even if cgroup limits cannot be enforced (rlimits only)");
  cmd->callback([o, &ctx] { ctx.exit_code = exec_cmd(*o); });
}

}  // namespace ignite::cli

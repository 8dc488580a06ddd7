// `ignite init <name> [--path DIR] [--runtime RT[@VER]]`: scaffold a runnable service directory.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "cli/common.hpp"
#include "cli/scaffold.hpp"
#include "cli/context.hpp"
#include "config/service_config.hpp"
#include "sys/files.hpp"

namespace ignite::cli {
namespace {

namespace fs = std::filesystem;

// The templates substitute NAME; service names are [a-z0-9-] (validated before), so they are
// safe inside YAML, JSON and every language's string literals without escaping.
std::string substitute(std::string text, const std::string& name) {
  for (std::size_t at = text.find("NAME"); at != std::string::npos; at = text.find("NAME", at)) {
    text.replace(at, 4, name);
    at += name.size();
  }
  return text;
}

constexpr std::string_view kTsEntry =
    R"(// NAME, run by Ignite. The input JSON is in IGNITE_INPUT (unset when there is none).
const input: unknown = JSON.parse(process.env.IGNITE_INPUT ?? "{}");
console.log(JSON.stringify({ service: "NAME", received: input }));
)";

constexpr std::string_view kNodeEntry =
    R"(// NAME, run by Ignite. The input JSON is in IGNITE_INPUT (unset when there is none).
const input = JSON.parse(process.env.IGNITE_INPUT ?? "{}");
console.log(JSON.stringify({ service: "NAME", received: input }));
)";

constexpr std::string_view kDenoEntry =
    R"(// NAME, run by Ignite. The input JSON is in IGNITE_INPUT (unset when there is none).
const input: unknown = JSON.parse(Deno.env.get("IGNITE_INPUT") ?? "{}");
console.log(JSON.stringify({ service: "NAME", received: input }));
)";

constexpr std::string_view kQuickJsEntry =
    R"(// NAME, run by Ignite. The input JSON is in IGNITE_INPUT (unset when there is none).
import * as std from "std";

const input = JSON.parse(std.getenv("IGNITE_INPUT") ?? "{}");
console.log(JSON.stringify({ service: "NAME", received: input }));
)";

constexpr std::string_view kPythonEntry =
    R"("""NAME, run by Ignite. The input JSON is in IGNITE_INPUT (unset when there is none)."""
import json
import os

payload = json.loads(os.environ.get("IGNITE_INPUT") or "{}")
print(json.dumps({"service": "NAME", "received": payload}))
)";

constexpr std::string_view kGoEntry =
    R"(// NAME, run by Ignite. The input JSON is in IGNITE_INPUT (unset when there is none).
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

func main() {
	var input any = map[string]any{}
	if raw := os.Getenv("IGNITE_INPUT"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &input); err != nil {
			fmt.Fprintln(os.Stderr, "invalid IGNITE_INPUT:", err)
			os.Exit(1)
		}
	}
	out, _ := json.Marshal(map[string]any{"service": "NAME", "received": input})
	fmt.Println(string(out))
}
)";

struct EntryTemplate {
  std::string_view runtime;
  std::string_view file;
  std::string_view program;
};

// Node gets plain .js: only recent Node versions run TypeScript, and `node@20` must work as is.
constexpr EntryTemplate kEntries[] = {
    {"bun", "index.ts", kTsEntry},       {"node", "index.js", kNodeEntry},
    {"deno", "index.ts", kDenoEntry},    {"quickjs", "index.js", kQuickJsEntry},
    {"python", "main.py", kPythonEntry}, {"go", "main.go", kGoEntry},
};

const EntryTemplate& entry_for(std::string_view runtime) {
  for (const EntryTemplate& e : kEntries) {
    if (e.runtime == runtime) return e;
  }
  return kEntries[0];  // parse_runtime_ref admits only known runtimes; bun is the default
}

bool is_javascript(const std::string& runtime) {
  return runtime == "bun" || runtime == "node" || runtime == "deno" || runtime == "quickjs";
}

}  // namespace

std::vector<ScaffoldFile> scaffold(const std::string& name, const config::RuntimeRef& runtime) {
  const EntryTemplate& entry = entry_for(runtime.name);
  std::vector<ScaffoldFile> files;
  files.push_back({"service.yaml", "service:\n  name: " + name +
                                       "\n  runtime: " + runtime.to_string() +
                                       "\n  entry: " + std::string(entry.file) +
                                       "\n  memoryMb: 128\n  timeoutMs: 30000\n"});
  if (is_javascript(runtime.name)) {
    files.push_back({"package.json", substitute(R"({
  "name": "NAME",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "dependencies": {}
}
)",
                                                name)});
  }
  files.push_back({std::string(entry.file), substitute(std::string(entry.program), name)});
  return files;
}

int run_init(const InitOptions& opt) {
  auto error = [](const std::string& reason) {
    return report_error({ErrorCode::invalid_argument, reason, 0});
  };
  if (!config::valid_service_name(opt.name)) {
    return error("invalid service name '" + opt.name +
                 "': use 1-63 lowercase letters, digits and '-', starting and ending with a "
                 "letter or digit");
  }
  auto runtime = config::parse_runtime_ref(opt.runtime);
  if (!runtime) return error(runtime.error().message);

  const fs::path dir = opt.path.empty() ? fs::path(opt.name) : fs::path(opt.path);
  const std::vector<ScaffoldFile> files = scaffold(opt.name, *runtime);

  // Check everything before writing anything, so a refusal leaves the directory untouched.
  std::error_code ec;
  const fs::file_status dir_status = fs::symlink_status(dir, ec);
  if (fs::exists(dir_status) && !fs::is_directory(dir_status)) {
    return error(dir.string() + " exists and is not a directory");
  }
  for (const ScaffoldFile& f : files) {
    if (fs::exists(fs::symlink_status(dir / f.name, ec))) {
      return error((dir / f.name).string() + " already exists; refusing to overwrite it");
    }
  }
  fs::create_directories(dir, ec);
  if (ec) return error("create " + dir.string() + ": " + ec.message());

  std::vector<fs::path> written;
  for (const ScaffoldFile& f : files) {
    // O_EXCL: a file that appeared since the check above is still never overwritten.
    if (auto st = sys::write_new_file(dir / f.name, f.content); !st) {
      for (const fs::path& p : written) fs::remove(p, ec);  // leave no half-made service behind
      return error(st.error().message);
    }
    written.push_back(dir / f.name);
  }

  std::cout << "Created service '" << opt.name << "' (" << runtime->to_string() << ") in "
            << dir.string() << ":\n";
  for (const fs::path& p : written) std::cout << "  " << p.string() << "\n";
  std::cout << "\nNext:\n  ignite run " << dir.string() << " --input '{\"hello\":\"world\"}'\n";
  return 0;
}

void register_init(CLI::App& app, Context& ctx) {
  auto opt = std::make_shared<InitOptions>();
  CLI::App* cmd = app.add_subcommand("init", "Scaffold a new service directory");
  cmd->add_option("name", opt->name, "Service name (lowercase letters, digits, '-')")->required();
  cmd->add_option("--path", opt->path, "Directory to create (default: ./<name>)");
  cmd->add_option("--runtime", opt->runtime, "Runtime, optionally with a version: bun, node@20")
      ->capture_default_str();
  cmd->callback([opt, &ctx] { ctx.exit_code = run_init(*opt); });
}

}  // namespace ignite::cli

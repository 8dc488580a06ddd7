// Issue 9's promises about what requests and service dirs supply, through `ignite serve` and
// `ignite run`: clashing file names, operator ceilings over service.yaml, and install steps
// that reach the registry but not the host.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "../common/loopback_listener.hpp"
#include "cli_helpers.hpp"
#include "server_helpers.hpp"
#include "sys/temp_dir.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

TEST(RequestBoundary, clashing_file_names_are_a_422_naming_the_file_never_a_host_path) {
  REQUIRE_SANDBOX();
  ServerProcess server({{}, {}});
  ASSERT_TRUE(server.started()) << server.stderr_text();
  const std::vector<std::pair<Json, std::string>> cases = {
      {Json::array({{{"name", "main.py"}, {"content", "print(1)"}}, {{"name", "main.py"}, {"content", "print(2)"}}}),
       "file 'main.py' is given twice"},
      {Json::array({{{"name", "main.py"}, {"content", "print(1)"}}, {{"name", "lib"}, {"content", "x"}},
                    {{"name", "lib/util.py"}, {"content", "y"}}}),
       "'lib' is given both as a file and as a directory"},
  };
  for (const auto& [files, message] : cases) {
    auto r = server.post("/v1/execute", Json{{"runtime", "python"}, {"files", files}}.dump());
    EXPECT_EQ(r.status, 422) << r.body;
    EXPECT_NE(r.body.find(message), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("/run/"), std::string::npos) << r.body;
    // The Piston route answers in Piston's shape, with the same message.
    auto p = server.post("/api/v2/execute", Json{{"language", "python"}, {"version", "*"}, {"files", files}}.dump());
    EXPECT_EQ(p.status, 400) << p.body;
    EXPECT_NE(p.body.find(message), std::string::npos) << p.body;
    EXPECT_EQ(p.body.find("/run/"), std::string::npos) << p.body;
  }
}

TEST(RequestBoundary, operator_ceilings_bound_what_a_service_yaml_asks_for) {
  REQUIRE_SANDBOX();
  auto dir = sys::TempDir::create(fs::temp_directory_path(), "ignite-ceiling-");
  ASSERT_TRUE(dir);
  ::chmod(dir->path().c_str(), 0755);
  const fs::path svc = dir->path() / "greedy";
  fs::create_directories(svc);
  std::ofstream(svc / "service.yaml") << "service:\n  name: greedy\n  runtime: python\n  entry: main.py\n"
                                         "  memoryMb: 8192\n  timeoutMs: 3600000\n";
  std::ofstream(svc / "main.py") << "print('ran')\n";
  ::chmod(svc.c_str(), 0755);
  ::chmod((svc / "main.py").c_str(), 0644);
  ServerProcess server({{"--services", dir->path().string(), "--max-memory-mb", "1024", "--max-timeout-ms", "60000"}, {}});
  ASSERT_TRUE(server.started()) << server.stderr_text();
  auto r = server.post("/services/greedy/execute", "{}");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("memoryMb 8192 is over this server's ceiling of 1024"), std::string::npos) << r.body;
}

// A node service whose postinstall script (opted in) tries the host's loopback listener and an
// abstract unix socket of the host, directly and through the egress proxy. It exits 0 only if
// every attempt failed, so the install — and the run — succeed only when the host is out of reach.
std::string probing_postinstall(const std::string& port, const std::string& abstract) {
  // One line, double quotes only: it goes into package.json as node -e '<script>'.
  return "const net = require(\"net\"), http = require(\"http\"); const reached = [];"
         " const attempt = (open, what) => new Promise(done => { const s = open();"
         " s.on(\"connect\", () => { reached.push(what); s.destroy(); done(); }); s.on(\"error\", () => done()); });"
         " const viaProxy = () => new Promise(done => { const q = http.request({ host: \"127.0.0.1\", port: 3128,"
         " method: \"CONNECT\", path: \"127.0.0.1:" + port + "\" }); q.on(\"connect\", (res, s) => {"
         " if (res.statusCode === 200) reached.push(\"proxy\"); s.destroy(); done(); }); q.on(\"error\", () => done());"
         " q.end(); });"
         " (async () => { await attempt(() => net.connect(" + port + ", \"127.0.0.1\"), \"loopback\");"
         " await attempt(() => net.connect({ path: \"\\0" + abstract + "\" }), \"abstract\");"
         " await viaProxy(); if (reached.length) { console.error(\"reached\", reached); process.exit(1); } })();";
}

TEST(RequestBoundary, an_install_step_reaches_the_registry_but_not_the_host) {
  REQUIRE_SANDBOX();
  if (run_cli({"env", "--runtimes"}).out.find("\n  node ") == std::string::npos) GTEST_SKIP() << "needs node";
  LoopbackListener listener;
  ASSERT_TRUE(listener.ok());
  AbstractListener abstract("ignite-install-test-" + std::to_string(::getpid()));
  ASSERT_TRUE(abstract.ok());

  auto dir = sys::TempDir::create(fs::temp_directory_path(), "ignite-install-");
  ASSERT_TRUE(dir);
  ::chmod(dir->path().c_str(), 0755);
  std::ofstream(dir->path() / "service.yaml")
      << "service:\n  name: probing-install\n  runtime: node\n  entry: index.js\n  installScripts: true\n";
  std::ofstream(dir->path() / "index.js") << "console.log(require('lodash').sum([1, 2]))\n";
  // The manifests are all the install step sees of the service: the probe is the script itself.
  const Json pkg = {{"name", "probing-install-" + std::to_string(::getpid()) + "-" + listener.port()},
                    {"dependencies", {{"lodash", "4.17.21"}}},
                    {"scripts", {{"postinstall", "node -e '" + probing_postinstall(listener.port(), abstract.name()) + "'"}}}};
  std::ofstream(dir->path() / "package.json") << pkg.dump();
  for (const char* f : {"service.yaml", "index.js", "package.json"}) ::chmod((dir->path() / f).c_str(), 0644);

  auto r = run_cli({"run", dir->path().string(), "--json"},
                   {"IGNITE_CACHE_DIR=" + (dir->path() / "cache").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const Json doc = Json::parse(r.out);
  EXPECT_EQ(doc["stdout"], "3\n") << "lodash came from the registry through the egress proxy";
  EXPECT_FALSE(doc["install"].value("cached", true));
}

}  // namespace
}  // namespace ignite::testing

// The web UI (/ui/): its files and their headers over raw HTTP, the keyless-files / keyed-data
// split, GET /v1/runs, and the whole UI driven in Debian's headless Chromium by
// tests/ui_client/drive.mjs (npm playwright-core, unmodified; scripts/install-deps installs
// both): login, a streamed python run, HTML in output, a chart from /out, a service run, a
// dashboard counter that moves, and no request to any other host. Screenshots of every step
// are kept in build/dev/ui-artifacts.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <sstream>

#include "server_helpers.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kClient = fs::path(IGNITE_SOURCE_DIR) / "tests/ui_client";
constexpr const char* kKey = "ui-test-key-7f3a";
const Headers kAuth = {{"Authorization", std::string("Bearer ") + kKey}};

// The server's UI, or the reason a test cannot look at it.
#define REQUIRE_UI(server)                                                                          \
  ASSERT_TRUE((server).started()) << (server).stderr_text();                                       \
  if (const HttpResponse ui = (server).get("/ui/"); ui.status == 404)                              \
  GTEST_SKIP() << "this ignite was built without its web UI (node and web/node_modules at build "  \
                  "time: scripts/install-deps): "                                                   \
               << ui.body

ServeOptions keyed_server() { return {{"--pool", "none", "--api-key", kKey, "--services", examples_dir()}, {}}; }

TEST(WebUi, the_files_are_served_without_a_key_with_a_strict_policy_and_stay_small) {
  ServerProcess s(keyed_server());
  REQUIRE_UI(s);
  const HttpResponse root = s.get("/");
  EXPECT_EQ(root.status, 302);
  EXPECT_EQ(root.header("location"), "/ui/");

  std::size_t total = 0;
  for (const std::string path : {"/ui/", "/ui/app.js", "/ui/app.css"}) {
    const HttpResponse r = s.get(path);  // no key
    ASSERT_EQ(r.status, 200) << path << ": " << r.body;
    const std::string csp = r.header("content-security-policy");
    EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
    EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
    EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos) << csp;
    EXPECT_NE(csp.find("connect-src 'self'"), std::string::npos) << csp;
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
    // No script may come inline: script-src names no 'unsafe-inline', hash or nonce.
    const std::string scripts = csp.substr(csp.find("script-src"), csp.find(';', csp.find("script-src")) - csp.find("script-src"));
    EXPECT_EQ(scripts, "script-src 'self'") << csp;
    EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
    total += r.body.size();
  }
  EXPECT_LT(total, 1'000'000u) << "the UI's files add " << total << " bytes";
  std::cout << "[ web ui   ] " << total << " bytes of UI files\n";

  // The page loads only our own files, and holds no inline script or handler.
  const std::string index = s.get("/ui/").body;
  EXPECT_EQ(s.get("/ui/").header("content-type").rfind("text/html", 0), 0u);
  EXPECT_FALSE(std::regex_search(index, std::regex(R"(<script(?![^>]*\bsrc=))", std::regex::icase))) << index;
  EXPECT_FALSE(std::regex_search(index, std::regex(R"(\son[a-z]+\s*=)", std::regex::icase))) << index;
  EXPECT_FALSE(std::regex_search(index, std::regex(R"((src|href)\s*=\s*["']?(https?:)?//)", std::regex::icase)))
      << index;
}

TEST(WebUi, every_route_with_data_still_needs_the_key) {
  ServerProcess s(keyed_server());
  ASSERT_TRUE(s.started()) << s.stderr_text();
  for (const std::string path : {"/v1/runs", "/v1/runtimes", "/metrics", "/services", "/v1/pools",
                                 "/ui/../v1/runs", "/ui/%2e%2e/metrics", "/ui/app.js/../../metrics", "/ui/x"}) {
    const HttpResponse r = s.get(path);
    EXPECT_TRUE(r.status == 401 || r.status == 400) << path << " answered " << r.status << ": " << r.body;
    EXPECT_EQ(r.body.find("python"), std::string::npos) << path;
  }
  EXPECT_EQ(s.post("/ui/", "{}").status, 401);  // only GET of the files is keyless
  EXPECT_EQ(s.get("/v1/runs", kAuth).status, 200);
}

// Another site's page in the user's browser: a text/plain POST needs no CORS preflight, and a
// rebinding page's requests look same-origin. Neither runs anything (a keyless server too).
TEST(WebUi, other_sites_pages_can_neither_post_nor_rebind_to_the_server) {
  REQUIRE_SANDBOX();
  ServerProcess s({{"--pool", "none", "--services", examples_dir()}, {}});  // no key: the local default
  ASSERT_TRUE(s.started()) << s.stderr_text();
  const std::string body = R"J({"runtime":"python","code":"print(7)"})J";
  const HttpResponse csrf = s.post("/v1/execute", body, {{"Content-Type", "text/plain"}, {"Origin", "http://evil.example"}});
  EXPECT_EQ(csrf.status, 403) << csrf.body;
  EXPECT_NE(csrf.body.find("cross-origin requests are refused"), std::string::npos) << csrf.body;
  const HttpResponse rebound = s.post("/v1/execute", body, {{"Host", "evil.example:" + std::to_string(s.port())},
                                                            {"Origin", "http://evil.example:" + std::to_string(s.port())}});
  EXPECT_EQ(rebound.status, 403) << rebound.body;
  EXPECT_EQ(s.get("/v1/runs", {{"Host", "evil.example"}}).status, 403);
  EXPECT_EQ(s.get("/v1/runs").json()["runs"].size(), 0u) << "a refused request ran";
  // The UI's own requests, and clients without Origin, still work.
  const std::string own = "http://127.0.0.1:" + std::to_string(s.port());
  EXPECT_EQ(s.post("/v1/execute", body, {{"Origin", own}}).status, 200);
  EXPECT_EQ(s.post("/v1/execute", body).status, 200);
  EXPECT_EQ(s.get("/v1/runs").json()["runs"].size(), 2u);
}

TEST(WebUi, recent_runs_say_how_runs_ended_and_never_what_they_printed) {
  REQUIRE_SANDBOX();
  ServerProcess s(keyed_server());
  ASSERT_TRUE(s.started()) << s.stderr_text();
  const HttpResponse run = s.post("/v1/execute", R"J({"runtime":"python","code":"import sys\nprint('s3cret-out')\nprint(input())\nsys.exit(3)","stdin":"s3cret-in","input":{"k":"s3cret-input"}})J", kAuth);
  ASSERT_EQ(run.status, 200) << run.body;
  ASSERT_EQ(s.post("/services/data-processor/execute", R"({"input":{"data":[1,2,3],"operation":"sum"}})", kAuth).status, 200);
  const HttpResponse runs = s.get("/v1/runs", kAuth);
  ASSERT_EQ(runs.status, 200);
  const auto j = runs.json();
  ASSERT_EQ(j["runs"].size(), 2u) << j;
  EXPECT_EQ(j["runs"][0]["service"], "data-processor");  // newest first
  EXPECT_EQ(j["runs"][0]["status"], "ok");
  EXPECT_EQ(j["runs"][1]["service"], "");
  EXPECT_EQ(j["runs"][1]["status"], "runtime_error");
  EXPECT_EQ(j["runs"][1]["runtime"].get<std::string>().rfind("python@", 0), 0u) << j;
  EXPECT_GT(j["runs"][1]["memoryPeakBytes"].get<double>(), 0);
  EXPECT_GT(j["runs"][0]["id"].get<int>(), j["runs"][1]["id"].get<int>());
  EXPECT_EQ(runs.body.find("s3cret"), std::string::npos) << runs.body;
}

// The whole UI in a real browser. drive.mjs prints `ok <check>` / `FAIL <check>: why` per step.
TEST(WebUi, headless_chromium_runs_code_services_and_watches_the_dashboard) {
  REQUIRE_SANDBOX();
  if (std::system("command -v node >/dev/null 2>&1") != 0) GTEST_SKIP() << "node is not installed";
  if (!fs::exists("/usr/bin/chromium")) GTEST_SKIP() << "Debian's chromium is not installed (scripts/install-deps)";
  if (!fs::exists(kClient / "node_modules/playwright-core/package.json"))
    GTEST_SKIP() << "playwright-core is not installed in " << kClient << "/node_modules (scripts/install-deps)";
  if (!fs::exists("/usr/lib/python3/dist-packages/matplotlib"))
    GTEST_SKIP() << "the chart step needs python3-matplotlib (scripts/install-deps)";
  ServerProcess s(keyed_server());
  REQUIRE_UI(s);
  const fs::path artifacts = fs::path(IGNITE_BUILD_DIR) / "ui-artifacts";
  fs::create_directories(artifacts);
  const ShellResult drove =
      run_shell("node " + sh_quote((kClient / "drive.mjs").string()) + " --url http://127.0.0.1:" +
                std::to_string(s.port()) + " --key " + kKey + " --service data-processor --artifacts " +
                sh_quote(artifacts.string()));
  if (drove.status == 77) GTEST_SKIP() << drove.out;
  std::cout << drove.out;
  EXPECT_EQ(drove.status, 0) << drove.out << "\nserver log:\n" << s.stderr_text().substr(0, 4000);
  for (const std::string check : {"login_only_without_key", "login_with_key", "streamed_output_arrives_before_the_end",
                                  "html_in_output_is_text", "chart_from_out_is_shown",
                                  "service_runs_from_the_services_view", "dashboard_counter_moves",
                                  "no_outside_requests", "no_console_errors_or_csp_violations"})
    EXPECT_NE(drove.out.find("ok " + check + "\n"), std::string::npos) << check << " did not pass:\n" << drove.out;
  EXPECT_EQ(drove.out.find("FAIL"), std::string::npos);
  int screenshots = 0;
  for (const auto& e : fs::directory_iterator(artifacts)) screenshots += e.path().extension() == ".png";
  EXPECT_GE(screenshots, 5) << "screenshots in " << artifacts;
}

}  // namespace
}  // namespace ignite::testing

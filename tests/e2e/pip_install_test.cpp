// Python packages through `ignite run` as a user runs it (issue 15): requirements.txt installed
// by pip from a local wheel index the test makes (no network), cached per key; a setup.py that
// runs at install time (only when the service opts in) reaches neither the host's loopback nor
// anything through the egress proxy's loopback; pip options in requirements.txt reach nothing
// of the host either.
#include <poll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "../common/dockerd.hpp"
#include "../common/loopback_listener.hpp"
#include "cli_helpers.hpp"
#include "sys/temp_dir.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

bool pip_ready() {
  static const bool ready = run_cli({"env", "--runtimes"}).out.find("\n  python ") != std::string::npos &&
                            fs::exists("/usr/lib/python3/dist-packages/pip/__main__.py");
  return ready;
}

#define REQUIRE_PIP()                                                          \
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for the native sandbox";   \
  if (!pip_ready()) GTEST_SKIP() << "needs python3 and python3-pip (scripts/install-deps)"

// Whether anything connected to `listener` (a pending connection makes it readable).
bool was_reached(const LoopbackListener& listener) {
  pollfd p{listener.fd(), POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

class PipInstall : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = sys::TempDir::create(fs::temp_directory_path(), "ignite-pip-test-");
    ASSERT_TRUE(dir);
    dir_.emplace(std::move(*dir));
    ::chmod(dir_->path().c_str(), 0755);
  }
  fs::path root() const { return dir_->path(); }

  // A service dir `name` with these files; `links/` holds what the python script `make_links`
  // writes there (run on the host, with the dir as its cwd).
  fs::path service(const std::string& name, const std::vector<std::pair<std::string, std::string>>& files,
                   const std::string& make_links = "") {
    const fs::path d = root() / name;
    fs::create_directories(d / "links");
    for (const auto& [rel, text] : files) std::ofstream(d / rel) << text;
    if (!make_links.empty()) {
      std::ofstream(root() / "make.py") << make_links;
      const std::string cmd = "cd '" + (d / "links").string() + "' && /usr/bin/python3 '" + (root() / "make.py").string() + "'";
      EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    }
    for (auto it = fs::recursive_directory_iterator(d); it != fs::recursive_directory_iterator(); ++it)
      ::chmod(it->path().c_str(), it->is_directory() ? 0755 : 0644);
    ::chmod(d.c_str(), 0755);
    return d;
  }

  Json run_json(const fs::path& svc) {
    auto r = run_cli({"run", svc.string(), "--json", "--skip-preflight"},
                     {"IGNITE_CACHE_DIR=" + (root() / "cache").string()});
    if (r.out.empty()) return Json{{"error", r.err}, {"exitCode", r.exit_code}};
    return Json::parse(r.out);
  }

 private:
  std::optional<sys::TempDir> dir_;
};

// A pure-python wheel of `tinypkg` at `version`, made the way a build backend makes one.
std::string wheel_maker(const std::string& version) {
  return R"(import base64, hashlib, zipfile
v = ")" + version + R"("
def rec(d): return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b"=").decode()
files = {"tinypkg/__init__.py": ("VALUE = 'tiny %s'\n" % v).encode(),
         "tinypkg-%s.dist-info/METADATA" % v: ("Metadata-Version: 2.1\nName: tinypkg\nVersion: %s\n" % v).encode(),
         "tinypkg-%s.dist-info/WHEEL" % v: b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
record = "".join("%s,%s,%d\n" % (n, rec(d), len(d)) for n, d in files.items()) + "tinypkg-%s.dist-info/RECORD,,\n" % v
with zipfile.ZipFile("tinypkg-%s-py3-none-any.whl" % v, "w") as z:
    for n, d in files.items(): z.writestr(n, d)
    z.writestr("tinypkg-%s.dist-info/RECORD" % v, record)
)";
}

// An sdist whose setup.py, run by pip at install time, tries the host's loopback port directly
// and through the egress proxy, and records what happened in the package it then builds.
std::string sdist_maker(const std::string& port) {
  return R"(import io, tarfile
setup = '''
import os, socket
from setuptools import setup
def attempt(port, connect_to=None):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=3)
        if connect_to is None:
            return "connected"
        s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n" % connect_to)
        return "proxy: " + s.recv(200).split(b"\\r\\n")[0].decode()
    except Exception as e:
        return "refused: " + type(e).__name__
direct = attempt()" + port + R"()
via = attempt(3128, )" + port + R"()
os.makedirs("probepkg", exist_ok=True)
with open("probepkg/__init__.py", "w") as f:
    f.write("DIRECT = %r\\nVIA_PROXY = %r\\n" % (direct, via))
setup(name="probepkg", version="1.0", packages=["probepkg"])
'''
def add(t, name, data):
    i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
with tarfile.open("probepkg-1.0.tar.gz", "w:gz") as t:
    add(t, "probepkg-1.0/setup.py", setup.encode())
    add(t, "probepkg-1.0/PKG-INFO", b"Metadata-Version: 2.1\nName: probepkg\nVersion: 1.0\n")
)";
}

std::string python_service(const std::string& name, const std::string& extra) {
  return "service:\n  name: " + name + "\n  runtime: python\n  entry: main.py\n" + extra;
}
const std::string kLocalLinks = "  pip:\n    noIndex: true\n    findLinks: [links]\n";

TEST_F(PipInstall, a_local_wheel_index_installs_once_then_the_cached_environment_serves) {
  REQUIRE_PIP();
  const fs::path svc = service("wheels", {{"service.yaml", python_service("pip-wheels", kLocalLinks)},
                                          {"requirements.txt", "tinypkg==1.0  # pinned\n"},
                                          {"main.py", "import tinypkg\nprint(tinypkg.VALUE, tinypkg.__file__)\n"}},
                               wheel_maker("1.0"));
  const Json first = run_json(svc);
  ASSERT_EQ(first.value("exitCode", -1), 0) << first.dump();
  EXPECT_EQ(first["install"]["cached"], false);
  EXPECT_EQ(first["install"]["status"], "ok");
  EXPECT_NE(first["install"]["stdout"].get<std::string>().find("Successfully installed tinypkg-1.0"), std::string::npos);
  // Where python's own `site` looks: no PYTHONPATH (the runtime runs with -E).
  EXPECT_EQ(first["stdout"].get<std::string>().rfind("tiny 1.0 /usr/local/lib/python3.", 0), 0u) << first["stdout"];

  const Json second = run_json(svc);
  ASSERT_EQ(second.value("exitCode", -1), 0) << second.dump();
  EXPECT_EQ(second["install"]["cached"], true);
  EXPECT_FALSE(second["install"].contains("status"));  // no install step ran
  EXPECT_EQ(second["stdout"], first["stdout"]);

  // The key covers the index's files: a new wheel in it is a new install.
  fs::remove(svc / "requirements.txt");
  std::ofstream(svc / "requirements.txt") << "tinypkg\n";
  std::ofstream(root() / "make.py") << wheel_maker("1.1");
  ASSERT_EQ(std::system(("cd '" + (svc / "links").string() + "' && /usr/bin/python3 '" + (root() / "make.py").string() + "'").c_str()), 0);
  for (const auto& e : fs::directory_iterator(svc / "links")) ::chmod(e.path().c_str(), 0644);
  const Json third = run_json(svc);
  ASSERT_EQ(third.value("exitCode", -1), 0) << third.dump();
  EXPECT_EQ(third["install"]["cached"], false);
  EXPECT_EQ(third["stdout"].get<std::string>().rfind("tiny 1.1 ", 0), 0u) << third["stdout"];
}

// The install runs natively (as npm's does); the docker backend mounts the cached packages into
// its container at the same place.
TEST_F(PipInstall, a_docker_run_sees_the_cached_packages_too) {
  REQUIRE_PIP();
  const auto& daemon = docker_daemon();
  if (!daemon.ready) GTEST_SKIP() << "no Docker daemon: " << daemon.why;
  const fs::path svc = service("docker", {{"service.yaml", python_service("pip-docker", kLocalLinks)},
                                          {"requirements.txt", "tinypkg==1.0\n"},
                                          {"main.py", "import tinypkg\nprint(tinypkg.VALUE)\n"}},
                               wheel_maker("1.0"));
  auto r = run_cli({"run", svc.string(), "--json", "--skip-preflight", "--isolation", "docker"},
                   {"IGNITE_CACHE_DIR=" + (root() / "cache").string()});
  ASSERT_FALSE(r.out.empty()) << r.err;
  const Json doc = Json::parse(r.out);
  EXPECT_EQ(doc.value("isolation", ""), "docker") << doc.dump();
  EXPECT_EQ(doc.value("stdout", ""), "tiny 1.0\n") << doc.dump();
}

TEST_F(PipInstall, declared_dependencies_are_the_requirements_when_there_is_no_requirements_txt) {
  REQUIRE_PIP();
  const fs::path svc = service("declared", {{"service.yaml", python_service("pip-declared", "  dependencies: [tinypkg==1.0]\n" + kLocalLinks)},
                                            {"main.py", "import tinypkg\nprint(tinypkg.VALUE)\n"}},
                               wheel_maker("1.0"));
  const Json doc = run_json(svc);
  ASSERT_EQ(doc.value("exitCode", -1), 0) << doc.dump();
  EXPECT_EQ(doc["stdout"], "tiny 1.0\n");
}

TEST_F(PipInstall, a_setup_py_that_opted_in_runs_sandboxed_and_cannot_reach_host_loopback) {
  REQUIRE_PIP();
  LoopbackListener host_service;
  ASSERT_TRUE(host_service.ok());
  const fs::path svc = service("sdist", {{"service.yaml", python_service("pip-sdist", "  installScripts: true\n" + kLocalLinks)},
                                         {"requirements.txt", "probepkg==1.0\n"},
                                         {"main.py", "import probepkg\nprint(probepkg.DIRECT)\nprint(probepkg.VIA_PROXY)\n"}},
                               sdist_maker(host_service.port()));
  const Json doc = run_json(svc);
  ASSERT_EQ(doc.value("exitCode", -1), 0) << doc.dump();
  EXPECT_EQ(doc["install"]["status"], "ok");
  // The setup.py ran (it wrote the package) and met nothing: its own network namespace has no
  // listener on that port, and the proxy refuses loopback.
  EXPECT_EQ(doc["stdout"], "refused: ConnectionRefusedError\nproxy: HTTP/1.1 403 Forbidden\n") << doc["stdout"];
  EXPECT_FALSE(was_reached(host_service));
}

TEST_F(PipInstall, an_sdist_is_not_built_unless_the_service_opts_in_to_install_scripts) {
  REQUIRE_PIP();
  LoopbackListener host_service;
  ASSERT_TRUE(host_service.ok());
  const fs::path svc = service("sdist-off", {{"service.yaml", python_service("pip-sdist-off", kLocalLinks)},
                                             {"requirements.txt", "probepkg==1.0\n"},
                                             {"main.py", "print('never')\n"}},
                               sdist_maker(host_service.port()));
  const Json doc = run_json(svc);
  EXPECT_NE(doc.value("exitCode", 0), 0) << doc.dump();
  const std::string err = doc.value("error", "");
  EXPECT_NE(err.find("dependency install failed"), std::string::npos) << err;
  EXPECT_NE(err.find("No matching distribution found for probepkg==1.0"), std::string::npos) << err;
  EXPECT_FALSE(was_reached(host_service));
}

TEST_F(PipInstall, an_index_on_host_loopback_named_in_requirements_txt_is_not_reached) {
  REQUIRE_PIP();
  LoopbackListener host_index;
  ASSERT_TRUE(host_index.ok());
  const fs::path svc = service("loopback-index", {{"service.yaml", python_service("pip-loopback", "")},
                                                  {"requirements.txt", "--index-url http://127.0.0.1:" + host_index.port() +
                                                                           "/simple\n--trusted-host 127.0.0.1\ntinypkg\n"},
                                                  {"main.py", "print('never')\n"}});
  const Json doc = run_json(svc);
  EXPECT_NE(doc.value("exitCode", 0), 0) << doc.dump();
  // pip ran, asked (the proxy refused loopback), and found nothing.
  EXPECT_NE(doc.value("error", "").find("No matching distribution found for tinypkg"), std::string::npos) << doc.dump();
  EXPECT_FALSE(was_reached(host_index));
}

}  // namespace
}  // namespace ignite::testing

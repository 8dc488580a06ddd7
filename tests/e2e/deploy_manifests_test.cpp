// deploy/kubernetes and deploy/systemd (issue 17): every manifest validates against the Kubernetes API schemas
// (kubernetes-models from npm: the OpenAPI schema of each kind, checked by ajv), and every
// Ignite container has exactly the privileges of the tested container
// (deploy/docker/least-privilege.flags, ServerImage.*). A broken copy and a copy with one
// capability more are both refused, so the check can fail.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "server_helpers.hpp"
#include "sys/temp_dir.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const fs::path kSource = IGNITE_SOURCE_DIR;
const fs::path kValidator = kSource / "tests/k8s_validate";

struct Verdict {
  int rc = -1;
  Json doc;
  std::string raw;
};

Verdict validate(const std::vector<fs::path>& files) {
  std::string cmd = "node " + (kValidator / "validate.mjs").string() + " --flags " +
                    (kSource / "deploy/docker/least-privilege.flags").string();
  for (const auto& f : files) cmd += " " + f.string();
  Verdict v;
  const ShellResult r = run_shell(cmd);
  v.rc = r.status;
  v.raw = r.out;
  v.doc = Json::parse(v.raw.substr(0, v.raw.find('\n')), nullptr, false);
  return v;
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

#define REQUIRE_VALIDATOR()                                                                    \
  if (!fs::exists(kValidator / "node_modules/kubernetes-models/package.json"))                  \
  GTEST_SKIP() << "kubernetes-models is not installed in " << kValidator.string()               \
               << "/node_modules (scripts/install-deps installs it)"

TEST(KubernetesManifests, validate_against_the_api_schemas_with_the_tested_privileges) {
  REQUIRE_VALIDATOR();
  const Verdict v = validate({kSource / "deploy/kubernetes/nats.yaml", kSource / "deploy/kubernetes/ignite.yaml"});
  ASSERT_EQ(v.rc, 0) << v.raw;
  EXPECT_EQ(v.doc.value("documents", 0), 8) << v.raw;  // NATS: ConfigMap, Service, StatefulSet; Ignite: 2 Deployments, Service, 2 HPAs
  EXPECT_EQ(v.doc["errors"], Json::array()) << v.raw;
}

TEST(KubernetesManifests, a_schema_error_or_a_privilege_beyond_the_tested_ones_is_refused) {
  REQUIRE_VALIDATOR();
  auto dir = sys::TempDir::create(fs::temp_directory_path(), "ignite-k8s-test-");
  ASSERT_TRUE(dir);
  const std::string original = read(kSource / "deploy/kubernetes/ignite.yaml");

  const fs::path broken = dir->path() / "broken.yaml";
  std::ofstream(broken) << replaced(original, "replicas: 2", "replicas: two");
  const Verdict schema = validate({broken});
  EXPECT_EQ(schema.rc, 1) << schema.raw;
  EXPECT_NE(schema.raw.find("spec/replicas must be integer"), std::string::npos) << schema.raw;

  const fs::path wider = dir->path() / "wider.yaml";
  std::ofstream(wider) << replaced(original, "KILL, DAC_OVERRIDE]", "KILL, DAC_OVERRIDE, NET_ADMIN]");
  const Verdict privileges = validate({wider});
  EXPECT_EQ(privileges.rc, 1) << privileges.raw;
  EXPECT_NE(privileges.raw.find("container serve adds"), std::string::npos) << privileges.raw;
}

// deploy/systemd/ignite.service: `systemd-analyze verify` finds nothing to say (no unknown key,
// its binary executable), its CapabilityBoundingSet is the tested container's set, and ignite
// under exactly that bounding set and no_new_privs (setpriv, as systemd would start it) runs the
// seed and ends a sleeper at its deadline (which takes CAP_KILL).
TEST(SystemdUnit, verifies_and_its_capabilities_are_enough_for_sandboxes) {
  if (run_shell("command -v systemd-analyze && command -v setpriv").status != 0)
    GTEST_SKIP() << "systemd-analyze or setpriv is missing (systemd, util-linux)";
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: the unit runs ignite as root";
  auto dir = sys::TempDir::create(fs::temp_directory_path(), "ignite-unit-test-");
  ASSERT_TRUE(dir);
  const fs::path unit = dir->path() / "ignite.service";
  std::ofstream(unit) << replaced(read(kSource / "deploy/systemd/ignite.service"), "/usr/local/bin/ignite", IGNITE_BIN);
  const ShellResult verified = run_shell("systemd-analyze verify " + unit.string());
  EXPECT_EQ(verified.status, 0) << verified.out;
  EXPECT_EQ(verified.out, "") << "warnings from systemd-analyze";

  // CapabilityBoundingSet=CAP_A CAP_B … against --cap-add=A of the flags.
  const std::string text = read(unit);
  const auto at = text.find("\nCapabilityBoundingSet=");
  ASSERT_NE(at, std::string::npos);
  std::istringstream caps(text.substr(at + 23, text.find('\n', at + 1) - at - 23));
  std::vector<std::string> unit_caps, tested;
  for (std::string c; caps >> c;) unit_caps.push_back(c.substr(4));
  std::istringstream flags(read(kSource / "deploy/docker/least-privilege.flags"));
  for (std::string line; std::getline(flags, line);)
    if (line.rfind("--cap-add=", 0) == 0) tested.push_back(line.substr(10));
  std::sort(unit_caps.begin(), unit_caps.end());
  std::sort(tested.begin(), tested.end());
  EXPECT_EQ(unit_caps, tested);

  std::string bounding = "-all";
  for (std::string c : unit_caps) {
    std::transform(c.begin(), c.end(), c.begin(), [](unsigned char ch) { return std::tolower(ch); });
    bounding += ",+" + c;
  }
  const std::string as_unit = "setpriv --bounding-set=" + bounding + " --no-new-privs " + std::string(IGNITE_BIN) + " ";
  const ShellResult seed = run_shell(as_unit + "run " + (kSource / "examples/data-processor").string() +
                                     " --input '{\"data\":[1,2,3],\"operation\":\"sum\"}'");
  EXPECT_EQ(seed.status, 0) << seed.out;
  EXPECT_NE(seed.out.find("\"result\":6"), std::string::npos) << seed.out;
  const auto start = std::chrono::steady_clock::now();
  const ShellResult sleeper = run_shell(as_unit + "exec --runtime python --timeout 1000 --code 'import time; time.sleep(20)'");
  EXPECT_EQ(sleeper.status, 124) << sleeper.out;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8)) << "the deadline did not end it";
}

}  // namespace
}  // namespace ignite::testing

// deploy/kubernetes (issue 17): every manifest validates against the Kubernetes API schemas
// (kubernetes-models from npm: the OpenAPI schema of each kind, checked by ajv), and every
// Ignite container has exactly the privileges of the tested container
// (deploy/docker/least-privilege.flags, ServerImage.*). A broken copy and a copy with one
// capability more are both refused, so the check can fail.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace ignite::testing

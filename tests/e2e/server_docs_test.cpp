// docs/api.md agrees with /openapi.json: every route the server describes is documented, with
// a curl example, and every documented route exists.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <regex>
#include <sstream>

#include "server_helpers.hpp"

namespace ignite::testing {
namespace {

std::string read_docs() {
  std::ifstream in(std::string(IGNITE_SOURCE_DIR) + "/docs/api.md");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

TEST(ServerDocs, every_openapi_route_is_in_api_md_with_a_curl_example) {
  ServerProcess s({{}, {}});
  ASSERT_TRUE(s.started());
  auto doc = s.get("/openapi.json").json();
  const std::string md = read_docs();
  ASSERT_FALSE(md.empty()) << "docs/api.md is missing";
  ASSERT_GE(doc["paths"].size(), 13u);
  for (const auto& [path, ops] : doc["paths"].items()) {
    for (const auto& [method, op] : ops.items()) {
      const std::string heading = "`" + upper(method) + " " + path + "`";
      EXPECT_NE(md.find(heading), std::string::npos) << "docs/api.md lacks " << heading;
    }
    // A curl line that reaches the path (its part before the first parameter).
    const std::string fixed = path.substr(0, path.find('{'));
    bool curl = false;
    std::istringstream lines(md);
    for (std::string line; std::getline(lines, line);)
      curl = curl || (line.find("curl ") != std::string::npos && line.find("$U" + fixed) != std::string::npos);
    EXPECT_TRUE(curl) << "no curl example for " << path;
  }
}

TEST(ServerDocs, every_documented_route_is_in_openapi) {
  ServerProcess s({{}, {}});
  ASSERT_TRUE(s.started());
  auto doc = s.get("/openapi.json").json();
  const std::string md = read_docs();
  const std::regex route("`(GET|POST) (/[^` ]*)`");
  int seen = 0;
  for (auto it = std::sregex_iterator(md.begin(), md.end(), route); it != std::sregex_iterator(); ++it) {
    const std::string method = (*it)[1];
    const std::string path = (*it)[2];
    std::string lower_method = method;
    std::transform(lower_method.begin(), lower_method.end(), lower_method.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    EXPECT_TRUE(doc["paths"].contains(path) && doc["paths"][path].contains(lower_method))
        << method << " " << path << " is documented but not in /openapi.json";
    ++seen;
  }
  EXPECT_GE(seen, 13);
}

}  // namespace
}  // namespace ignite::testing

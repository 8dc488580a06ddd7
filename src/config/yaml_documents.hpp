// Loading the documents of a YAML stream without yaml-cpp's LoadAll, which loops forever
// (allocating until the OOM killer steps in) on inputs as small as "," in yaml-cpp <= 0.7,
// the version Debian 12 ships (upstream issue #1040, fixed by PR #1319 in 0.8.0). Found by
// tests/fuzz/fuzz_service_yaml. Private to src/config.
#pragma once
#include <yaml-cpp/yaml.h>

#include <string>

namespace ignite::config::detail {

struct YamlDocuments {
  YAML::Node first;       // the first non-empty document (undefined when there is none)
  int non_empty = 0;      // how many documents are not empty
  int second_line = 1;    // 1-based line of the second non-empty document, for the error
  bool first_is_leading = true;  // the first non-empty document is the stream's first
};

// Parses at most 64 documents and stops when the parser makes no progress. Throws what
// yaml-cpp throws (YAML::ParserException) on syntax errors, like LoadAll.
YamlDocuments load_documents(const std::string& text);

}  // namespace ignite::config::detail

#include "config/yaml_documents.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <sstream>

namespace ignite::config::detail {
namespace {

// Records, per document, where it starts and whether it is empty; builds no nodes.
class Outline final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    start = mark;
    first_event = true;
    empty = false;
    first_line = mark.line + 1;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override {
    if (first_event) {
      empty = true;
      first_line = mark.line + 1;
    }
    first_event = false;
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { event(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    event(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    event(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    event(mark);
  }
  void OnMapEnd() override {}

  YAML::Mark start;
  bool first_event = true;
  bool empty = false;
  int first_line = 1;

 private:
  void event(const YAML::Mark& mark) {
    if (first_event) first_line = mark.line + 1;
    first_event = false;
  }
};

bool same(const YAML::Mark& a, const YAML::Mark& b) {
  return a.pos == b.pos && a.line == b.line && a.column == b.column;
}

}  // namespace

YamlDocuments load_documents(const std::string& text) {
  constexpr int kMaxDocuments = 64;
  YamlDocuments out;
  std::istringstream in(text);
  YAML::Parser parser(in);
  Outline outline;
  YAML::Mark previous;
  int index = 0;
  for (; index < kMaxDocuments && parser.HandleNextDocument(outline); ++index) {
    // The yaml-cpp bug: a token no rule consumes yields an empty document at the same place
    // forever. A real empty document always moves the scanner on.
    if (index > 0 && outline.empty && same(outline.start, previous)) break;
    previous = outline.start;
    if (outline.empty) continue;
    if (++out.non_empty == 1) {
      out.first_is_leading = index == 0;
      if (!out.first_is_leading) out.second_line = outline.first_line;
    }
    if (out.non_empty == 2) out.second_line = outline.first_line;
  }
  if (out.non_empty >= 1 && out.first_is_leading) out.first = YAML::Load(text);
  return out;
}

}  // namespace ignite::config::detail

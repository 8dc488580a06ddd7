#include "runtime/descriptors.hpp"

namespace ignite::runtime {
namespace {
// std::vector<Descriptor> generated_descriptors(), written by descriptors_gen from runtimes/*.json.
#include "runtime_descriptors.inc"
}  // namespace

const std::vector<Descriptor>& descriptors() {
  static const std::vector<Descriptor> table = generated_descriptors();
  return table;
}

const Descriptor* find_descriptor(std::string_view name) {
  for (const auto& d : descriptors()) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

}  // namespace ignite::runtime

// OutputCapture: one output stream of a run, kept up to its cap and streamed to the sink as it
// arrives. Backend-neutral (pipes here, a multiplexed attach stream for containers): the
// backend reads the bytes, this decides what is kept.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "sandbox/backend.hpp"

namespace ignite::sandbox {

class OutputCapture {
 public:
  OutputCapture(Stream stream, std::uint64_t cap, std::string& data, bool& truncated)
      : stream_(stream), cap_(cap), data_(data), truncated_(truncated) {}

  // Keeps what fits under the cap and drops the rest (the program must never block on a full
  // pipe: it would look like a hang and end as a timeout). The cap falls anywhere, also inside
  // a character: a cut-off character is dropped so text stays text (one stray byte would turn
  // the whole stream into base64); binary output is kept as it is. Bytes already streamed to the
  // sink stay sent.
  void append(std::string_view chunk, const OutputSink& sink);

 private:
  Stream stream_;
  std::uint64_t cap_;
  std::string& data_;
  bool& truncated_;
};

}  // namespace ignite::sandbox

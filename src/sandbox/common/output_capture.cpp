#include "sandbox/common/output_capture.hpp"

#include "core/utf8.hpp"

namespace ignite::sandbox {

void OutputCapture::append(std::string_view chunk, const OutputSink& sink) {
  const std::size_t room =
      !truncated_ && data_.size() < cap_ ? static_cast<std::size_t>(cap_ - data_.size()) : 0;
  const std::size_t keep = chunk.size() < room ? chunk.size() : room;
  const std::size_t before = data_.size();
  data_.append(chunk.data(), keep);
  if (keep < chunk.size() && !truncated_) {
    truncated_ = true;
    data_.resize(utf8_boundary(data_));
  }
  if (sink && data_.size() > before) sink(stream_, std::string_view(data_).substr(before));
}

}  // namespace ignite::sandbox

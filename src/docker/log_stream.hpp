// LogDemuxer: splits the Engine API's multiplexed log stream (containers without a TTY) into
// stdout and stderr, keeping at most a cap per stream. Fed in whatever pieces the socket
// delivers; each frame is an 8-byte header {stream, 0, 0, 0, size as big-endian u32} and the
// payload.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ignite::docker {

struct Logs {
  std::string out;
  std::string err;
  bool out_truncated = false;  // the stream had more than the cap; the rest was dropped
  bool err_truncated = false;
};

class LogDemuxer {
 public:
  explicit LogDemuxer(std::size_t max_per_stream) : max_(max_per_stream) {}

  // False once the stream is malformed (unknown stream id): the caller stops reading.
  bool feed(std::string_view bytes);
  // Both streams are past their caps: reading on can add nothing.
  bool saturated() const { return logs_.out_truncated && logs_.err_truncated; }
  // A frame cut off by the end of the stream (the daemon went away mid-frame).
  bool mid_frame() const { return header_used_ != 0 || left_ != 0; }
  Logs take() { return std::move(logs_); }

 private:
  void keep(std::string_view payload);

  std::size_t max_;
  Logs logs_;
  unsigned char header_[8] = {};
  std::size_t header_used_ = 0;
  std::uint32_t left_ = 0;  // payload bytes of the current frame still to come
  unsigned char stream_ = 0;
};

}  // namespace ignite::docker

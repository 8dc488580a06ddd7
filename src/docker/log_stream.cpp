#include "docker/log_stream.hpp"

#include <algorithm>

namespace ignite::docker {

bool LogDemuxer::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    if (left_ == 0) {
      const std::size_t take = std::min(bytes.size(), sizeof header_ - header_used_);
      for (std::size_t i = 0; i < take; ++i) header_[header_used_ + i] = static_cast<unsigned char>(bytes[i]);
      header_used_ += take;
      bytes.remove_prefix(take);
      if (header_used_ < sizeof header_) return true;
      header_used_ = 0;
      stream_ = header_[0];
      // 0 is stdin (never sent by logs), 1 stdout, 2 stderr; 3 is the daemon's own error
      // text on attach. Anything else means this is not the multiplexed format (a TTY
      // container): refuse rather than misfile bytes.
      if (stream_ > 3) return false;
      left_ = (std::uint32_t{header_[4]} << 24) | (std::uint32_t{header_[5]} << 16) |
              (std::uint32_t{header_[6]} << 8) | std::uint32_t{header_[7]};
      continue;
    }
    const std::size_t take = std::min<std::size_t>(bytes.size(), left_);
    keep(bytes.substr(0, take));
    left_ -= static_cast<std::uint32_t>(take);
    bytes.remove_prefix(take);
  }
  return true;
}

void LogDemuxer::keep(std::string_view payload) {
  // Security: the container writes these bytes; only `max_` of each stream are ever held.
  std::string& to = stream_ == 2 || stream_ == 3 ? logs_.err : logs_.out;
  bool& cut = stream_ == 2 || stream_ == 3 ? logs_.err_truncated : logs_.out_truncated;
  const std::size_t room = max_ - std::min(max_, to.size());
  if (payload.size() > room) cut = true;
  to.append(payload.substr(0, room));
}

}  // namespace ignite::docker

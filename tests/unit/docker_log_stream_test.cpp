// LogDemuxer: the Engine API's multiplexed log stream, split and capped (src/docker/log_stream.*).
#include "docker/log_stream.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ignite::docker {
namespace {

std::string frame(char stream, const std::string& payload) {
  const auto n = static_cast<std::uint32_t>(payload.size());
  std::string f = {stream, 0, 0, 0, static_cast<char>(n >> 24), static_cast<char>((n >> 16) & 0xff),
                   static_cast<char>((n >> 8) & 0xff), static_cast<char>(n & 0xff)};
  return f + payload;
}

TEST(DockerLogStream, frames_split_anywhere_land_in_their_stream) {
  const std::string stream = frame(1, "hello ") + frame(2, "oops\n") + frame(1, "world\n") + frame(2, "");
  // Every split point, including inside a header.
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    LogDemuxer demux(1 << 20);
    ASSERT_TRUE(demux.feed(stream.substr(0, cut)));
    ASSERT_TRUE(demux.feed(stream.substr(cut)));
    EXPECT_FALSE(demux.mid_frame());
    const Logs logs = demux.take();
    EXPECT_EQ(logs.out, "hello world\n") << cut;
    EXPECT_EQ(logs.err, "oops\n") << cut;
  }
}

TEST(DockerLogStream, each_stream_keeps_at_most_the_cap) {
  LogDemuxer demux(10);
  ASSERT_TRUE(demux.feed(frame(1, std::string(7, 'o')) + frame(2, std::string(70000, 'e'))));
  EXPECT_FALSE(demux.saturated());
  ASSERT_TRUE(demux.feed(frame(1, std::string(7, 'o'))));
  EXPECT_TRUE(demux.saturated());
  const Logs logs = demux.take();
  EXPECT_EQ(logs.out, std::string(10, 'o'));
  EXPECT_EQ(logs.err, std::string(10, 'e'));
  EXPECT_TRUE(logs.out_truncated);
  EXPECT_TRUE(logs.err_truncated);
}

TEST(DockerLogStream, a_raw_tty_stream_is_refused_not_misfiled) {
  LogDemuxer demux(100);
  EXPECT_FALSE(demux.feed("plain text from a TTY container\n"));
}

TEST(DockerLogStream, a_frame_cut_short_is_noticed) {
  LogDemuxer demux(100);
  ASSERT_TRUE(demux.feed(frame(1, "abcdef").substr(0, 10)));
  EXPECT_TRUE(demux.mid_frame());
}

}  // namespace
}  // namespace ignite::docker

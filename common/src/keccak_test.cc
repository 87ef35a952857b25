#include "trace/common/keccak.h"

#include <gtest/gtest.h>

#include "trace/common/encoding.h"

namespace trace {
namespace {

std::string Hex(std::string_view data) { return HexEncode(Keccak256(data)); }

std::string Counting(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i & 0xff);
  return s;
}

TEST(Keccak256, KnownAnswers) {
  // Ethereum's well-known values (the empty-code hash; keccak256("abc")).
  EXPECT_EQ(Hex(""), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  EXPECT_EQ(Hex("abc"), "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
  // The Keccak team's / Wikipedia's Keccak-256 example.
  EXPECT_EQ(Hex("The quick brown fox jumps over the lazy dog"),
            "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15");
}

// Expected values computed once with js-sha3 0.9 (npm) in node:
//   const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = i & 0xff;
//   require('js-sha3').keccak256(b)
// 135 bytes leaves room for the single padding byte 0x81; 136 fills one block exactly and
// pads a whole second block; 137, 200 and 272 cross block boundaries.
TEST(Keccak256, MultiBlockInputsMatchJsSha3) {
  EXPECT_EQ(Hex(Counting(135)), "cbdfd9dee5faad3818d6b06f95a219fd290b0e1706f6a82e5a595b9ce9faca62");
  EXPECT_EQ(Hex(Counting(136)), "7ce759f1ab7f9ce437719970c26b0a66ff11fe3e38e17df89cf5d29c7d7f807e");
  EXPECT_EQ(Hex(Counting(137)), "ac73d4fae68b8453f764007c1a20ce95994187861f0c3227a3a8e99a73a3b1db");
  EXPECT_EQ(Hex(Counting(200)), "bfb0aa97863e797943cf7c33bb7e880bb4543f3d2703c0923c6901c2af57b890");
  EXPECT_EQ(Hex(Counting(272)), "fdf2ec49e749960d3c8521a0219af8d03e30e2b3bf19bd16150ee0eaf133d66e");
  // js-sha3: keccak256('a'.repeat(1000))
  EXPECT_EQ(Hex(std::string(1000, 'a')), "b6a4ac1f51884d71f30fa397a5e155de3099e11fc0edef5d08b646e621e19de9");
}

TEST(Keccak256, IncrementalEqualsOneShotForEverySplit) {
  std::string data = Counting(300);
  std::string want = Keccak256(data);
  for (size_t split = 0; split <= data.size(); split += 7) {
    Keccak256Hasher h;
    h.Update(std::string_view(data).substr(0, split));
    h.Update(std::string_view(data).substr(split));
    ASSERT_EQ(h.Final(), want) << "split at " << split;
  }
  Keccak256Hasher h;
  for (char c : data) h.Update(std::string_view(&c, 1));
  EXPECT_EQ(h.Final(), want);
  h.Reset();
  EXPECT_EQ(HexEncode(h.Final()), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
}

}  // namespace
}  // namespace trace

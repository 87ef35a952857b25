#include "trace/common/encoding.h"

#include <gtest/gtest.h>

namespace trace {
namespace {

// RFC 4648 §10 test vectors.
struct Vector {
  std::string plain, b64;
};
const Vector kRfc4648[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},     {"foo", "Zm9v"},
                           {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};

TEST(Encoding, Base64MatchesRfc4648Vectors) {
  for (const auto& v : kRfc4648) {
    EXPECT_EQ(Base64Encode(v.plain), v.b64);
    auto back = Base64Decode(v.b64);
    ASSERT_TRUE(back.has_value()) << v.b64;
    EXPECT_EQ(*back, v.plain);
  }
}

TEST(Encoding, Base64UrlHasNoPaddingAndUrlAlphabet) {
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode(std::string("\xfb\xff", 2)), "-_8");
  EXPECT_EQ(*Base64UrlDecode("-_8"), std::string("\xfb\xff", 2));
  EXPECT_FALSE(Base64UrlDecode("Zg==").has_value());
  EXPECT_FALSE(Base64UrlDecode("+/8").has_value());
  EXPECT_FALSE(Base64UrlDecode("Z").has_value());
}

TEST(Encoding, Base64RefusesBadInput) {
  EXPECT_FALSE(Base64Decode("Zg=").has_value());     // wrong length
  EXPECT_FALSE(Base64Decode("Z===").has_value());    // too much padding
  EXPECT_FALSE(Base64Decode("Zh==").has_value());    // non-canonical trailing bits
  EXPECT_FALSE(Base64Decode("Zm9v!mFy").has_value());
  EXPECT_FALSE(Base64Decode("-_8=").has_value());    // url alphabet in std decoder
}

TEST(Encoding, HexRoundTripsAllBytes) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  std::string hex = HexEncode(all);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(hex.size() - 4), "feff");
  EXPECT_EQ(*HexDecode(hex), all);
  EXPECT_EQ(*HexDecode("ABcd"), std::string("\xab\xcd", 2));
  EXPECT_FALSE(HexDecode("abc").has_value());
  EXPECT_FALSE(HexDecode("zz").has_value());
}

TEST(Encoding, RoundTripsEveryLength) {
  std::string data;
  for (int n = 0; n < 70; ++n) {
    EXPECT_EQ(*Base64Decode(Base64Encode(data)), data);
    EXPECT_EQ(*Base64UrlDecode(Base64UrlEncode(data)), data);
    data += static_cast<char>(n * 37 + 11);
  }
}

}  // namespace
}  // namespace trace

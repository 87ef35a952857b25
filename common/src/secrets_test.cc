#include "trace/common/secrets.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "trace/common/encoding.h"

namespace trace {
namespace {

// Cheap parameters keep the tests fast; the format records them.
constexpr ScryptParams kFast{.n = 1024, .r = 8, .p = 1};

TEST(Secrets, ScryptMatchesRfc7914Vector) {
  // RFC 7914 §12, second vector: P="password", S="NaCl", N=1024, r=8, p=16, dkLen=64.
  unsigned char out[64];
  ASSERT_EQ(EVP_PBE_scrypt("password", 8, reinterpret_cast<const unsigned char*>("NaCl"), 4, 1024, 8, 16, 0, out, 64),
            1);
  EXPECT_EQ(HexEncode(std::string_view(reinterpret_cast<char*>(out), 16)), "fdbabe1c9d3472007856e7190d01e9fe");
}

TEST(Secrets, PasswordHashVerifies) {
  auto stored = HashPassword("correct horse battery staple", kFast);
  ASSERT_TRUE(stored) << stored.error().ToString();
  EXPECT_TRUE(stored->starts_with("scrypt$1024$8$1$"));
  EXPECT_TRUE(VerifyPassword("correct horse battery staple", *stored));
  EXPECT_FALSE(VerifyPassword("correct horse battery stapler", *stored));
  EXPECT_FALSE(VerifyPassword("", *stored));
}

TEST(Secrets, SamePasswordGetsDifferentSalts) {
  auto a = HashPassword("pw", kFast);
  auto b = HashPassword("pw", kFast);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
}

TEST(Secrets, DefaultParametersAreMemoryHard) {
  auto stored = HashPassword("pw");
  ASSERT_TRUE(stored) << stored.error().ToString();
  EXPECT_TRUE(stored->starts_with("scrypt$32768$8$1$"));
  EXPECT_TRUE(VerifyPassword("pw", *stored));
}

TEST(Secrets, MalformedOrHostileStoredHashesNeverVerify) {
  auto good = HashPassword("pw", kFast);
  ASSERT_TRUE(good);
  for (std::string bad : {std::string(""), std::string("scrypt$"), std::string("bcrypt$1024$8$1$AA$AA"),
                          std::string("scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA$") + good->substr(good->rfind('$') + 1),
                          std::string("scrypt$4194304$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA"),
                          std::string("scrypt$1024$8$1$!!$AAAA"), *good + "x"}) {
    EXPECT_FALSE(VerifyPassword("pw", bad)) << bad;
  }
}

TEST(Secrets, PasswordLimits) {
  EXPECT_EQ(HashPassword("", kFast).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HashPassword(std::string(1025, 'a'), kFast).error().code(), StatusCode::kInvalidArgument);
}

TEST(Secrets, HmacMatchesRfc4231Case2) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Secrets, BearerSecretsAreLongAndDistinct) {
  auto a = NewBearerSecret("trc_");
  auto b = NewBearerSecret("trc_");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->size(), 4u + 43u);
  EXPECT_TRUE(a->starts_with("trc_"));
  EXPECT_NE(*a, *b);
}

TEST(Secrets, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
}

}  // namespace
}  // namespace trace

#include "trace/common/ed25519.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "trace/common/encoding.h"
#include "trace/common/files.h"

namespace trace {
namespace {

std::string Hex(std::string_view h) { return *HexDecode(h); }

// RFC 8032 §7.1, TEST 1, TEST 2 and TEST 3.
struct Rfc8032Case {
  const char* seed;
  const char* pub;
  const char* msg;
  const char* sig;
};
const Rfc8032Case kCases[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

TEST(Ed25519, MatchesRfc8032Vectors) {
  for (const auto& c : kCases) {
    auto key = Ed25519PrivateKey::FromSeed(Hex(c.seed));
    ASSERT_TRUE(key.has_value());
    EXPECT_EQ(HexEncode(key->public_key()), c.pub);
    std::string sig = key->Sign(Hex(c.msg));
    EXPECT_EQ(HexEncode(sig), c.sig);
    EXPECT_TRUE(Ed25519Verify(Hex(c.pub), Hex(c.msg), Hex(c.sig)));
  }
}

TEST(Ed25519, VerifyFailsOnAnyChange) {
  auto key = Ed25519PrivateKey::Generate();
  std::string msg = "harvest lot PADDY-0701";
  std::string sig = key.Sign(msg);
  EXPECT_TRUE(Ed25519Verify(key.public_key(), msg, sig));
  std::string bad_sig = sig;
  bad_sig[10] ^= 1;
  EXPECT_FALSE(Ed25519Verify(key.public_key(), msg, bad_sig));
  EXPECT_FALSE(Ed25519Verify(key.public_key(), msg + " ", sig));
  EXPECT_FALSE(Ed25519Verify(Ed25519PrivateKey::Generate().public_key(), msg, sig));
  EXPECT_FALSE(Ed25519Verify(key.public_key(), msg, sig.substr(0, 63)));
  EXPECT_FALSE(Ed25519Verify(key.public_key().substr(1), msg, sig));
}

TEST(Ed25519, FromSeedRefusesWrongLength) {
  auto key = Ed25519PrivateKey::FromSeed("short");
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code(), StatusCode::kInvalidArgument);
}

TEST(Ed25519, KeyFileIsMode0600AndRoundTrips) {
  auto dir = std::filesystem::temp_directory_path() / ("trace-ed25519-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "log.key").string();
  auto key = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(WriteEd25519KeyFile(path, key).ok());
  EXPECT_EQ(*FileMode(path), 0600u);
  auto back = ReadEd25519KeyFile(path);
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_EQ(back->public_key(), key.public_key());

  ::chmod(path.c_str(), 0644);
  auto refused = ReadEd25519KeyFile(path);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kPermissionDenied);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace trace

#include "trace/common/sha256.h"

#include <gtest/gtest.h>

namespace trace {
namespace {

// FIPS 180-2 / NIST CAVP known answers.
TEST(Sha256, KnownAnswers) {
  EXPECT_EQ(HashHex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HashHex(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HashHex(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, PartsEqualConcatenation) {
  EXPECT_EQ(Sha256({"ab", "", "c"}), Sha256("abc"));
  Sha256Hasher h;
  std::string million(1000000, 'a');
  for (int i = 0; i < 10; ++i) h.Update(std::string_view(million).substr(i * 100000, 100000));
  EXPECT_EQ(HashHex(h.Finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Finish resets.
  h.Update("abc");
  EXPECT_EQ(h.Finish(), Sha256("abc"));
}

}  // namespace
}  // namespace trace

#include "backoff.h"

#include <gtest/gtest.h>

namespace trace::devicesim {
namespace {
using std::chrono::milliseconds;

TEST(Backoff, DoublesFromInitialUpToTheCap) {
  BackoffPolicy p{.initial = milliseconds(1000), .max = milliseconds(30000), .multiplier = 2.0, .jitter = 0.2};
  EXPECT_EQ(BackoffDelay(p, 0, 0.5), milliseconds(1000));
  EXPECT_EQ(BackoffDelay(p, 1, 0.5), milliseconds(1000));
  EXPECT_EQ(BackoffDelay(p, 2, 0.5), milliseconds(2000));
  EXPECT_EQ(BackoffDelay(p, 3, 0.5), milliseconds(4000));
  EXPECT_EQ(BackoffDelay(p, 5, 0.5), milliseconds(16000));
  EXPECT_EQ(BackoffDelay(p, 6, 0.5), milliseconds(30000));
  EXPECT_EQ(BackoffDelay(p, 4000000000u, 0.5), milliseconds(30000));
}

TEST(Backoff, JitterSpansPlusMinusTheConfiguredFraction) {
  BackoffPolicy p{.initial = milliseconds(1000), .max = milliseconds(30000), .multiplier = 2.0, .jitter = 0.2};
  EXPECT_EQ(BackoffDelay(p, 2, 0.0), milliseconds(1600));
  EXPECT_EQ(BackoffDelay(p, 2, 1.0), milliseconds(2400));
  EXPECT_EQ(BackoffDelay(p, 6, 0.0), milliseconds(24000));
  std::mt19937_64 rng(42);
  milliseconds lo = milliseconds::max(), hi = milliseconds::min();
  for (int i = 0; i < 2000; ++i) {
    milliseconds d = BackoffDelay(p, 3, rng);
    ASSERT_GE(d, milliseconds(3200));
    ASSERT_LE(d, milliseconds(4800));
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  // The draws really spread over the range rather than sitting at one value.
  EXPECT_LT(lo, milliseconds(3400));
  EXPECT_GT(hi, milliseconds(4600));
}

TEST(Backoff, NoJitterIsExact) {
  BackoffPolicy p{.initial = milliseconds(500), .max = milliseconds(4000), .multiplier = 3.0, .jitter = 0.0};
  EXPECT_EQ(BackoffDelay(p, 1, 0.9), milliseconds(500));
  EXPECT_EQ(BackoffDelay(p, 2, 0.1), milliseconds(1500));
  EXPECT_EQ(BackoffDelay(p, 3, 0.1), milliseconds(4000));
}

}  // namespace
}  // namespace trace::devicesim

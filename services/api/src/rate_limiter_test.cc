#include "rate_limiter.h"

#include <gtest/gtest.h>

namespace trace::api {
namespace {

TEST(RateLimiter, BurstThenRefillPerClient) {
  RateLimiter limiter(2, 3);
  auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Take("a", t0), 0) << i;
  EXPECT_GE(limiter.Take("a", t0), 1);
  EXPECT_EQ(limiter.Take("b", t0), 0);                                   // another client has its own bucket
  EXPECT_EQ(limiter.Take("a", t0 + std::chrono::milliseconds(600)), 0);  // 1.2 tokens refilled
  EXPECT_GE(limiter.Take("a", t0 + std::chrono::milliseconds(600)), 1);
}

TEST(RateLimiter, RetryAfterIsWholeSeconds) {
  RateLimiter limiter(0.25, 1);
  auto t0 = RateLimiter::Clock::now();
  EXPECT_EQ(limiter.Take("a", t0), 0);
  EXPECT_EQ(limiter.Take("a", t0), 4);
  RateLimiter off(0, 1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(off.Take("a", t0), 0);
}

}  // namespace
}  // namespace trace::api

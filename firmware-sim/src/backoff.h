// Re-send schedule for envelopes that got no receipt: exponential back-off with
// jitter, so that devices that lost their receipts together (a gateway restart)
// do not re-send together.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace trace::devicesim {

struct BackoffPolicy {
  std::chrono::milliseconds initial{2000};  // wait before the first re-send
  std::chrono::milliseconds max{60000};     // the wait never grows beyond this (before jitter)
  double multiplier = 2.0;
  double jitter = 0.2;  // the wait is scaled by a factor drawn from [1 - jitter, 1 + jitter)
};

// The wait after `attempt` sends without a receipt (attempt 1 = after the first
// send): min(max, initial * multiplier^(attempt-1)), scaled by 1 + jitter * (2u - 1).
// `u` is a uniform draw from [0, 1); pass 0.5 for the centre of the range.
// attempt 0 is treated as 1. Pure and thread-safe.
std::chrono::milliseconds BackoffDelay(const BackoffPolicy& policy, uint32_t attempt, double u);

// BackoffDelay with `u` drawn from `rng`. Not thread-safe (the generator is the caller's).
std::chrono::milliseconds BackoffDelay(const BackoffPolicy& policy, uint32_t attempt, std::mt19937_64& rng);

}  // namespace trace::devicesim

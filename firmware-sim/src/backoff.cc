#include "backoff.h"

#include <algorithm>
#include <cmath>

namespace trace::devicesim {

std::chrono::milliseconds BackoffDelay(const BackoffPolicy& policy, uint32_t attempt, double u) {
  if (attempt == 0) attempt = 1;
  double base = static_cast<double>(policy.initial.count());
  double cap = static_cast<double>(policy.max.count());
  // Grow step by step and stop at the cap, so a large attempt cannot overflow.
  for (uint32_t i = 1; i < attempt && base < cap; ++i) base *= policy.multiplier;
  base = std::min(base, cap);
  u = std::clamp(u, 0.0, 1.0);
  double scaled = base * (1.0 + policy.jitter * (2.0 * u - 1.0));
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(std::max(0.0, scaled))));
}

std::chrono::milliseconds BackoffDelay(const BackoffPolicy& policy, uint32_t attempt, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> dist(0.0, 1.0);
  return BackoffDelay(policy, attempt, dist(rng));
}

}  // namespace trace::devicesim

#include "rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace trace::api {

int RateLimiter::Take(const std::string& client, Clock::time_point now) {
  if (rate_ <= 0) return 0;
  std::lock_guard lock(mu_);
  if (now - last_sweep_ > std::chrono::seconds(60)) {
    std::erase_if(buckets_, [&](const auto& kv) { return now - kv.second.last > std::chrono::seconds(60); });
    last_sweep_ = now;
  }
  auto [it, inserted] = buckets_.try_emplace(client, Bucket{burst_, now});
  Bucket& b = it->second;
  const double elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(burst_, b.tokens + std::max(0.0, elapsed) * rate_);
  b.last = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  return std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / rate_)));
}

}  // namespace trace::api

// Per-client token buckets for the public routes: each client (remote address)
// may make `rate` requests per second on average and `burst` at once. Buckets
// of clients not seen for a minute are forgotten. Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace trace::api {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // rate <= 0 disables limiting.
  RateLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}

  // Takes a token for `client`. Returns 0 when allowed, otherwise the whole
  // number of seconds (>= 1) after which a token will be there (Retry-After).
  int Take(const std::string& client, Clock::time_point now = Clock::now());

 private:
  struct Bucket {
    double tokens;
    Clock::time_point last;
  };
  const double rate_, burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
  Clock::time_point last_sweep_{};
};

}  // namespace trace::api

// The gateway's source of "now", a seam so that the clock-skew check can be
// tested without waiting or changing the system time.
#pragma once

#include <atomic>
#include <chrono>

namespace trace::gateway {

class Clock {
 public:
  virtual ~Clock() = default;
  // The current time. Thread-safe.
  virtual std::chrono::system_clock::time_point Now() const = 0;
};

// The system clock.
class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override { return std::chrono::system_clock::now(); }
};

// A clock that says what it is told (tests). Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::chrono::system_clock::time_point now) : now_(now.time_since_epoch().count()) {}
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::time_point(std::chrono::system_clock::duration(now_.load()));
  }
  void Set(std::chrono::system_clock::time_point now) { now_ = now.time_since_epoch().count(); }
  void Advance(std::chrono::system_clock::duration d) { now_ += d.count(); }

 private:
  std::atomic<std::chrono::system_clock::rep> now_;
};

}  // namespace trace::gateway

// Request counters by route and status and a latency histogram by route, in
// the Prometheus text format. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace trace::api {

class Metrics {
 public:
  // Records one answered request of `route` (the route's pattern, not the raw path).
  void Record(const std::string& route, int status, double seconds);
  void RecordRateLimited() {
    std::lock_guard lock(mu_);
    ++rate_limited_;
  }

  // The exposition text (text/plain; version=0.0.4).
  std::string Render(int in_flight, std::size_t db_queue) const;

  // Adds exposition text of another part (part of Render's, in the order added); `source`
  // is called under no lock of Metrics and must be thread-safe. Call before serving.
  void AddSource(std::function<std::string()> source) { sources_.push_back(std::move(source)); }

 private:
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1,    2.5,   5};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  uint64_t rate_limited_ = 0;
  std::vector<std::function<std::string()>> sources_;
};

}  // namespace trace::api

// The gateway's counters, gauges and commit latency histogram, rendered as
// Prometheus text (version 0.0.4) for GET /metrics. Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "trace/common/envelope.h"

namespace trace::gateway {

class Metrics {
 public:
  static constexpr int kReasons = 9;  // Reason's values
  void Received() { received_.fetch_add(1, std::memory_order_relaxed); }
  void Accepted() { accepted_.fetch_add(1, std::memory_order_relaxed); }
  void Duplicate() { duplicate_.fetch_add(1, std::memory_order_relaxed); }
  void Rejected(Reason r) { rejected_[static_cast<int>(r)].fetch_add(1, std::memory_order_relaxed); }
  void Abandoned() { abandoned_.fetch_add(1, std::memory_order_relaxed); }
  void Shed() { shed_.fetch_add(1, std::memory_order_relaxed); }
  void StoreRetry() { store_retries_.fetch_add(1, std::memory_order_relaxed); }
  void ReceiptPublished() { receipts_.fetch_add(1, std::memory_order_relaxed); }
  void CommitLatency(std::chrono::steady_clock::duration d);

  // A gauge read when rendering (queue depths); `read` must be thread-safe.
  void AddGauge(std::string name, std::string help, std::function<double()> read);

  uint64_t accepted() const { return accepted_.load(); }
  uint64_t received() const { return received_.load(); }

  std::string Render() const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.002, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,  0.5,   1,    2.5,   5};
  std::atomic<uint64_t> received_{0}, accepted_{0}, duplicate_{0}, abandoned_{0}, shed_{0}, store_retries_{0}, receipts_{0};
  std::array<std::atomic<uint64_t>, kReasons> rejected_{};
  mutable std::mutex mu_;
  std::array<uint64_t, kBuckets.size()> bucket_counts_{};
  uint64_t commit_count_ = 0;
  double commit_sum_ = 0;
  struct Gauge {
    std::string name, help;
    std::function<double()> read;
  };
  std::vector<Gauge> gauges_;
};

}  // namespace trace::gateway

// The gateway's counters, gauges and commit latency histogram, registered in
// the project's shared Prometheus registry (trace/common/metrics.h) and served
// by its MetricsServer (GET /metrics, /healthz). Thread-safe.
//
// Example:
//   Metrics metrics;
//   metrics.AddGauge("trace_gateway_inbound_queue_depth", "...", [&] { return depth(); });
//   metrics.StartSampling(std::chrono::milliseconds(250));
//   trace::metrics::MetricsServer http(metrics.registry(), [&] { return Health(); });
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "trace/common/envelope.h"
#include "trace/common/metrics.h"

namespace trace::gateway {

class Metrics {
 public:
  static constexpr int kReasons = 9;  // Reason's values
  Metrics();
  ~Metrics();  // stops sampling
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void Received() { received_.Increment(); }
  void Accepted(uint64_t n = 1) { accepted_.Increment(n); }
  void Duplicate() { duplicate_.Increment(); }
  void KnownResend() { known_resends_.Increment(); }
  void Rejected(Reason r) { rejected_[static_cast<int>(r)]->Increment(); }
  void Abandoned() { abandoned_.Increment(); }
  void Shed() { shed_.Increment(); }
  void SubmitWaited() { submit_waits_.Increment(); }
  void StoreRetry() { store_retries_.Increment(); }
  void ReceiptPublished() { receipts_.Increment(); }
  void CommitLatency(std::chrono::steady_clock::duration d) {
    commit_seconds_.Observe(std::chrono::duration<double>(d).count());
  }

  // A gauge whose value is read by `read` (thread-safe) at every sampling
  // tick (queue depths). Register before StartSampling.
  void AddGauge(const std::string& name, const std::string& help, std::function<double()> read);
  // Reads every gauge now, then every `interval` on a thread of its own until
  // destruction. Call once.
  void StartSampling(std::chrono::milliseconds interval);
  // Reads every gauge once (what a sampling tick does).
  void Sample();

  uint64_t accepted() const { return accepted_.value(); }
  uint64_t received() const { return received_.value(); }

  const metrics::Registry& registry() const { return registry_; }
  std::string Render() const { return registry_.Render(); }

 private:
  metrics::Registry registry_;
  metrics::Counter& received_;
  metrics::Counter& accepted_;
  metrics::Counter& known_resends_;
  metrics::Counter& duplicate_;
  std::array<metrics::Counter*, kReasons> rejected_{};
  metrics::Counter& abandoned_;
  metrics::Counter& shed_;
  metrics::Counter& submit_waits_;
  metrics::Counter& store_retries_;
  metrics::Counter& receipts_;
  metrics::Histogram& commit_seconds_;

  struct SampledGauge {
    metrics::Gauge* gauge;
    std::function<double()> read;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<SampledGauge> gauges_;
  std::thread sampler_;
};

}  // namespace trace::gateway

// A tiny Prometheus registry: counters, gauges and histograms rendered in the
// text exposition format (version 0.0.4), for the services' /metrics routes.
//
// Example:
//   trace::metrics::Registry registry;
//   auto& sequenced = registry.AddCounter("trace_anchor_leaves_sequenced_total",
//                                         "leaves given an index by this process");
//   auto& latency = registry.AddHistogram("trace_anchor_cycle_seconds", "one cycle",
//                                         {0.001, 0.01, 0.1, 1});
//   sequenced.Increment(n);
//   latency.Observe(0.004);
//   std::string body = registry.Render();
//
// Metrics live as long as their Registry and never move (Add* returns a stable
// reference). Updating a metric is lock-free and thread-safe; Add* and Render
// take the registry's mutex and are thread-safe too. A name may be registered
// once per registry: Add* with a name already there returns the existing metric
// when the kind (and labels) match and throws std::logic_error otherwise (a
// programming error).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace trace::metrics {

class Counter {
 public:
  void Increment(uint64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double by);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Cumulative buckets as Prometheus expects; `bounds` are the upper bounds,
// strictly increasing (+Inf is implied).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);

  const std::vector<double>& bounds() const { return bounds_; }
  // Per-bucket (non-cumulative) counts, bounds().size() + 1 of them (+Inf last).
  std::vector<uint64_t> bucket_counts() const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Label pairs of one series, e.g. {{"state", "confirmed"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // `name` must match [a-zA-Z_:][a-zA-Z0-9_:]* (std::invalid_argument otherwise).
  // Series of one name that differ by labels share HELP and TYPE.
  Counter& AddCounter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& AddGauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& AddHistogram(const std::string& name, const std::string& help, std::vector<double> bounds);

  // The text exposition of every metric, families in registration order.
  std::string Render() const;

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Series {
    Labels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  struct Family {
    std::string name, help;
    Kind kind;
    std::vector<Series> series;
  };
  Family& FamilyFor(const std::string& name, const std::string& help, Kind kind);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Family>> families_;
};

// The text content type of the exposition format.
inline constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace trace::metrics

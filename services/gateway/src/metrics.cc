#include "metrics.h"

#include <cstdio>

namespace trace::gateway {
namespace {

void Counter(std::string& out, const char* name, const char* help, uint64_t value) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
         std::to_string(value) + "\n";
}

std::string Num(double d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

}  // namespace

void Metrics::CommitLatency(std::chrono::steady_clock::duration d) {
  const double seconds = std::chrono::duration<double>(d).count();
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++bucket_counts_[i];
  }
  ++commit_count_;
  commit_sum_ += seconds;
}

void Metrics::AddGauge(std::string name, std::string help, std::function<double()> read) {
  std::lock_guard lock(mu_);
  gauges_.push_back({std::move(name), std::move(help), std::move(read)});
}

std::string Metrics::Render() const {
  std::string out;
  Counter(out, "trace_gateway_received_total", "Messages received on up topics.", received_.load());
  Counter(out, "trace_gateway_accepted_total", "Envelopes stored and answered accepted.", accepted_.load());
  Counter(out, "trace_gateway_duplicate_total", "Envelopes answered duplicate.", duplicate_.load());
  out += "# HELP trace_gateway_rejected_total Messages stored as rejected, by reason.\n"
         "# TYPE trace_gateway_rejected_total counter\n";
  for (int i = 0; i < kReasons; ++i) {
    out += "trace_gateway_rejected_total{reason=\"" + std::string(ReasonName(static_cast<Reason>(i))) + "\"} " +
           std::to_string(rejected_[i].load()) + "\n";
  }
  Counter(out, "trace_gateway_abandoned_total", "Messages dropped unanswered while draining (devices re-send).",
          abandoned_.load());
  Counter(out, "trace_gateway_shed_total",
          "Messages dropped unanswered because the inbound queue stayed full (devices re-send).", shed_.load());
  Counter(out, "trace_gateway_store_retries_total", "Batches retried after the database was unavailable.",
          store_retries_.load());
  Counter(out, "trace_gateway_receipts_published_total", "Receipts published.", receipts_.load());
  std::lock_guard lock(mu_);
  for (const auto& g : gauges_) {
    out += "# HELP " + g.name + " " + g.help + "\n# TYPE " + g.name + " gauge\n" + g.name + " " + Num(g.read()) + "\n";
  }
  out += "# HELP trace_gateway_commit_seconds Time to store and commit one batch.\n"
         "# TYPE trace_gateway_commit_seconds histogram\n";
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    out += "trace_gateway_commit_seconds_bucket{le=\"" + Num(kBuckets[i]) + "\"} " + std::to_string(bucket_counts_[i]) +
           "\n";
  }
  out += "trace_gateway_commit_seconds_bucket{le=\"+Inf\"} " + std::to_string(commit_count_) + "\n";
  out += "trace_gateway_commit_seconds_sum " + Num(commit_sum_) + "\n";
  out += "trace_gateway_commit_seconds_count " + std::to_string(commit_count_) + "\n";
  return out;
}

}  // namespace trace::gateway

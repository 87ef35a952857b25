#include "metrics.h"

namespace trace::gateway {
namespace {

metrics::Histogram& CommitHistogram(metrics::Registry& r) {
  return r.AddHistogram("trace_gateway_commit_seconds", "Time to store and commit one batch.",
                        {0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5});
}

}  // namespace

Metrics::Metrics()
    : received_(registry_.AddCounter("trace_gateway_received_total", "Messages received on up topics.")),
      accepted_(registry_.AddCounter("trace_gateway_accepted_total", "Envelopes stored and answered accepted.")),
      known_resends_(registry_.AddCounter("trace_gateway_known_resends_total",
                                          "Re-sends of envelopes known as stored, not verified again.")),
      duplicate_(registry_.AddCounter("trace_gateway_duplicate_total", "Envelopes answered duplicate.")),
      abandoned_(registry_.AddCounter("trace_gateway_abandoned_total",
                                      "Messages dropped unanswered while draining (devices re-send).")),
      shed_(registry_.AddCounter("trace_gateway_shed_total",
                                 "Messages dropped unanswered because the inbound queue stayed full for the whole "
                                 "submit wait (devices re-send).")),
      submit_waits_(registry_.AddCounter("trace_gateway_submit_waits_total",
                                         "Messages that waited for room in the inbound queue (back-pressure).")),
      store_retries_(registry_.AddCounter("trace_gateway_store_retries_total",
                                          "Batches retried after the database was unavailable.")),
      receipts_(registry_.AddCounter("trace_gateway_receipts_published_total", "Receipts published.")),
      commit_seconds_(CommitHistogram(registry_)) {
  for (int i = 0; i < kReasons; ++i) {
    rejected_[i] = &registry_.AddCounter("trace_gateway_rejected_total", "Messages stored as rejected, by reason.",
                                         {{"reason", std::string(ReasonName(static_cast<Reason>(i)))}});
  }
}

Metrics::~Metrics() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (sampler_.joinable()) sampler_.join();
}

void Metrics::AddGauge(const std::string& name, const std::string& help, std::function<double()> read) {
  std::lock_guard lock(mu_);
  gauges_.push_back({&registry_.AddGauge(name, help), std::move(read)});
}

void Metrics::Sample() {
  std::lock_guard lock(mu_);
  for (auto& g : gauges_) g.gauge->Set(g.read());
}

void Metrics::StartSampling(std::chrono::milliseconds interval) {
  Sample();
  sampler_ = std::thread([this, interval] {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, interval, [&] { return stop_; })) {
      for (auto& g : gauges_) g.gauge->Set(g.read());
    }
  });
}

}  // namespace trace::gateway

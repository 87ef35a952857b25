// trace-anchor's main loop: leadership, then per cycle sequencing, checkpoints
// and (when a chain is configured) anchoring, with metrics.
//
// Example (main.cc):
//   trace::metrics::Registry registry;
//   trace::anchor::AnchorService service(options, keys, anchorer.get(), registry);
//   std::thread signals([&] { WaitForSignal(); service.RequestStop(); });
//   service.Run();   // returns after RequestStop, with the lock released
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "anchorer.h"
#include "checkpointer.h"
#include "leader.h"
#include "sequencer.h"
#include "trace/common/metrics.h"
#include "trace/common/pg_log.h"
#include "trace/common/platform_keys.h"
#include "trace/common/status.h"

namespace trace::anchor {

struct ServiceOptions {
  std::string db_url;
  SequencerOptions sequencer;
  std::chrono::milliseconds checkpoint_interval{1000};
  std::chrono::milliseconds anchor_interval{1000};
  // Pause between cycles when the last one found less than a full batch.
  std::chrono::milliseconds idle_poll{100};
  // How often a standby tries the leader lock.
  std::chrono::milliseconds standby_poll{1000};
  // Pause after a database or chain error before trying again.
  std::chrono::milliseconds error_backoff{1000};
};

class AnchorService {
 public:
  // `log_key` (the checkpoints' signer) and `registry` must outlive the
  // service; `anchorer` may be null (anchoring disabled) and must outlive it
  // otherwise.
  AnchorService(ServiceOptions options, const LogKey& log_key, Anchorer* anchorer, metrics::Registry& registry);

  // Runs until RequestStop: as a standby, tries the lock every standby_poll;
  // as the leader, runs cycles and checks each cycle that its lock connection
  // is alive (steps down when not). Anchoring runs on a thread of its own with
  // its own connection, every anchor_interval while this process leads, so a
  // slow or absent chain never holds up sequencing. A stop request lets the
  // current cycle's transaction and anchoring step finish, then releases the
  // lock and returns. Call once.
  void Run();
  // Thread-safe; async-signal-unsafe (call from a signal-waiting thread).
  void RequestStop();

  // OK while the last database round trip worked. Thread-safe.
  Status Health() const;
  bool is_leader() const { return is_leader_.load(); }

 private:
  void Sleep(std::chrono::milliseconds d);
  // One leader cycle; returns true when another cycle should follow at once.
  Result<bool> Cycle();
  void SetHealth(Status s);
  void AnchorLoop();
  void RefreshAnchorGauges(pqxx::connection_base& conn);

  ServiceOptions options_;
  const LogKey& log_key_;
  Anchorer* anchorer_;
  LeaderLock lock_;
  Sequencer sequencer_;
  Checkpointer checkpointer_;
  pg::ConnectionPtr conn_;  // the leader's work connection

  std::atomic<bool> stop_{false};
  std::atomic<bool> is_leader_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  mutable std::mutex health_mu_;
  Status health_ = Unavailable("starting");

  metrics::Gauge& tree_size_;
  metrics::Counter& sequenced_;
  metrics::Counter& checkpoints_;
  metrics::Gauge& leader_gauge_;
  metrics::Counter& errors_;
  metrics::Histogram& cycle_seconds_;
  metrics::Gauge* anchors_[4];  // pending, submitted, confirmed, failed
};

}  // namespace trace::anchor

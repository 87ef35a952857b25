// The version stamp of everything a trace document shows (document_cache.h), and the thread
// that keeps the cache's stamp fresh.
//
// The stamp is one short string read in one statement, cheap at any log size (index edges and
// small tables only). It changes when any of these changes:
//   - the newest confirmed anchor's tree size (which events are "anchored", the checkpoint);
//     a confirmed anchor that falls back (reorganization) changes it too;
//   - the log's size, max(log_leaves.leaf_index) (an event's "leaf"); the sequencer writes
//     leaves in order under its lock, so the maximum only grows;
//   - the stored envelopes, and with them their events and event_keys (written in the same
//     transaction): max(stored_no), and the number of envelopes whose stored_no lies within
//     kLateCommitWindow below it. stored_no is taken before commit, so an envelope can become
//     visible below the maximum (0002_envelopes.sql): the count catches that as long as fewer
//     than kLateCommitWindow envelopes were stored after it meanwhile (the gateway commits in
//     batches of at most 256); beyond that, the sequencer's leaf for it changes the log size
//     (its full scan, every 60 s, finds any).
//   - recalls: a digest of every recalled lot (gtin, lot, recalled_at, recall_reason);
//   - products: a digest of every product (gtin, org, name).
// Device keys are not covered: a device's public_key never changes (trace-admin only inserts
// devices and revokes them, and a revocation does not change stored envelopes).
// An unchanged stamp over a change outside this list would serve a stale document for as
// long as the stamp stays unchanged: add any new input of the trace document here.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <pqxx/transaction_base>
#include <string>
#include <thread>

#include "document_cache.h"

namespace trace::api {

inline constexpr int64_t kLateCommitWindow = 4096;

// Reads the stamp in `tx` (a prepared statement on tx's connection). Throws what libpqxx throws.
std::string ReadDocumentStamp(pqxx::transaction_base& tx);

// Reads the stamp every `interval` on a connection of its own and offers it to `cache`. While
// the database cannot be reached the cache's stamp ages and the cache stops answering (its
// max_stamp_age); reconnects on the next tick. Stops (and joins) in the destructor.
class StampWatcher {
 public:
  StampWatcher(std::string db_url, DocumentCache& cache, std::chrono::milliseconds interval);
  ~StampWatcher();
  StampWatcher(const StampWatcher&) = delete;
  StampWatcher& operator=(const StampWatcher&) = delete;

  // Stamps read so far, and failed reads.
  uint64_t reads() const { return reads_.load(); }
  uint64_t failures() const { return failures_.load(); }

 private:
  void Loop();

  const std::string url_;
  DocumentCache& cache_;
  const std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::atomic<uint64_t> reads_{0}, failures_{0};
  std::thread thread_;  // last: starts after the members above exist
};

}  // namespace trace::api

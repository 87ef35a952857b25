// Sequencing and integration: gives each stored envelope that is not yet in
// the log the next leaf index, and stores the complete subtrees the new leaves
// create, in one transaction per cycle.
//
// Correctness does not depend on the leader lock: each cycle takes a
// transaction-level advisory lock first and reads the tree size inside the
// transaction, so even two writers (a leader that lost its lock mid-cycle and
// its successor) serialize, and the primary keys of log_leaves and log_nodes
// refuse a double index. A crash anywhere rolls the whole cycle back.
//
// Memory: the CompactRange (at most 64 hashes) and one batch of envelopes
// (SequencerOptions bounds it by count and by bytes).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "trace/common/merkle.h"
#include "trace/common/status.h"

namespace pqxx {
class connection_base;
}

namespace trace::anchor {

// "traceseq": the transaction-level lock every sequencing transaction takes.
inline constexpr int64_t kSequencerXactLockKey = 0x7472616365736571;

struct SequencerOptions {
  // Envelopes sequenced per transaction at most.
  int batch_size = 1000;
  // Canonical bytes fetched per transaction at most (an envelope may be 256 KiB;
  // the first envelope of a batch is always taken), bounding the memory a cycle needs.
  int64_t max_batch_bytes = 8 << 20;
  // Identity values can become visible out of order (0002_envelopes.sql), so a
  // cycle looks for unsequenced envelopes from `lookback` stored_no values below
  // the highest it has sequenced, and every `full_scan_every` from the start.
  int64_t lookback = 10000;
  std::chrono::milliseconds full_scan_every{std::chrono::seconds(60)};
};

class Sequencer {
 public:
  explicit Sequencer(SequencerOptions options) : options_(options) {}

  struct CycleResult {
    uint64_t appended = 0;   // leaves added by this cycle
    bool more = false;       // a limit cut the batch short: run the next cycle at once
    uint64_t tree_size = 0;  // after the cycle
    Hash root{};             // root of tree_size leaves
  };

  // Runs one cycle in one transaction on `conn`. After a restart or anything
  // unexpected the CompactRange is rebuilt from log_nodes with one query.
  // Returns Unavailable when the database connection failed (reconnect and
  // retry), DataLoss when log_nodes lacks a subtree the log needs, Internal for
  // other database errors. On any error nothing of the cycle is kept.
  // Not thread-safe.
  Result<CycleResult> RunCycle(pqxx::connection_base& conn);

  // Forgets the in-memory range (the next cycle reloads it).
  void Reset() { range_.reset(); }

 private:
  SequencerOptions options_;
  std::optional<merkle::CompactRange> range_;  // equals the committed log when set
  int64_t max_stored_no_ = 0;
  std::chrono::steady_clock::time_point last_full_scan_{};
};

}  // namespace trace::anchor

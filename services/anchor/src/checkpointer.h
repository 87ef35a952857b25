// Signs and stores C2SP checkpoints of the log (PROTOCOL.md §5).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "trace/common/checkpoint.h"
#include "trace/common/ed25519.h"
#include "trace/common/status.h"

namespace pqxx {
class connection_base;
}

namespace trace::anchor {

struct CheckpointerOptions {
  std::string log_name;  // origin line and signature key name
  std::string key_id;    // platform_keys.id of the log key (stored when registered there)
  std::chrono::milliseconds interval{1000};
};

class Checkpointer {
 public:
  // `key` must outlive the Checkpointer.
  Checkpointer(CheckpointerOptions options, const Ed25519PrivateKey& key) : options_(std::move(options)), key_(key) {}

  // When `interval` has passed since the last checkpoint this object stored
  // (or `force`), and the log holds more leaves than the newest stored
  // checkpoint covers: computes the root from log_nodes (O(log n) subtrees, one
  // query), signs the checkpoint and stores it. Returns the new checkpoint, or
  // nullopt when there was nothing to do. A checkpoint of that size stored
  // concurrently by someone else counts as nothing to do. Errors: Unavailable
  // (connection), DataLoss (missing nodes), Internal. Not thread-safe.
  //
  // `expected`, when given (the sequencer's in-memory root), is compared with
  // the root read from log_nodes when the sizes match: a difference means the
  // stored nodes changed under the writer, and nothing is signed (DataLoss).
  struct Expected {
    uint64_t tree_size = 0;
    Hash root{};
  };
  Result<std::optional<Checkpoint>> MaybeCheckpoint(pqxx::connection_base& conn, bool force = false,
                                                    std::optional<Expected> expected = std::nullopt);

 private:
  CheckpointerOptions options_;
  const Ed25519PrivateKey& key_;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace trace::anchor

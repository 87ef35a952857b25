// Anchoring: commits the newest checkpoint's (treeSize, root) to the TraceAnchor
// contract (PROTOCOL.md §6) and follows it to the configured number of
// confirmations, persisting every step in the `anchors` table.
//
// The service talks to an Anchorer; ChainAnchorer is the state machine over a
// ChainClient, the seam to the chain (JSON-RPC, EIP-1559 signing, nonces of the
// real network live behind it; tests use a fake).
//
// State of one anchor row (anchors.state):
//   pending    created for the newest checkpoint; a transaction may have been
//              prepared (tx_hash and nonce recorded *before* broadcasting, so a
//              crash never loses the hash of something that was sent)
//   submitted  broadcast; waiting for a receipt and confirmations
//   confirmed  mined, `confirmations` blocks deep, block hash still canonical
//   failed     reverted, or superseded (its nonce went elsewhere while later
//              anchors were in flight); `error` says which. A new anchor takes over.
//
// A confirmed anchor whose transaction a reorganization removed (or a node
// restarted from an older state) goes back to pending with its nonce and is
// sent again, first, like a dropped one: later anchors in flight hold later
// nonces and are mined only after it.
//
// Pipelining: while anchors wait for confirmations and the log has grown into a
// newer checkpoint, the next one is sent at once with the next nonce, up to
// `max_in_flight` rows pending or submitted. In-flight rows are in id order =
// nonce order = growing tree size, which the contract requires (treeSize
// strictly grows). A new row is created only when every in-flight row has been
// broadcast. A dropped transaction keeps its nonce and tree size and is re-sent
// first (a node does not mine the later nonces before it); only the newest row,
// when never broadcast or dropped, is moved to the newest checkpoint before it
// is sent, so after an outage one transaction covers everything.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "trace/common/sha256.h"
#include "trace/common/status.h"

namespace pqxx {
class connection_base;
}

namespace trace::anchor {

// A signed anchor(treeSize, root) transaction.
struct SignedAnchorTx {
  std::string tx_hash;  // 0x + 64 lowercase hex
  uint64_t nonce = 0;
  std::string raw;      // the signed transaction bytes
};

struct TxReceipt {
  uint64_t block_number = 0;
  std::string block_hash;  // 0x + 64 lowercase hex
  bool success = false;    // status 1
  uint64_t gas_used = 0;
};

// The chain as the anchorer needs it. Implementations are used from one thread.
class ChainClient {
 public:
  virtual ~ChainClient() = default;

  virtual uint64_t chain_id() const = 0;
  virtual std::string contract() const = 0;  // 0x + 40 lowercase hex
  virtual std::string sender() const = 0;    // 0x + 40 lowercase hex

  // The nonce for the sender's next new transaction (pending count).
  virtual Result<uint64_t> NextNonce() = 0;
  // Builds and signs anchor(tree_size, root) with `nonce` and current fees.
  virtual Result<SignedAnchorTx> PrepareAnchor(uint64_t tree_size, const Hash& root, uint64_t nonce) = 0;
  // Sends it. OK or AlreadyExists (the node knows it) mean it is in the pool;
  // FailedPrecondition means its nonce is already used; Unavailable: retry.
  virtual Status Broadcast(const SignedAnchorTx& tx) = 0;
  // The receipt, or nullopt while the transaction is not in a block.
  virtual Result<std::optional<TxReceipt>> Receipt(const std::string& tx_hash) = 0;
  // Whether the node knows the transaction at all (pooled or mined).
  virtual Result<bool> Known(const std::string& tx_hash) = 0;
  virtual Result<uint64_t> BlockNumber() = 0;
  // The hash of the canonical block `number`; NotFound above the head.
  virtual Result<std::string> BlockHash(uint64_t number) = 0;
};

// What the service runs each anchoring cycle (as the leader only).
class Anchorer {
 public:
  virtual ~Anchorer() = default;
  // Advances the anchors of the newest checkpoint by at most one step per
  // state. Returns Unavailable when the chain or database cannot be reached
  // (state is kept; the next call continues), other errors for bugs or bad
  // data. Never throws.
  virtual Status Step(pqxx::connection_base& conn) = 0;
};

struct ChainAnchorerOptions {
  uint64_t confirmations = 2;  // blocks including the one holding the tx
  // Anchors pending or submitted at once (>= 1; 1 = wait for each to confirm).
  uint64_t max_in_flight = 3;
  // After a reverted anchor, wait this long before creating the next one, so a
  // misconfigured contract does not get a transaction per cycle.
  std::chrono::milliseconds retry_after_failure{std::chrono::seconds(30)};
};

class ChainAnchorer : public Anchorer {
 public:
  // `chain` must outlive this object.
  ChainAnchorer(ChainClient& chain, ChainAnchorerOptions options) : chain_(chain), options_(options) {}

  Status Step(pqxx::connection_base& conn) override;

 private:
  struct Row {
    int64_t id = 0;
    uint64_t tree_size = 0;
    Hash root{};
    std::string state;
    std::optional<std::string> tx_hash;
    std::optional<uint64_t> nonce;
    std::optional<std::string> block_hash;
  };
  Status LoadInFlight(pqxx::connection_base& conn, std::vector<Row>* rows);
  // `last`: no later row is in flight (only then may the row take a fresh
  // nonce); `min_nonce`: the least nonce a fresh one may have.
  Status Submit(pqxx::connection_base& conn, Row& row, bool last, uint64_t min_nonce);
  Status Follow(pqxx::connection_base& conn, Row& row);
  Status CheckConfirmedStillCanonical(pqxx::connection_base& conn, bool* reorganized);

  ChainClient& chain_;
  ChainAnchorerOptions options_;
  std::optional<std::chrono::steady_clock::time_point> last_failure_;
};

}  // namespace trace::anchor

// The anchoring state machine (ChainAnchorer) against a real PostgreSQL and a
// fake chain at the ChainClient seam, with fault switches for outages, dropped
// transactions, reverts, reorganizations and crashes between steps.
#include <algorithm>
#include <map>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "anchorer.h"
#include "checkpointer.h"
#include "pg_test_util.h"
#include "sequencer.h"
#include "service.h"
#include "trace/common/metrics.h"
#include "trace/common/sha256.h"

namespace trace::anchor {
namespace {

using test::InsertEnvelopes;
using test::Keys;
using test::NewDatabase;

// A single-sender chain with a TraceAnchor contract: anchor() reverts unless
// tree_size grows. Blocks are made by Mine(); nothing happens on its own.
class FakeChain : public ChainClient {
 public:
  struct Tx {
    uint64_t tree_size = 0;
    Hash root{};
    uint64_t nonce = 0;
    std::string hash;
  };

  // Fault switches.
  bool unavailable_ = false;         // every call answers Unavailable
  bool fail_next_broadcast_ = false;  // the next Broadcast is lost on the way (Unavailable)
  bool revert_next_ = false;          // the next mined anchor reverts
  int broadcasts_ = 0;                // transactions that reached the pool

  uint64_t chain_id() const override { return 31337; }
  std::string contract() const override { return "0x" + std::string(40, 'c'); }
  std::string sender() const override { return "0x" + std::string(40, 'a'); }

  Result<uint64_t> NextNonce() override {
    if (unavailable_) return Fail(Unavailable("chain down"));
    return NextMinable();
  }
  Result<SignedAnchorTx> PrepareAnchor(uint64_t tree_size, const Hash& root, uint64_t nonce) override {
    if (unavailable_) return Fail(Unavailable("chain down"));
    Hash h = Sha256({std::to_string(tree_size), HashBytes(root), std::to_string(nonce), std::to_string(fee_epoch_)});
    return SignedAnchorTx{"0x" + HashHex(h), nonce, std::to_string(tree_size) + ":" + HashBytes(root)};
  }
  Status Broadcast(const SignedAnchorTx& tx) override {
    if (unavailable_) return Unavailable("chain down");
    if (fail_next_broadcast_) {
      fail_next_broadcast_ = false;
      return Unavailable("connection reset");
    }
    if (tx.nonce < MinedCount()) return FailedPrecondition("nonce too low");
    if (Find(tx.tx_hash)) return AlreadyExists("already known");
    for (const auto& p : pool_) {
      if (p.nonce == tx.nonce) return FailedPrecondition("replacement transaction underpriced");
    }
    uint64_t size = std::stoull(tx.raw.substr(0, tx.raw.find(':')));
    Hash root{};
    std::string r = tx.raw.substr(tx.raw.find(':') + 1);
    std::copy(r.begin(), r.end(), root.begin());
    pool_.push_back({size, root, tx.nonce, tx.tx_hash});
    ++broadcasts_;
    return OkStatus();
  }
  Result<std::optional<TxReceipt>> Receipt(const std::string& hash) override {
    if (unavailable_) return Fail(Unavailable("chain down"));
    for (uint64_t n = 0; n < blocks_.size(); ++n) {
      for (const auto& [tx, ok] : blocks_[n].txs) {
        if (tx.hash == hash) return TxReceipt{n, blocks_[n].hash, ok, 30000};
      }
    }
    return std::nullopt;
  }
  Result<bool> Known(const std::string& hash) override {
    if (unavailable_) return Fail(Unavailable("chain down"));
    return Find(hash);
  }
  Result<uint64_t> BlockNumber() override {
    if (unavailable_) return Fail(Unavailable("chain down"));
    return blocks_.size() - 1;
  }
  Result<std::string> BlockHash(uint64_t number) override {
    if (unavailable_) return Fail(Unavailable("chain down"));
    if (number >= blocks_.size()) return Fail(NotFound("no block " + std::to_string(number)));
    return blocks_[number].hash;
  }

  // Mines one block with the pooled transactions whose nonces follow the last
  // mined one without a gap, in nonce order; the others stay queued.
  void Mine() {
    std::sort(pool_.begin(), pool_.end(), [](const Tx& a, const Tx& b) { return a.nonce < b.nonce; });
    Block b{NewBlockHash(), {}};
    uint64_t next = MinedCount();
    std::vector<Tx> queued;
    for (const auto& tx : pool_) {
      if (tx.nonce != next) {
        queued.push_back(tx);
        continue;
      }
      ++next;
      bool ok = tx.tree_size > latest_ && !revert_next_;
      revert_next_ = false;
      if (ok) latest_ = tx.tree_size;
      b.txs.emplace_back(tx, ok);
    }
    pool_ = std::move(queued);
    blocks_.push_back(std::move(b));
  }
  // The pool forgets the transaction with this nonce (evicted), keeping the rest.
  void DropNonce(uint64_t nonce) {
    std::erase_if(pool_, [&](const Tx& tx) { return tx.nonce == nonce; });
    ++fee_epoch_;
  }
  // The pool forgets everything (a node restart without its mempool).
  void DropPool() {
    pool_.clear();
    ++fee_epoch_;
  }
  // Removes the last `k` blocks with their transactions (anvil_rollback).
  void Rollback(uint64_t k) {
    blocks_.resize(blocks_.size() - k);
    latest_ = 0;
    for (const auto& b : blocks_) {
      for (const auto& [tx, ok] : b.txs) {
        if (ok) latest_ = tx.tree_size;
      }
    }
  }
  uint64_t latest() const { return latest_; }
  size_t pool_size() const { return pool_.size(); }

 private:
  struct Block {
    std::string hash;
    std::vector<std::pair<Tx, bool>> txs;
  };
  uint64_t MinedCount() const {
    uint64_t n = 0;
    for (const auto& b : blocks_) n += b.txs.size();
    return n;
  }
  // The pending nonce as a node reports it: mined, then pooled without a gap.
  uint64_t NextMinable() const {
    uint64_t next = MinedCount();
    for (bool found = true; found;) {
      found = false;
      for (const auto& p : pool_) {
        if (p.nonce == next) {
          ++next;
          found = true;
        }
      }
    }
    return next;
  }
  bool Find(const std::string& hash) const {
    for (const auto& p : pool_) {
      if (p.hash == hash) return true;
    }
    for (const auto& b : blocks_) {
      for (const auto& [tx, ok] : b.txs) {
        if (tx.hash == hash) return true;
      }
    }
    return false;
  }
  std::string NewBlockHash() { return "0x" + HashHex(Sha256("block " + std::to_string(++block_counter_))); }

  std::vector<Block> blocks_{Block{"0x" + HashHex(Sha256("genesis")), {}}};
  std::vector<Tx> pool_;
  uint64_t latest_ = 0;
  uint64_t block_counter_ = 0;
  uint64_t fee_epoch_ = 0;
};

struct AnchorRow {
  int64_t id;
  uint64_t tree_size;
  std::string state, tx_hash, error;
  int64_t nonce, block_number;
};

std::vector<AnchorRow> Anchors(pqxx::connection& conn) {
  pqxx::read_transaction tx(conn);
  std::vector<AnchorRow> out;
  for (const auto& r : tx.exec("SELECT id, tree_size, state, coalesce(tx_hash, ''), coalesce(error, ''), "
                               "coalesce(nonce, -1), coalesce(block_number, -1) FROM anchors ORDER BY id")) {
    out.push_back({r[0].as<int64_t>(), r[1].as<uint64_t>(), r[2].as<std::string>(), r[3].as<std::string>(),
                   r[4].as<std::string>(), r[5].as<int64_t>(), r[6].as<int64_t>()});
  }
  return out;
}

// Sequences and checkpoints everything there is.
void Grow(const std::string& url, pqxx::connection& conn, int64_t first, int64_t last) {
  InsertEnvelopes(url, first, last);
  Sequencer seq({});
  ASSERT_TRUE(seq.RunCycle(conn).has_value());
  Checkpointer cp({.log_name = Keys().log_name, .key_id = Keys().log_key_id}, Keys().log);
  auto c = cp.MaybeCheckpoint(conn, true);
  ASSERT_TRUE(c.has_value()) << c.error();
}

TEST(ChainAnchorer, SubmitsTheNewestCheckpointAndConfirmsAfterConfirmations) {
  std::string url = NewDatabase("anchorer_happy");
  pqxx::connection conn(url);
  FakeChain chain;
  ChainAnchorer anchorer(chain, {.confirmations = 3});
  ASSERT_TRUE(anchorer.Step(conn).ok());  // no checkpoint yet: nothing
  EXPECT_TRUE(Anchors(conn).empty());

  Grow(url, conn, 1, 10);
  ASSERT_TRUE(anchorer.Step(conn).ok());
  auto rows = Anchors(conn);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].state, "submitted");
  EXPECT_EQ(rows[0].tree_size, 10u);
  EXPECT_EQ(rows[0].nonce, 0);
  EXPECT_EQ(rows[0].tx_hash.size(), 66u);
  ASSERT_TRUE(anchorer.Step(conn).ok());  // not mined: waits
  EXPECT_EQ(chain.broadcasts_, 1);

  chain.Mine();  // 1 confirmation
  ASSERT_TRUE(anchorer.Step(conn).ok());
  rows = Anchors(conn);
  EXPECT_EQ(rows[0].state, "submitted");
  EXPECT_EQ(rows[0].block_number, 1);
  chain.Mine();  // 2
  ASSERT_TRUE(anchorer.Step(conn).ok());
  EXPECT_EQ(Anchors(conn)[0].state, "submitted");
  chain.Mine();  // 3
  ASSERT_TRUE(anchorer.Step(conn).ok());
  EXPECT_EQ(Anchors(conn)[0].state, "confirmed");
  EXPECT_EQ(chain.latest(), 10u);

  ASSERT_TRUE(anchorer.Step(conn).ok());  // nothing newer: no new anchor
  EXPECT_EQ(Anchors(conn).size(), 1u);

  Grow(url, conn, 11, 15);
  ASSERT_TRUE(anchorer.Step(conn).ok());
  rows = Anchors(conn);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].tree_size, 15u);
  EXPECT_EQ(rows[1].nonce, 1);
  EXPECT_EQ(rows[1].state, "submitted");
}

TEST(ChainAnchorer, AfterAnOutageOneTransactionCoversEverything) {
  std::string url = NewDatabase("anchorer_outage");
  pqxx::connection conn(url);
  FakeChain chain;
  ChainAnchorer anchorer(chain, {.confirmations = 2});
  chain.unavailable_ = true;
  for (int i = 0; i < 3; ++i) {
    Grow(url, conn, i * 10 + 1, i * 10 + 10);
    Status s = anchorer.Step(conn);
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s;
  }
  chain.unavailable_ = false;
  ASSERT_TRUE(anchorer.Step(conn).ok());
  auto rows = Anchors(conn);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].tree_size, 30u);
  EXPECT_EQ(rows[0].state, "submitted");
  chain.Mine();
  chain.Mine();
  ASSERT_TRUE(anchorer.Step(conn).ok());
  EXPECT_EQ(Anchors(conn)[0].state, "confirmed");
  EXPECT_EQ(chain.broadcasts_, 1);
  EXPECT_EQ(chain.latest(), 30u);
}

TEST(ChainAnchorer, DroppedTransactionIsResentForTheNewestCheckpointWithItsNonce) {
  std::string url = NewDatabase("anchorer_dropped");
  pqxx::connection conn(url);
  FakeChain chain;
  ChainAnchorer anchorer(chain, {.confirmations = 1});
  Grow(url, conn, 1, 10);
  ASSERT_TRUE(anchorer.Step(conn).ok());
  std::string first_tx = Anchors(conn)[0].tx_hash;
  chain.DropPool();
  Grow(url, conn, 11, 20);
  ASSERT_TRUE(anchorer.Step(conn).ok());  // sees it dropped
  auto rows = Anchors(conn);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].state, "pending");
  EXPECT_NE(rows[0].error.find("dropped"), std::string::npos);
  ASSERT_TRUE(anchorer.Step(conn).ok());  // re-sent
  rows = Anchors(conn);
  EXPECT_EQ(rows[0].state, "submitted");
  EXPECT_EQ(rows[0].tree_size, 20u);
  EXPECT_EQ(rows[0].nonce, 0);
  EXPECT_NE(rows[0].tx_hash, first_tx);
  chain.Mine();
  ASSERT_TRUE(anchorer.Step(conn).ok());
  EXPECT_EQ(Anchors(conn)[0].state, "confirmed");
  EXPECT_EQ(chain.latest(), 20u);
}

TEST(ChainAnchorer, ReorganizedAwayAfterConfirmationIsAnchoredAgain) {
  std::string url = NewDatabase("anchorer_reorg");
  pqxx::connection conn(url);
  FakeChain chain;
  ChainAnchorer anchorer(chain, {.confirmations = 2});
  Grow(url, conn, 1, 10);
  ASSERT_TRUE(anchorer.Step(conn).ok());
  chain.Mine();
  chain.Mine();
  ASSERT_TRUE(anchorer.Step(conn).ok());
  ASSERT_EQ(Anchors(conn)[0].state, "confirmed");

  chain.Rollback(2);  // the block with the anchor is gone
  EXPECT_EQ(chain.latest(), 0u);
  chain.Mine();
  ASSERT_TRUE(anchorer.Step(conn).ok());
  auto rows = Anchors(conn);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].state, "pending");  // sent again with its nonce, like a dropped one
  EXPECT_NE(rows[0].error.find("reorganized away"), std::string::npos);
  EXPECT_EQ(rows[0].nonce, 0);
  ASSERT_TRUE(anchorer.Step(conn).ok());
  rows = Anchors(conn);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].state, "submitted");
  EXPECT_EQ(rows[0].tree_size, 10u);
  EXPECT_EQ(rows[0].nonce, 0);
  chain.Mine();
  chain.Mine();
  ASSERT_TRUE(anchorer.Step(conn).ok());
  EXPECT_EQ(Anchors(conn)[0].state, "confirmed");
  EXPECT_EQ(chain.latest(), 10u);
}

// The chaos run (tests/chaos) found this: anvil killed -9 comes back from its last state dump,
// without its last block (holding a confirmed anchor, nonce 0) and without its pool (holding
// the next anchor, nonce 1). The dropped one is re-sent with nonce 1, which the node queues
// behind the now missing nonce 0; the confirmed one must be re-sent with its nonce 0 to fill
// the gap (before, it was marked failed and a new anchor took nonce 2: nothing was ever mined
// again).
TEST(ChainAnchorer, ChainRestartedWithoutItsLastBlockAndPoolFillsTheNonceGap) {
  std::string url = NewDatabase("anchorer_chain_restart");
  pqxx::connection conn(url);
  FakeChain chain;
  ChainAnchorer anchorer(chain, {.confirmations = 1, .max_in_flight = 3});
  Grow(url, conn, 1, 10);
  ASSERT_TRUE(anchorer.Step(conn).ok());
  chain.Mine();
  ASSERT_TRUE(anchorer.Step(conn).ok());
  ASSERT_EQ(Anchors(conn)[0].state, "confirmed");
  Grow(url, conn, 11, 20);
  ASSERT_TRUE(anchorer.Step(conn).ok());
  ASSERT_EQ(Anchors(conn)[1].state, "submitted");
  ASSERT_EQ(Anchors(conn)[1].nonce, 1);

  chain.Rollback(1);  // restarted from a dump taken before the anchor's block ...
  chain.DropPool();   // ... with an empty pool
  EXPECT_EQ(chain.latest(), 0u);
  for (int i = 0; i < 8 && chain.latest() < 20; ++i) {
    ASSERT_TRUE(anchorer.Step(conn).ok());
    chain.Mine();
  }
  ASSERT_TRUE(anchorer.Step(conn).ok());
  EXPECT_EQ(chain.latest(), 20u) << "the chain never got the anchors back";
  EXPECT_EQ(chain.pool_size(), 0u) << "a transaction stuck behind a nonce gap";
  auto rows = Anchors(conn);
  uint64_t confirmed_size = 0;
  for (const auto& row : rows) {
    if (row.state == "confirmed") confirmed_size = std::max(confirmed_size, row.tree_size);
  }
  EXPECT_EQ(confirmed_size, 20u);
  EXPECT_EQ(rows[0].nonce, 0) << "the reorganized-away anchor keeps its nonce";
}

TEST(ChainAnchorer, CrashBetweenRecordingAndBroadcastingIsRecovered) {
  std::string url = NewDatabase("anchorer_crash");
  pqxx::connection conn(url);
  FakeChain chain;
  chain.fail_next_broadcast_ = true;
  Grow(url, conn, 1, 10);
  {
    ChainAnchorer anchorer(chain, {.confirmations = 1});
    EXPECT_EQ(anchorer.Step(conn).code(), StatusCode::kUnavailable);
  }
  auto rows = Anchors(conn);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].state, "pending");
  EXPECT_FALSE(rows[0].tx_hash.empty());  // recorded before sending
  // A new process picks up the row.
  ChainAnchorer anchorer(chain, {.confirmations = 1});
  ASSERT_TRUE(anchorer.Step(conn).ok());  // unknown to the node: re-send
  ASSERT_TRUE(anchorer.Step(conn).ok());
  rows = Anchors(conn);
  EXPECT_EQ(rows[0].state, "submitted");
  EXPECT_EQ(rows[0].nonce, 0);
  chain.Mine();
  ASSERT_TRUE(anchorer.Step(conn).ok());
  EXPECT_EQ(Anchors(conn)[0].state, "confirmed");
  EXPECT_EQ(chain.broadcasts_, 1);
}

TEST(ChainAnchorer, RevertedAnchorFailsAndANewOneFollows) {
  std::string url = NewDatabase("anchorer_revert");
  pqxx::connection conn(url);
  FakeChain chain;
  ChainAnchorer anchorer(chain, {.confirmations = 1, .retry_after_failure = std::chrono::milliseconds(0)});
  Grow(url, conn, 1, 10);
  ASSERT_TRUE(anchorer.Step(conn).ok());
  chain.revert_next_ = true;
  chain.Mine();
  ASSERT_TRUE(anchorer.Step(conn).ok());
  auto rows = Anchors(conn);
  EXPECT_EQ(rows[0].state, "failed");
  EXPECT_NE(rows[0].error.find("reverted"), std::string::npos);
  ASSERT_TRUE(anchorer.Step(conn).ok());
  rows = Anchors(conn);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].nonce, 1);
  chain.Mine();
  ASSERT_TRUE(anchorer.Step(conn).ok());
  EXPECT_EQ(Anchors(conn)[1].state, "confirmed");
}

TEST(ChainAnchorerPipelining, TwoInFlightConfirmInNonceOrder) {
  std::string url = NewDatabase("anchorer_pipe_order");
  pqxx::connection conn(url);
  FakeChain chain;
  ChainAnchorer anchorer(chain, {.confirmations = 2, .max_in_flight = 2});
  Grow(url, conn, 1, 10);
  ASSERT_TRUE(anchorer.Step(conn).ok());
  chain.Mine();  // block 1 holds the first: 1 of 2 confirmations
  Grow(url, conn, 11, 20);
  ASSERT_TRUE(anchorer.Step(conn).ok());  // the second goes out without waiting
  auto rows = Anchors(conn);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].state, "submitted");
  EXPECT_EQ(rows[0].block_number, 1);
  EXPECT_EQ(rows[1].state, "submitted");
  EXPECT_EQ(rows[1].tree_size, 20u);
  EXPECT_EQ(rows[1].nonce, 1);

  Grow(url, conn, 21, 30);
  ASSERT_TRUE(anchorer.Step(conn).ok());  // two in flight: the third waits
  EXPECT_EQ(Anchors(conn).size(), 2u);

  chain.Mine();  // block 2 holds the second
  ASSERT_TRUE(anchorer.Step(conn).ok());
  rows = Anchors(conn);
  ASSERT_EQ(rows.size(), 3u);  // the first confirmed, so room for the newest
  EXPECT_EQ(rows[0].state, "confirmed");
  EXPECT_EQ(rows[1].state, "submitted");
  EXPECT_EQ(rows[1].block_number, 2);
  EXPECT_EQ(rows[2].tree_size, 30u);
  EXPECT_EQ(rows[2].nonce, 2);
  chain.Mine();
  ASSERT_TRUE(anchorer.Step(conn).ok());
  chain.Mine();
  ASSERT_TRUE(anchorer.Step(conn).ok());
  rows = Anchors(conn);
  for (const auto& row : rows) EXPECT_EQ(row.state, "confirmed") << row.id;
  EXPECT_EQ(chain.latest(), 30u);
  EXPECT_EQ(chain.broadcasts_, 3);
}

TEST(ChainAnchorerPipelining, DroppedEarlierIsResentFirstAndTheLaterConfirmsAfterIt) {
  std::string url = NewDatabase("anchorer_pipe_drop");
  pqxx::connection conn(url);
  FakeChain chain;
  ChainAnchorer anchorer(chain, {.confirmations = 1, .max_in_flight = 3});
  Grow(url, conn, 1, 10);
  ASSERT_TRUE(anchorer.Step(conn).ok());
  Grow(url, conn, 11, 20);
  ASSERT_TRUE(anchorer.Step(conn).ok());
  std::string first_tx = Anchors(conn)[0].tx_hash;
  chain.DropNonce(0);
  chain.Mine();  // nonce 1 waits for nonce 0
  EXPECT_EQ(chain.pool_size(), 1u);
  Grow(url, conn, 21, 30);
  ASSERT_TRUE(anchorer.Step(conn).ok());  // sees the first dropped; nothing new meanwhile
  auto rows = Anchors(conn);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].state, "pending");
  EXPECT_NE(rows[0].error.find("dropped"), std::string::npos);
  EXPECT_EQ(rows[1].state, "submitted");

  ASSERT_TRUE(anchorer.Step(conn).ok());  // re-sent with its nonce and size; then the newest
  rows = Anchors(conn);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].state, "submitted");
  EXPECT_EQ(rows[0].nonce, 0);
  EXPECT_EQ(rows[0].tree_size, 10u);  // not moved past the later one in flight
  EXPECT_NE(rows[0].tx_hash, first_tx);
  EXPECT_EQ(rows[2].nonce, 2);
  EXPECT_EQ(rows[2].tree_size, 30u);

  chain.Mine();  // 0, 1, 2 in one block: sizes 10, 20, 30, none reverts
  ASSERT_TRUE(anchorer.Step(conn).ok());
  rows = Anchors(conn);
  for (const auto& row : rows) EXPECT_EQ(row.state, "confirmed") << row.id << " " << row.error;
  EXPECT_LE(rows[0].block_number, rows[1].block_number);
  EXPECT_EQ(chain.latest(), 30u);
}

TEST(ChainAnchorerPipelining, CrashWithTwoSubmittedAndOneUnsentIsRecovered) {
  std::string url = NewDatabase("anchorer_pipe_crash");
  pqxx::connection conn(url);
  FakeChain chain;
  {
    ChainAnchorer anchorer(chain, {.confirmations = 2, .max_in_flight = 3});
    Grow(url, conn, 1, 10);
    ASSERT_TRUE(anchorer.Step(conn).ok());
    Grow(url, conn, 11, 20);
    ASSERT_TRUE(anchorer.Step(conn).ok());
    Grow(url, conn, 21, 30);
    chain.fail_next_broadcast_ = true;  // the third is recorded, then the process dies
    EXPECT_EQ(anchorer.Step(conn).code(), StatusCode::kUnavailable);
  }
  auto rows = Anchors(conn);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].state, "submitted");
  EXPECT_EQ(rows[1].state, "submitted");
  EXPECT_EQ(rows[2].state, "pending");
  EXPECT_FALSE(rows[2].tx_hash.empty());
  EXPECT_EQ(rows[2].nonce, 2);

  ChainAnchorer anchorer(chain, {.confirmations = 2, .max_in_flight = 3});
  chain.Mine();
  ASSERT_TRUE(anchorer.Step(conn).ok());  // first two mined; the third unknown: re-send
  ASSERT_TRUE(anchorer.Step(conn).ok());
  rows = Anchors(conn);
  EXPECT_EQ(rows[2].state, "submitted");
  EXPECT_EQ(rows[2].nonce, 2);
  chain.Mine();
  chain.Mine();
  ASSERT_TRUE(anchorer.Step(conn).ok());
  rows = Anchors(conn);
  ASSERT_EQ(rows.size(), 3u);
  for (const auto& row : rows) EXPECT_EQ(row.state, "confirmed") << row.id << " " << row.error;
  EXPECT_EQ(chain.latest(), 30u);
  EXPECT_EQ(chain.broadcasts_, 3);
}

TEST(ChainAnchorerPipelining, RevertFailsOnlyItsRowAndAFreshCheckpointFollows) {
  std::string url = NewDatabase("anchorer_pipe_revert");
  pqxx::connection conn(url);
  FakeChain chain;
  ChainAnchorer anchorer(chain,
                         {.confirmations = 2, .max_in_flight = 3, .retry_after_failure = std::chrono::milliseconds(0)});
  Grow(url, conn, 1, 10);
  ASSERT_TRUE(anchorer.Step(conn).ok());
  chain.Mine();  // the first in block 1
  Grow(url, conn, 11, 20);
  ASSERT_TRUE(anchorer.Step(conn).ok());  // the second sent while the first waits for its confirmation
  chain.revert_next_ = true;
  chain.Mine();  // the second reverts in block 2
  Grow(url, conn, 21, 30);
  ASSERT_TRUE(anchorer.Step(conn).ok());  // first confirmed, second failed, a fresh one for 30
  auto rows = Anchors(conn);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].state, "confirmed");
  EXPECT_EQ(rows[1].state, "failed");
  EXPECT_NE(rows[1].error.find("reverted"), std::string::npos);
  EXPECT_EQ(rows[2].tree_size, 30u);
  EXPECT_EQ(rows[2].nonce, 2);
  chain.Mine();
  chain.Mine();
  ASSERT_TRUE(anchorer.Step(conn).ok());
  EXPECT_EQ(Anchors(conn)[2].state, "confirmed");
  EXPECT_EQ(chain.latest(), 30u);
}

// FakeChain shared between the service's anchoring thread and the test's miner.
class LockedChain : public ChainClient {
 public:
  explicit LockedChain(FakeChain& chain) : chain_(chain) {}
  uint64_t chain_id() const override { return chain_.chain_id(); }
  std::string contract() const override { return chain_.contract(); }
  std::string sender() const override { return chain_.sender(); }
  Result<uint64_t> NextNonce() override { std::lock_guard l(mu); return chain_.NextNonce(); }
  Result<SignedAnchorTx> PrepareAnchor(uint64_t s, const Hash& r, uint64_t n) override {
    std::lock_guard l(mu);
    return chain_.PrepareAnchor(s, r, n);
  }
  Status Broadcast(const SignedAnchorTx& tx) override { std::lock_guard l(mu); return chain_.Broadcast(tx); }
  Result<std::optional<TxReceipt>> Receipt(const std::string& h) override {
    std::lock_guard l(mu);
    return chain_.Receipt(h);
  }
  Result<bool> Known(const std::string& h) override { std::lock_guard l(mu); return chain_.Known(h); }
  Result<uint64_t> BlockNumber() override { std::lock_guard l(mu); return chain_.BlockNumber(); }
  Result<std::string> BlockHash(uint64_t n) override { std::lock_guard l(mu); return chain_.BlockHash(n); }

  std::mutex mu;

 private:
  FakeChain& chain_;
};

TEST(AnchorService, SequencesCheckpointsAndAnchorsThenDrainsOnStop) {
  std::string url = NewDatabase("anchor_service");
  InsertEnvelopes(url, 1, 5000);
  FakeChain fake;
  LockedChain chain(fake);
  ChainAnchorer anchorer(chain, {.confirmations = 2});
  metrics::Registry registry;
  const LogKey log_key = LogKeyOf(Keys());
  AnchorService service({.db_url = url,
                         .sequencer = {.batch_size = 700},
                         .checkpoint_interval = std::chrono::milliseconds(200),
                         .anchor_interval = std::chrono::milliseconds(100),
                         .idle_poll = std::chrono::milliseconds(20)},
                        log_key, &anchorer, registry);
  std::thread runner([&] { service.Run(); });
  std::atomic<bool> mining{true};
  std::thread miner([&] {
    while (mining) {
      {
        std::lock_guard l(chain.mu);
        fake.Mine();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  auto confirmed_size = [&]() -> int64_t {
    pqxx::connection conn(url);
    pqxx::read_transaction tx(conn);
    return tx.exec("SELECT coalesce(max(tree_size), 0) FROM anchors WHERE state = 'confirmed'")[0][0].as<int64_t>();
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (confirmed_size() < 5000 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(confirmed_size(), 5000);
  EXPECT_TRUE(service.is_leader());
  EXPECT_TRUE(service.Health().ok()) << service.Health();
  std::string text = registry.Render();
  EXPECT_NE(text.find("trace_anchor_is_leader 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("trace_anchor_leaves_sequenced_total 5000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("trace_anchor_anchors{state=\"confirmed\"}"), std::string::npos) << text;

  // More envelopes while running, then stop: the running cycle finishes, nothing half-done stays.
  InsertEnvelopes(url, 5001, 9000);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  service.RequestStop();
  runner.join();
  mining = false;
  miner.join();
  EXPECT_FALSE(service.is_leader());
  EXPECT_NE(registry.Render().find("trace_anchor_is_leader 0\n"), std::string::npos);
  auto check = test::CheckLog(url, false);
  EXPECT_LE(check.leaves, 9000u);
  EXPECT_GE(check.leaves, 5000u);
  {
    // At most max_in_flight (3) anchors in flight, and confirmed anchors only for stored checkpoints.
    pqxx::connection conn(url);
    pqxx::read_transaction tx(conn);
    EXPECT_LE(tx.exec("SELECT count(*) FROM anchors WHERE state IN ('pending', 'submitted')")[0][0].as<int>(), 3);
    EXPECT_EQ(tx.exec("SELECT count(*) FROM anchors a LEFT JOIN checkpoints c USING (tree_size) "
                      "WHERE c.root IS DISTINCT FROM a.root")[0][0]
                  .as<int>(),
              0);
  }
  // The lock is free again: another instance can lead at once.
  LeaderLock next(url);
  EXPECT_EQ(next.TryAcquire().value_or(false), true);
}

}  // namespace
}  // namespace trace::anchor

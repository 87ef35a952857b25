#include "anchorer.h"

#include <algorithm>

#include <pqxx/pqxx>

#include "trace/common/log.h"
#include "trace/common/pg_log.h"

namespace trace::anchor {
namespace {

Hash HashFromField(const pqxx::field& f) {
  pqxx::binarystring b(f);
  Hash h{};
  if (b.size() == h.size()) std::copy(b.data(), b.data() + h.size(), h.begin());
  return h;
}

pqxx::binarystring HashParam(const Hash& h) { return pqxx::binarystring(h.data(), h.size()); }

}  // namespace

Status ChainAnchorer::LoadInFlight(pqxx::connection_base& conn, std::vector<Row>* rows) {
  rows->clear();
  pqxx::read_transaction tx(conn);
  pqxx::result r = tx.exec_params(
      "SELECT id, tree_size, root, state, tx_hash, nonce, block_hash FROM anchors "
      "WHERE state IN ('pending', 'submitted') AND chain_id = $1 AND contract = $2 ORDER BY id",
      static_cast<int64_t>(chain_.chain_id()), chain_.contract());
  for (const auto& f : r) {
    Row row;
    row.id = f[0].as<int64_t>();
    row.tree_size = f[1].as<uint64_t>();
    row.root = HashFromField(f[2]);
    row.state = f[3].as<std::string>();
    if (!f[4].is_null()) row.tx_hash = f[4].as<std::string>();
    if (!f[5].is_null()) row.nonce = f[5].as<uint64_t>();
    if (!f[6].is_null()) row.block_hash = f[6].as<std::string>();
    rows->push_back(std::move(row));
  }
  return OkStatus();
}

Status ChainAnchorer::Step(pqxx::connection_base& conn) {
  try {
    const int64_t chain_id = static_cast<int64_t>(chain_.chain_id());
    const std::string contract = chain_.contract();
    uint64_t newest_size = 0;
    Hash newest_root{};
    {
      pqxx::read_transaction tx(conn);
      pqxx::result cp = tx.exec("SELECT tree_size, root FROM checkpoints ORDER BY tree_size DESC LIMIT 1");
      if (cp.empty()) return OkStatus();
      newest_size = cp[0][0].as<uint64_t>();
      newest_root = HashFromField(cp[0][1]);
    }

    // Each row in flight one step further, in nonce order (a re-sent lower nonce first).
    std::vector<Row> rows;
    if (Status s = LoadInFlight(conn, &rows); !s.ok()) return s;
    uint64_t next_nonce = 0;  // the least nonce the next fresh one may have
    for (size_t i = 0; i < rows.size(); ++i) {
      Row& row = rows[i];
      const bool last = i + 1 == rows.size();
      Status s;
      if (row.state == "pending" && !row.tx_hash) {
        if (last && row.tree_size < newest_size) {
          // Never sent (or dropped) and nothing after it: let it cover everything there is now.
          pqxx::work tx(conn);
          tx.exec_params("UPDATE anchors SET tree_size = $2, root = $3, updated_at = now() WHERE id = $1", row.id,
                         static_cast<int64_t>(newest_size), HashParam(newest_root));
          tx.commit();
          row.tree_size = newest_size;
          row.root = newest_root;
        }
        s = Submit(conn, row, last, next_nonce);
      } else {
        s = Follow(conn, row);
      }
      if (!s.ok()) return s;
      if (row.nonce) next_nonce = std::max(next_nonce, *row.nonce + 1);
    }

    // Room for the newest checkpoint? Only when everything in flight has been broadcast.
    if (Status s = LoadInFlight(conn, &rows); !s.ok()) return s;
    for (const Row& row : rows) {
      if (row.state != "submitted") return OkStatus();
    }
    // Also while the rows in flight are at their limit: they may be waiting behind the nonce of
    // a confirmed anchor that the chain lost, which only this check sends again.
    bool reorganized = false;
    if (Status s = CheckConfirmedStillCanonical(conn, &reorganized); !s.ok()) return s;
    if (reorganized) return OkStatus();  // the next step starts from the new state
    if (rows.size() >= options_.max_in_flight) return OkStatus();
    pqxx::work tx(conn);
    uint64_t covered = tx.exec_params(
                             "SELECT coalesce(max(tree_size), 0) FROM anchors "
                             "WHERE state = 'confirmed' AND chain_id = $1 AND contract = $2",
                             chain_id, contract)[0][0]
                           .as<uint64_t>();
    if (!rows.empty()) covered = std::max(covered, rows.back().tree_size);
    if (newest_size <= covered) return OkStatus();
    if (last_failure_ && std::chrono::steady_clock::now() - *last_failure_ < options_.retry_after_failure) {
      return OkStatus();
    }
    Row row;
    row.id = tx.exec_params(
                   "INSERT INTO anchors (tree_size, root, chain_id, contract, sender) "
                   "VALUES ($1, $2, $3, $4, $5) RETURNING id",
                   static_cast<int64_t>(newest_size), HashParam(newest_root), chain_id, contract, chain_.sender())[0][0]
                 .as<int64_t>();
    tx.commit();
    row.tree_size = newest_size;
    row.root = newest_root;
    row.state = "pending";
    log::Info("anchor created", {{"anchor", row.id}, {"tree_size", newest_size}, {"in_flight", rows.size() + 1}});
    uint64_t min_nonce = 0;
    for (const Row& r : rows) {
      if (r.nonce) min_nonce = std::max(min_nonce, *r.nonce + 1);
    }
    return Submit(conn, row, true, min_nonce);
  } catch (const std::exception& e) {
    return pg::PgError("anchoring", e);
  }
}

Status ChainAnchorer::Submit(pqxx::connection_base& conn, Row& row, bool last, uint64_t min_nonce) {
  uint64_t nonce = 0;
  if (row.nonce) {
    nonce = *row.nonce;
  } else {
    // The node's pending count, but never below a later nonce of ours: a dropped
    // earlier transaction does not count there, and its nonce stays its own.
    auto n = chain_.NextNonce();
    if (!n) return n.error().WithContext("anchor " + std::to_string(row.id) + ": nonce");
    nonce = std::max(*n, min_nonce);
  }
  auto signed_tx = chain_.PrepareAnchor(row.tree_size, row.root, nonce);
  if (!signed_tx) return signed_tx.error().WithContext("anchor " + std::to_string(row.id) + ": prepare");
  {
    // Recorded before it is sent: a crash after Broadcast still knows the hash.
    pqxx::work tx(conn);
    tx.exec_params("UPDATE anchors SET tx_hash = $2, nonce = $3, sender = $4, error = NULL, updated_at = now() "
                   "WHERE id = $1",
                   row.id, signed_tx->tx_hash, static_cast<int64_t>(signed_tx->nonce), chain_.sender());
    tx.commit();
  }
  row.tx_hash = signed_tx->tx_hash;
  row.nonce = signed_tx->nonce;
  Status sent = chain_.Broadcast(*signed_tx);
  if (sent.ok() || sent.code() == StatusCode::kAlreadyExists) {
    pqxx::work tx(conn);
    tx.exec_params("UPDATE anchors SET state = 'submitted', submitted_at = now(), updated_at = now() WHERE id = $1",
                   row.id);
    tx.commit();
    row.state = "submitted";
    log::Info("anchor submitted", {{"anchor", row.id},
                                   {"tree_size", row.tree_size},
                                   {"tx", signed_tx->tx_hash},
                                   {"nonce", signed_tx->nonce}});
    return OkStatus();
  }
  if (sent.code() == StatusCode::kFailedPrecondition && !last) {
    // The nonce went to another transaction while later anchors are in flight: a
    // fresh nonce would put this smaller tree size after theirs (a revert). They
    // cover its checkpoint.
    pqxx::work tx(conn);
    tx.exec_params("UPDATE anchors SET state = 'failed', tx_hash = NULL, error = $2, updated_at = now() WHERE id = $1",
                   row.id, "superseded: nonce " + std::to_string(nonce) + " already used (" + sent.message() +
                               ") while later anchors were in flight");
    tx.commit();
    log::Warn("anchor nonce taken; later anchors cover it", {{"anchor", row.id}, {"nonce", nonce}});
    return OkStatus();
  }
  if (sent.code() == StatusCode::kFailedPrecondition) {
    // The nonce went to another transaction: start over with a fresh one.
    pqxx::work tx(conn);
    tx.exec_params("UPDATE anchors SET tx_hash = NULL, nonce = NULL, error = $2, updated_at = now() WHERE id = $1",
                   row.id, "nonce " + std::to_string(nonce) + " already used: " + sent.message());
    tx.commit();
    row.tx_hash.reset();
    row.nonce.reset();
    log::Warn("anchor nonce taken; will re-sign", {{"anchor", row.id}, {"nonce", nonce}});
    return OkStatus();
  }
  // Unknown whether it reached the node: Follow decides next time (receipt, known, or dropped).
  return sent.WithContext("anchor " + std::to_string(row.id) + ": broadcast");
}

Status ChainAnchorer::Follow(pqxx::connection_base& conn, Row& row) {
  const std::string& hash = *row.tx_hash;
  auto receipt = chain_.Receipt(hash);
  if (!receipt) return receipt.error().WithContext("anchor " + std::to_string(row.id) + ": receipt");
  if (!*receipt) {
    auto known = chain_.Known(hash);
    if (!known) return known.error().WithContext("anchor " + std::to_string(row.id) + ": lookup");
    pqxx::work tx(conn);
    if (*known) {
      if (row.state == "pending") {
        tx.exec_params("UPDATE anchors SET state = 'submitted', submitted_at = now(), updated_at = now() "
                       "WHERE id = $1", row.id);
        tx.commit();
      }
      return OkStatus();  // in the pool; wait
    }
    // Dropped (or never sent before a crash): re-send with the same nonce (for the
    // newest checkpoint when no later anchor is in flight).
    tx.exec_params(
        "UPDATE anchors SET state = 'pending', tx_hash = NULL, block_number = NULL, block_hash = NULL, "
        "error = $2, updated_at = now() WHERE id = $1",
        row.id, "transaction " + hash + " dropped; re-sending");
    tx.commit();
    log::Warn("anchor transaction dropped; re-sending", {{"anchor", row.id}, {"tx", hash}});
    return OkStatus();
  }
  const TxReceipt& r = **receipt;
  if (!r.success) {
    pqxx::work tx(conn);
    tx.exec_params(
        "UPDATE anchors SET state = 'failed', block_number = $2, block_hash = $3, gas_used = $4, error = $5, "
        "updated_at = now() WHERE id = $1",
        row.id, static_cast<int64_t>(r.block_number), r.block_hash, static_cast<int64_t>(r.gas_used),
        "reverted in block " + std::to_string(r.block_number));
    tx.commit();
    last_failure_ = std::chrono::steady_clock::now();
    log::Error("anchor transaction reverted", {{"anchor", row.id}, {"tx", hash}, {"block", r.block_number}});
    return OkStatus();
  }
  auto head = chain_.BlockNumber();
  if (!head) return head.error().WithContext("anchor " + std::to_string(row.id) + ": block number");
  auto canonical = chain_.BlockHash(r.block_number);
  if (!canonical) return canonical.error().WithContext("anchor " + std::to_string(row.id) + ": block hash");
  if (*canonical != r.block_hash) return OkStatus();  // the node is mid-reorganization; look again
  bool deep = *head + 1 >= r.block_number + options_.confirmations;
  pqxx::work tx(conn);
  tx.exec_params(
      "UPDATE anchors SET state = $2, block_number = $3, block_hash = $4, gas_used = $5, "
      "submitted_at = coalesce(submitted_at, now()), "
      "confirmed_at = CASE WHEN $2 = 'confirmed' THEN now() END, error = NULL, updated_at = now() WHERE id = $1",
      row.id, deep ? "confirmed" : "submitted", static_cast<int64_t>(r.block_number), r.block_hash,
      static_cast<int64_t>(r.gas_used));
  tx.commit();
  if (deep) {
    last_failure_.reset();
    log::Info("anchor confirmed", {{"anchor", row.id},
                                   {"tree_size", row.tree_size},
                                   {"tx", hash},
                                   {"block", r.block_number},
                                   {"confirmations", options_.confirmations}});
  }
  return OkStatus();
}

Status ChainAnchorer::CheckConfirmedStillCanonical(pqxx::connection_base& conn, bool* reorganized) {
  *reorganized = false;
  int64_t id = 0;
  std::string tx_hash, block_hash;
  {
    pqxx::read_transaction tx(conn);
    pqxx::result r = tx.exec_params(
        "SELECT id, tx_hash, block_hash FROM anchors WHERE state = 'confirmed' AND chain_id = $1 AND contract = $2 "
        "ORDER BY tree_size DESC, id DESC LIMIT 1",
        static_cast<int64_t>(chain_.chain_id()), chain_.contract());
    if (r.empty()) return OkStatus();
    id = r[0][0].as<int64_t>();
    tx_hash = r[0][1].as<std::string>();
    block_hash = r[0][2].as<std::string>();
  }
  auto receipt = chain_.Receipt(tx_hash);
  if (!receipt) return receipt.error().WithContext("anchor " + std::to_string(id) + ": receipt");
  if (*receipt && (*receipt)->success && (*receipt)->block_hash == block_hash) return OkStatus();
  pqxx::work tx(conn);
  if (*receipt && (*receipt)->success) {
    // Mined again in another block: follow that one to its confirmations.
    tx.exec_params(
        "UPDATE anchors SET state = 'submitted', block_number = $2, block_hash = $3, confirmed_at = NULL, "
        "updated_at = now() WHERE id = $1",
        id, static_cast<int64_t>((*receipt)->block_number), (*receipt)->block_hash);
  } else {
    // Gone from the chain: sent again like a dropped transaction, with its nonce (and its tree
    // size unless nothing later is in flight). Its nonce is free again, and anchors sent after
    // it hold later nonces that the node mines only once this one is back; a new anchor with a
    // fresh nonce would leave that gap forever (a node restarted from a dump older than its
    // last blocks). If the nonce went to another transaction meanwhile, Submit finds out.
    // The hash moves into `error`: the re-sent transaction may get the same hash.
    tx.exec_params(
        "UPDATE anchors SET state = 'pending', tx_hash = NULL, block_number = NULL, block_hash = NULL, "
        "confirmed_at = NULL, error = $2, updated_at = now() WHERE id = $1",
        id, "reorganized away: transaction " + tx_hash + " was in block " + block_hash + "; re-sending");
  }
  tx.commit();
  *reorganized = true;
  log::Warn("confirmed anchor reorganized away", {{"anchor", id}, {"tx", tx_hash}});
  return OkStatus();
}

}  // namespace trace::anchor

// The Merkle log as stored in PostgreSQL (schemas/migrations/0003_log.sql),
// for every program that reads or writes it: trace-anchor writes it, trace-api
// serves proofs from it, trace-admin audit recomputes it.
//
// log_nodes holds every complete subtree (level, idx) of the log, written once
// when it becomes complete; log_leaves maps leaf indexes to envelopes. A proof
// or root for any tree size is a fold of O(log n) complete subtrees, which
// PgHashReader fetches in one query, so no reader ever loads the whole tree.
//
// Example (trace-api serving an inclusion proof):
//   pqxx::connection conn(db_url);
//   pqxx::read_transaction tx(conn);
//   trace::pg::PgHashReader reader(tx);
//   auto proof = trace::merkle::InclusionProof(reader, leaf_index, checkpoint_size);
//
// This header names libpqxx types by forward declaration only; link `trace_pg`
// (which brings libpqxx) to use it.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "trace/common/merkle.h"
#include "trace/common/status.h"

namespace pqxx {
class connection_base;
class transaction_base;
}

namespace trace::pg {

// Maps the exception being handled to a Status with `context` prepended: a
// broken connection (or a server that went away mid-statement) -> Unavailable,
// unique violation -> AlreadyExists, foreign-key violation -> NotFound, check
// violation -> InvalidArgument, serialization failure or deadlock ->
// Unavailable (retry), other SQL errors -> Internal with the SQLSTATE. Call
// inside a catch block.
Status PgError(std::string_view context, const std::exception& e);

// Owns a pqxx::connection behind its forward-declarable base (libpqxx 6's
// connection_base has no virtual destructor, so this deleter deletes the real type).
struct ConnectionDeleter {
  void operator()(pqxx::connection_base* conn) const;
};
using ConnectionPtr = std::unique_ptr<pqxx::connection_base, ConnectionDeleter>;

// Opens a connection to `url`. Errors as PgError (Unavailable when the server
// cannot be reached).
Result<ConnectionPtr> Connect(const std::string& url);

// A HashReader over log_nodes, reading through a transaction the caller owns
// (so a proof and the checkpoint it is checked against can come from one
// snapshot). SubtreeHashes fetches any number of subtrees in one query.
// Returns NotFound for a subtree that is not in log_nodes, DataLoss for a
// stored hash that is not 32 bytes, Unavailable or Internal for database
// errors. Not thread-safe (neither is the transaction); `tx` must outlive it.
class PgHashReader : public merkle::HashReader {
 public:
  explicit PgHashReader(pqxx::transaction_base& tx) : tx_(tx) {}

  Result<Hash> SubtreeHash(const merkle::SubtreeId& id) const override;
  Result<std::vector<Hash>> SubtreeHashes(std::span<const merkle::SubtreeId> ids) const override;

  // How many queries this reader has sent (for tests of the O(1)-queries claim).
  uint64_t queries() const { return queries_; }

 private:
  pqxx::transaction_base& tx_;
  mutable uint64_t queries_ = 0;
};

// The log's size: max(leaf_index) + 1, or 0 when empty. Errors as PgError.
Result<uint64_t> ReadTreeSize(pqxx::transaction_base& tx);

// Inserts `subtrees` into log_nodes with one statement per 1,000 rows. Errors
// as PgError (AlreadyExists when a subtree is already stored).
Status InsertSubtrees(pqxx::transaction_base& tx, std::span<const merkle::Subtree> subtrees);

// "\\x" + lowercase hex: a bytea literal in PostgreSQL's hex input format.
std::string ByteaLiteral(std::string_view bytes);

}  // namespace trace::pg

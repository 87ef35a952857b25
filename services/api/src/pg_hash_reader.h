// The Merkle log's complete subtrees read from log_nodes (schemas/migrations/
// 0003_log.sql), for inclusion and consistency proofs.
//
// NOTE for the merge with branch `anchor`: the anchor service brings its own
// reader of the same table; this one exists only because that branch had not
// landed when trace-api was written. Unify on one at merge time.
//
// Uses the caller's transaction, so it is as thread-safe as that (one thread).
#pragma once

#include <pqxx/transaction_base>
#include <span>
#include <vector>

#include "trace/common/merkle.h"

namespace trace::api {

class PgHashReader : public merkle::HashReader {
 public:
  explicit PgHashReader(pqxx::transaction_base& tx) : tx_(tx) {}

  Result<Hash> SubtreeHash(const merkle::SubtreeId& id) const override;
  // All ids in ONE query (unnest of two arrays); NotFound naming the first
  // missing subtree, DataLoss for a stored hash that is not 32 bytes.
  Result<std::vector<Hash>> SubtreeHashes(std::span<const merkle::SubtreeId> ids) const override;

 private:
  pqxx::transaction_base& tx_;
};

}  // namespace trace::api

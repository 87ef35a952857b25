// EnvelopeStore on PostgreSQL (libpqxx). Owns one connection, opened lazily and
// reopened after a failure. Blocking: run it on a thread of its own.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include <pqxx/connection>

#include "envelope_store.h"

namespace trace::gateway {

class PgEnvelopeStore final : public EnvelopeStore {
 public:
  // `url` is a libpq URI. Nothing is connected until the first StoreBatch.
  explicit PgEnvelopeStore(std::string url);
  ~PgEnvelopeStore() override;

  // See EnvelopeStore. The batch takes one transaction: devices of the batch
  // are locked (SELECT ... FOR UPDATE, in a fixed order), so two gateways
  // storing envelopes of the same device serialize and see each other's rows;
  // stored envelopes with the batch's (org, device, seq) are read (through
  // envelope_ids, whatever month they were stored in) and compared byte for
  // byte (DecideSeq); then envelopes, events, event_keys,
  // rejected_messages go in with one multi-row INSERT per table, and
  // devices.last_seq / last_seen_at are raised. A broken connection, a
  // serialization failure, a deadlock or a unique violation give Unavailable
  // (retry); any other database error gives Internal (the batch is not
  // stored). The first batch, and the first after each hour, also makes the
  // coming months' partitions (trace_add_partitions, migration 0006).
  Result<std::vector<Decision>> StoreBatch(std::span<const CheckedMessage> batch) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What PgEnvelopeStore::StoreBatch does, on a connection the caller owns (no
// transaction may be open on it), for trace-api, which stores the envelopes it
// signs for the dashboard through this same code. Each message's envelopes row
// gets the message's `source`. Same errors as StoreBatch; after Unavailable
// the connection may be broken (check is_open() before reusing it).
[[nodiscard]] Result<std::vector<Decision>> StoreCheckedBatch(pqxx::connection& conn,
                                                              std::span<const CheckedMessage> batch);

}  // namespace trace::gateway

#include "pg_envelope_store.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <tuple>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "event_index.h"
#include "pg_array.h"
#include "trace/common/encoding.h"
#include "trace/common/log.h"
#include "trace/common/time.h"

namespace trace::gateway {
namespace {

using DeviceKey = std::pair<std::string, std::string>;
using SeqKey = std::tuple<std::string, std::string, uint64_t>;

// Thrown when the batch must be decided again from scratch.
struct RetryBatch : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct DeviceState {
  bool active = false;
  uint64_t last_seq = 0;
};

std::string DoubleText(double d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

// The rejected_messages row of message `m` refused with `r`.
void AddRejected(const CheckedMessage& m, const Rejection& r, PgArray cols[9]) {
  cols[0].Add(FormatRfc3339Millis(m.received_at));
  cols[1].Add(m.topic);
  cols[2].AddBytea(m.payload);
  cols[3].Add(ReasonName(r.reason));
  cols[4].Add(r.detail);
  const auto& env = m.outcome.envelope;
  std::optional<std::string> org, device, seq;
  if (env) {
    org = env->org;
    device = env->device;
    seq = std::to_string(env->seq);
  } else if (auto t = ParseUpTopic(m.topic)) {
    org = t->org;
    device = t->device;
  }
  cols[5].Add(org);
  cols[6].Add(device);
  cols[7].Add(seq);
  auto id = HexDecode(env ? env->id : MessageId(m.payload));
  if (id) {
    cols[8].AddBytea(*id);
  } else {
    cols[8].AddNull();
  }
}

std::vector<Decision> Store(pqxx::connection& conn, std::span<const CheckedMessage> batch);

// Store() with libpqxx's exceptions translated; `drop_connection` is set when
// the connection should not be used again.
Result<std::vector<Decision>> StoreTranslated(pqxx::connection& conn, std::span<const CheckedMessage> batch,
                                              bool& drop_connection) {
  drop_connection = false;
  try {
    return Store(conn, batch);
  } catch (const RetryBatch& e) {
    return Fail(Unavailable(e.what()));
  } catch (const pqxx::broken_connection& e) {
    drop_connection = true;
    return Fail(Unavailable(std::string("database connection: ") + e.what()));
  } catch (const pqxx::in_doubt_error& e) {
    drop_connection = true;
    // Retrying is safe: what did commit is then answered `duplicate`.
    return Fail(Unavailable(std::string("commit in doubt: ") + e.what()));
  } catch (const pqxx::sql_error& e) {
    const std::string state = e.sqlstate();
    if (state == "40001" || state == "40P01" || state.starts_with("08") || state.starts_with("57P")) {
      drop_connection = true;
      return Fail(Unavailable("database (" + state + "): " + e.what()));
    }
    if (state == "23505") {
      // A unique violation (envelope_ids: the same id or seq stored by a
      // writer that did not lock the device): deciding again sees that row.
      return Fail(Unavailable("database (" + state + "): " + e.what()));
    }
    return Fail(Internal("database (" + state + "): " + e.what()));
  } catch (const std::exception& e) {
    drop_connection = true;
    return Fail(Unavailable(std::string("database: ") + e.what()));
  }
}

}  // namespace

struct PgEnvelopeStore::Impl {
  std::string url;
  std::unique_ptr<pqxx::connection> conn;
  std::optional<std::chrono::steady_clock::time_point> partitions_checked;
};

namespace {

constexpr auto kPartitionCheckEvery = std::chrono::hours(1);

// Makes the coming months' partitions of envelopes and events
// (migration 0006). A failure is logged, not returned: rows of a month without
// a partition go to the DEFAULT one, so storing never depends on it.
void AddPartitions(pqxx::connection& conn) {
  try {
    pqxx::work tx(conn);
    const int made = tx.exec1("SELECT trace_add_partitions()")[0].as<int>();
    tx.commit();
    if (made > 0) log::Info("monthly partitions made", {{"count", made}});
  } catch (const std::exception& e) {
    log::Warn("making monthly partitions failed", {{"error", e.what()}});
  }
}

}  // namespace

PgEnvelopeStore::PgEnvelopeStore(std::string url) : impl_(std::make_unique<Impl>()) { impl_->url = std::move(url); }
PgEnvelopeStore::~PgEnvelopeStore() = default;

Result<std::vector<Decision>> PgEnvelopeStore::StoreBatch(std::span<const CheckedMessage> batch) {
  try {
    if (!impl_->conn || !impl_->conn->is_open()) {
      impl_->conn.reset();
      impl_->conn = std::make_unique<pqxx::connection>(impl_->url);
    }
  } catch (const std::exception& e) {
    impl_->conn.reset();
    return Fail(Unavailable(std::string("database: ") + e.what()));
  }
  const auto now = std::chrono::steady_clock::now();
  if (!impl_->partitions_checked || now - *impl_->partitions_checked >= kPartitionCheckEvery) {
    impl_->partitions_checked = now;
    AddPartitions(*impl_->conn);
  }
  bool drop = false;
  auto decisions = StoreTranslated(*impl_->conn, batch, drop);
  if (drop) impl_->conn.reset();
  return decisions;
}

Result<std::vector<Decision>> StoreCheckedBatch(pqxx::connection& conn, std::span<const CheckedMessage> batch) {
  bool drop = false;
  return StoreTranslated(conn, batch, drop);
}

namespace {

std::vector<Decision> Store(pqxx::connection& conn, std::span<const CheckedMessage> batch) {
  std::vector<Decision> decisions(batch.size());
  pqxx::work tx(conn);

  // What is stored for the devices and seqs of the batch's verified envelopes.
  std::map<DeviceKey, DeviceState> devices;
  std::map<SeqKey, std::optional<std::string>> stored;  // canonical bytes; also this batch's
  {
    PgArray orgs, devs, s_orgs, s_devs, s_seqs;
    std::map<DeviceKey, bool> seen;
    for (const auto& m : batch) {
      if (m.outcome.rejection || !m.outcome.envelope) continue;
      const auto& e = *m.outcome.envelope;
      if (!seen.emplace(DeviceKey{e.org, e.device}, true).second) {
      } else {
        orgs.Add(e.org);
        devs.Add(e.device);
      }
      s_orgs.Add(e.org);
      s_devs.Add(e.device);
      s_seqs.Add(std::to_string(e.seq));
    }
    if (orgs.size() > 0) {
      auto rows = tx.exec_params(
          "SELECT org, device, status, last_seq FROM devices "
          "WHERE (org, device) IN (SELECT * FROM unnest($1::text[], $2::text[])) "
          "ORDER BY org, device FOR UPDATE",
          orgs.Finish(), devs.Finish());
      for (const auto& row : rows) {
        devices[{row[0].as<std::string>(), row[1].as<std::string>()}] =
            DeviceState{row[2].as<std::string>() == "active", row[3].as<uint64_t>()};
      }
      auto found = tx.exec_params(
          "SELECT i.org, i.device, i.seq, e.canonical FROM envelope_ids i "
          "JOIN envelopes e ON e.id = i.id AND e.received_at = i.received_at "
          "WHERE (i.org, i.device, i.seq) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]))",
          s_orgs.Finish(), s_devs.Finish(), s_seqs.Finish());
      for (const auto& row : found) {
        stored[{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<uint64_t>()}] =
            pqxx::binarystring(row[3]).str();
      }
    }
  }

  PgArray env_cols[9];
  PgArray ev_cols[14];
  PgArray key_cols[11];
  PgArray rej_cols[9];
  std::map<DeviceKey, uint64_t> raised;  // devices whose last_seq goes up
  size_t accepted = 0;

  for (size_t i = 0; i < batch.size(); ++i) {
    const CheckedMessage& m = batch[i];
    Decision& d = decisions[i];
    if (m.outcome.rejection || !m.outcome.envelope) {
      d.status = ReceiptStatus::kRejected;
      d.rejection = m.outcome.rejection.value_or(Rejection{Reason::kMalformed, "not an envelope"});
      AddRejected(m, *d.rejection, rej_cols);
      continue;
    }
    const Envelope& e = *m.outcome.envelope;
    auto dev = devices.find({e.org, e.device});
    if (dev == devices.end()) {
      d.rejection = Rejection{Reason::kUnknownDevice, "no device " + e.org + "/" + e.device};
    } else if (!dev->second.active) {
      d.rejection = Rejection{Reason::kRevokedDevice, "device " + e.org + "/" + e.device + " is revoked"};
    } else {
      SeqKey key{e.org, e.device, e.seq};
      auto it = stored.find(key);
      std::optional<std::string> same_seq = it == stored.end() ? std::nullopt : it->second;
      SeqDecision seq = DecideSeq(e.seq, e.canonical_bytes, dev->second.last_seq, same_seq);
      if (seq.kind == SeqDecision::kDuplicate) {
        d.status = ReceiptStatus::kDuplicate;
        continue;
      }
      if (seq.kind == SeqDecision::kSeqReused) {
        d.rejection = Rejection{Reason::kSeqReused, seq.detail};
      } else if (m.outcome.deferred) {
        d.rejection = m.outcome.deferred;
      } else {
        d.status = ReceiptStatus::kAccepted;
        d.detail = seq.detail;
        stored[key] = e.canonical_bytes;
        // An out-of-order seq never lowers the device's highest one.
        dev->second.last_seq = std::max(dev->second.last_seq, e.seq);
        raised[{e.org, e.device}] = dev->second.last_seq;
        ++accepted;
        auto id = HexDecode(e.id);
        env_cols[0].AddBytea(id ? *id : std::string());
        env_cols[1].Add(e.org);
        env_cols[2].Add(e.device);
        env_cols[3].Add(std::to_string(e.seq));
        env_cols[4].AddBytea(e.canonical_bytes);
        env_cols[5].Add(e.sent);
        env_cols[6].Add(std::to_string(e.events.size()));
        const std::string received_at = FormatRfc3339Millis(m.received_at);
        env_cols[7].Add(received_at);
        env_cols[8].Add(SourceName(m.source));
        for (size_t idx = 0; idx < e.events.size(); ++idx) {
          const auto& event = e.events[idx].as_object();
          EventRow row = EventRowFor(event);
          ev_cols[0].AddBytea(id ? *id : std::string());
          ev_cols[1].Add(std::to_string(idx));
          ev_cols[2].Add(e.org);
          ev_cols[3].Add(row.event_type);
          ev_cols[4].Add(row.action);
          ev_cols[5].Add(row.biz_step);
          ev_cols[6].Add(row.disposition);
          ev_cols[7].Add(row.event_time);
          ev_cols[8].Add(row.event_time_zone_offset);
          ev_cols[9].Add(row.event_id);
          ev_cols[10].Add(row.read_point);
          ev_cols[11].Add(row.biz_location);
          ev_cols[12].Add(boost::json::serialize(event));
          ev_cols[13].Add(received_at);
          for (const EventKeyRow& k : EventKeysFor(event)) {
            key_cols[0].AddBytea(id ? *id : std::string());
            key_cols[1].Add(std::to_string(idx));
            key_cols[2].Add(k.kind);
            key_cols[3].Add(k.value);
            key_cols[4].Add(k.gtin);
            key_cols[5].Add(k.lot);
            key_cols[6].Add(k.serial);
            key_cols[7].Add(k.quantity ? std::optional<std::string>(DoubleText(*k.quantity)) : std::nullopt);
            key_cols[8].Add(k.uom);
            key_cols[9].Add(k.detail);
            key_cols[10].Add(received_at);
          }
        }
        continue;
      }
    }
    d.status = ReceiptStatus::kRejected;
    AddRejected(m, *d.rejection, rej_cols);
  }

  if (accepted > 0) {
    auto inserted = tx.exec_params(
        "INSERT INTO envelopes (id, org, device, seq, canonical, sent_at, source, event_count, received_at) "
        "SELECT id, org, device, seq, canonical, sent_at, source, event_count, received_at FROM "
        "unnest($1::bytea[], $2::text[], $3::text[], $4::bigint[], $5::bytea[], $6::timestamptz[], "
        "$7::smallint[], $8::timestamptz[], $9::text[]) "
        "AS u(id, org, device, seq, canonical, sent_at, event_count, received_at, source) "
        "ON CONFLICT DO NOTHING RETURNING 1",
        env_cols[0].Finish(), env_cols[1].Finish(), env_cols[2].Finish(), env_cols[3].Finish(), env_cols[4].Finish(),
        env_cols[5].Finish(), env_cols[6].Finish(), env_cols[7].Finish(), env_cols[8].Finish());
    if (inserted.size() != accepted) {
      // The device rows are locked, so only a writer that ignores the lock
      // could get here (as could a unique_violation from envelope_ids, for an
      // id or seq stored in another month); retrying the batch decides again
      // with its rows seen.
      throw RetryBatch("envelopes stored concurrently; retrying the batch");
    }
    tx.exec_params(
        "INSERT INTO events (envelope_id, idx, org, event_type, action, biz_step, disposition, event_time, "
        "event_time_zone_offset, event_id, read_point, biz_location, body, received_at) "
        "SELECT * FROM unnest($1::bytea[], $2::smallint[], $3::text[], $4::text[], $5::text[], $6::text[], "
        "$7::text[], $8::timestamptz[], $9::text[], $10::text[], $11::text[], $12::text[], $13::jsonb[], "
        "$14::timestamptz[])",
        ev_cols[0].Finish(), ev_cols[1].Finish(), ev_cols[2].Finish(), ev_cols[3].Finish(), ev_cols[4].Finish(),
        ev_cols[5].Finish(), ev_cols[6].Finish(), ev_cols[7].Finish(), ev_cols[8].Finish(), ev_cols[9].Finish(),
        ev_cols[10].Finish(), ev_cols[11].Finish(), ev_cols[12].Finish(), ev_cols[13].Finish());
    if (key_cols[0].size() > 0) {
      tx.exec_params(
          "INSERT INTO event_keys (envelope_id, idx, kind, value, gtin, lot, serial, quantity, uom, detail, "
          "received_at) "
          "SELECT * FROM unnest($1::bytea[], $2::smallint[], $3::text[], $4::text[], $5::text[], $6::text[], "
          "$7::text[], $8::float8[], $9::text[], $10::text[], $11::timestamptz[])",
          key_cols[0].Finish(), key_cols[1].Finish(), key_cols[2].Finish(), key_cols[3].Finish(),
          key_cols[4].Finish(), key_cols[5].Finish(), key_cols[6].Finish(), key_cols[7].Finish(),
          key_cols[8].Finish(), key_cols[9].Finish(), key_cols[10].Finish());
    }
    PgArray orgs, devs, seqs;
    for (const auto& [dk, seq] : raised) {
      orgs.Add(dk.first);
      devs.Add(dk.second);
      seqs.Add(std::to_string(seq));
    }
    tx.exec_params(
        "UPDATE devices d SET last_seq = greatest(d.last_seq, u.seq), last_seen_at = now() "
        "FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(org, device, seq) "
        "WHERE d.org = u.org AND d.device = u.device",
        orgs.Finish(), devs.Finish(), seqs.Finish());
  }
  if (rej_cols[0].size() > 0) {
    tx.exec_params(
        "INSERT INTO rejected_messages (received_at, topic, payload, reason, detail, org, device, seq, envelope_id) "
        "SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::bytea[], $4::text[], $5::text[], $6::text[], "
        "$7::text[], $8::bigint[], $9::bytea[])",
        rej_cols[0].Finish(), rej_cols[1].Finish(), rej_cols[2].Finish(), rej_cols[3].Finish(), rej_cols[4].Finish(),
        rej_cols[5].Finish(), rej_cols[6].Finish(), rej_cols[7].Finish(), rej_cols[8].Finish());
  }
  tx.commit();
  return decisions;
}

}  // namespace
}  // namespace trace::gateway

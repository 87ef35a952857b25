// The gateway's store on the monthly partitions of migration 0006, against a
// real PostgreSQL (deploy/stack.sh through the test harness): envelopes and
// their events land in the partition of the month they were received, and the
// receipt decisions that rest on uniqueness (duplicate, seq_reused) hold for an
// envelope stored in an earlier month, which only envelope_ids can see.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "checker.h"
#include "clock.h"
#include "device_directory.h"
#include "harness/shared_stack.h"
#include "harness/stack.h"
#include "pg_envelope_store.h"
#include "trace/common/ed25519.h"
#include "trace/common/envelope.h"
#include "trace/common/time.h"

namespace trace::gateway {
namespace {

using std::chrono::system_clock;

testing::SharedStack* const g_env = testing::RegisterSharedStack({.postgres = true});

constexpr const char* kOrg = "part-farm";
constexpr const char* kDevice = "probe-1";

// A signed one-reading envelope with `seq`, sent at `sent`.
std::string Envelope(const Ed25519PrivateKey& key, uint64_t seq, system_clock::time_point sent, double celsius) {
  boost::json::object event{
      {"type", "ObjectEvent"},
      {"eventTime", FormatRfc3339Millis(sent)},
      {"eventTimeZoneOffset", "+00:00"},
      {"action", "OBSERVE"},
      {"bizStep", "sensor_reporting"},
      {"epcList", boost::json::array{"urn:epc:id:sgtin:4012345.011111.1"}},
      {"readPoint", {{"id", "urn:epc:id:sgln:4012345.00001.0"}}},
      {"sensorElementList",
       boost::json::array{{{"sensorReport", boost::json::array{{{"type", "Temperature"}, {"value", celsius},
                                                               {"uom", "CEL"}}}}}}}};
  boost::json::object o{{"v", 1},          {"org", kOrg}, {"device", kDevice}, {"seq", seq},
                        {"sent", FormatRfc3339Millis(sent)}, {"events", boost::json::array{event}}};
  auto env = SignEnvelope(std::move(o), key);
  EXPECT_TRUE(env.has_value());
  return env ? env->canonical_bytes : std::string();
}

class PartitionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = testing::CreateDatabase(g_env->stack(), "gateway_partitions");
    auto migrated = g_env->stack().Run({"trace-admin", "migrate", "--db-url", url_});
    ASSERT_EQ(migrated.exit_code, 0) << migrated.out << migrated.err;
    pqxx::connection conn(url_);
    pqxx::work w(conn);
    w.exec_params("INSERT INTO organizations (id, name) VALUES ($1, 'Partition Farm')", kOrg);
    w.exec_params("INSERT INTO devices (org, device, public_key, mqtt_username) VALUES ($1, $2, $3, $1 || '/' || $2)",
                  kOrg, kDevice, pqxx::binarystring(key_.public_key()));
    w.commit();
    directory_.Put(kOrg, kDevice, {key_.public_key(), true, 0});
    store_ = std::make_unique<PgEnvelopeStore>(url_);
  }

  // Stores `payload` as received at `received_at`, through the gateway's store.
  Decision Store(const std::string& payload, system_clock::time_point received_at) {
    SystemClock clock;
    // Old envelopes pass the clock-skew check only with a bound that reaches them.
    Checker checker(directory_, clock, {.max_clock_skew = std::chrono::hours(24 * 400)});
    const std::string topic = UpTopic(kOrg, kDevice);
    auto checked = checker.Check(topic, payload);
    EXPECT_TRUE(checked.has_value());
    std::vector<CheckedMessage> batch{{topic, payload, received_at, *checked}};
    auto decisions = store_->StoreBatch(batch);
    EXPECT_TRUE(decisions.has_value()) << (decisions ? "" : decisions.error().ToString());
    return decisions ? (*decisions)[0] : Decision{};
  }

  std::string Query(const std::string& sql) {
    pqxx::connection conn(url_);
    pqxx::read_transaction r(conn);
    auto rows = r.exec(sql);
    std::string out;
    for (const auto& row : rows) {
      for (const auto& f : row) out += (f.is_null() ? "NULL" : f.c_str()) + std::string("|");
      out += "\n";
    }
    return out;
  }

  Ed25519PrivateKey key_ = Ed25519PrivateKey::Generate();
  FakeDeviceDirectory directory_;
  std::string url_;
  std::unique_ptr<PgEnvelopeStore> store_;
};

TEST_F(PartitionsTest, RowsLandInTheirMonthAndUniquenessSpansMonths) {
  const auto now = system_clock::now();
  const auto months_ago = now - std::chrono::hours(24 * 62);
  {
    // A fresh database has partitions from this month on; make the older ones, as
    // an installation importing history would.
    pqxx::connection conn(url_);
    pqxx::work w(conn);
    EXPECT_GE(w.exec1("SELECT trace_add_partitions(3, now() - interval '62 days')")[0].as<int>(), 4);
    w.commit();
  }
  const std::string old_envelope = Envelope(key_, 1, months_ago, 4.5);
  ASSERT_EQ(Store(old_envelope, months_ago).status, ReceiptStatus::kAccepted);

  // The gateway made this month's partitions and the next ones on its first batch.
  const std::string month = Query("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM')");
  EXPECT_NE(Query("SELECT to_regclass('envelopes_" + month.substr(0, 7) + "') IS NOT NULL"), "f|\n");

  const std::string new_envelope = Envelope(key_, 2, now, 5.0);
  ASSERT_EQ(Store(new_envelope, now).status, ReceiptStatus::kAccepted);

  // Each envelope and its event sit in the partitions of the month received; the event's
  // keys (one table, not partitioned) carry the same received_at.
  const std::string placement = Query(
      "SELECT e.seq, e.tableoid::regclass, v.tableoid::regclass, min(k.tableoid::regclass::text), "
      "to_char(e.received_at AT TIME ZONE 'UTC', 'YYYY_MM') "
      "FROM envelopes e JOIN events v ON v.envelope_id = e.id AND v.received_at = e.received_at "
      "JOIN event_keys k ON k.envelope_id = v.envelope_id AND k.idx = v.idx AND k.received_at = v.received_at "
      "GROUP BY 1, 2, 3, 5 ORDER BY 1");
  for (const char* seq : {"1", "2"}) {
    const size_t at = placement.find(std::string(seq) + "|");
    ASSERT_NE(at, std::string::npos) << placement;
    const std::string line = placement.substr(at, placement.find('\n', at) - at);
    const std::string ym = line.substr(line.rfind('|', line.size() - 2) + 1, 7);
    EXPECT_NE(line.find("envelopes_" + ym + "|events_" + ym + "|event_keys|"), std::string::npos)
        << line;
  }

  // The same bytes again, a month later: duplicate, stored once.
  const Decision again = Store(old_envelope, now);
  EXPECT_EQ(again.status, ReceiptStatus::kDuplicate);
  // Other bytes with seq 1, now: seq_reused, although no row of this month has seq 1.
  const Decision reused = Store(Envelope(key_, 1, now, 9.9), now);
  EXPECT_EQ(reused.status, ReceiptStatus::kRejected);
  ASSERT_TRUE(reused.rejection.has_value());
  EXPECT_EQ(reused.rejection->reason, Reason::kSeqReused);
  EXPECT_EQ(Query("SELECT count(*) FROM envelopes"), "2|\n");
  EXPECT_EQ(Query("SELECT count(*) FROM envelope_ids"), "2|\n");

  // A writer that skips the gateway's checks meets envelope_ids: the same id, or the
  // same (org, device, seq), received in another month is refused by the database.
  pqxx::connection conn(url_);
  const std::string insert_old =
      "INSERT INTO envelopes (id, org, device, seq, canonical, sent_at, source, event_count, received_at) "
      "VALUES (sha256($3::bytea), $1, $2, $4, $3::bytea, now(), 'mqtt', 1, now() - interval '90 days')";
  {
    pqxx::work w(conn);  // new_envelope's id (the SHA-256 of its bytes) under a fresh seq
    EXPECT_THROW(w.exec_params(insert_old, kOrg, kDevice, pqxx::binarystring(new_envelope), 50),
                 pqxx::unique_violation);
  }
  {
    pqxx::work w(conn);  // a fresh id under seq 2
    EXPECT_THROW(w.exec_params(insert_old, kOrg, kDevice, pqxx::binarystring(std::string("other")), 2),
                 pqxx::unique_violation);
  }

  // Append-only holds on every partition, the default one included.
  for (const std::string& sql : std::vector<std::string>{"UPDATE envelopes SET seq = seq", "DELETE FROM events",
                                 "TRUNCATE envelopes_" + month.substr(0, 7), "TRUNCATE events_default", "TRUNCATE event_keys",
                                 "DELETE FROM envelope_ids"}) {
    pqxx::work w(conn);
    EXPECT_THROW(w.exec(sql), pqxx::sql_error) << sql;
  }
}

TEST_F(PartitionsTest, AddPartitionsIsIdempotentAndKeepsADefault) {
  pqxx::connection conn(url_);
  pqxx::work w(conn);
  w.exec("SELECT trace_add_partitions()");
  EXPECT_EQ(w.exec1("SELECT trace_add_partitions()")[0].as<int>(), 0);
  // Twelve months ahead: no partition yet, so the row goes to the default one...
  w.exec_params("INSERT INTO envelopes (id, org, device, seq, canonical, sent_at, source, event_count, received_at) "
                "VALUES (sha256('far'::bytea), $1, $2, 40, 'x', now(), 'mqtt', 1, now() + interval '12 months')",
                kOrg, kDevice);
  EXPECT_EQ(w.exec1("SELECT tableoid::regclass::text FROM envelopes WHERE seq = 40")[0].as<std::string>(),
            "envelopes_default");
  // ...and making that month's partition later leaves it there (with a warning) rather than fail.
  EXPECT_GE(w.exec1("SELECT trace_add_partitions(14)")[0].as<int>(), 1);
  EXPECT_EQ(w.exec1("SELECT tableoid::regclass::text FROM envelopes WHERE seq = 40")[0].as<std::string>(),
            "envelopes_default");
  EXPECT_EQ(w.exec1("SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = 'envelopes'::regclass AND c.relname = 'envelopes_' || "
                    "to_char((now() + interval '12 months') AT TIME ZONE 'UTC', 'YYYY_MM')")[0]
                .as<int>(),
            0);
}

}  // namespace
}  // namespace trace::gateway

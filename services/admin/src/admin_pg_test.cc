// trace-admin against a real PostgreSQL and a real Mosquitto (dynamic
// security), both started once for this executable by the test harness
// (deploy/stack.sh). Every command runs as the shipped build/bin/trace-admin.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "harness/shared_stack.h"
#include "harness/stack.h"
#include "trace/common/ed25519.h"
#include "trace/common/encoding.h"
#include "trace/common/files.h"
#include "trace/common/platform_keys.h"
#include "trace/common/sha256.h"

namespace trace::admin {
namespace {

testing::SharedStack* const g_env = testing::RegisterSharedStack({.postgres = true, .mosquitto = true});

struct Json {
  int exit_code;
  boost::json::object obj;
  std::string err;
};

// Runs trace-admin with --json and parses the one object it printed.
Json Admin(std::vector<std::string> args) {
  args.insert(args.begin(), "trace-admin");
  args.push_back("--json");
  auto r = g_env->stack().Run(args);
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(r.out, ec);
  EXPECT_FALSE(ec) << "not one JSON object: " << r.out << r.err;
  EXPECT_TRUE(v.is_object()) << r.out;
  return {r.exit_code, v.is_object() ? v.as_object() : boost::json::object{}, r.err};
}

std::string Str(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::string DbUrl() { return g_env->stack().Env("TRACE_DB_URL"); }

// A fresh, empty database next to the stack's one.
std::string NewDatabase(const std::string& name) { return testing::CreateDatabase(g_env->stack(), name); }

std::string NewPublicKey() { return Base64UrlEncode(Ed25519PrivateKey::Generate().public_key()); }

// Runs mosquitto_pub as the device: 0 when the broker took the message.
int MosquittoPub(const std::string& user, const std::string& password, const std::string& topic) {
  std::string url = g_env->stack().Env("TRACE_MQTT_URL");  // tcp://127.0.0.1:PORT
  std::string port = url.substr(url.rfind(':') + 1);
  pid_t pid = ::fork();
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::execlp("mosquitto_pub", "mosquitto_pub", "-h", "127.0.0.1", "-p", port.c_str(), "-u", user.c_str(), "-P",
             password.c_str(), "-t", topic.c_str(), "-m", "{}", "-q", "1", "-i",
             ("test-" + std::to_string(::getpid())).c_str(), nullptr);
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

TEST(AdminMigrate, SecondRunAppliesNothing) {
  std::string url = NewDatabase("admin_migrate_twice");
  Json first = Admin({"migrate", "--db-url", url});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto& applied = first.obj.at("applied").as_array();
  ASSERT_GE(applied.size(), 3u);
  EXPECT_EQ(applied[0].as_string(), "0001_core.sql");
  int64_t current = first.obj.at("current").as_int64();
  EXPECT_GE(current, 3);

  Json second = Admin({"migrate", "--db-url", url});
  ASSERT_EQ(second.exit_code, 0);
  EXPECT_TRUE(second.obj.at("applied").as_array().empty());
  EXPECT_EQ(second.obj.at("current").as_int64(), current);

  pqxx::connection conn(url);
  pqxx::read_transaction r(conn);
  auto rows = r.exec("SELECT name, sha256 FROM schema_migrations ORDER BY version");
  ASSERT_EQ(rows.size(), applied.size());
  std::string dir = std::string(std::getenv("TRACE_SOURCE_DIR")) + "/schemas/migrations/";
  for (const auto& row : rows) {
    std::string name = row[0].as<std::string>();
    EXPECT_EQ(pqxx::binarystring(row[1]).str(), HashBytes(Sha256(*ReadFile(dir + name)))) << name;
  }
}

TEST(AdminMigrate, ChangedAppliedFileIsRefused) {
  std::string url = NewDatabase("admin_migrate_tampered");
  std::filesystem::path copy = std::filesystem::path(g_env->stack().dir()) / "migrations-copy";
  std::filesystem::remove_all(copy);
  std::filesystem::copy(std::string(std::getenv("TRACE_SOURCE_DIR")) + "/schemas/migrations", copy);
  ASSERT_EQ(Admin({"migrate", "--db-url", url, "--migrations-dir", copy.string()}).exit_code, 0);

  std::ofstream(copy / "0002_envelopes.sql", std::ios::app) << "\n-- edited after being applied\n";
  Json tampered = Admin({"migrate", "--db-url", url, "--migrations-dir", copy.string()});
  EXPECT_EQ(tampered.exit_code, 1);
  EXPECT_EQ(Str(tampered.obj, "code"), "FAILED_PRECONDITION");
  EXPECT_NE(Str(tampered.obj, "error").find("0002_envelopes.sql changed after it was applied"), std::string::npos)
      << Str(tampered.obj, "error");
}

// Migration 0006 partitions envelopes and events by month: rows stored
// before it move into their months' partitions byte for byte, with their stored_no,
// and the log's leaves still name them.
TEST(AdminMigrate, PartitioningMovesStoredRows) {
  std::string url = NewDatabase("admin_migrate_partitions");
  std::filesystem::path copy = std::filesystem::path(g_env->stack().dir()) / "migrations-before-0006";
  std::filesystem::remove_all(copy);
  std::filesystem::create_directories(copy);
  const std::filesystem::path source = std::string(std::getenv("TRACE_SOURCE_DIR")) + "/schemas/migrations";
  for (const auto& f : std::filesystem::directory_iterator(source)) {
    if (f.path().filename().string() < "0006") std::filesystem::copy(f.path(), copy / f.path().filename());
  }
  ASSERT_EQ(Admin({"migrate", "--db-url", url, "--migrations-dir", copy.string()}).exit_code, 0);
  {
    pqxx::connection conn(url);
    pqxx::work w(conn);
    w.exec("INSERT INTO organizations (id, name) VALUES ('old-farm', 'Old Farm')");
    w.exec_params("INSERT INTO devices (org, device, public_key, mqtt_username) VALUES ('old-farm', 'd1', $1, "
                  "'old-farm/d1')",
                  pqxx::binarystring(Ed25519PrivateKey::Generate().public_key()));
    for (int seq : {1, 2}) {
      const std::string canonical = "envelope " + std::to_string(seq);
      const char* received = seq == 1 ? "'2026-10-15T08:00:00Z'" : "now()";
      w.exec_params(std::string("INSERT INTO envelopes (id, org, device, seq, canonical, sent_at, source, event_count, "
                                "received_at) VALUES (sha256($1::bytea), 'old-farm', 'd1', $2, $1::bytea, now(), "
                                "'mqtt', 1, ") + received + ")",
                    pqxx::binarystring(canonical), seq);
      w.exec_params(
          "INSERT INTO events (envelope_id, idx, org, event_type, action, event_time, event_time_zone_offset, body) "
          "VALUES (sha256($1::bytea), 0, 'old-farm', 'ObjectEvent', 'OBSERVE', now(), '+00:00', '{}')",
          pqxx::binarystring(canonical));
      w.exec_params("INSERT INTO event_keys (envelope_id, idx, kind, value) VALUES (sha256($1::bytea), 0, 'epc', "
                    "'urn:epc:id:sgtin:4012345.011111.' || $2)",
                    pqxx::binarystring(canonical), seq);
    }
    w.exec("INSERT INTO log_leaves (leaf_index, envelope_id) SELECT 0, id FROM envelopes WHERE seq = 1");
    w.commit();
  }
  auto before = [&](const std::string& sql) {
    pqxx::connection conn(url);
    pqxx::read_transaction r(conn);
    std::vector<std::string> rows;
    for (const auto& row : r.exec(sql)) {
      std::string line;
      for (const auto& f : row) line += std::string(f.is_null() ? "NULL" : f.c_str()) + "|";
      rows.push_back(line);
    }
    return rows;
  };
  const std::string envelopes_sql =
      "SELECT encode(id, 'hex'), seq, stored_no, md5(canonical), received_at FROM envelopes ORDER BY seq";
  const std::string events_sql =
      "SELECT encode(v.envelope_id, 'hex'), k.value FROM events v JOIN event_keys k USING (envelope_id, idx) "
      "ORDER BY 2";
  const auto envelopes = before(envelopes_sql);
  const auto events = before(events_sql);
  ASSERT_EQ(envelopes.size(), 2u);

  std::filesystem::copy(source / "0006_partitions.sql", copy / "0006_partitions.sql");
  Json migrated = Admin({"migrate", "--db-url", url, "--migrations-dir", copy.string()});
  ASSERT_EQ(migrated.exit_code, 0) << migrated.err;
  ASSERT_EQ(migrated.obj.at("applied").as_array().size(), 1u);
  EXPECT_EQ(migrated.obj.at("applied").as_array()[0].as_string(), "0006_partitions.sql");

  EXPECT_EQ(before(envelopes_sql), envelopes);
  EXPECT_EQ(before(events_sql), events);
  EXPECT_EQ(before("SELECT e.tableoid::regclass, v.tableoid::regclass, k.tableoid::regclass FROM envelopes e "
                   "JOIN events v ON v.envelope_id = e.id AND v.received_at = e.received_at "
                   "JOIN event_keys k ON k.envelope_id = v.envelope_id AND k.received_at = v.received_at "
                   "WHERE e.seq = 1"),
            std::vector<std::string>{"envelopes_2026_10|events_2026_10|event_keys|"});
  EXPECT_EQ(before("SELECT relname, relkind FROM pg_class WHERE relname IN ('envelopes', 'events', 'event_keys') "
                   "ORDER BY 1"),
            (std::vector<std::string>{"envelopes|p|", "event_keys|r|", "events|p|"}));
  EXPECT_EQ(before("SELECT count(*) FROM envelope_ids i JOIN envelopes e USING (id, org, device, seq, received_at)"),
            std::vector<std::string>{"2|"});
  EXPECT_EQ(before("SELECT leaf_index, encode(envelope_id, 'hex') FROM log_leaves"),
            std::vector<std::string>{"0|" + envelopes[0].substr(0, 64) + "|"});
  // The identity sequence continues after the moved rows.
  pqxx::connection conn(url);
  pqxx::work w(conn);
  auto next = w.exec1(
      "INSERT INTO envelopes (id, org, device, seq, canonical, sent_at, source, event_count) "
      "VALUES (sha256('envelope 3'::bytea), 'old-farm', 'd1', 3, 'envelope 3'::bytea, now(), 'mqtt', 1) "
      "RETURNING stored_no");
  EXPECT_EQ(next[0].as<int>(), 3);
}

TEST(AdminOrg, TokenIsStoredHashedAndShownOnce) {
  Json created = Admin({"org", "create", "token-farm", "--name", "Token Farm"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_EQ(Str(created.obj, "org"), "token-farm");
  std::string token = Str(created.obj, "token");
  ASSERT_EQ(token.rfind("trc_", 0), 0u) << token;
  auto secret = Base64UrlDecode(token.substr(4));
  ASSERT_TRUE(secret.has_value());
  EXPECT_EQ(secret->size(), 32u);

  pqxx::connection conn(DbUrl());
  pqxx::read_transaction r(conn);
  auto org = r.exec_params("SELECT name FROM organizations WHERE id = $1", "token-farm");
  ASSERT_EQ(org.size(), 1u);
  EXPECT_EQ(org[0][0].as<std::string>(), "Token Farm");
  auto tokens = r.exec_params(
      "SELECT token_hash, role, row_to_json(t)::text FROM api_tokens t WHERE org = $1", "token-farm");
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(pqxx::binarystring(tokens[0][0]).str(), HashBytes(Sha256(token)));
  EXPECT_EQ(tokens[0][1].as<std::string>(), "admin");
  // The secret part of the token is nowhere in the row.
  EXPECT_EQ(tokens[0][2].as<std::string>().find(token.substr(12)), std::string::npos);
}

TEST(AdminOrg, DuplicateFailsWithAlreadyExists) {
  ASSERT_EQ(Admin({"org", "create", "dup-org"}).exit_code, 0);
  Json again = Admin({"org", "create", "dup-org"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(Str(again.obj, "code"), "ALREADY_EXISTS");
  EXPECT_NE(Str(again.obj, "error").find("dup-org"), std::string::npos);
}

TEST(AdminDevice, RegisterGivesAWorkingBrokerLoginAndRevokeDisablesIt) {
  ASSERT_EQ(Admin({"org", "create", "mqtt-farm"}).exit_code, 0);
  std::string key = NewPublicKey();
  Json reg = Admin({"device", "register", "mqtt-farm", "soil-1", "--public-key", key});
  ASSERT_EQ(reg.exit_code, 0) << reg.err << boost::json::serialize(reg.obj);
  EXPECT_EQ(Str(reg.obj, "mqtt_username"), "mqtt-farm/soil-1");
  EXPECT_EQ(Str(reg.obj, "broker"), "registered");
  std::string password = Str(reg.obj, "mqtt_password");
  ASSERT_GE(password.size(), 24u);

  EXPECT_EQ(MosquittoPub("mqtt-farm/soil-1", password, "trace/v1/mqtt-farm/soil-1/up"), 0);
  EXPECT_NE(MosquittoPub("mqtt-farm/soil-1", password + "x", "trace/v1/mqtt-farm/soil-1/up"), 0);

  {
    pqxx::connection conn(DbUrl());
    pqxx::read_transaction r(conn);
    auto row = r.exec_params("SELECT public_key, status, mqtt_username FROM devices WHERE org = $1 AND device = $2",
                             "mqtt-farm", "soil-1");
    ASSERT_EQ(row.size(), 1u);
    EXPECT_EQ(pqxx::binarystring(row[0][0]).str(), *Base64UrlDecode(key));
    EXPECT_EQ(row[0][1].as<std::string>(), "active");
    EXPECT_EQ(row[0][2].as<std::string>(), "mqtt-farm/soil-1");
  }

  // A second registration changes nothing, in the database or the broker.
  Json dup = Admin({"device", "register", "mqtt-farm", "soil-1", "--public-key", NewPublicKey()});
  EXPECT_EQ(dup.exit_code, 1);
  EXPECT_EQ(Str(dup.obj, "code"), "ALREADY_EXISTS");
  EXPECT_EQ(MosquittoPub("mqtt-farm/soil-1", password, "trace/v1/mqtt-farm/soil-1/up"), 0);

  Json rev = Admin({"device", "revoke", "mqtt-farm", "soil-1"});
  ASSERT_EQ(rev.exit_code, 0) << rev.err << boost::json::serialize(rev.obj);
  EXPECT_EQ(Str(rev.obj, "status"), "revoked");
  EXPECT_EQ(Str(rev.obj, "broker"), "disabled");
  EXPECT_NE(MosquittoPub("mqtt-farm/soil-1", password, "trace/v1/mqtt-farm/soil-1/up"), 0);

  pqxx::connection conn(DbUrl());
  pqxx::read_transaction r(conn);
  auto row = r.exec_params("SELECT status, revoked_at IS NOT NULL FROM devices WHERE org = $1 AND device = $2",
                           "mqtt-farm", "soil-1");
  ASSERT_EQ(row.size(), 1u);
  EXPECT_EQ(row[0][0].as<std::string>(), "revoked");
  EXPECT_TRUE(row[0][1].as<bool>());
}

TEST(AdminDevice, WithoutBrokerRegistersInTheDatabaseOnlyAndSaysSo) {
  ASSERT_EQ(Admin({"org", "create", "offline-farm"}).exit_code, 0);
  Json reg = Admin({"device", "register", "offline-farm", "d1", "--public-key", NewPublicKey(), "--mqtt-url="});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  EXPECT_EQ(Str(reg.obj, "broker"), "not configured");
  EXPECT_TRUE(reg.obj.at("mqtt_password").is_null());
  Json rev = Admin({"device", "revoke", "offline-farm", "d1", "--mqtt-url="});
  ASSERT_EQ(rev.exit_code, 0);
  EXPECT_EQ(Str(rev.obj, "broker"), "not configured");
}

TEST(AdminDevice, BadInputGivesClearErrors) {
  ASSERT_EQ(Admin({"org", "create", "strict-farm"}).exit_code, 0);
  Json bad_org = Admin({"device", "register", "Strict", "d1", "--public-key", NewPublicKey()});
  EXPECT_EQ(bad_org.exit_code, 2);
  EXPECT_NE(Str(bad_org.obj, "error").find("organization id"), std::string::npos);
  Json bad_dev = Admin({"device", "register", "strict-farm", "d#1", "--public-key", NewPublicKey()});
  EXPECT_EQ(bad_dev.exit_code, 2);
  EXPECT_NE(Str(bad_dev.obj, "error").find("device id"), std::string::npos);
  Json bad_key = Admin({"device", "register", "strict-farm", "d1", "--public-key", Base64UrlEncode("short")});
  EXPECT_EQ(bad_key.exit_code, 2);
  EXPECT_NE(Str(bad_key.obj, "error").find("32-byte"), std::string::npos);
  Json no_org = Admin({"device", "register", "no-such-org", "d1", "--public-key", NewPublicKey()});
  EXPECT_EQ(no_org.exit_code, 1);
  EXPECT_EQ(Str(no_org.obj, "code"), "NOT_FOUND");
  Json unknown = Admin({"device", "revoke", "strict-farm", "ghost"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(Str(unknown.obj, "code"), "NOT_FOUND");

  pqxx::connection conn(DbUrl());
  pqxx::read_transaction r(conn);
  EXPECT_EQ(r.exec_params("SELECT count(*) FROM devices WHERE org = $1", "strict-farm")[0][0].as<int>(), 0);
}

TEST(AdminKeys, CreatesPrivateKeyFilesOnceAndPrintsTheKeysDocument) {
  std::string dir = g_env->stack().dir() + "/admin-keys";
  Json first = Admin({"keys", "--keys-dir", dir, "--log-name", "example.test/log"});
  ASSERT_EQ(first.exit_code, 0) << first.err << boost::json::serialize(first.obj);
  EXPECT_EQ(*FileMode(dir + "/log.key"), 0600u);
  EXPECT_EQ(*FileMode(dir + "/receipt.key"), 0600u);
  EXPECT_EQ(*FileMode(dir), 0700u);

  const auto& log = first.obj.at("log").as_object();
  EXPECT_EQ(Str(log, "name"), "example.test/log");
  auto log_pub = Base64UrlDecode(Str(log, "public_key"));
  ASSERT_TRUE(log_pub.has_value());
  EXPECT_EQ(*log_pub, ReadEd25519KeyFile(dir + "/log.key")->public_key());
  const auto& receipts = first.obj.at("receipt").as_array();
  ASSERT_EQ(receipts.size(), 1u);
  auto receipt_pub = Base64UrlDecode(Str(receipts[0].as_object(), "public_key"));
  ASSERT_TRUE(receipt_pub.has_value());
  EXPECT_EQ(*receipt_pub, ReadEd25519KeyFile(dir + "/receipt.key")->public_key());
  EXPECT_EQ(Str(receipts[0].as_object(), "id"), ReceiptKeyId(*receipt_pub));

  Json second = Admin({"keys", "--keys-dir", dir, "--log-name", "example.test/log"});
  ASSERT_EQ(second.exit_code, 0);
  EXPECT_EQ(second.obj, first.obj);

  pqxx::connection conn(DbUrl());
  pqxx::read_transaction r(conn);
  auto rows = r.exec("SELECT kind, public_key FROM platform_keys ORDER BY kind");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0].as<std::string>(), "log");
  EXPECT_EQ(pqxx::binarystring(rows[0][1]).str(), *log_pub);
  EXPECT_EQ(rows[1][0].as<std::string>(), "receipt");
  EXPECT_EQ(pqxx::binarystring(rows[1][1]).str(), *receipt_pub);
}

// Expects `sql` to be refused by the append-only trigger.
void ExpectRefused(const std::string& sql) {
  pqxx::connection conn(DbUrl());
  pqxx::work w(conn);
  try {
    w.exec(sql);
    ADD_FAILURE() << "not refused: " << sql;
  } catch (const pqxx::sql_error& e) {
    EXPECT_NE(std::string(e.what()).find("append-only"), std::string::npos) << sql << ": " << e.what();
  }
}

TEST(AdminSchema, StoredContentIsAppendOnly) {
  ASSERT_EQ(Admin({"org", "create", "ledger-farm"}).exit_code, 0);
  std::string key = NewPublicKey();
  ASSERT_EQ(Admin({"device", "register", "ledger-farm", "d1", "--public-key", key, "--mqtt-url="}).exit_code, 0);
  std::string canonical = R"({"device":"d1","events":[],"org":"ledger-farm","seq":1})";
  std::string id = HashBytes(Sha256(canonical));
  std::string id_sql = "'\\x" + HexEncode(id) + "'::bytea";
  {
    pqxx::connection conn(DbUrl());
    pqxx::work w(conn);
    w.exec_params(
        "INSERT INTO envelopes (id, org, device, seq, canonical, sent_at, source, event_count) "
        "VALUES ($1, 'ledger-farm', 'd1', 1, $2, now(), 'mqtt', 1)",
        pqxx::binarystring(id), pqxx::binarystring(canonical));
    w.exec_params(
        "INSERT INTO events (envelope_id, idx, org, event_type, action, biz_step, event_time, "
        "event_time_zone_offset, body) VALUES ($1, 0, 'ledger-farm', 'ObjectEvent', 'OBSERVE', "
        "'sensor_reporting', now(), '+00:00', '{}')",
        pqxx::binarystring(id));
    w.exec_params(
        "INSERT INTO event_keys (envelope_id, idx, kind, value, gtin, lot) "
        "VALUES ($1, 0, 'epc_class', 'https://id.gs1.org/01/09506000134369/10/L1', '09506000134369', 'L1')",
        pqxx::binarystring(id));
    w.exec_params("INSERT INTO log_leaves (leaf_index, envelope_id) VALUES (0, $1)", pqxx::binarystring(id));
    w.exec_params("INSERT INTO log_nodes (level, idx, hash) VALUES (0, 0, $1)",
                  pqxx::binarystring(HashBytes(Sha256({std::string(1, '\0'), canonical}))));
    w.exec_params("INSERT INTO checkpoints (tree_size, root, note) VALUES (1, $1, 'note')",
                  pqxx::binarystring(id));
    w.exec_params(
        "INSERT INTO anchors (tree_size, root, chain_id, contract) VALUES (1, $1, 31337, "
        "'0x5fbdb2315678afecb367f032d93f642f64180aa3')",
        pqxx::binarystring(id));
    w.commit();
  }
  for (const char* table : {"envelopes", "events", "event_keys", "log_leaves", "log_nodes", "checkpoints"}) {
    std::string t = table;
    std::string where = t == "envelopes" ? "id = " + id_sql
                        : (t == "log_nodes" || t == "checkpoints" || t == "log_leaves") ? "true"
                                                                                         : "envelope_id = " + id_sql;
    std::string column = t == "log_nodes" || t == "checkpoints" ? "root" : "envelope_id";
    if (t == "envelopes") column = "canonical";
    if (t == "log_nodes") column = "hash";
    ExpectRefused("UPDATE " + t + " SET " + column + " = " + column + " WHERE " + where);
    ExpectRefused("DELETE FROM " + t + " WHERE " + where);
    ExpectRefused("TRUNCATE " + t + " CASCADE");
  }
  // Anchors move through their states.
  pqxx::connection conn(DbUrl());
  pqxx::work w(conn);
  auto moved = w.exec("UPDATE anchors SET state = 'submitted', submitted_at = now() WHERE tree_size = 1");
  EXPECT_EQ(moved.affected_rows(), 1u);
  w.commit();
}

}  // namespace
}  // namespace trace::admin

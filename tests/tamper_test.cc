// Tamper detection (issue 9, item 4), against the real stack: the rice scenario through the real
// gateway, anchored on anvil by the real trace-anchor; then, as the PostgreSQL superuser with
// the append-only triggers bypassed, one byte (or one value) of each kind of stored object is
// changed: an envelope's canonical bytes, an event row (body, a derived column), an event_keys
// row, a log node, a log leaf, a checkpoint's signed note, an anchor record (root, tx hash,
// tree size). `trace-admin audit` must name the object (table and key) and `trace-verify`,
// which trusts only the chain, must fail on the event it affects, wherever a consumer can see
// the change at all. After each change is undone both report clean again.
#include <gtest/gtest.h>

#include <cstdlib>

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <iostream>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "harness/stack.h"

namespace trace {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using testing::Stack;

class TamperSystemTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // trace-api's document cache keeps a trace document rendered before a tamper until the data
    // it is stamped with changes (document_cache.h), and a superuser's edit of an event row
    // changes no stamp: what consumers are served stays what was stored honestly. This test is
    // about what the tools see in the tampered store, so its trace-api renders every request.
    setenv("TRACE_API_DOCUMENT_CACHE_MB", "0", 1);
    auto started = Stack::Start({.postgres = true, .mosquitto = true, .anvil = true, .services = true});
    ASSERT_TRUE(started) << started.error();
    stack_ = started->release();
    ASSERT_FALSE(stack_->Env("TRACE_API_URL").empty()) << "trace-api not built?";
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }

  static pqxx::connection Db() { return pqxx::connection(stack_->Env("TRACE_DB_URL")); }

  static std::string Value(const std::string& sql, const std::string& p1 = "") {
    auto c = Db();
    pqxx::nontransaction w(c);
    auto r = sql.find("$1") != std::string::npos ? w.exec_params(sql, p1) : w.exec(sql);
    return r.empty() || r[0][0].is_null() ? "" : r[0][0].as<std::string>();
  }

  // Runs `sql` ($1, $2 text parameters) as the superuser with the append-only triggers (and
  // the foreign keys, which are triggers too) bypassed; returns the number of rows changed.
  static int AsSuperuser(const std::string& sql, const std::string& p1 = "", const std::string& p2 = "") {
    std::string url = stack_->Env("TRACE_DB_URL");
    url.replace(url.find("trace@"), 6, "postgres@");
    pqxx::connection conn(url);
    pqxx::work w(conn);
    w.exec("SET LOCAL session_replication_role = replica");
    auto r = sql.find("$2") != std::string::npos   ? w.exec_params(sql, p1, p2)
             : sql.find("$1") != std::string::npos ? w.exec_params(sql, p1)
                                                   : w.exec(sql);
    w.commit();
    return static_cast<int>(r.affected_rows());
  }

  struct Audit {
    int exit_code = -1;
    json::object summary;
    std::string out, err;
    // The problems as "table key: what" lines.
    std::string Problems() const {
      std::string s;
      if (auto* p = summary.if_contains("problems")) {
        for (const auto& x : p->as_array()) {
          s += std::string(x.at("table").as_string()) + " " + std::string(x.at("key").as_string()) + ": " +
               std::string(x.at("what").as_string()) + "\n";
        }
      }
      return s;
    }
    // The problems about exactly (table, key).
    std::vector<std::string> About(const std::string& table, const std::string& key) const {
      std::vector<std::string> found;
      if (auto* p = summary.if_contains("problems")) {
        for (const auto& x : p->as_array()) {
          if (x.at("table").as_string() == table && x.at("key").as_string() == key) {
            found.push_back(std::string(x.at("what").as_string()));
          }
        }
      }
      return found;
    }
    // The first problem's (table, key): the object audit names first.
    std::string First() const {
      auto* p = summary.if_contains("problems");
      if (!p || p->as_array().empty()) return "";
      const auto& x = p->as_array()[0];
      return std::string(x.at("table").as_string()) + " " + std::string(x.at("key").as_string());
    }
  };

  static Audit RunAudit() {
    Audit a;
    auto r = stack_->Run({"trace-admin", "audit", "--json"});
    a.exit_code = r.exit_code;
    a.out = r.out;
    a.err = r.err;
    boost::system::error_code ec;
    auto v = json::parse(r.out, ec);
    if (!ec && v.is_object()) a.summary = v.as_object();
    return a;
  }

  // trace-verify of the bag's link, with a fresh cache so the runs do not depend on each other.
  static json::object RunVerify(int* exit_code) {
    static int run = 0;
    auto r = stack_->Run({"trace-verify", link_, "--chain-rpc", stack_->Env("TRACE_CHAIN_RPC"), "--contract",
                          stack_->Env("TRACE_CONTRACT"), "--api-base", stack_->Env("TRACE_API_URL"), "--cache-dir",
                          stack_->dir() + "/verify-cache-" + std::to_string(++run), "--json"});
    *exit_code = r.exit_code;
    boost::system::error_code ec;
    auto v = json::parse(r.out, ec);
    if (ec || !v.is_object()) {
      ADD_FAILURE() << "trace-verify printed no JSON: " << r.out << r.err;
      return {};
    }
    return v.as_object();
  }

  static ::testing::AssertionResult Clean() {
    Audit a = RunAudit();
    if (a.exit_code != 0 || a.summary.empty() || !a.summary.at("problems").as_array().empty()) {
      return ::testing::AssertionFailure() << "audit exit " << a.exit_code << ":\n" << a.Problems() << a.err;
    }
    if (a.summary.at("chain") != "checked") return ::testing::AssertionFailure() << "audit did not check the chain";
    int code = -1;
    json::object v = RunVerify(&code);
    if (code != 0 || !v.contains("verified") || !v.at("verified").as_bool()) {
      return ::testing::AssertionFailure() << "trace-verify exit " << code << ": " << json::serialize(v);
    }
    return ::testing::AssertionSuccess();
  }

  // The verify report's events that are not verified, as "envelope[index] leaf L: failures".
  static std::vector<const json::object*> FailedEvents(const json::object& report) {
    std::vector<const json::object*> out;
    if (auto* events = report.if_contains("events")) {
      for (const auto& e : events->as_array()) {
        if (!e.at("verified").as_bool()) out.push_back(&e.as_object());
      }
    }
    return out;
  }

  static Stack* stack_;
  static std::string link_;
};
Stack* TamperSystemTest::stack_ = nullptr;
std::string TamperSystemTest::link_;

// An event of the bag's trace: its envelope, index and leaf.
struct TracedEvent {
  std::string envelope;
  int index = 0;
  int64_t leaf = -1;
  std::string type, biz_step;
};

TEST_F(TamperSystemTest, EveryKindOfStoredObjectIsNamedWhenAltered) {
  // 1. The rice chain through the real gateway, anchored on the chain by the real trace-anchor.
  auto rice = stack_->Run({"trace-devicesim", "scenario", "rice", "--register", "--json", "--timeout=90",
                           "--state-dir=" + stack_->dir() + "/devicesim"});
  ASSERT_EQ(rice.exit_code, 0) << rice.out << rice.err;
  const std::string uncovered =
      "SELECT count(*) FROM envelopes e WHERE NOT EXISTS (SELECT 1 FROM log_leaves l JOIN anchors a "
      "ON a.state = 'confirmed' AND a.tree_size > l.leaf_index WHERE l.envelope_id = e.id)";
  const auto deadline = std::chrono::steady_clock::now() + 180s;
  while (Value(uncovered) != "0") {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << Value(uncovered) << " envelopes not anchored";
    std::this_thread::sleep_for(250ms);
  }
  // Nothing writes from here on but this test: the anchor would otherwise re-submit an anchor
  // whose transaction it can no longer find.
  for (const char* s : {"trace-gateway", "trace-anchor"}) {
    auto r = testing::RunProgram({testing::SourceDir() + "/deploy/stack.sh", "stop", stack_->dir(), s}, {});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // The bag's trace document: which events a consumer sees, with their leaves.
  const std::string api = stack_->Env("TRACE_API_URL");
  auto doc_text = stack_->Run({"curl", "-sS", "-f", "-H", "Accept: application/json",
                               api + "/01/08850456000213/10/HM105-2611-A/21/100001"});
  ASSERT_EQ(doc_text.exit_code, 0) << doc_text.err;
  json::object doc = json::parse(doc_text.out).as_object();
  link_ = std::string(doc.at("link").as_string());
  std::vector<TracedEvent> traced;
  std::function<void(const json::object&)> collect = [&](const json::object& d) {
    if (auto* ev = d.if_contains("events")) {
      for (const auto& e : ev->as_array()) {
        TracedEvent t{std::string(e.at("envelope").as_string()), static_cast<int>(e.at("index").as_int64()),
                      e.at("leaf").as_int64(), std::string(e.at("event").at("type").as_string()),
                      e.at("event").as_object().contains("bizStep")
                          ? std::string(e.at("event").at("bizStep").as_string())
                          : ""};
        traced.push_back(t);
      }
    }
    if (auto* item = d.if_contains("item"); item && item->is_object()) collect(item->as_object());
    if (auto* inputs = d.if_contains("inputs")) {
      for (const auto& in : inputs->as_array()) collect(in.as_object());
    }
  };
  collect(doc);
  ASSERT_GE(traced.size(), 5u) << doc_text.out;
  const int64_t tree_size = std::stoll(Value("SELECT max(tree_size) FROM anchors WHERE state = 'confirmed'"));
  ASSERT_TRUE(Clean());

  // The objects to alter. The milling event (a TransformationEvent) stands for "an event".
  const TracedEvent* milling = nullptr;
  for (const auto& t : traced) {
    if (t.type == "TransformationEvent") milling = &t;
  }
  ASSERT_NE(milling, nullptr);
  const std::string env_id = milling->envelope;
  const std::string idx = std::to_string(milling->index);
  const std::string event_key = env_id + "/" + idx;
  // A traced leaf L whose sibling leaf L^1 is inside the anchored tree: the inclusion proof of
  // L (and only of L) uses the level-0 node of L^1.
  const TracedEvent* proved = nullptr;
  for (const auto& t : traced) {
    if ((t.leaf ^ 1) < tree_size && t.leaf != milling->leaf) proved = &t;
  }
  ASSERT_NE(proved, nullptr);
  const int64_t sibling = proved->leaf ^ 1;
  const std::string anchor_id = Value("SELECT id FROM anchors WHERE state = 'confirmed' AND tree_size = $1",
                                      std::to_string(tree_size));
  const std::string anchor_key = "id " + anchor_id + " tree size " + std::to_string(tree_size);
  // trace-verify checks the newest checkpoint (GET /api/v1/checkpoint).
  const std::string checkpoint_key = Value("SELECT max(tree_size) FROM checkpoints");
  const std::string milling_leaf = std::to_string(milling->leaf);
  const std::string last_leaf_envelope = Value(
      "SELECT encode(envelope_id, 'hex') FROM log_leaves WHERE leaf_index = $1::bigint", std::to_string(tree_size - 1));
  bool last_traced = false;
  for (const auto& t : traced) last_traced |= t.envelope == last_leaf_envelope;

  // Flips the lowest bit of byte `at` (0-based) of a bytea expression.
  auto flip = [](const std::string& column, const std::string& at) {
    return "set_byte(" + column + ", " + at + ", get_byte(" + column + ", " + at + ") # 1)";
  };

  struct Case {
    std::string name;
    std::string tamper, restore;  // SQL, $1 and $2 as given
    std::string p1, p2;
    std::string audit_table, audit_key;
    bool audit_first;  // the expected problem is the first one audit reports
    // The envelope whose event(s) trace-verify must fail on ("" for a report-level failure,
    // "*" for any event), or nullopt where a consumer cannot see the change (documented per case).
    std::optional<std::string> verify_envelope;
    std::string verify_says;  // part of the failure text
    std::string audit_key2 = "";  // another key audit must name in the same table ("": none)
  };
  // The hex id with the lowest bit of its last byte flipped (what flip(..., "31") makes).
  auto flipped_hex = [](std::string hex) {
    const std::string digits = "0123456789abcdef";
    hex.back() = digits[digits.find(hex.back()) ^ 1];
    return hex;
  };
  const std::string id_sql = "decode($1, 'hex')";
  std::vector<Case> cases = {
      // The first character of the signature: still JSON, still an envelope (86 base64url
      // characters), but no longer the bytes that were signed and hashed to the id.
      {"envelope canonical bytes",
       "UPDATE envelopes SET canonical = overlay(canonical PLACING convert_to(CASE WHEN substr(t, p, 1) = 'A' THEN 'B' "
       "ELSE 'A' END, 'UTF8') FROM p FOR 1) FROM (SELECT convert_from(canonical, 'UTF8') AS t, "
       "position('\"sig\":\"' in convert_from(canonical, 'UTF8')) + 7 AS p FROM envelopes WHERE id = " + id_sql +
           ") x WHERE id = " + id_sql,
       "UPDATE envelopes SET canonical = decode($2, 'hex') WHERE id = " + id_sql, env_id,
       Value("SELECT encode(canonical, 'hex') FROM envelopes WHERE id = decode($1, 'hex')", env_id), "envelopes", env_id,
       true, env_id, "(altered)"},
      {"event body",
       "UPDATE events SET body = jsonb_set(body, '{bizStep}', to_jsonb(body->>'bizStep' || 'x')) "
       "WHERE envelope_id = " + id_sql + " AND idx = $2::smallint",
       "UPDATE events SET body = jsonb_set(body, '{bizStep}', to_jsonb(left(body->>'bizStep', -1))) "
       "WHERE envelope_id = " + id_sql + " AND idx = $2::smallint",
       env_id, idx, "events", event_key, true, env_id, "differs from events["},
      // envelope_ids (migration 0006) holds each envelope's identity for the uniqueness
      // that the monthly partitions cannot enforce; no consumer reads it, audit compares it.
      {"envelope identity seq",
       "UPDATE envelope_ids SET seq = seq + 1000000 WHERE id = " + id_sql,
       "UPDATE envelope_ids SET seq = seq - 1000000 WHERE id = " + id_sql, env_id, "", "envelope_ids", env_id, true,
       std::nullopt, ""},
      // The columns are an index for queries (EPCIS EQ_bizStep, time ranges); the trace
      // document shows the body, so a consumer never sees them: audit alone catches this.
      {"event column biz_step",
       "UPDATE events SET biz_step = biz_step || 'x' WHERE envelope_id = " + id_sql + " AND idx = $2::smallint",
       "UPDATE events SET biz_step = left(biz_step, -1) WHERE envelope_id = " + id_sql + " AND idx = $2::smallint",
       env_id, idx, "events", event_key, true, std::nullopt, ""},
      {"event column event_time",
       "UPDATE events SET event_time = event_time + interval '1 second' WHERE envelope_id = " + id_sql +
           " AND idx = $2::smallint",
       "UPDATE events SET event_time = event_time - interval '1 second' WHERE envelope_id = " + id_sql +
           " AND idx = $2::smallint",
       env_id, idx, "events", event_key, true, std::nullopt, ""},
      // event_keys decide which events a trace shows; trace-verify checks every event it is
      // shown but cannot know of one left out (no completeness proof exists for a lot).
      {"event_keys row",
       "UPDATE event_keys SET value = value || 'x' WHERE ctid = (SELECT ctid FROM event_keys WHERE envelope_id = " +
           id_sql + " AND idx = $2::smallint ORDER BY kind, value LIMIT 1)",
       "UPDATE event_keys SET value = left(value, -1) WHERE envelope_id = " + id_sql +
           " AND idx = $2::smallint AND right(value, 1) = 'x'",
       env_id, idx, "event_keys", event_key, true, std::nullopt, ""},
      // A key moved to an event the envelope does not have.
      {"event_keys row idx",
       "UPDATE event_keys SET idx = 99 WHERE ctid = (SELECT ctid FROM event_keys WHERE envelope_id = " + id_sql +
           " AND idx = $2::smallint ORDER BY kind, value LIMIT 1)",
       "UPDATE event_keys SET idx = $2::smallint WHERE envelope_id = " + id_sql + " AND idx = 99",
       env_id, idx, "event_keys", env_id + "/99", false, std::nullopt, "", event_key},
      // An event row moved off its envelope (one byte of envelope_id): the envelope lacks an
      // event, and the row hangs off no envelope.
      {"event row envelope_id",
       "UPDATE events SET envelope_id = " + flip("envelope_id", "31") + " WHERE envelope_id = " + id_sql +
           " AND idx = $2::smallint",
       "UPDATE events SET envelope_id = " + id_sql + " WHERE envelope_id = " + flip(id_sql, "31") +
           " AND idx = $2::smallint",
       env_id, idx, "events", env_id, true, std::nullopt, "", flipped_hex(env_id) + "/" + idx},
      {"log node",
       "UPDATE log_nodes SET hash = " + flip("hash", "0") + " WHERE level = 0 AND idx = $1::bigint",
       "UPDATE log_nodes SET hash = " + flip("hash", "0") + " WHERE level = 0 AND idx = $1::bigint",
       std::to_string(sibling), "", "log_nodes", "level 0 idx " + std::to_string(sibling), true, proved->envelope,
       "inclusion proof"},
      {"log leaf",
       "UPDATE log_leaves SET envelope_id = " + flip("envelope_id", "31") + " WHERE leaf_index = $1::bigint",
       "UPDATE log_leaves SET envelope_id = " + flip("envelope_id", "31") + " WHERE leaf_index = $1::bigint",
       milling_leaf, "", "log_leaves", milling_leaf, true, env_id, "not anchored"},
      {"checkpoint note",
       // The first character of the root line (third line) of the newest checkpoint.
       "UPDATE checkpoints SET note = overlay(note PLACING (CASE WHEN substr(note, p, 1) = 'A' THEN 'B' ELSE 'A' END) "
       "FROM p FOR 1) FROM (SELECT length(split_part(note, E'\\n', 1)) + length(split_part(note, E'\\n', 2)) + 3 AS p "
       "FROM checkpoints WHERE tree_size = $1::bigint) x WHERE tree_size = $1::bigint",
       "UPDATE checkpoints SET note = $2 WHERE tree_size = $1::bigint",
       checkpoint_key, Value("SELECT note FROM checkpoints WHERE tree_size = $1::bigint", checkpoint_key),
       "checkpoints", checkpoint_key, true, "", "checkpoint"},
      {"anchor root",
       "UPDATE anchors SET root = " + flip("root", "5") + " WHERE id = $1::bigint",
       "UPDATE anchors SET root = " + flip("root", "5") + " WHERE id = $1::bigint",
       anchor_id, "", "anchors", anchor_key, true, env_id, ""},
      // Both look the transaction up on the chain.
      {"anchor tx hash",
       "UPDATE anchors SET tx_hash = overlay(tx_hash PLACING (CASE WHEN substr(tx_hash, 10, 1) = 'a' THEN 'b' ELSE "
       "'a' END) FROM 10 FOR 1) WHERE id = $1::bigint",
       "UPDATE anchors SET tx_hash = $2 WHERE id = $1::bigint",
       anchor_id, Value("SELECT tx_hash FROM anchors WHERE id = $1::bigint", anchor_id), "anchors", anchor_key, true,
       env_id, "no such transaction mined"},
      // The newest anchor now claims one leaf less: the last leaf is covered by no anchor at
      // all (an honest anchor of that smaller size may exist and then serves the others).
      {"anchor tree size",
       "UPDATE anchors SET tree_size = tree_size - 1 WHERE id = $1::bigint",
       "UPDATE anchors SET tree_size = tree_size + 1 WHERE id = $1::bigint",
       anchor_id, "", "anchors", "id " + anchor_id + " tree size " + std::to_string(tree_size - 1), true,
       last_traced ? last_leaf_envelope : std::string("*"), last_traced ? "not anchored" : ""},
  };

  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_EQ(AsSuperuser(c.tamper, c.p1, c.p2), 1) << c.tamper;

    Audit audit = RunAudit();
    EXPECT_EQ(audit.exit_code, 1) << audit.out << audit.err;
    EXPECT_FALSE(audit.About(c.audit_table, c.audit_key).empty())
        << "audit must name " << c.audit_table << " " << c.audit_key << "; it said:\n"
        << audit.Problems();
    if (c.audit_first) EXPECT_EQ(audit.First(), c.audit_table + " " + c.audit_key) << audit.Problems();
    if (!c.audit_key2.empty()) {
      EXPECT_FALSE(audit.About(c.audit_table, c.audit_key2).empty())
          << "audit must name " << c.audit_table << " " << c.audit_key2 << "; it said:\n"
          << audit.Problems();
    }

    int code = -1;
    json::object report = RunVerify(&code);
    // What each tool said, for the log of the run.
    std::string said = "trace-verify exit " + std::to_string(code);
    for (const auto* e : FailedEvents(report)) {
      said += ": " + std::string(e->at("envelope").as_string()).substr(0, 12) + "[" +
              std::to_string(e->at("index").as_int64()) + "] " + json::serialize(e->at("failures").at(0));
      break;
    }
    if (auto* f = report.if_contains("failures"); f && !f->as_array().empty()) said += "; " + json::serialize(f->at(0));
    std::cout << "[tamper] " << c.name << "\n  audit: " << audit.Problems().substr(0, audit.Problems().find('\n'))
              << "\n  " << said << "\n";
    if (c.verify_envelope) {
      EXPECT_EQ(code, 1) << json::serialize(report);
      if (c.verify_envelope->empty()) {
        // Not tied to one event: a report-level failure naming the object.
        const std::string failures = json::serialize(report.at("failures"));
        EXPECT_NE(failures.find(c.verify_says), std::string::npos) << failures;
      } else {
        bool named = false;
        for (const auto* e : FailedEvents(report)) {
          if (*c.verify_envelope != "*" && e->at("envelope").as_string() != *c.verify_envelope) continue;
          named = true;
          const std::string why = json::serialize(e->at("failures"));
          EXPECT_NE(why.find(c.verify_says), std::string::npos) << why;
        }
        EXPECT_TRUE(named) << "trace-verify must fail on envelope " << *c.verify_envelope << ":\n"
                           << json::serialize(report);
      }
    } else {
      // Invisible to the consumer by design (see the case); the trace still verifies.
      EXPECT_EQ(code, 0) << json::serialize(report);
    }

    ASSERT_EQ(AsSuperuser(c.restore, c.p1, c.p2), 1) << c.restore;
    EXPECT_TRUE(Clean()) << "after restoring " << c.name;
  }
}

}  // namespace
}  // namespace trace

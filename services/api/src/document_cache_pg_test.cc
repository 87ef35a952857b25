// The document stamp and the cached resolver against a real PostgreSQL (tests/harness): the
// stamp changes with every input of the trace document (and not otherwise), and the Api
// answers repeated requests from the cache, then shows a new event, a recall and a new anchor
// within the cache's bound.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <future>
#include <pqxx/pqxx>
#include <thread>

#include "api.h"
#include "db_pool.h"
#include "document_cache.h"
#include "document_stamp.h"
#include "harness/stack.h"
#include "metrics.h"

namespace trace::api {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

constexpr char kGtin[] = "09506000134352";  // valid check digit
constexpr char kLot[] = "L1";

class DocumentCachePgTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto stack = testing::Stack::Start({.postgres = true});
    ASSERT_TRUE(stack.has_value()) << stack.error();
    stack_ = std::move(*stack).release();
    url_ = stack_->Env("TRACE_DB_URL");
    Sql("INSERT INTO organizations (id, name) VALUES ('tt', 'Test');"
        "INSERT INTO devices (org, device, public_key, mqtt_username) "
        "VALUES ('tt', 'dev', decode(repeat('ab', 32), 'hex'), 'tt/dev');"
        "INSERT INTO products (gtin, org, name) VALUES ('" +
        std::string(kGtin) + "', 'tt', 'Rice');" + "INSERT INTO lots (gtin, lot, org) VALUES ('" + kGtin + "', '" +
        kLot + "', 'tt')");
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }

  static void Sql(const std::string& sql) {
    pqxx::connection c(url_);
    pqxx::work w(c);
    w.exec(sql);
    w.commit();
  }
  static std::string Stamp() {
    pqxx::connection c(url_);
    pqxx::read_transaction tx(c);
    return ReadDocumentStamp(tx);
  }
  // An envelope with one ObjectEvent about kGtin/lot, as the gateway stores it, in `w`.
  static void InsertEvent(pqxx::transaction_base& w, int seq, const std::string& lot = kLot) {
    const std::string n = std::to_string(seq);
    w.exec(
        "WITH e AS (INSERT INTO envelopes (id, org, device, seq, canonical, sent_at, source, event_count) "
        "  SELECT sha256(c), 'tt', 'dev', " + n + ", c, now(), 'mqtt', 1 FROM "
        "  (SELECT convert_to('{\"n\":" + n + "}', 'UTF8') AS c) s RETURNING id), "
        "v AS (INSERT INTO events (envelope_id, idx, org, event_type, action, biz_step, event_time, "
        "  event_time_zone_offset, body) SELECT id, 0, 'tt', 'ObjectEvent', 'OBSERVE', 'shipping', "
        "  '2026-01-01T00:00:00Z'::timestamptz + " + n + " * interval '1 minute', '+00:00', "
        "  jsonb_build_object('type', 'ObjectEvent', 'n', " + n + ") FROM e RETURNING envelope_id) "
        "INSERT INTO event_keys (envelope_id, idx, kind, value, gtin, lot) "
        "SELECT envelope_id, 0, 'epc_class', 'urn:epc:class:lgtin:9506000.013435." + lot + "', '" + kGtin +
        "', '" + lot + "' FROM v");
  }
  static void InsertEvent(int seq, const std::string& lot = kLot) {
    pqxx::connection c(url_);
    pqxx::work w(c);
    InsertEvent(w, seq, lot);
    w.commit();
  }

  static testing::Stack* stack_;
  static std::string url_;
};
testing::Stack* DocumentCachePgTest::stack_ = nullptr;
std::string DocumentCachePgTest::url_;

TEST_F(DocumentCachePgTest, StampChangesWithEveryInputOfTheDocumentAndOnlyThen) {
  std::string s = Stamp();
  EXPECT_EQ(Stamp(), s);  // nothing changed
  Sql("INSERT INTO organizations (id, name) VALUES ('other', 'Other')");
  EXPECT_EQ(Stamp(), s) << "not an input of the document";

  InsertEvent(1);
  std::string after_event = Stamp();
  EXPECT_NE(after_event, s);

  // An envelope that becomes visible below the highest stored_no (its identity value was
  // taken before a later one committed).
  {
    pqxx::connection early(url_);
    pqxx::work late(early);
    InsertEvent(late, 2);  // takes stored_no first
    InsertEvent(3);        // commits a higher one
    std::string before_late = Stamp();
    EXPECT_NE(before_late, after_event);
    late.commit();
    EXPECT_NE(Stamp(), before_late) << "a late commit below max(stored_no) must change the stamp";
  }

  s = Stamp();
  Sql("INSERT INTO log_leaves (leaf_index, envelope_id) SELECT 0, id FROM envelopes ORDER BY stored_no LIMIT 1");
  EXPECT_NE(Stamp(), s) << "a new leaf";

  s = Stamp();
  Sql(std::string("UPDATE lots SET recalled_at = now(), recall_reason = 'mould' WHERE gtin = '") + kGtin +
      "' AND lot = '" + kLot + "'");
  EXPECT_NE(Stamp(), s) << "a recall";
  s = Stamp();
  Sql(std::string("UPDATE lots SET recall_reason = 'mould, confirmed' WHERE gtin = '") + kGtin + "'");
  EXPECT_NE(Stamp(), s) << "a recall's reason";
  s = Stamp();
  Sql(std::string("UPDATE lots SET recalled_at = NULL, recall_reason = NULL WHERE gtin = '") + kGtin + "'");
  EXPECT_NE(Stamp(), s) << "a recall withdrawn";

  s = Stamp();
  Sql(std::string("UPDATE products SET name = 'Jasmine rice' WHERE gtin = '") + kGtin + "'");
  EXPECT_NE(Stamp(), s) << "a product's name";

  s = Stamp();
  Sql("INSERT INTO checkpoints (tree_size, root, note) VALUES (1, sha256('r'), 'note');"
      "INSERT INTO anchors (tree_size, root, chain_id, contract, state) "
      "VALUES (1, sha256('r'), 31337, '0x" + std::string(40, 'a') + "', 'submitted')");
  EXPECT_EQ(Stamp(), s) << "an anchor not yet confirmed changes nothing shown";
  Sql("UPDATE anchors SET state = 'confirmed', tx_hash = '0x" + std::string(64, 'b') +
      "', block_number = 7, block_hash = '0x" + std::string(64, 'c') + "'");
  std::string confirmed = Stamp();
  EXPECT_NE(confirmed, s) << "a confirmed anchor";
  Sql("UPDATE anchors SET state = 'submitted'");
  EXPECT_NE(Stamp(), confirmed) << "a confirmed anchor taken back (reorganization)";
  Sql("UPDATE anchors SET state = 'confirmed'");
  EXPECT_EQ(Stamp(), confirmed);
}

// Answers one request through Api::Handle.
HttpResponse Get(Api& api, const std::string& path, const std::string& accept = "application/json") {
  std::promise<HttpResponse> got;
  HttpRequest req;
  req.method = "GET";
  req.target = req.path = path;
  req.headers = {{"accept", accept}};
  req.client = "127.0.0.1";
  api.Handle(std::move(req), [&got](HttpResponse res) { got.set_value(std::move(res)); });
  auto future = got.get_future();
  if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    ADD_FAILURE() << "no answer";
    return HttpResponse{};
  }
  return future.get();
}

size_t EventCount(const HttpResponse& res) {
  auto doc = json::parse(res.body);
  return doc.at("events").as_array().size();
}

TEST_F(DocumentCachePgTest, ResolverAnswersFromTheCacheAndShowsChangesWithinTheBound) {
  const std::string lot = "L2";
  Sql(std::string("INSERT INTO lots (gtin, lot, org) VALUES ('") + kGtin + "', '" + lot + "', 'tt')");
  InsertEvent(100, lot);

  DocumentCache cache(DocumentCacheOptions{1 << 20, milliseconds(1000)});
  DbPool pool(url_, 2, 64);
  StampWatcher watcher(url_, cache, milliseconds(100));
  Metrics metrics;
  ApiOptions options;
  options.public_base = "http://example.test";
  options.rate_per_second = 0;
  options.documents = &cache;
  Api api(options, pool, metrics, [] { return 0; });
  const std::string path = std::string("/01/") + kGtin + "/10/" + lot;

  HttpResponse first = Get(api, path);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(EventCount(first), 1u);
  const std::string etag = first.Get("ETag");
  EXPECT_FALSE(etag.empty());
  for (int i = 0; i < 20; ++i) {
    HttpResponse again = Get(api, path);
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(again.body, first.body);
    EXPECT_EQ(again.Get("ETag"), etag);
  }
  auto s = cache.stats();
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.hits, 20u);
  // The page is another representation, cached on its own.
  HttpResponse page = Get(api, path, "text/html");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.Get("Content-Type").find("text/html"), std::string::npos);
  EXPECT_EQ(cache.stats().misses, 2u);
  // Conditional requests are answered 304 from the cache.
  {
    std::promise<HttpResponse> got;
    HttpRequest req;
    req.method = "GET";
    req.target = req.path = path;
    req.headers = {{"accept", "application/json"}, {"if-none-match", etag}};
    req.client = "127.0.0.1";
    api.Handle(std::move(req), [&got](HttpResponse res) { got.set_value(std::move(res)); });
    EXPECT_EQ(got.get_future().get().status, 304);
  }

  // A new event about the lot shows within the bound: max_stamp_age (1 s), plus slack for a
  // loaded machine.
  auto show = [&](auto&& shown) {
    const auto start = std::chrono::steady_clock::now();
    for (;;) {
      HttpResponse res = Get(api, path);
      if (res.status == 200 && shown(res)) return std::chrono::steady_clock::now() - start;
      if (std::chrono::steady_clock::now() - start > std::chrono::seconds(10)) {
        ADD_FAILURE() << "change not shown after 10 s";
        return std::chrono::steady_clock::now() - start;
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
  };
  InsertEvent(101, lot);
  auto took = show([](const HttpResponse& r) { return EventCount(r) == 2; });
  EXPECT_LE(took, milliseconds(1000 + 2000)) << "bound 1 s, slack 2 s";

  Sql(std::string("UPDATE lots SET recalled_at = now(), recall_reason = 'test' WHERE gtin = '") + kGtin +
      "' AND lot = '" + lot + "'");
  took = show([](const HttpResponse& r) { return json::parse(r.body).at("recall").is_object(); });
  EXPECT_LE(took, milliseconds(1000 + 2000));

  // Unchanged again: answered from the cache.
  std::this_thread::sleep_for(milliseconds(300));
  const auto hits = cache.stats().hits;
  Get(api, path);
  Get(api, path);
  EXPECT_GE(cache.stats().hits, hits + 1);
  EXPECT_GT(watcher.reads(), 0u);
  EXPECT_EQ(watcher.failures(), 0u);
  pool.Stop();
}

}  // namespace
}  // namespace trace::api

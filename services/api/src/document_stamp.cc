#include "document_stamp.h"

#include <memory>
#include <pqxx/pqxx>

#include "trace/common/log.h"

namespace trace::api {
namespace {

// One statement, so one snapshot. Every part is an index edge or a small table:
// anchors_tree_size backwards to the first confirmed anchor; log_leaves' and envelopes'
// unique indexes; the partial index lots_recalled; products (one row per product).
constexpr char kStampSql[] = R"(
SELECT concat(
  coalesce((SELECT tree_size FROM anchors WHERE state = 'confirmed' ORDER BY tree_size DESC LIMIT 1), -1), '/',
  coalesce((SELECT max(leaf_index) FROM log_leaves), -1), '/',
  coalesce(m.n, -1), '/',
  (SELECT count(*) FROM envelopes WHERE stored_no > coalesce(m.n, 0) - $1), '/',
  (SELECT count(*) || ':' || coalesce(sum(hashtext(gtin || '|' || lot || '|' || recalled_at::text || '|' ||
                                                   coalesce(recall_reason, ''))), 0)
     FROM lots WHERE recalled_at IS NOT NULL), '/',
  (SELECT count(*) || ':' || coalesce(sum(hashtext(gtin || '|' || org || '|' || name)), 0) FROM products))
FROM (SELECT max(stored_no) AS n FROM envelopes) m)";

constexpr char kStampStatement[] = "trace_document_stamp";

}  // namespace

std::string ReadDocumentStamp(pqxx::transaction_base& tx) {
  tx.conn().prepare(kStampStatement, kStampSql);  // a no-op after the first time on a connection
  return tx.exec_prepared1(kStampStatement, kLateCommitWindow)[0].as<std::string>();
}

StampWatcher::StampWatcher(std::string db_url, DocumentCache& cache, std::chrono::milliseconds interval)
    : url_(std::move(db_url)), cache_(cache), interval_(interval), thread_([this] { Loop(); }) {}

StampWatcher::~StampWatcher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void StampWatcher::Loop() {
  std::unique_ptr<pqxx::connection> conn;
  bool warned = false;
  for (;;) {
    try {
      if (!conn || !conn->is_open()) conn = std::make_unique<pqxx::connection>(url_);
      const auto read_at = std::chrono::steady_clock::now();
      std::string stamp;
      {
        pqxx::read_transaction tx(*conn);
        stamp = ReadDocumentStamp(tx);
      }
      cache_.OfferStamp(std::move(stamp), read_at);
      ++reads_;
      if (warned) log::Info("document stamp readable again");
      warned = false;
    } catch (const std::exception& e) {
      conn.reset();
      ++failures_;
      if (!warned) log::Warn("cannot read the document stamp; the document cache pauses", {{"error", e.what()}});
      warned = true;
    }
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, interval_, [this] { return stopping_; })) return;
  }
}

}  // namespace trace::api

// A cache of rendered trace documents (the Digital Link resolver's JSON and HTML answers) with
// their ETags, so that a popular product is answered on the I/O thread without the database.
//
// Validity: every answer is tagged with a *stamp*, an opaque string that changes whenever
// anything a trace document shows may have changed (document_stamp.h says what it covers). The
// cache holds the newest stamp read from the database (by a StampWatcher every 250 ms, and by
// every render, which reads it in its own transaction before anything else). A cached answer is
// served only while
//   - its tag equals the newest stamp, and
//   - the newest stamp was read at most `max_stamp_age` ago (default 1 s).
// So a change committed at time t (a new event for the lot, a new anchor, a recall) is never
// served stale after t + max_stamp_age, also when the watcher cannot reach the database (then
// nothing is served from the cache at all). The one exception: a request that arrives while a
// render of the same key is running joins that render and gets its answer, whose snapshot is at
// most that render's duration older than the request.
//
// Renders are single-flight: while one request renders a key, the others for the same key wait
// for its answer instead of each running the queries (after a change, a popular document is
// rendered once, not once per request in flight). Only 200 answers are kept; errors go to the
// requests that waited and are forgotten. Memory is bounded by `max_bytes` (least recently used
// answers go first).
//
// Example (the resolver):
//   auto fill = cache.Lookup(mode + " " + req.path, reply);
//   if (!fill) return;                // answered from the cache, or waiting for the render in flight
//   reply = fill->reply();            // answers this request, the ones that joined, and fills the cache
//   Db(reply, [fill](pqxx::connection& c) {
//     pqxx::read_transaction tx(c);
//     fill->SetStamp(ReadDocumentStamp(tx), read_at);   // first, before the document's queries
//     ... render ...
//   });
//
// Thread-safe. Replies are called without the cache's lock held.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "http_server.h"

namespace trace::api {

struct DocumentCacheOptions {
  using Clock = std::chrono::steady_clock;
  // Bytes of answers kept at most (bodies and headers); 0 turns the cache off (every request
  // renders; single-flight still applies).
  std::size_t max_bytes = 64 << 20;
  // A stamp older than this is not trusted: no answer is served from the cache until a newer
  // one is read.
  std::chrono::milliseconds max_stamp_age{1000};
  // The clock (tests set their own).
  std::function<Clock::time_point()> now = [] { return Clock::now(); };
};

class DocumentCache {
 public:
  using Clock = DocumentCacheOptions::Clock;

  // One render in flight for a key. The request that got it renders; its reply() answers the
  // requests that joined meanwhile and keeps a 200 answer.
  class Fill : public std::enable_shared_from_this<Fill> {
   public:
    // The stamp read in the render's transaction before the document's queries (read_at: when
    // that read started). Without it the answer is delivered but not kept.
    void SetStamp(std::string value, Clock::time_point read_at);

    // The Reply to render into. Call it exactly once (the first call counts).
    Reply reply();

   private:
    friend class DocumentCache;
    Fill(DocumentCache* cache, std::string key) : cache_(cache), key_(std::move(key)) {}

    DocumentCache* const cache_;
    const std::string key_;
    std::mutex mu_;  // guards the stamp and `done_`
    std::optional<std::string> stamp_;
    Clock::time_point stamp_read_at_{};
    bool done_ = false;
    std::vector<Reply> waiters_;  // guarded by the cache's mutex
  };

  explicit DocumentCache(DocumentCacheOptions options = {});
  DocumentCache(const DocumentCache&) = delete;
  DocumentCache& operator=(const DocumentCache&) = delete;

  // Answers `reply` from the cache (a valid answer for `key`) or attaches it to the render of
  // `key` in flight, and returns nullptr; else returns the Fill the caller must render into
  // (and `reply` is its first waiter: call fill->reply(), not `reply`).
  std::shared_ptr<Fill> Lookup(const std::string& key, Reply reply);

  // A stamp read from the database; kept when it was read later than the one held (stamps
  // read earlier are older news). Entries tagged otherwise are dropped.
  void OfferStamp(std::string value, Clock::time_point read_at);

  struct Stats {
    uint64_t hits = 0;      // answered from the cache
    uint64_t misses = 0;    // renders started
    uint64_t joined = 0;    // waited for a render in flight
    uint64_t entries = 0;   // answers kept now
    uint64_t bytes = 0;     // their size
    std::string stamp;      // the newest stamp ("" before the first)
  };
  Stats stats() const;

 private:
  struct Entry {
    std::string key;
    std::string tag;
    HttpResponse response;  // 200, with ETag
    std::size_t bytes = 0;
  };
  using Lru = std::list<Entry>;  // most recently used first

  void Complete(const std::shared_ptr<Fill>& fill, HttpResponse res);
  void AdoptStampLocked(std::string value, Clock::time_point read_at);
  void EraseLocked(Lru::iterator it);

  const DocumentCacheOptions options_;
  mutable std::mutex mu_;
  std::optional<std::string> stamp_;
  Clock::time_point stamp_read_at_{};
  Lru lru_;
  std::unordered_map<std::string, Lru::iterator> entries_;
  std::unordered_map<std::string, std::shared_ptr<Fill>> in_flight_;
  std::size_t bytes_ = 0;
  uint64_t hits_ = 0, misses_ = 0, joined_ = 0;
};

// The stats as Prometheus text: trace_api_document_cache_{hits,misses,joined}_total,
// trace_api_document_cache_{entries,bytes}.
std::string DocumentCacheMetrics(const DocumentCache::Stats& stats);

}  // namespace trace::api

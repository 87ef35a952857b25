#include "document_cache.h"

#include <gtest/gtest.h>

#include <vector>

#include "http_util.h"

namespace trace::api {
namespace {

using std::chrono::milliseconds;
using Clock = DocumentCache::Clock;

// A cache on a clock the test moves, and the answers each "request" got.
struct Fixture {
  Clock::time_point now = Clock::time_point() + std::chrono::hours(1);
  std::vector<HttpResponse> got;
  DocumentCache cache;

  explicit Fixture(std::size_t max_bytes = 1 << 20)
      : cache(DocumentCacheOptions{max_bytes, milliseconds(1000), [this] { return now; }}) {}

  Reply Request() {
    return [this](HttpResponse res) { got.push_back(std::move(res)); };
  }
  static HttpResponse Ok(std::string body) {
    HttpResponse res;
    res.body = std::move(body);
    res.Set("Content-Type", "application/json");
    return res;
  }
  // Renders `key` at stamp `stamp` read at `now` and answers `body`; true when it was a miss.
  bool Render(const std::string& key, const std::string& stamp, const std::string& body) {
    auto fill = cache.Lookup(key, Request());
    if (!fill) return false;
    fill->SetStamp(stamp, now);
    fill->reply()(Ok(body));
    return true;
  }
};

TEST(DocumentCache, MissRendersThenHitsAnswerWithoutRenderingAndCarryTheEtag) {
  Fixture f;
  ASSERT_TRUE(f.Render("json /01/x/10/A", "s1", "doc-A"));
  ASSERT_EQ(f.got.size(), 1u);
  EXPECT_EQ(f.got[0].body, "doc-A");
  EXPECT_EQ(f.got[0].Get("ETag"), StrongEtag("doc-A"));  // set once, for every later hit

  auto fill = f.cache.Lookup("json /01/x/10/A", f.Request());
  EXPECT_EQ(fill, nullptr);  // answered from the cache, synchronously
  ASSERT_EQ(f.got.size(), 2u);
  EXPECT_EQ(f.got[1].body, "doc-A");
  EXPECT_EQ(f.got[1].Get("ETag"), StrongEtag("doc-A"));
  EXPECT_EQ(f.got[1].Get("Content-Type"), "application/json");

  // Another key (another representation of the same link) is its own entry.
  EXPECT_TRUE(f.Render("html /01/x/10/A", "s1", "<html>"));
  auto s = f.cache.stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 2u);
  EXPECT_EQ(s.entries, 2u);
  EXPECT_EQ(s.stamp, "s1");
}

TEST(DocumentCache, ANewerStampInvalidatesAndAnOlderOneIsIgnored) {
  Fixture f;
  ASSERT_TRUE(f.Render("k", "s1", "v1"));
  f.now += milliseconds(100);
  f.cache.OfferStamp("s0", f.now - milliseconds(500));  // read before s1: older news
  EXPECT_FALSE(f.Render("k", "s1", "unused"));          // still a hit
  EXPECT_EQ(f.got.back().body, "v1");

  f.cache.OfferStamp("s2", f.now);  // something changed
  EXPECT_EQ(f.cache.stats().entries, 0u);
  ASSERT_TRUE(f.Render("k", "s2", "v2"));
  EXPECT_FALSE(f.Render("k", "s2", "unused"));
  EXPECT_EQ(f.got.back().body, "v2");
}

TEST(DocumentCache, AStampOlderThanMaxAgeAnswersNothingUntilAFreshReadConfirmsIt) {
  Fixture f;
  ASSERT_TRUE(f.Render("k", "s1", "v1"));
  f.now += milliseconds(999);
  EXPECT_FALSE(f.Render("k", "s1", "unused"));  // 999 ms old: still trusted
  f.now += milliseconds(2);
  // The watcher has not read the stamp for over max_stamp_age (database down, say): render.
  EXPECT_TRUE(f.Render("k", "s1", "v1-again"));
  EXPECT_EQ(f.got.back().body, "v1-again");
  // That render read the stamp itself: its answer is kept and served again.
  EXPECT_FALSE(f.Render("k", "s1", "unused"));
  EXPECT_EQ(f.got.back().body, "v1-again");
  f.now += milliseconds(1500);
  f.cache.OfferStamp("s1", f.now);  // the watcher confirms: same stamp, nothing changed
  EXPECT_FALSE(f.Render("k", "s1", "unused"));
}

TEST(DocumentCache, ConcurrentRequestsForAKeyShareOneRender) {
  Fixture f;
  auto fill = f.cache.Lookup("k", f.Request());
  ASSERT_NE(fill, nullptr);
  EXPECT_EQ(f.cache.Lookup("k", f.Request()), nullptr);  // joined
  EXPECT_EQ(f.cache.Lookup("k", f.Request()), nullptr);  // joined
  auto other = f.cache.Lookup("other", f.Request());
  ASSERT_NE(other, nullptr);  // another key renders on its own
  EXPECT_TRUE(f.got.empty());
  fill->SetStamp("s1", f.now);
  fill->reply()(Fixture::Ok("v"));
  ASSERT_EQ(f.got.size(), 3u);
  for (const auto& r : f.got) EXPECT_EQ(r.body, "v");
  auto s = f.cache.stats();
  EXPECT_EQ(s.joined, 2u);
  EXPECT_EQ(s.misses, 2u);
  other->reply()(Fixture::Ok("o"));  // no stamp: delivered, not kept
  EXPECT_EQ(f.got.back().body, "o");
  EXPECT_NE(f.cache.Lookup("other", f.Request()), nullptr);
}

TEST(DocumentCache, ErrorsReachEveryWaiterAndAreNotKept) {
  Fixture f;
  auto fill = f.cache.Lookup("k", f.Request());
  ASSERT_NE(fill, nullptr);
  EXPECT_EQ(f.cache.Lookup("k", f.Request()), nullptr);
  fill->SetStamp("s1", f.now);
  Reply reply = fill->reply();
  reply(Problem(503, "database unavailable"));
  reply(Fixture::Ok("late second answer"));  // only the first call counts
  ASSERT_EQ(f.got.size(), 2u);
  EXPECT_EQ(f.got[0].status, 503);
  EXPECT_EQ(f.got[1].status, 503);
  EXPECT_EQ(f.cache.stats().entries, 0u);
  EXPECT_TRUE(f.Render("k", "s1", "v"));  // the next request renders again
}

TEST(DocumentCache, ARenderTaggedWithAnOutdatedStampIsDeliveredButNotKept) {
  Fixture f;
  auto fill = f.cache.Lookup("k", f.Request());
  ASSERT_NE(fill, nullptr);
  fill->SetStamp("s1", f.now);
  f.now += milliseconds(10);
  f.cache.OfferStamp("s2", f.now);  // a change committed while the render ran
  fill->reply()(Fixture::Ok("v-at-s1"));
  EXPECT_EQ(f.got.back().body, "v-at-s1");
  EXPECT_EQ(f.cache.stats().entries, 0u);
  EXPECT_EQ(f.cache.stats().stamp, "s2");
  EXPECT_TRUE(f.Render("k", "s2", "v-at-s2"));
}

TEST(DocumentCache, ARenderWithANewerStampThanTheWatchersIsAdopted) {
  Fixture f;
  f.cache.OfferStamp("s1", f.now);
  ASSERT_TRUE(f.Render("a", "s1", "a1"));
  f.now += milliseconds(100);
  // A render read the stamp after the watcher did and saw a change: its stamp is the news.
  ASSERT_TRUE(f.Render("b", "s2", "b2"));
  EXPECT_EQ(f.cache.stats().stamp, "s2");
  EXPECT_FALSE(f.Render("b", "s2", "unused"));  // served at once, not after the next watcher read
  EXPECT_TRUE(f.Render("a", "s2", "a2"));       // a's answer was of s1
}

TEST(DocumentCache, MemoryIsBoundedLeastRecentlyUsedFirst) {
  const std::string body(1000, 'x');
  Fixture f(3500);  // room for two answers of ~1.45 kB
  ASSERT_TRUE(f.Render("a", "s", body));
  ASSERT_TRUE(f.Render("b", "s", body));
  ASSERT_FALSE(f.Render("a", "s", body));  // a is now the most recently used
  ASSERT_TRUE(f.Render("c", "s", body));   // evicts b
  EXPECT_EQ(f.cache.stats().entries, 2u);
  EXPECT_LE(f.cache.stats().bytes, 3500u);
  EXPECT_FALSE(f.Render("a", "s", body));
  EXPECT_FALSE(f.Render("c", "s", body));
  EXPECT_TRUE(f.Render("b", "s", body));
  // Too big to keep at all: delivered, not kept.
  ASSERT_TRUE(f.Render("huge", "s", std::string(5000, 'y')));
  EXPECT_EQ(f.got.back().body.size(), 5000u);
  EXPECT_TRUE(f.Render("huge", "s", "again"));
}

TEST(DocumentCache, SizeZeroKeepsNothingButStillRendersOncePerKeyInFlight) {
  Fixture f(0);
  ASSERT_TRUE(f.Render("k", "s", "v"));
  EXPECT_TRUE(f.Render("k", "s", "v"));
  auto fill = f.cache.Lookup("k", f.Request());
  ASSERT_NE(fill, nullptr);
  EXPECT_EQ(f.cache.Lookup("k", f.Request()), nullptr);
  fill->reply()(Fixture::Ok("w"));
  EXPECT_EQ(f.got.size(), 4u);
}

TEST(DocumentCache, AnEtagTheRenderSetIsKept) {
  Fixture f;
  auto fill = f.cache.Lookup("k", f.Request());
  ASSERT_NE(fill, nullptr);
  fill->SetStamp("s", f.now);
  HttpResponse res = Fixture::Ok("v");
  res.Set("ETag", "\"own\"");
  fill->reply()(std::move(res));
  EXPECT_FALSE(f.Render("k", "s", "unused"));
  EXPECT_EQ(f.got.back().Get("ETag"), "\"own\"");
}

TEST(DocumentCache, MetricsText) {
  Fixture f;
  ASSERT_TRUE(f.Render("k", "s", "v"));
  ASSERT_FALSE(f.Render("k", "s", "v"));
  const std::string text = DocumentCacheMetrics(f.cache.stats());
  EXPECT_NE(text.find("trace_api_document_cache_hits_total 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("trace_api_document_cache_misses_total 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("trace_api_document_cache_entries 1\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace trace::api

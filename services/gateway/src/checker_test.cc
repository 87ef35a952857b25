// The Checker and the seq rule, one test per reason, with a fake directory and
// clock (seams we own).
#include "checker.h"

#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "trace/common/ed25519.h"
#include "trace/common/envelope.h"
#include "trace/common/time.h"

namespace trace::gateway {
namespace {

namespace json = boost::json;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr char kOrg[] = "green-valley-farm";
constexpr char kDevice[] = "field-7-soil";
constexpr char kTopic[] = "trace/v1/green-valley-farm/field-7-soil/up";

std::chrono::system_clock::time_point T0() { return ParseRfc3339("2026-11-23T08:16:00.000Z").value().utc; }

json::object Unsigned(uint64_t seq = 1042) {
  json::object o = json::parse(R"({
    "v": 1, "org": "green-valley-farm", "device": "field-7-soil",
    "sent": "2026-11-23T08:15:30.250Z",
    "events": [{"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "sensor_reporting",
                "eventTime": "2026-11-23T08:15:00.000Z", "eventTimeZoneOffset": "+01:00",
                "epcList": ["urn:epc:id:sgtin:0614141.107346.2018"],
                "readPoint": {"id": "urn:epc:id:sgln:9506000.13436.0"}}]
  })").as_object();
  o["seq"] = seq;
  return o;
}

class CheckerTest : public ::testing::Test {
 protected:
  CheckerTest() : clock_(T0()), checker_(directory_, clock_, {.max_clock_skew = minutes(5)}) {
    directory_.Put(kOrg, kDevice, DeviceInfo{key_.public_key(), true, 0});
  }

  std::string Sign(json::object o) { return SignEnvelope(std::move(o), key_).value().canonical_bytes; }

  CheckOutcome Check(std::string_view raw, std::string_view topic = kTopic) {
    auto out = checker_.Check(topic, raw);
    EXPECT_TRUE(out.has_value()) << out.error();
    return out.value_or(CheckOutcome{});
  }

  // Success when `out` is a rejection for `reason` whose detail contains `detail_part`;
  // checked with EXPECT_TRUE at each call, so a failure names the calling line.
  static ::testing::AssertionResult RejectedFor(const CheckOutcome& out, Reason reason,
                                                std::string_view detail_part = "") {
    if (!out.rejection.has_value()) return ::testing::AssertionFailure() << "not rejected";
    if (out.rejection->reason != reason) {
      return ::testing::AssertionFailure() << "reason " << ReasonName(out.rejection->reason) << ", wanted "
                                           << ReasonName(reason) << ": " << out.rejection->detail;
    }
    if (out.rejection->detail.find(detail_part) == std::string::npos) {
      return ::testing::AssertionFailure() << out.rejection->detail << " lacks '" << detail_part << "'";
    }
    return ::testing::AssertionSuccess();
  }

  Ed25519PrivateKey key_ = Ed25519PrivateKey::Generate();
  FakeDeviceDirectory directory_;
  FakeClock clock_;
  Checker checker_;
};

// A re-send of an envelope known as stored is let through without its
// signature or content being checked again; the device is still looked up.
TEST_F(CheckerTest, KnownStoredIdSkipsTheSignatureNotTheDevice) {
  StoredIds stored(8);
  Checker with_stored(directory_, clock_, {.max_clock_skew = minutes(5)}, &stored);
  // Signed with another key than the directory's, and sent in the future: both
  // checks would refuse it, so passing proves they were skipped.
  const Ed25519PrivateKey other = Ed25519PrivateKey::Generate();
  json::object o = Unsigned();
  o["sent"] = "2026-11-23T09:30:00.000Z";
  const std::string raw = SignEnvelope(std::move(o), other).value().canonical_bytes;
  auto first = with_stored.Check(kTopic, raw);
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(RejectedFor(*first, Reason::kBadSignature));
  EXPECT_FALSE(first->known);

  stored.Add(first->envelope->id);
  auto again = with_stored.Check(kTopic, raw);
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->rejection.has_value()) << again->rejection->detail;
  EXPECT_FALSE(again->deferred.has_value());
  EXPECT_TRUE(again->known);
  EXPECT_TRUE(RejectedFor(Check(raw), Reason::kBadSignature));  // a Checker without the set

  directory_.Put(kOrg, kDevice, DeviceInfo{key_.public_key(), false, 0});
  auto revoked = with_stored.Check(kTopic, raw);
  ASSERT_TRUE(revoked.has_value());
  EXPECT_TRUE(RejectedFor(*revoked, Reason::kRevokedDevice));
  EXPECT_FALSE(revoked->known);
}

TEST(StoredIds, ForgetsTheOldestPastItsCapacity) {
  StoredIds ids(3);
  for (const char* id : {"a", "b", "c", "b", "d"}) ids.Add(id);
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_FALSE(ids.Contains("a"));
  for (const char* id : {"b", "c", "d"}) EXPECT_TRUE(ids.Contains(id)) << id;
  StoredIds none(0);
  none.Add("a");
  EXPECT_FALSE(none.Contains("a"));
  EXPECT_EQ(none.size(), 0u);
}

TEST_F(CheckerTest, GoodEnvelopePassesEveryCheck) {
  auto out = Check(Sign(Unsigned()));
  EXPECT_FALSE(out.rejection.has_value()) << out.rejection->detail;
  EXPECT_FALSE(out.deferred.has_value()) << out.deferred->detail;
  ASSERT_TRUE(out.envelope.has_value());
  EXPECT_EQ(out.envelope->seq, 1042u);
}

TEST_F(CheckerTest, TooLarge) { EXPECT_TRUE(RejectedFor(Check(std::string(kMaxEnvelopeBytes + 1, ' ')), Reason::kTooLarge)); }

TEST_F(CheckerTest, MalformedNotJsonNotObjectNotUtf8) {
  EXPECT_TRUE(RejectedFor(Check("{not json"), Reason::kMalformed));
  EXPECT_TRUE(RejectedFor(Check("[1,2]"), Reason::kMalformed));
  EXPECT_TRUE(RejectedFor(Check("{\"a\":\"\xff\"}"), Reason::kMalformed));
}

TEST_F(CheckerTest, SchemaNamesThePath) {
  json::object o = Unsigned();
  o.erase("sent");
  EXPECT_TRUE(RejectedFor(Check(json::serialize(o)), Reason::kSchema, "$.sent"));
}

TEST_F(CheckerTest, TopicMismatch) {
  json::object o = Unsigned();
  o["org"] = "other-farm";
  EXPECT_TRUE(RejectedFor(Check(Sign(o)), Reason::kTopicMismatch));
}

TEST_F(CheckerTest, UnknownDevice) {
  json::object o = Unsigned();
  o["device"] = "ghost";
  EXPECT_TRUE(RejectedFor(Check(Sign(o), "trace/v1/green-valley-farm/ghost/up"), Reason::kUnknownDevice, "ghost"));
}

TEST_F(CheckerTest, RevokedDevice) {
  directory_.Put(kOrg, kDevice, DeviceInfo{key_.public_key(), false, 0});
  EXPECT_TRUE(RejectedFor(Check(Sign(Unsigned())), Reason::kRevokedDevice));
}

TEST_F(CheckerTest, BadSignature) {
  auto other = Ed25519PrivateKey::Generate();
  std::string raw = SignEnvelope(Unsigned(), other).value().canonical_bytes;
  EXPECT_TRUE(RejectedFor(Check(raw), Reason::kBadSignature));
  // Changing a signed byte breaks the signature too.
  std::string tampered = Sign(Unsigned());
  tampered.replace(tampered.find("sensor_reporting"), 16, "sensor_reportinG");
  EXPECT_TRUE(RejectedFor(Check(tampered), Reason::kBadSignature));
}

TEST_F(CheckerTest, DirectoryUnavailableIsNotADecision) {
  directory_.set_unavailable(true);
  auto out = checker_.Check(kTopic, Sign(Unsigned()));
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().code(), StatusCode::kUnavailable);
}

TEST_F(CheckerTest, ClockSkewOnSentIsDeferred) {
  json::object o = Unsigned();
  clock_.Set(T0() - minutes(10));  // sent is now 9.5 minutes in the future
  auto out = Check(Sign(o));
  EXPECT_FALSE(out.rejection.has_value());
  ASSERT_TRUE(out.deferred.has_value());
  EXPECT_EQ(out.deferred->reason, Reason::kClockSkew);
  EXPECT_NE(out.deferred->detail.find("$.sent"), std::string::npos) << out.deferred->detail;
}

TEST_F(CheckerTest, ClockSkewOnEventTimeNamesTheEvent) {
  json::object o = Unsigned();
  o["events"].as_array()[0].as_object()["eventTime"] = "2026-11-23T08:25:00.000Z";  // 9 min ahead of T0
  auto out = Check(Sign(o));
  ASSERT_TRUE(out.deferred.has_value());
  EXPECT_EQ(out.deferred->reason, Reason::kClockSkew);
  EXPECT_NE(out.deferred->detail.find("$.events[0].eventTime"), std::string::npos) << out.deferred->detail;
  // Within the bound: fine.
  clock_.Set(T0() + minutes(5));
  EXPECT_FALSE(Check(Sign(o)).deferred.has_value());
}

TEST_F(CheckerTest, ClockSkewBoundIsConfigurable) {
  Checker strict(directory_, clock_, {.max_clock_skew = seconds(1)});
  clock_.Set(T0() - minutes(1));  // sent is 29.75 s ahead
  auto out = strict.Check(kTopic, Sign(Unsigned()));
  ASSERT_TRUE(out.has_value());
  ASSERT_TRUE(out->deferred.has_value());
  EXPECT_EQ(out->deferred->reason, Reason::kClockSkew);
  EXPECT_FALSE(Check(Sign(Unsigned())).deferred.has_value());  // 5 min bound: fine
}

// Found by tests/fuzz/envelope_fuzz.cc: "sent": "8612-11-23T08:15:30.250Z" overflowed int64
// (UBSan: signed integer overflow in std::chrono) when compared with the clock in
// nanoseconds, which end in 2262; unchecked, the wrapped value let far-future times through.
TEST_F(CheckerTest, ClockSkewHoldsForYearsBeyond2262) {
  json::object o = Unsigned();
  o["sent"] = "8612-11-23T08:15:30.250Z";
  auto out = Check(Sign(o));
  ASSERT_TRUE(out.deferred.has_value());
  EXPECT_EQ(out.deferred->reason, Reason::kClockSkew);
  EXPECT_NE(out.deferred->detail.find("$.sent"), std::string::npos) << out.deferred->detail;

  o = Unsigned();
  o["events"].as_array()[0].as_object()["eventTime"] = "9999-12-31T23:59:59.999+00:00";
  out = Check(Sign(o));
  ASSERT_TRUE(out.deferred.has_value());
  EXPECT_EQ(out.deferred->reason, Reason::kClockSkew);
  EXPECT_NE(out.deferred->detail.find("$.events[0].eventTime"), std::string::npos) << out.deferred->detail;

  // The earliest RFC 3339 time is simply in the past.
  o = Unsigned();
  o["events"].as_array()[0].as_object()["eventTime"] = "0000-01-01T00:00:00Z";
  auto early = Check(Sign(o));
  EXPECT_FALSE(early.deferred.has_value() && early.deferred->reason == Reason::kClockSkew) << early.deferred->detail;
}

TEST_F(CheckerTest, EpcisViolationIsSchemaWithEventPath) {
  json::object o = Unsigned();
  json::array events = o["events"].as_array();
  events.push_back(events[0]);
  events[1].as_object()["action"] = "JUMP";
  o["events"] = events;
  auto out = Check(Sign(o));
  ASSERT_TRUE(out.deferred.has_value());
  EXPECT_EQ(out.deferred->reason, Reason::kSchema);
  EXPECT_NE(out.deferred->detail.find("$.events[1].action"), std::string::npos) << out.deferred->detail;
}

TEST(DecideSeq, NewDuplicateReusedAndGaps) {
  EXPECT_EQ(DecideSeq(1, "a", 0, std::nullopt).kind, SeqDecision::kNew);
  EXPECT_EQ(DecideSeq(1, "a", 0, std::nullopt).detail, "");
  EXPECT_EQ(DecideSeq(5, "a", 5, std::string("a")).kind, SeqDecision::kDuplicate);
  auto reused = DecideSeq(5, "a", 5, std::string("b"));
  EXPECT_EQ(reused.kind, SeqDecision::kSeqReused);
  EXPECT_NE(reused.detail.find("different content"), std::string::npos);
  // Lower than the highest stored but never stored: a gap being filled.
  auto lower = DecideSeq(3, "a", 5, std::nullopt);
  EXPECT_EQ(lower.kind, SeqDecision::kNew);
  EXPECT_NE(lower.detail.find("out of order"), std::string::npos) << lower.detail;
  EXPECT_NE(lower.detail.find("highest stored seq 5"), std::string::npos) << lower.detail;
  // An older envelope re-sent with identical bytes is a duplicate, not reused.
  EXPECT_EQ(DecideSeq(3, "a", 5, std::string("a")).kind, SeqDecision::kDuplicate);
  auto gap = DecideSeq(10, "a", 5, std::nullopt);
  EXPECT_EQ(gap.kind, SeqDecision::kNew);
  EXPECT_EQ(gap.detail, "seq gap: 4 missing after 5");
}

}  // namespace
}  // namespace trace::gateway

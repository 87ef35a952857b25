#include "trace/common/receipt.h"

#include <functional>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "trace/common/encoding.h"
#include "trace/common/jcs.h"
#include "trace/common/sha256.h"

namespace trace {
namespace {

namespace json = boost::json;

Envelope TestEnvelope(const Ed25519PrivateKey& device_key) {
  json::object o = json::parse(R"({"v": 1, "org": "green-valley-farm", "device": "field-7-soil", "seq": 1042,
      "sent": "2026-11-23T08:15:30.250Z", "events": [{"type": "ObjectEvent", "action": "OBSERVE"}]})")
                       .as_object();
  return SignEnvelope(o, device_key).value();
}

Receipt Accepted(const Envelope& e) {
  Receipt r = ReceiptForEnvelope(e, ReceiptStatus::kAccepted);
  r.at = "2026-11-23T08:15:30.391Z";
  r.key = "receipt-2026";
  return r;
}

TEST(Receipt, StatusNames) {
  EXPECT_EQ(ReceiptStatusName(ReceiptStatus::kAccepted), "accepted");
  EXPECT_EQ(ReceiptStatusName(ReceiptStatus::kDuplicate), "duplicate");
  EXPECT_EQ(ReceiptStatusName(ReceiptStatus::kRejected), "rejected");
  for (auto s : {ReceiptStatus::kAccepted, ReceiptStatus::kDuplicate, ReceiptStatus::kRejected}) {
    EXPECT_EQ(ParseReceiptStatus(ReceiptStatusName(s)), s);
  }
  EXPECT_EQ(ParseReceiptStatus("ok"), std::nullopt);
}

TEST(Receipt, SignParseVerifyRoundTrip) {
  const auto platform = Ed25519PrivateKey::Generate();
  const Envelope e = TestEnvelope(Ed25519PrivateKey::Generate());
  Receipt r = Accepted(e);
  auto payload = SignReceipt(r, platform);
  ASSERT_TRUE(payload.has_value()) << payload.error();
  EXPECT_EQ(Base64UrlDecode(r.sig)->size(), 64u);
  // The payload is canonical and carries exactly the members of the contract.
  EXPECT_EQ(CanonicalizeText(*payload).value(), *payload);
  const json::object o = json::parse(*payload).as_object();
  EXPECT_EQ(o.size(), 9u);  // no reason, no detail
  EXPECT_EQ(o.at("envelope").as_string(), e.id);
  EXPECT_EQ(o.at("status").as_string(), "accepted");
  EXPECT_EQ(o.at("seq").as_int64(), 1042);

  auto back = ParseAndVerifyReceipt(*payload, platform.public_key());
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_EQ(*back, r);
  // The signature covers the canonical receipt without sig, checked independently.
  json::object unsigned_receipt = o;
  unsigned_receipt.erase("sig");
  EXPECT_TRUE(Ed25519Verify(platform.public_key(), Canonicalize(unsigned_receipt).value(), *Base64UrlDecode(r.sig)));

  auto wrong_key = ParseAndVerifyReceipt(*payload, Ed25519PrivateKey::Generate().public_key());
  ASSERT_FALSE(wrong_key.has_value());
  EXPECT_EQ(wrong_key.error().code(), StatusCode::kUnauthenticated);
}

TEST(Receipt, TamperingFails) {
  const auto platform = Ed25519PrivateKey::Generate();
  const Envelope e = TestEnvelope(Ed25519PrivateKey::Generate());
  Receipt r = Accepted(e);
  r.detail = "seq gap: 1040..1041 missing";
  const std::string payload = SignReceipt(r, platform).value();

  // Every single-byte change either fails to parse or fails to verify.
  int parsed = 0;
  for (size_t i = 0; i < payload.size(); ++i) {
    std::string t = payload;
    t[i] = static_cast<char>(t[i] ^ 1);
    auto p = ParseReceipt(t);
    if (!p) continue;
    ++parsed;
    EXPECT_FALSE(VerifyReceipt(*p, platform.public_key())) << "byte " << i << ": " << t;
  }
  EXPECT_GT(parsed, 50);

  // Field by field.
  std::vector<Receipt> changed(8, r);
  changed[0].org = "green-valley-farn";
  changed[1].device = "field-7-soi1";
  changed[2].seq = 1043;
  changed[3].envelope[0] = changed[3].envelope[0] == '0' ? '1' : '0';
  changed[4].status = ReceiptStatus::kDuplicate;
  changed[5].detail = std::nullopt;
  changed[6].at = "2026-11-23T08:15:30.392Z";
  changed[7].key = "receipt-2027";
  for (size_t i = 0; i < changed.size(); ++i) {
    EXPECT_FALSE(VerifyReceipt(changed[i], platform.public_key())) << i;
  }
  EXPECT_TRUE(VerifyReceipt(r, platform.public_key()));
}

TEST(Receipt, RejectedCarriesReason) {
  const auto platform = Ed25519PrivateKey::Generate();
  const Envelope e = TestEnvelope(Ed25519PrivateKey::Generate());
  Receipt r = ReceiptForEnvelope(e, ReceiptStatus::kRejected);
  r.at = "2026-11-23T08:15:30.391Z";
  r.key = "receipt-2026";
  auto missing_reason = SignReceipt(r, platform);
  ASSERT_FALSE(missing_reason.has_value());
  EXPECT_NE(missing_reason.error().message().find("$.reason"), std::string::npos) << missing_reason.error();

  r.reason = Reason::kBadSignature;
  r.detail = "signature does not verify under the registered key";
  auto payload = SignReceipt(r, platform);
  ASSERT_TRUE(payload.has_value()) << payload.error();
  auto back = ParseAndVerifyReceipt(*payload, platform.public_key());
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_EQ(back->reason, Reason::kBadSignature);
  EXPECT_EQ(json::parse(*payload).at("reason").as_string(), "bad_signature");

  Receipt accepted_with_reason = Accepted(e);
  accepted_with_reason.reason = Reason::kSchema;
  EXPECT_FALSE(SignReceipt(accepted_with_reason, platform).has_value());
}

TEST(Receipt, ForRawMessages) {
  const std::string topic = "trace/v1/green-valley-farm/field-7-soil/up";
  // Not JSON: envelope is the hash of the raw bytes, no seq.
  const std::string garbage = "\xff\xfe not json";
  auto r = ReceiptForMessage(topic, garbage, {Reason::kMalformed, "$: unexpected byte 0xff"});
  ASSERT_TRUE(r.has_value()) << r.error();
  EXPECT_EQ(r->org, "green-valley-farm");
  EXPECT_EQ(r->device, "field-7-soil");
  EXPECT_EQ(r->seq, std::nullopt);
  EXPECT_EQ(r->envelope, HashHex(Sha256(garbage)));
  EXPECT_EQ(r->status, ReceiptStatus::kRejected);
  EXPECT_EQ(r->reason, Reason::kMalformed);

  // Parses but fails the schema: seq recovered, envelope is the canonical id.
  const std::string bad_schema = R"({"seq": 77, "v": 2, "extra": [1, 2]})";
  r = ReceiptForMessage(topic, bad_schema, {Reason::kSchema, "$.v: must be 1"});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->seq, 77u);
  EXPECT_EQ(r->envelope, HashHex(Sha256(R"({"extra":[1,2],"seq":77,"v":2})")));

  // A valid envelope on someone else's topic: addressed to the topic's device.
  const Envelope e = TestEnvelope(Ed25519PrivateKey::Generate());
  r = ReceiptForMessage("trace/v1/other-farm/dev-1/up", e.canonical_bytes, {Reason::kTopicMismatch, "x"});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->org, "other-farm");
  EXPECT_EQ(r->device, "dev-1");
  EXPECT_EQ(r->envelope, e.id);
  EXPECT_EQ(r->seq, 1042u);

  r->at = "2026-11-23T08:15:30.391Z";
  r->key = "receipt-2026";
  const auto platform = Ed25519PrivateKey::Generate();
  auto payload = SignReceipt(*r, platform);
  ASSERT_TRUE(payload.has_value()) << payload.error();
  EXPECT_TRUE(ParseAndVerifyReceipt(*payload, platform.public_key()).has_value());

  EXPECT_FALSE(ReceiptForMessage("trace/v1/BAD/dev/up", "{}", {Reason::kMalformed, ""}).has_value());
}

TEST(Receipt, ParseRefusesBadShapes) {
  const auto platform = Ed25519PrivateKey::Generate();
  Receipt r = Accepted(TestEnvelope(Ed25519PrivateKey::Generate()));
  const json::object good = json::parse(SignReceipt(r, platform).value()).as_object();
  const auto expect_bad = [&](const std::function<void(json::object&)>& edit, std::string_view path) {
    json::object o = good;
    edit(o);
    auto p = ParseReceipt(json::serialize(o));
    ASSERT_FALSE(p.has_value()) << path;
    EXPECT_EQ(p.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(p.error().message().find(std::string(path) + ": "), std::string::npos) << p.error();
  };
  expect_bad([](json::object& o) { o["v"] = 2; }, "$.v");
  expect_bad([](json::object& o) { o.erase("org"); }, "$.org");
  expect_bad([](json::object& o) { o["device"] = 5; }, "$.device");
  expect_bad([](json::object& o) { o["seq"] = 0; }, "$.seq");
  expect_bad([](json::object& o) { o["envelope"] = std::string(64, 'A'); }, "$.envelope");
  expect_bad([](json::object& o) { o["status"] = "ok"; }, "$.status");
  expect_bad([](json::object& o) { o["status"] = "rejected"; }, "$.reason");
  expect_bad([](json::object& o) { o["reason"] = "schema"; }, "$.reason");
  expect_bad(
      [](json::object& o) {
        o["status"] = "rejected";
        o["reason"] = "nope";
      },
      "$.reason");
  expect_bad([](json::object& o) { o["detail"] = 1; }, "$.detail");
  expect_bad([](json::object& o) { o["at"] = "2026-11-23T08:15:30Z"; }, "$.at");
  expect_bad([](json::object& o) { o["key"] = "has space"; }, "$.key");
  expect_bad([](json::object& o) { o["sig"] = "abc"; }, "$.sig");
  expect_bad([](json::object& o) { o["more"] = 1; }, "$.more");
  EXPECT_FALSE(ParseReceipt("[]").has_value());
  EXPECT_FALSE(ParseReceipt("{\"v\":1,\"v\":1}").has_value());
}

}  // namespace
}  // namespace trace

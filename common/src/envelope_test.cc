#include "trace/common/envelope.h"

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

// RFC 8032 §7.1 test 1 secret key.
constexpr std::string_view kSeedHex = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

Ed25519PrivateKey TestKey() { return Ed25519PrivateKey::FromSeed(*HexDecode(kSeedHex)).value(); }

json::object Unsigned() {
  return json::parse(R"({
    "v": 1, "org": "green-valley-farm", "device": "field-7-soil", "seq": 1042,
    "sent": "2026-11-23T08:15:30.250Z",
    "events": [{"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "sensor_reporting",
                "eventTime": "2026-11-23T08:15:00.000Z", "eventTimeZoneOffset": "+01:00",
                "readPoint": {"id": "urn:epc:id:sgln:9506000.13436.0"}}]
  })").as_object();
}

Envelope Signed() { return SignEnvelope(Unsigned(), TestKey()).value(); }

TEST(Envelope, ReasonNamesRoundTrip) {
  const std::vector<std::pair<Reason, std::string_view>> all = {
      {Reason::kMalformed, "malformed"},        {Reason::kTooLarge, "too_large"},
      {Reason::kSchema, "schema"},              {Reason::kTopicMismatch, "topic_mismatch"},
      {Reason::kUnknownDevice, "unknown_device"}, {Reason::kRevokedDevice, "revoked_device"},
      {Reason::kBadSignature, "bad_signature"}, {Reason::kSeqReused, "seq_reused"},
      {Reason::kClockSkew, "clock_skew"},
  };
  for (const auto& [reason, name] : all) {
    EXPECT_EQ(ReasonName(reason), name);
    EXPECT_EQ(ParseReason(name), reason);
  }
  EXPECT_EQ(ParseReason("Schema"), std::nullopt);
  EXPECT_EQ(ParseReason(""), std::nullopt);
  EXPECT_EQ(RejectionStatus({Reason::kBadSignature, "x"}).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(RejectionStatus({Reason::kTooLarge, "x"}).message(), "too_large: x");
}

TEST(Envelope, IdentifierPatterns) {
  EXPECT_TRUE(IsOrgId("green-valley-farm"));
  EXPECT_TRUE(IsOrgId("a1"));
  EXPECT_FALSE(IsOrgId("a"));                       // at least 2
  EXPECT_TRUE(IsOrgId(std::string(32, 'a')));
  EXPECT_FALSE(IsOrgId(std::string(33, 'a')));
  EXPECT_FALSE(IsOrgId("-ab"));
  EXPECT_FALSE(IsOrgId("Green"));
  EXPECT_FALSE(IsOrgId("a.b"));
  EXPECT_TRUE(IsDeviceId("x"));
  EXPECT_TRUE(IsDeviceId("field-7.soil_2"));
  EXPECT_TRUE(IsDeviceId(std::string(64, 'd')));
  EXPECT_FALSE(IsDeviceId(std::string(65, 'd')));
  EXPECT_FALSE(IsDeviceId(""));
  EXPECT_FALSE(IsDeviceId(".x"));
  EXPECT_FALSE(IsDeviceId("a/b"));
}

// Expected values computed outside this code base: Python's json.dumps with
// sorted keys and compact separators (equal to RFC 8785 for this ASCII content),
// signed with the `cryptography` package, hashed with hashlib.
TEST(Envelope, MatchesIndependentlyComputedVector) {
  constexpr std::string_view kSigningBytes =
      R"({"device":"field-7-soil","events":[{"action":"OBSERVE","bizStep":"sensor_reporting",)"
      R"("eventTime":"2026-11-23T08:15:00.000Z","eventTimeZoneOffset":"+01:00",)"
      R"("readPoint":{"id":"urn:epc:id:sgln:9506000.13436.0"},"type":"ObjectEvent"}],)"
      R"("org":"green-valley-farm","sent":"2026-11-23T08:15:30.250Z","seq":1042,"v":1})";
  constexpr std::string_view kSig =
      "SBJwgljRay2j5KdokOs_yvdKTjYzKEmvbw4WZtTFeGwiY17Opv56KFWGwusqq3S-lSn9Op17dqy07nqI2ghbCg";
  constexpr std::string_view kId = "438ea44e27fe279dd64954d2b7efaccfc36888ea3d57cb831c4c77490aa32191";
  const Envelope e = Signed();
  EXPECT_EQ(SigningBytes(e), kSigningBytes);
  EXPECT_EQ(e.sig, kSig);
  EXPECT_EQ(EnvelopeId(e), kId);
  EXPECT_EQ(EnvelopeId(e), HashHex(Sha256(CanonicalBytes(e))));
  EXPECT_EQ(MessageId(CanonicalBytes(e)), kId);
  // Whitespace and member order do not change the id.
  EXPECT_EQ(MessageId(json::serialize(e.json) + "\n  "), kId);
}

TEST(Envelope, SignParseVerifyRoundTrip) {
  const auto key = TestKey();
  const Envelope signed_env = Signed();
  auto parsed = ParseEnvelope(CanonicalBytes(signed_env));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().detail;
  EXPECT_TRUE(VerifyEnvelopeSignature(*parsed, key.public_key()));
  EXPECT_FALSE(VerifyEnvelopeSignature(*parsed, Ed25519PrivateKey::Generate().public_key()));
  EXPECT_EQ(parsed->v, 1);
  EXPECT_EQ(parsed->org, "green-valley-farm");
  EXPECT_EQ(parsed->device, "field-7-soil");
  EXPECT_EQ(parsed->seq, 1042u);
  EXPECT_EQ(parsed->sent, "2026-11-23T08:15:30.250Z");
  ASSERT_EQ(parsed->events.size(), 1u);
  EXPECT_EQ(parsed->events[0].at("type").as_string(), "ObjectEvent");
  EXPECT_EQ(parsed->signature.size(), 64u);
  EXPECT_EQ(parsed->id, signed_env.id);

  // A device may send any JSON spelling of the same object: pretty printed,
  // reordered, escaped differently. The signature and id hold.
  const std::string spelled =
      "{ \"sig\": \"" + signed_env.sig + "\",\n \"events\": " + json::serialize(signed_env.events) +
      ", \"seq\": 1042.0, \"sent\": \"2026-11-23T08:15:30.250Z\", \"org\": \"green-valley-\\u0066arm\", "
      "\"device\": \"field-7-soil\", \"v\": 1 }";
  auto respelled = ParseEnvelope(spelled);
  ASSERT_TRUE(respelled.has_value()) << respelled.error().detail;
  EXPECT_TRUE(VerifyEnvelopeSignature(*respelled, key.public_key()));
  EXPECT_EQ(respelled->id, signed_env.id);

  // Signing again replaces an existing sig rather than signing over it.
  auto resigned = SignEnvelope(signed_env.json, key);
  ASSERT_TRUE(resigned.has_value()) << resigned.error();
  EXPECT_EQ(resigned->sig, signed_env.sig);
}

TEST(Envelope, TamperingAnyByteFailsTheSignature) {
  const auto key = TestKey();
  const Envelope e = Signed();
  const std::string& bytes = CanonicalBytes(e);
  int still_parsed = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (char delta : {1, 2}) {
      std::string tampered = bytes;
      tampered[i] = static_cast<char>(tampered[i] ^ delta);
      auto t = ParseEnvelope(tampered);
      if (!t) continue;  // refused before the signature check: fine too
      ++still_parsed;
      EXPECT_FALSE(VerifyEnvelopeSignature(*t, key.public_key())) << "byte " << i << ": " << tampered;
      EXPECT_NE(t->id, e.id) << "byte " << i;
    }
  }
  // Most single-byte changes inside values still parse, so the loop above tested
  // the signature, not just the parser.
  EXPECT_GT(still_parsed, 100);

  // Field by field, through the JSON value.
  const std::vector<std::pair<std::string, json::value>> changes = {
      {"org", "green-valley-farn"}, {"device", "field-7-soi1"}, {"seq", 1043},
      {"sent", "2026-11-23T08:15:30.251Z"},
  };
  for (const auto& [member, value] : changes) {
    json::object o = e.json;
    o[member] = value;
    auto t = EnvelopeFromJson(o);
    ASSERT_TRUE(t.has_value()) << member;
    EXPECT_FALSE(VerifyEnvelopeSignature(*t, key.public_key())) << member;
  }
  json::object o = e.json;
  o["events"].as_array()[0].as_object()["action"] = "ADD";
  auto t = EnvelopeFromJson(o);
  ASSERT_TRUE(t.has_value());
  EXPECT_FALSE(VerifyEnvelopeSignature(*t, key.public_key()));
}

// Applies `edit` to a signed envelope's JSON and expects a schema rejection
// whose detail starts with `path`.
void ExpectSchema(const std::function<void(json::object&)>& edit, std::string_view path) {
  json::object o = Signed().json;
  edit(o);
  auto e = ParseEnvelope(json::serialize(o));
  ASSERT_FALSE(e.has_value()) << "accepted, wanted " << path;
  EXPECT_EQ(e.error().reason, Reason::kSchema) << e.error().detail;
  EXPECT_TRUE(e.error().detail.starts_with(std::string(path) + ": ")) << e.error().detail << " wanted " << path;
}

TEST(Envelope, SchemaViolationsNameThePath) {
  ExpectSchema([](json::object& o) { o.erase("v"); }, "$.v");
  ExpectSchema([](json::object& o) { o["v"] = 2; }, "$.v");
  ExpectSchema([](json::object& o) { o["v"] = "1"; }, "$.v");
  ExpectSchema([](json::object& o) { o.erase("org"); }, "$.org");
  ExpectSchema([](json::object& o) { o["org"] = "Green"; }, "$.org");
  ExpectSchema([](json::object& o) { o["org"] = 7; }, "$.org");
  ExpectSchema([](json::object& o) { o["device"] = "-x"; }, "$.device");
  ExpectSchema([](json::object& o) { o["device"] = std::string(65, 'd'); }, "$.device");
  ExpectSchema([](json::object& o) { o.erase("seq"); }, "$.seq");
  ExpectSchema([](json::object& o) { o["seq"] = 0; }, "$.seq");
  ExpectSchema([](json::object& o) { o["seq"] = -1; }, "$.seq");
  ExpectSchema([](json::object& o) { o["seq"] = 1.5; }, "$.seq");
  ExpectSchema([](json::object& o) { o["seq"] = "1"; }, "$.seq");
  ExpectSchema([](json::object& o) { o["seq"] = int64_t{1} << 53; }, "$.seq");
  ExpectSchema([](json::object& o) { o["sent"] = "2026-11-23T08:15:30Z"; }, "$.sent");
  ExpectSchema([](json::object& o) { o["sent"] = "2026-11-23T08:15:30.250+01:00"; }, "$.sent");
  ExpectSchema([](json::object& o) { o["sent"] = "2026-02-30T08:15:30.250Z"; }, "$.sent");
  ExpectSchema([](json::object& o) { o.erase("events"); }, "$.events");
  ExpectSchema([](json::object& o) { o["events"] = json::array(); }, "$.events");
  ExpectSchema([](json::object& o) { o["events"] = json::object(); }, "$.events");
  ExpectSchema(
      [](json::object& o) {
        json::array many;
        for (size_t i = 0; i <= kMaxEventsPerEnvelope; ++i) many.push_back(json::object{{"type", "ObjectEvent"}});
        o["events"] = many;
      },
      "$.events");
  ExpectSchema([](json::object& o) { o["events"].as_array().push_back(42); }, "$.events[1]");
  ExpectSchema([](json::object& o) { o["events"].as_array().push_back(json::object{{"action", "ADD"}}); },
               "$.events[1].type");
  ExpectSchema([](json::object& o) { o["events"].as_array()[0].as_object()["type"] = 3; }, "$.events[0].type");
  ExpectSchema([](json::object& o) { o["events"].as_array()[0].as_object()["type"] = ""; }, "$.events[0].type");
  ExpectSchema([](json::object& o) { o.erase("sig"); }, "$.sig");
  ExpectSchema([](json::object& o) { o["sig"] = std::string(o["sig"].as_string()) + "A"; }, "$.sig");
  ExpectSchema([](json::object& o) { o["sig"] = Base64UrlEncode(std::string(63, 'x')); }, "$.sig");
  ExpectSchema([](json::object& o) { o["sig"] = Base64Encode(std::string(64, '\xff')); }, "$.sig");  // padded
  ExpectSchema([](json::object& o) { o["extra"] = true; }, "$.extra");
  ExpectSchema([](json::object& o) { o["@context"] = "x"; }, "$.@context");

  // A full events list is fine.
  json::object o = Unsigned();
  json::array full;
  for (size_t i = 0; i < kMaxEventsPerEnvelope; ++i) full.push_back(json::object{{"type", "ObjectEvent"}});
  o["events"] = full;
  EXPECT_TRUE(SignEnvelope(o, TestKey()).has_value());
}

TEST(Envelope, SignEnvelopeRefusesInvalidObjects) {
  json::object o = Unsigned();
  o["org"] = "NO";
  auto e = SignEnvelope(o, TestKey());
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(e.error().message().starts_with("schema: $.org: ")) << e.error();

  o = Unsigned();
  o["events"].as_array()[0].as_object()["quantity"] = 1e20;  // canonical form not re-parsable
  e = SignEnvelope(o, TestKey());
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message().find("$.events[0].quantity"), std::string::npos) << e.error();
}

TEST(Envelope, SizeLimit) {
  const Envelope e = Signed();
  std::string padded = CanonicalBytes(e);
  padded.append(kMaxEnvelopeBytes - padded.size(), ' ');
  ASSERT_EQ(padded.size(), kMaxEnvelopeBytes);
  auto at_limit = ParseEnvelope(padded);
  ASSERT_TRUE(at_limit.has_value()) << at_limit.error().detail;
  EXPECT_EQ(at_limit->id, e.id);

  padded += ' ';
  auto over = ParseEnvelope(padded);
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error().reason, Reason::kTooLarge);
  // Size is checked first: even garbage is too_large rather than malformed.
  over = ParseEnvelope(std::string(kMaxEnvelopeBytes + 1, '\xff'));
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error().reason, Reason::kTooLarge);
  EXPECT_EQ(MessageId(padded), HashHex(Sha256(padded)));
}

TEST(Envelope, MalformedMessages) {
  const std::vector<std::string> bad = {
      "",
      "not json",
      "[1, 2]",
      "\"a string\"",
      "42",
      "null",
      "{\"v\": 1, \"org\": \"green-valley-farm\xC0\xAF\"}",  // overlong UTF-8
      "{\"org\": \"\\ud800\"}",                             // lone surrogate
      "{\"v\": 1, \"v\": 1}",                               // duplicate key
      "{\"v\": 1} trailing",
      "{\"seq\": 9007199254740993}",
      "{\"seq\": NaN}",
  };
  for (const std::string& raw : bad) {
    auto e = ParseEnvelope(raw);
    ASSERT_FALSE(e.has_value()) << raw;
    EXPECT_EQ(e.error().reason, Reason::kMalformed) << raw << ": " << e.error().detail;
    EXPECT_TRUE(e.error().detail.starts_with("$")) << e.error().detail;
    EXPECT_EQ(MessageId(raw), HashHex(Sha256(raw))) << raw;
  }
  auto e = ParseEnvelope("{\"seq\": 9007199254740993}");
  EXPECT_TRUE(e.error().detail.starts_with("$.seq: integer beyond 2^53")) << e.error().detail;
}

TEST(Envelope, Topics) {
  const Envelope e = Signed();
  EXPECT_EQ(UpTopic("green-valley-farm", "field-7-soil"), "trace/v1/green-valley-farm/field-7-soil/up");
  EXPECT_EQ(ReceiptTopic("green-valley-farm", "field-7-soil"), "trace/v1/green-valley-farm/field-7-soil/receipt");
  EXPECT_TRUE(CheckTopic(e, "trace/v1/green-valley-farm/field-7-soil/up").has_value());
  for (std::string_view topic : {"trace/v1/green-valley-farm/field-8-soil/up", "trace/v1/other-farm/field-7-soil/up",
                                 "trace/v1/green-valley-farm/field-7-soil/receipt", "trace/v2/green-valley-farm/field-7-soil/up"}) {
    auto r = CheckTopic(e, topic);
    ASSERT_FALSE(r.has_value()) << topic;
    EXPECT_EQ(r.error().reason, Reason::kTopicMismatch);
    EXPECT_NE(r.error().detail.find(topic), std::string::npos) << r.error().detail;
  }
  auto t = ParseUpTopic("trace/v1/green-valley-farm/field-7-soil/up");
  ASSERT_TRUE(t.has_value()) << t.error();
  EXPECT_EQ(t->org, "green-valley-farm");
  EXPECT_EQ(t->device, "field-7-soil");
  for (std::string_view bad : {"trace/v1/green-valley-farm/up", "trace/v1/a/b/c/up", "trace/v1/Org/dev/up",
                               "trace/v1/org/dev/receipt", "trace/v1//dev/up", "trace/v1/org/dev/", "x"}) {
    EXPECT_FALSE(ParseUpTopic(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace trace

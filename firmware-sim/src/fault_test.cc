#include "fault.h"

#include <gtest/gtest.h>

#include "trace/common/envelope.h"
#include "trace/common/epcis.h"
#include "trace/common/time.h"

namespace trace::devicesim {
namespace {

// What a gateway decides from the bytes, the topic and the key alone (the
// checks of PROTOCOL.md §4 that need no database), in the gateway's order.
std::string OfflineVerdict(const std::string& payload, const std::string& topic, const std::string& public_key,
                           std::chrono::system_clock::time_point now) {
  auto env = ParseEnvelope(payload);
  if (!env) return std::string(ReasonName(env.error().reason));
  if (auto t = CheckTopic(*env, topic); !t) return std::string(ReasonName(t.error().reason));
  if (!VerifyEnvelopeSignature(*env, public_key)) return "bad_signature";
  auto sent = ParseRfc3339(env->sent);
  if (!sent || sent->utc > now + std::chrono::minutes(5)) return "clock_skew";
  for (const auto& e : env->events) {
    if (!epcis::ValidateEvent(e).ok()) return "schema";
  }
  return "ok";
}

TEST(FaultPayload, EachPayloadFailsExactlyTheCheckItIsNamedFor) {
  auto key = Ed25519PrivateKey::Generate();
  auto now = std::chrono::system_clock::now();
  std::string topic = UpTopic("fault-sim", "fault-01");
  for (const char* kind : {"malformed", "too_large", "schema", "topic_mismatch", "bad_signature", "clock_skew"}) {
    SCOPED_TRACE(kind);
    auto p = FaultPayload(kind, "fault-sim", "fault-01", key, 7, now);
    ASSERT_TRUE(p) << p.error();
    EXPECT_EQ(OfflineVerdict(*p, topic, key.public_key(), now), kind);
  }
  auto big = FaultPayload("too_large", "fault-sim", "fault-01", key, 7, now);
  EXPECT_GT(big->size(), kMaxEnvelopeBytes);
  // It must pass the broker (max_packet_size 266240 in deploy/mosquitto) to reach the gateway.
  EXPECT_LT(big->size() + 200, 266240u);
  EXPECT_FALSE(FaultPayload("seq_reused", "fault-sim", "fault-01", key, 7, now));
  EXPECT_EQ(FaultKinds().size(), 9u);
  for (const auto& k : FaultKinds()) EXPECT_TRUE(ParseReason(k).has_value()) << k;
}

}  // namespace
}  // namespace trace::devicesim

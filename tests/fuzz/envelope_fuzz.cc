// Envelope parse and check: the gateway's Checker (services/gateway/src/checker.h)
// over a fake device directory and a fake clock, as the pipeline runs it on
// every MQTT message. The input is "<topic>\n<payload>" (no newline: all of it
// is the payload and the topic is empty). The directory knows kOrg/kDevice
// (active) and kOrg/kRevokedDevice (revoked), both with the seeds' device key,
// so generated seeds reach the signature, clock-skew and EPCIS checks.
//
// Properties:
//   - Check never fails for a directory that is up, and agrees with
//     ParseEnvelope on what parses;
//   - a parsed envelope's id is the hex SHA-256 of its canonical bytes and
//     equals MessageId(payload); its canonical bytes parse again into an
//     envelope with the same canonical and signing bytes;
//   - an envelope that passes every check has a signature that verifies, and
//     its deferred outcome is CheckContent's (which runs on every parsed
//     envelope, so the clock-skew and EPCIS checks see mutated events too).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "checker.h"
#include "clock.h"
#include "device_directory.h"
#include "fuzz_support.h"
#include "trace/common/encoding.h"
#include "trace/common/envelope.h"
#include "trace/common/sha256.h"

namespace {

using trace::fuzz::Require;

struct World {
  World() : clock(trace::fuzz::Now()), checker(directory, clock, {.max_clock_skew = std::chrono::minutes(5)}) {
    const std::string& key = trace::fuzz::DeviceKey().public_key();
    directory.Put(trace::fuzz::kOrg, trace::fuzz::kDevice, {key, true, 0});
    directory.Put(trace::fuzz::kOrg, trace::fuzz::kRevokedDevice, {key, false, 0});
  }
  trace::gateway::FakeDeviceDirectory directory;
  trace::gateway::FakeClock clock;
  trace::gateway::Checker checker;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World world;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view topic = newline == std::string_view::npos ? std::string_view() : input.substr(0, newline);
  const std::string_view payload = newline == std::string_view::npos ? input : input.substr(newline + 1);

  auto out = world.checker.Check(topic, payload);
  Require(out.has_value(), "Check failed with the directory up");
  auto parsed = trace::ParseEnvelope(payload);
  Require(parsed.has_value() == out->envelope.has_value(), "Check and ParseEnvelope disagree on parsing");
  if (!parsed) {
    Require(out->rejection.has_value() && *out->rejection == parsed.error(),
            "Check's rejection differs from ParseEnvelope's");
    return 0;
  }

  const trace::Envelope& env = *out->envelope;
  Require(env.id == trace::HexEncode(trace::HashBytes(trace::Sha256(env.canonical_bytes))),
          "the envelope id is not the hash of its canonical bytes");
  Require(trace::MessageId(payload) == env.id, "MessageId differs from the envelope id");
  auto again = trace::ParseEnvelope(env.canonical_bytes);
  Require(again.has_value(), "an envelope's canonical bytes do not parse");
  Require(again->canonical_bytes == env.canonical_bytes && again->signing_bytes == env.signing_bytes,
          "re-parsing the canonical bytes changed the envelope");

  // The clock-skew and EPCIS checks on every parsed envelope, not only on those whose
  // signature verifies: mutated seeds seldom keep a valid signature.
  const std::optional<trace::Rejection> content = world.checker.CheckContent(env);
  if (!out->rejection) {
    Require(trace::VerifyEnvelopeSignature(env, trace::fuzz::DeviceKey().public_key()),
            "an accepted envelope's signature does not verify");
    Require(content == out->deferred, "the deferred outcome differs from CheckContent");
  }
  return 0;
}

#include "checker.h"

#include <string>

#include <boost/json.hpp>

#include "trace/common/epcis.h"
#include "trace/common/time.h"

namespace trace::gateway {
namespace {

std::string FormatMs(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

}  // namespace

Result<CheckOutcome> Checker::Check(std::string_view topic, std::string_view raw) const {
  CheckOutcome out;
  auto env = ParseEnvelope(raw);
  if (!env) {
    out.rejection = env.error();
    return out;
  }
  if (auto t = CheckTopic(*env, topic); !t) {
    out.rejection = t.error();
    out.envelope = std::move(*env);
    return out;
  }
  auto device = directory_.Lookup(env->org, env->device);
  if (!device) return Fail(device.error());
  if (!device->has_value()) {
    out.rejection = Rejection{Reason::kUnknownDevice, "no device " + env->org + "/" + env->device};
  } else if (!(*device)->active) {
    out.rejection = Rejection{Reason::kRevokedDevice, "device " + env->org + "/" + env->device + " is revoked"};
  } else if (stored_ != nullptr && stored_->Contains(env->id)) {
    // Byte for byte an envelope already committed, so already verified and checked.
    out.known = true;
  } else if (!VerifyEnvelopeSignature(*env, (*device)->public_key)) {
    out.rejection = Rejection{Reason::kBadSignature, "sig does not verify under the key of " + env->org + "/" +
                                                         env->device};
  } else {
    out.deferred = CheckContent(*env);
  }
  out.envelope = std::move(*env);
  return out;
}

std::optional<Rejection> Checker::CheckContent(const Envelope& envelope) const {
  // In ParseRfc3339's microseconds: compared with the clock's nanoseconds, a time
  // after the year 2262 (which RFC 3339 allows up to 9999) would overflow int64.
  const TimePoint limit = std::chrono::time_point_cast<std::chrono::microseconds>(clock_.Now()) +
                          std::chrono::duration_cast<std::chrono::microseconds>(options_.max_clock_skew);
  auto sent = ParseRfc3339(envelope.sent);
  if (sent && sent->utc > limit) {
    return Rejection{Reason::kClockSkew, "$.sent: " + envelope.sent + " is more than " +
                                             FormatMs(options_.max_clock_skew) + " in the future"};
  }
  for (size_t i = 0; i < envelope.events.size(); ++i) {
    const auto* event = envelope.events[i].if_object();
    if (event == nullptr) continue;
    const auto* t = event->if_contains("eventTime");
    if (t == nullptr || !t->is_string()) continue;  // the EPCIS check below names it
    auto when = ParseRfc3339(t->get_string());
    if (when && when->utc > limit) {
      return Rejection{Reason::kClockSkew, "$.events[" + std::to_string(i) + "].eventTime: " +
                                               std::string(t->get_string()) + " is more than " +
                                               FormatMs(options_.max_clock_skew) + " in the future"};
    }
  }
  for (size_t i = 0; i < envelope.events.size(); ++i) {
    Status s = epcis::ValidateEvent(envelope.events[i], "$.events[" + std::to_string(i) + "]");
    if (!s.ok()) return Rejection{Reason::kSchema, s.message()};
  }
  return std::nullopt;
}

SeqDecision DecideSeq(uint64_t seq, std::string_view canonical, uint64_t last_seq,
                      const std::optional<std::string>& stored_canonical) {
  if (stored_canonical.has_value()) {
    if (*stored_canonical == canonical) return {SeqDecision::kDuplicate, ""};
    return {SeqDecision::kSeqReused, "seq " + std::to_string(seq) + " is already stored with different content"};
  }
  // A seq never stored is accepted even below the highest stored one: it fills
  // a gap (a device re-sending from its outbox, or two gateways committing a
  // device's envelopes out of order). See docs/protocol-notes.md.
  if (seq < last_seq) {
    return {SeqDecision::kNew, "out of order: seq " + std::to_string(seq) + " fills a gap below the highest stored seq " +
                                   std::to_string(last_seq)};
  }
  if (seq > last_seq + 1) {
    return {SeqDecision::kNew, "seq gap: " + std::to_string(seq - last_seq - 1) + " missing after " +
                                   std::to_string(last_seq)};
  }
  return {SeqDecision::kNew, ""};
}

}  // namespace trace::gateway

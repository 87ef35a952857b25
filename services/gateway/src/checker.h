// The gateway's checks of one MQTT message, as a pure piece that the pipeline
// runs on its worker threads and the tests run directly.
//
// Check() runs the checks of issue 3 in this order and stops at the first
// failure:
//   size -> too_large, UTF-8 JSON object -> malformed, envelope shape -> schema
//   (ParseEnvelope), topic -> topic_mismatch, device known -> unknown_device,
//   device active -> revoked_device, Ed25519 signature -> bad_signature.
// The seq rule needs what is stored, so it is decided by the store inside the
// transaction that stores the envelope (DecideSeq below). The two checks that
// come after it in the order, clock skew and EPCIS validity, are run
// here too but their failure is *deferred*: the store applies it only when
// DecideSeq says the envelope is new. So a re-sent envelope is still answered
// `duplicate`, and the order of reasons is the issue's.
//
// Example:
//   Checker checker(directory, clock, {.max_clock_skew = std::chrono::minutes(5)});
//   auto out = checker.Check(topic, payload);
//   if (!out) retry_later(out.error());              // directory unavailable
//   else if (out->rejection) store_rejected(...);    // answered `rejected`
//   else store_batch(...);                           // DecideSeq, then deferred
//
// Thread-safe when the DeviceDirectory and Clock are.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "clock.h"
#include "device_directory.h"
#include "stored_ids.h"
#include "trace/common/envelope.h"
#include "trace/common/status.h"

namespace trace::gateway {

struct CheckOutcome {
  // Set when the message is refused before the store: the reason and detail.
  std::optional<Rejection> rejection;
  // Set when the message parsed as an envelope (also for some rejections:
  // revoked_device, bad_signature, topic_mismatch leave it set).
  std::optional<Envelope> envelope;
  // For a verified envelope (no `rejection`): clock_skew or schema (EPCIS) to
  // apply if the seq rule finds the envelope new.
  std::optional<Rejection> deferred;
  // True when the envelope's id was known as stored (StoredIds), so neither its
  // signature nor its content was checked again.
  bool known = false;
};

class Checker {
 public:
  struct Options {
    // `sent` or any eventTime later than now + this is clock_skew.
    std::chrono::milliseconds max_clock_skew = std::chrono::minutes(5);
  };

  // Keeps references; they must outlive the Checker. With `stored`, an
  // envelope whose id it holds skips the signature and content checks
  // (stored_ids.h says why that is sound) and comes out `known`.
  Checker(DeviceDirectory& directory, const Clock& clock, Options options, const StoredIds* stored = nullptr)
      : directory_(directory), clock_(clock), options_(options), stored_(stored) {}

  // Checks `raw` received on `topic`. Returns Unavailable only when the device
  // directory cannot be read (nothing was decided; retry the same message).
  [[nodiscard]] Result<CheckOutcome> Check(std::string_view topic, std::string_view raw) const;

  // The clock-skew and EPCIS checks alone (what Check defers).
  std::optional<Rejection> CheckContent(const Envelope& envelope) const;

 private:
  DeviceDirectory& directory_;
  const Clock& clock_;
  Options options_;
  const StoredIds* stored_;
};

// The seq rule (PROTOCOL.md §3, as read in docs/protocol-notes.md) for an
// envelope with `seq` and canonical bytes `canonical`, given what is stored for
// its device: the highest stored seq (0 when none) and the canonical bytes
// stored under the same (org, device, seq), if any.
//   same seq stored, identical bytes   -> kDuplicate
//   same seq stored, different bytes   -> kSeqReused
//   seq never stored, below the highest -> kNew, `detail` says "out of order"
//                                         (a gap being filled: a re-send from a
//                                         durable outbox, or another gateway
//                                         committed a later seq first)
//   otherwise                          -> kNew, with a note in `detail` when seq
//                                         skips numbers (gaps are allowed)
struct SeqDecision {
  enum Kind { kNew, kDuplicate, kSeqReused } kind = kNew;
  std::string detail;
};
SeqDecision DecideSeq(uint64_t seq, std::string_view canonical, uint64_t last_seq,
                      const std::optional<std::string>& stored_canonical);

}  // namespace trace::gateway

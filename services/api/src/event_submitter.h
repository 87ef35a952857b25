// Stores EPCIS events that trace-api signs on the server for an organization
// (manual events from the producer dashboard, EPCIS capture) as ordinary
// envelopes of its signer device (org, "dashboard"), through the gateway's own
// code: gateway::Checker (envelope shape, topic, device, signature, clock skew,
// EPCIS validity) and gateway::StoreCheckedBatch (the envelopes, events and
// event_keys rows in one transaction, the seq rule, devices.last_seq), with
// envelopes.source = 'api'. So a server-signed envelope becomes a leaf of the
// one log exactly like a device's (PROTOCOL.md §3, §5).
//
// What SubmitEvents does:
//   1. Checks each event on its own, as the gateway would: a JSON object that
//      RFC 8785 can canonicalize, epcis::ValidateEvent, eventTime at most
//      max_clock_skew in the future, and small enough to fit an envelope.
//      Every failing event is reported (index, path, message); none is signed.
//   2. With OnError::kRollback (the default) any error stores nothing: the
//      result carries the errors and no envelopes. With kProceed the valid
//      events are stored and the invalid ones reported.
//   3. Splits the events to store, in order, into envelopes of at most 256
//      events and kMaxEnvelopeBytes, and signs each (PROTOCOL.md §3: v 1, org,
//      device "dashboard", seq, sent = now with milliseconds, events, sig over
//      the RFC 8785 bytes without sig).
//   4. Stores all envelopes of the call in ONE StoreCheckedBatch, i.e. one
//      transaction: they are stored together or not at all.
//
// seq: several trace-api processes may sign for the same organization at once,
// so seq is not read from the database: it is the current time in
// microseconds since the Unix epoch, made strictly increasing within the
// process (about 1.8e15 today, below 2^53 until the year 2255). Two processes
// may still pick the same seq; the store then answers seq_reused for the
// second (and, like every refused message, records it in rejected_messages),
// and that envelope is signed again with a new seq and stored in a new
// transaction (up to max_seq_attempts times). Gaps are allowed by §3; a seq
// below the device's highest (another process committed a later one first)
// is accepted as "out of order" (docs/protocol-notes.md).
//
// Thread-safe: calls may run concurrently on different connections.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <pqxx/connection>

#include "org_signer.h"
#include "trace/common/status.h"

namespace trace::api {

// One refused event.
struct EventError {
  std::size_t index = 0;  // position in the submitted events
  std::string path;       // JSON path of the failing value, e.g. "$.events[2].bizStep"
  std::string message;    // what is wrong, e.g. "not a CBV business step or a URI"
};

// A planned or stored envelope.
struct EnvelopeOutcome {
  std::string id;  // lowercase hex SHA-256 of the canonical envelope
  uint64_t seq = 0;
  std::string sent;
  // "accepted" (stored now), "duplicate" (the identical envelope was stored
  // before: a re-run of the same plan), or "rejected" (not stored; detail says
  // why, "reason: detail", e.g. the signer device was revoked meanwhile).
  std::string decision;
  std::string detail;                      // a seq note for accepted ones, the reason for rejected ones
  std::vector<std::size_t> event_indexes;  // the submitted events it carries, in order
};

struct SubmitResult {
  std::vector<EnvelopeOutcome> envelopes;
  std::vector<EventError> errors;  // ordered by index

  // True when every submitted event is stored (no errors, no rejected envelope).
  bool complete() const;
  // JSON for an answer: {"envelopes": [{"id","seq","sent","decision","detail","events":[i...]}],
  // "errors": [{"index","path","message"}]}.
  boost::json::object ToJson() const;
};

struct SubmitOptions {
  enum class OnError { kRollback, kProceed };
  OnError on_error = OnError::kRollback;
  // The JSON path of the events in the caller's input, for errors:
  // "$.events" gives "$.events[3].eventTime".
  std::string events_path = "$.events";
  // The gateway's bound (Checker::Options::max_clock_skew).
  std::chrono::milliseconds max_clock_skew = std::chrono::minutes(5);
  // How many times an envelope is signed with a new seq after seq_reused.
  int max_seq_attempts = 5;
  // Crash recovery for callers that must not store events twice (capture
  // jobs): envelopes planned by an earlier call for the same events. Where a
  // planned envelope carries exactly the events this call puts into the same
  // position, its seq and sent are reused, so it is signed to the identical
  // bytes (Ed25519 is deterministic) and answered "duplicate" if it was stored.
  std::vector<EnvelopeOutcome> reuse;
  // Called with every envelope about to be stored (decision still empty)
  // before each store attempt; a non-OK status stops the call with it, storing
  // nothing more. Capture jobs record the plan here.
  std::function<Status(std::span<const EnvelopeOutcome>)> on_planned;
};

// Max events per call: more belong in several calls (or a capture document).
inline constexpr std::size_t kMaxSubmitEvents = 10000;

// Checks, signs and stores `events` (1 to kMaxSubmitEvents) for `org` as its
// signer device (see the top of this file). Returns the per-event errors and
// per-envelope outcomes; event errors are not a failed call. Fails with
// InvalidArgument for an empty or oversized list, the OrgSigner's errors
// (NotFound, FailedPrecondition, ...), Unavailable when the database fails
// (some envelopes of an earlier seq_reused attempt may then be stored; their
// outcomes are lost to the caller, use `on_planned` to keep them), or Internal
// when the gateway's checks refuse an envelope this code built (a bug).
// No transaction may be open on `conn`.
[[nodiscard]] Result<SubmitResult> SubmitEvents(pqxx::connection& conn, OrgSigner& signer, std::string_view org,
                                                const boost::json::array& events, const SubmitOptions& options = {});

namespace detail {
// The next seq of this process: max(now in microseconds, previous + 1).
// Thread-safe.
uint64_t NextSeq();
}  // namespace detail

}  // namespace trace::api

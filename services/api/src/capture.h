// EPCIS 2.0 capture as GS1's REST binding describes it
// (shared/testdata/epcis/epcis-rest-openapi.yaml, /capture):
//
//   POST /capture  (an EPCISDocument)      -> CreateCaptureJob, then 202 Accepted,
//                                             Location: /capture/{captureID}
//   a worker                               -> ProcessCaptureJob
//   GET /capture/{captureID}               -> CaptureJobJson (the CaptureJob document)
//
// A job's events become envelopes of the organization's signer device
// (org, "dashboard") through SubmitEvents (event_submitter.h), so they are
// checked and stored exactly like a device's and become leaves of the log.
//
// What is refused up front (CreateCaptureJob, the 4xx of the POST):
//   ResourceExhausted  more than kMaxCaptureBytes, or more than
//                      kMaxCaptureEvents events (413 in the binding)
//   InvalidArgument    not strict JSON (trace/common/jcs.h), not an
//                      EPCISDocument (@context, type, schemaVersion,
//                      creationDate, epcisHeader, members, as
//                      epcis::ValidateEpcisDocument checks them, events aside),
//                      no epcisBody.eventList or an empty one
// Individual events are checked by the worker and refused events are listed
// in the job's "errors", one RFC 7807 problem per event, naming the event's
// index and the JSON path in the document ("$.epcisBody.eventList[3].bizStep").
//
// Partly bad documents, GS1-Capture-Error-Behaviour:
//   rollback (the binding's default, and ours)  nothing of the document is
//       stored when any event is refused. Every event is checked before
//       anything is signed, and all envelopes of a job are stored in one
//       transaction, so there is never anything to undo. Why this default:
//       the log is append-only, and events carry no key the platform could
//       deduplicate on; if the valid part were kept, a client fixing one bad
//       event and resending the document would store the rest twice, for
//       ever. All-or-nothing makes "fix and resend" safe.
//   proceed  the valid events are stored, the refused ones listed; the client
//       must then resend only the refused events.
//
// Compact forms: GS1's examples name extension members with prefixes that the
// document's @context defines ("example:myField"). An envelope's events carry
// no document, so when the document's @context holds more than GS1's standard
// context, that @context is copied into each event that has none of its own
// (EPCIS 2.0 allows an event-level @context), and the events stay meaningful
// on their own. The document header (sender, receiver, epcisHeader master
// data) is checked but not stored apart from the job's copy of the document.
//
// Crash safety: a job is claimed (pending -> running) before it is processed.
// Before each store attempt the planned envelopes (seq, sent, events) are
// committed to the job row; a job whose worker died is claimed again once it
// has been running for `stale_after`, re-signs the same envelopes to the same
// bytes, and the store answers them "duplicate": no event is stored twice.
//
// All functions block on `conn` (run them on trace-api's database threads,
// DbPool) and need no transaction open on it. Thread-safe across connections.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>
#include <pqxx/connection>

#include "org_signer.h"
#include "trace/common/status.h"

namespace trace::api {

inline constexpr std::size_t kMaxCaptureBytes = 16 * 1024 * 1024;
inline constexpr std::size_t kMaxCaptureEvents = 10000;
inline constexpr std::chrono::seconds kDefaultCaptureStaleAfter{300};

enum class CaptureErrorBehaviour { kRollback, kProceed };

// The GS1-Capture-Error-Behaviour header: "rollback" or "proceed"; an absent
// (empty) header is rollback. InvalidArgument for anything else (the binding
// also lists "all", which it never defines; it is refused).
[[nodiscard]] Result<CaptureErrorBehaviour> ParseCaptureErrorBehaviour(std::string_view header);

// Checks `document_text` up front (see the top of this file) and stores a
// pending job for `org`. Returns the captureID ("cap-" + 32 hex digits).
// Errors: InvalidArgument / ResourceExhausted for the document (4xx),
// NotFound when the organization does not exist, Unavailable when the
// database fails.
[[nodiscard]] Result<std::string> CreateCaptureJob(pqxx::connection& conn, std::string_view org,
                                                   std::string_view document_text,
                                                   CaptureErrorBehaviour behaviour = CaptureErrorBehaviour::kRollback);

// Claims the job `capture_id` (pending, or running for longer than
// `stale_after`: its worker died) and processes it: events -> SubmitEvents,
// then the job is finished as succeeded (every event stored) or failed (the
// errors listed; what was stored depends on the error behaviour). Returns OK
// also when the job is not claimable (finished, or another worker has it).
// Unavailable when the database fails; the job then stays running and is
// claimed again after `stale_after`. A signer that cannot sign (key mismatch,
// revoked) fails the job with a job-level error, and returns OK.
Status ProcessCaptureJob(pqxx::connection& conn, OrgSigner& signer, std::string_view capture_id,
                         std::chrono::seconds stale_after = kDefaultCaptureStaleAfter);

// Processes up to `max_jobs` claimable jobs, oldest first (for a worker that
// runs now and then, and at start-up to recover jobs of a crashed process).
// Returns how many it processed, or the first error.
[[nodiscard]] Result<std::size_t> ProcessPendingCaptureJobs(
    pqxx::connection& conn, OrgSigner& signer, std::size_t max_jobs = 100,
    std::chrono::seconds stale_after = kDefaultCaptureStaleAfter);

// The CaptureJob document of GS1's binding for `capture_id` of `org`:
//   {"captureID", "createdAt", "finishedAt" (once finished), "running",
//    "success", "captureErrorBehaviour", "errors": [RFC 7807 problems, each
//    with "type", "title", "status", "detail", and "index", "path" for an
//    event], "eventCount", "storedEvents", "envelopes": [hex ids]}
// NotFound when there is no such job or it belongs to another organization
// (the same answer, so ids of other organizations cannot be probed).
[[nodiscard]] Result<boost::json::value> CaptureJobJson(pqxx::connection& conn, std::string_view org,
                                                        std::string_view capture_id);

// The events of an EPCISDocument as they are stored: epcisBody.eventList,
// each with the document's @context added as described above. For tests and
// for the worker; `document` must have passed CreateCaptureJob's checks.
std::vector<boost::json::value> CaptureEvents(const boost::json::value& document);

}  // namespace trace::api

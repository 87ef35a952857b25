// The envelope a device signs and publishes (PROTOCOL.md §3), the reasons a
// gateway gives for refusing one (§4), and the MQTT topics they travel on (§2).
//
// ParseEnvelope checks what can be checked from the bytes alone, in this order:
//   size           -> too_large  (more than kMaxEnvelopeBytes)
//   strict JSON    -> malformed  (not UTF-8, not JSON, not an object; see jcs.h)
//   envelope shape -> schema     (detail names the failing JSON path)
// It does not validate the EPCIS content of the events beyond each having a
// string `type` (the EPCIS validator does), nor the topic, the device's key,
// `seq` ordering or the clock (the gateway does, with CheckTopic,
// VerifyEnvelopeSignature and its store). schemas/json/envelope.schema.json
// states the same shape as a JSON Schema.
//
// Example (gateway):
//   auto env = trace::ParseEnvelope(payload);
//   if (!env) return Reject(env.error());                 // reason + detail
//   if (auto t = trace::CheckTopic(*env, topic); !t) return Reject(t.error());
//   if (!trace::VerifyEnvelopeSignature(*env, device_key)) return Reject({Reason::kBadSignature, "..."});
//   store(env->id, env->canonical_bytes, ...);
//
// Example (device):
//   auto env = trace::SignEnvelope(unsigned_object, device_key);
//   if (env) mqtt.publish(trace::UpTopic(env->org, env->device), env->canonical_bytes);
//
// All functions are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "trace/common/ed25519.h"
#include "trace/common/status.h"

namespace trace {

// Why a gateway refused a message; the receipt's `reason`.
enum class Reason {
  kMalformed,      // not a UTF-8 JSON object
  kTooLarge,       // more than kMaxEnvelopeBytes
  kSchema,         // envelope or event shape; detail names the path
  kTopicMismatch,  // org/device differ from the topic's
  kUnknownDevice,
  kRevokedDevice,
  kBadSignature,
  kSeqReused,      // a lower or equal seq with different content
  kClockSkew,      // `sent` or an eventTime too far in the future
};

// The wire name: "malformed", "too_large", "schema", "topic_mismatch",
// "unknown_device", "revoked_device", "bad_signature", "seq_reused", "clock_skew".
std::string_view ReasonName(Reason reason);
// The inverse of ReasonName; nullopt for anything else (case-sensitive).
std::optional<Reason> ParseReason(std::string_view name);

// A refusal: the reason and free text for people ("$.events[2].type: missing").
struct Rejection {
  Reason reason;
  std::string detail;

  friend bool operator==(const Rejection&, const Rejection&) = default;
};

// The Status a rejection maps onto (for logs and HTTP answers): schema-like
// reasons are InvalidArgument, too_large ResourceExhausted, unknown_device
// NotFound, revoked_device FailedPrecondition, bad_signature Unauthenticated,
// seq_reused FailedPrecondition. The message is "reason: detail".
Status RejectionStatus(const Rejection& rejection);

// A value or the Rejection saying why there is none.
template <typename T>
using Checked = std::expected<T, Rejection>;

inline constexpr size_t kMaxEnvelopeBytes = 256 * 1024;
inline constexpr size_t kMaxEventsPerEnvelope = 256;
inline constexpr int kEnvelopeVersion = 1;
// seq runs from 1 to kMaxSeq = 2^53 - 1.
inline constexpr uint64_t kMaxSeq = (uint64_t{1} << 53) - 1;

// ^[a-z0-9][a-z0-9-]{1,31}$
bool IsOrgId(std::string_view s);
// ^[a-z0-9][a-z0-9._-]{0,63}$
bool IsDeviceId(std::string_view s);

// A parsed, shape-checked envelope. Produced by ParseEnvelope or SignEnvelope;
// the derived fields (signature, signing_bytes, canonical_bytes, id) are
// consistent with `json` only as produced, so treat the struct as read-only.
struct Envelope {
  int v = kEnvelopeVersion;
  std::string org;
  std::string device;
  uint64_t seq = 0;
  std::string sent;            // RFC 3339 UTC with milliseconds, as written
  boost::json::array events;   // 1..kMaxEventsPerEnvelope objects, each with a string `type`
  std::string sig;             // base64url text as written
  std::string signature;       // the 64 signature bytes `sig` decodes to
  boost::json::object json;    // the whole envelope object, `sig` included

  std::string signing_bytes;    // RFC 8785 bytes of `json` without `sig`: what the device signed
  std::string canonical_bytes;  // RFC 8785 bytes of the whole `json`: the Merkle leaf data
  std::string id;               // lowercase hex SHA-256 of canonical_bytes
};

// Parses and shape-checks a raw MQTT payload (see the order at the top).
// On failure the Rejection is too_large, malformed or schema.
[[nodiscard]] Checked<Envelope> ParseEnvelope(std::string_view raw);

// Shape-checks an already parsed object (numbers must obey jcs.h's rules, as
// ParseJsonStrict's output does; others give schema). Fails with schema only.
[[nodiscard]] Checked<Envelope> EnvelopeFromJson(boost::json::object object);

// RFC 8785 bytes of the envelope without `sig`, of the whole envelope, and the
// envelope id (hex SHA-256 of the latter). Same as the fields of the struct.
inline const std::string& SigningBytes(const Envelope& e) { return e.signing_bytes; }
inline const std::string& CanonicalBytes(const Envelope& e) { return e.canonical_bytes; }
inline const std::string& EnvelopeId(const Envelope& e) { return e.id; }

// The id a parsed-or-not message gets: hex SHA-256 of the canonical bytes when
// `raw` is a strict JSON object within kMaxEnvelopeBytes (so it equals the
// envelope id of any well-formed envelope), otherwise hex SHA-256 of `raw` itself.
std::string MessageId(std::string_view raw);

// True when `e.signature` is a valid Ed25519 signature of SigningBytes(e) under
// `public_key` (32 raw bytes).
bool VerifyEnvelopeSignature(const Envelope& e, std::string_view public_key);

// Signs `unsigned_envelope` (any existing `sig` member is replaced) with `key`
// and returns the parsed, shape-checked result. Its canonical_bytes are what a
// device publishes. Returns InvalidArgument ("schema: $.org: ...") when the
// object is not a valid envelope.
[[nodiscard]] Result<Envelope> SignEnvelope(boost::json::object unsigned_envelope, const Ed25519PrivateKey& key);

// Topics (PROTOCOL.md §2).
struct DeviceTopic {
  std::string org;
  std::string device;
};
std::string UpTopic(std::string_view org, std::string_view device);       // trace/v1/{org}/{device}/up
std::string ReceiptTopic(std::string_view org, std::string_view device);  // trace/v1/{org}/{device}/receipt
// Splits "trace/v1/{org}/{device}/up"; InvalidArgument unless the topic has
// exactly that form with a valid org id and device id.
[[nodiscard]] Result<DeviceTopic> ParseUpTopic(std::string_view topic);

// Succeeds when `topic` is the envelope's own up topic; otherwise topic_mismatch
// naming both.
[[nodiscard]] Checked<void> CheckTopic(const Envelope& e, std::string_view topic);

namespace detail {
// The value of `v` when it is a JSON number with an integral value in
// [0, 2^53] (int64, uint64, or a double such as 7.0 — JSON Schema's "integer"),
// else nullopt. Shared by the envelope and receipt checks.
std::optional<uint64_t> JsonUnsignedInteger(const boost::json::value& v);
}  // namespace detail

}  // namespace trace

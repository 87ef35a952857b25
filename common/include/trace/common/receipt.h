// The signed receipt a gateway sends back for every message on an up topic
// (PROTOCOL.md §4), and its verification on the device side.
//
// Wire form (members in canonical order once signed):
//   {"at":"...","detail":"...","device":"...","envelope":"<64 hex>","key":"...",
//    "org":"...","reason":"schema","seq":1042,"sig":"<base64url>","status":"rejected","v":1}
//
// Members:
//   v         always 1.
//   org, device  always present. For envelopes that parsed, the envelope's; for
//             messages refused before that (malformed, too_large, schema) or
//             whose org/device disagree with the topic (topic_mismatch), the
//             topic's, because the receipt goes to the topic's receipt topic.
//             No receipt can be sent for a topic that is not
//             trace/v1/{org}/{device}/up with valid ids (ReceiptForMessage fails).
//   seq       present when known: for parsed envelopes, and for refused messages
//             whose top level is a JSON object with a valid `seq` (1..2^53-1).
//   envelope  always present: MessageId(raw) — the envelope id (hex SHA-256 of the
//             canonical bytes) whenever the message is a strict JSON object of at
//             most 256 KiB, else hex SHA-256 of the raw bytes. A device can thus
//             match any receipt to what it sent.
//   status    accepted | duplicate | rejected.
//   reason    present exactly when status is rejected (ReasonName).
//   detail    optional free text, for any status (the gateway reports seq gaps on
//             accepted envelopes here).
//   at        RFC 3339 UTC with milliseconds.
//   key       the id of the platform key that signed (served at GET /api/v1/keys),
//             ^[A-Za-z0-9._:-]{1,64}$.
//   sig       base64url (no padding) Ed25519 signature over the RFC 8785 bytes of
//             the receipt without `sig`.
// schemas/json/receipt.schema.json states the same as a JSON Schema.
//
// Example (gateway):
//   trace::Receipt r = trace::ReceiptForEnvelope(env, trace::ReceiptStatus::kAccepted);
//   r.at = trace::FormatRfc3339Millis(clock.now());
//   r.key = "receipt-2026";
//   auto payload = trace::SignReceipt(r, platform_key);   // sets r.sig
//   mqtt.publish(trace::ReceiptTopic(r.org, r.device), *payload);
//
// Example (device):
//   auto r = trace::ParseAndVerifyReceipt(payload, platform_public_key);
//   if (r && r->status != trace::ReceiptStatus::kRejected) outbox.Remove(r->envelope);
//
// All functions are thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "trace/common/ed25519.h"
#include "trace/common/envelope.h"
#include "trace/common/status.h"

namespace trace {

enum class ReceiptStatus { kAccepted, kDuplicate, kRejected };

// "accepted", "duplicate", "rejected" and back (nullopt for anything else).
std::string_view ReceiptStatusName(ReceiptStatus status);
std::optional<ReceiptStatus> ParseReceiptStatus(std::string_view name);

struct Receipt {
  std::string org;
  std::string device;
  std::optional<uint64_t> seq;
  std::string envelope;  // 64 lowercase hex digits
  ReceiptStatus status = ReceiptStatus::kRejected;
  std::optional<Reason> reason;  // exactly when status is kRejected
  std::optional<std::string> detail;
  std::string at;   // RFC 3339 UTC with milliseconds
  std::string key;  // signing key id
  std::string sig;  // base64url; empty until signed

  friend bool operator==(const Receipt&, const Receipt&) = default;
};

// A receipt for a parsed envelope: org, device, seq and envelope id from `e`.
// `at`, `key` (and for kRejected, `reason`) are left for the caller.
Receipt ReceiptForEnvelope(const Envelope& e, ReceiptStatus status);

// A rejected receipt for a raw message on `topic`: org and device from the
// topic, seq and envelope as described at the top. Returns InvalidArgument
// when the topic is not a valid up topic (no receipt can be addressed).
[[nodiscard]] Result<Receipt> ReceiptForMessage(std::string_view topic, std::string_view raw,
                                                const Rejection& rejection);

// Checks every member's form as described at the top (`sig` only when
// `require_sig`); InvalidArgument naming the JSON path otherwise.
Status ValidateReceipt(const Receipt& r, bool require_sig);

// The receipt as a JSON object, with `sig` when `with_sig` (and `r.sig` is set).
boost::json::object ReceiptToJson(const Receipt& r, bool with_sig);

// Validates `r` (without sig), signs its canonical bytes with `key`, stores the
// signature in `r.sig` and returns the canonical bytes of the signed receipt —
// the MQTT payload. InvalidArgument when `r` is not a valid receipt.
[[nodiscard]] Result<std::string> SignReceipt(Receipt& r, const Ed25519PrivateKey& key);

// Strictly parses (jcs.h) and shape-checks a receipt, without verifying the
// signature. InvalidArgument naming the JSON path on failure.
[[nodiscard]] Result<Receipt> ParseReceipt(std::string_view text);

// True when `r.sig` is a valid signature under `public_key` (32 raw bytes) of
// the canonical bytes of `r` without sig.
bool VerifyReceipt(const Receipt& r, std::string_view public_key);

// ParseReceipt, then VerifyReceipt: Unauthenticated when the signature fails.
[[nodiscard]] Result<Receipt> ParseAndVerifyReceipt(std::string_view text, std::string_view public_key);

}  // namespace trace

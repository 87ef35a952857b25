#include "trace/common/envelope.h"

#include <array>
#include <cmath>
#include <utility>

#include <boost/json.hpp>

#include "trace/common/encoding.h"
#include "trace/common/jcs.h"
#include "trace/common/sha256.h"
#include "trace/common/time.h"

namespace trace {
namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 9> kReasonNames = {
    "malformed",      "too_large",   "schema",     "topic_mismatch", "unknown_device",
    "revoked_device", "bad_signature", "seq_reused", "clock_skew",
};

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

Rejection SchemaError(std::string path, std::string_view what) {
  return Rejection{Reason::kSchema, std::move(path) + ": " + std::string(what)};
}

std::string_view View(const json::string& s) { return {s.data(), s.size()}; }

// Returns the string member `key` of `obj` checked by `valid`, or a schema error.
Checked<std::string> StringMember(const json::object& obj, std::string_view key, bool (*valid)(std::string_view),
                                  std::string_view expectation) {
  const std::string path = JsonPathMember("$", key);
  const json::value* v = obj.if_contains(key);
  if (v == nullptr) return std::unexpected(SchemaError(path, "required member missing"));
  if (!v->is_string() || !valid(View(v->get_string()))) return std::unexpected(SchemaError(path, expectation));
  return std::string(View(v->get_string()));
}

bool IsSignatureText(std::string_view s) {
  auto bytes = Base64UrlDecode(s);
  return bytes && bytes->size() == kEd25519SignatureBytes;
}

constexpr std::array<std::string_view, 7> kEnvelopeMembers = {"v", "org", "device", "seq", "sent", "events", "sig"};

}  // namespace

namespace detail {

std::optional<uint64_t> JsonUnsignedInteger(const json::value& v) {
  constexpr uint64_t kMax = uint64_t{1} << 53;
  if (v.is_int64()) {
    const int64_t i = v.get_int64();
    if (i < 0 || static_cast<uint64_t>(i) > kMax) return std::nullopt;
    return static_cast<uint64_t>(i);
  }
  if (v.is_uint64()) {
    if (v.get_uint64() > kMax) return std::nullopt;
    return v.get_uint64();
  }
  if (v.is_double()) {
    const double d = v.get_double();
    if (!std::isfinite(d) || d < 0 || d > static_cast<double>(kMax) || std::trunc(d) != d) return std::nullopt;
    return static_cast<uint64_t>(d);
  }
  return std::nullopt;
}

}  // namespace detail

std::string_view ReasonName(Reason reason) { return kReasonNames[static_cast<size_t>(reason)]; }

std::optional<Reason> ParseReason(std::string_view name) {
  for (size_t i = 0; i < kReasonNames.size(); ++i) {
    if (kReasonNames[i] == name) return static_cast<Reason>(i);
  }
  return std::nullopt;
}

Status RejectionStatus(const Rejection& r) {
  StatusCode code = StatusCode::kInvalidArgument;
  switch (r.reason) {
    case Reason::kMalformed:
    case Reason::kSchema:
    case Reason::kTopicMismatch:
    case Reason::kClockSkew: code = StatusCode::kInvalidArgument; break;
    case Reason::kTooLarge: code = StatusCode::kResourceExhausted; break;
    case Reason::kUnknownDevice: code = StatusCode::kNotFound; break;
    case Reason::kRevokedDevice:
    case Reason::kSeqReused: code = StatusCode::kFailedPrecondition; break;
    case Reason::kBadSignature: code = StatusCode::kUnauthenticated; break;
  }
  return Status(code, std::string(ReasonName(r.reason)) + ": " + r.detail);
}

bool IsOrgId(std::string_view s) {
  if (s.size() < 2 || s.size() > 32 || !IsLowerAlnum(s[0])) return false;
  for (char c : s.substr(1))
    if (!IsLowerAlnum(c) && c != '-') return false;
  return true;
}

bool IsDeviceId(std::string_view s) {
  if (s.empty() || s.size() > 64 || !IsLowerAlnum(s[0])) return false;
  for (char c : s.substr(1))
    if (!IsLowerAlnum(c) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

Checked<Envelope> EnvelopeFromJson(json::object object) {
  Envelope e;
  {
    const json::value* v = object.if_contains("v");
    if (v == nullptr) return std::unexpected(SchemaError("$.v", "required member missing"));
    auto n = detail::JsonUnsignedInteger(*v);
    if (!n || *n != kEnvelopeVersion) return std::unexpected(SchemaError("$.v", "must be 1"));
  }
  auto org = StringMember(object, "org", IsOrgId, "must match ^[a-z0-9][a-z0-9-]{1,31}$");
  if (!org) return std::unexpected(org.error());
  e.org = std::move(*org);
  auto device = StringMember(object, "device", IsDeviceId, "must match ^[a-z0-9][a-z0-9._-]{0,63}$");
  if (!device) return std::unexpected(device.error());
  e.device = std::move(*device);
  {
    const json::value* v = object.if_contains("seq");
    if (v == nullptr) return std::unexpected(SchemaError("$.seq", "required member missing"));
    auto n = detail::JsonUnsignedInteger(*v);
    if (!n || *n < 1 || *n > kMaxSeq) return std::unexpected(SchemaError("$.seq", "must be an integer from 1 to 2^53-1"));
    e.seq = *n;
  }
  auto sent = StringMember(object, "sent", IsRfc3339UtcMillis,
                           "must be an RFC 3339 UTC time with milliseconds (2026-11-23T08:15:30.250Z)");
  if (!sent) return std::unexpected(sent.error());
  e.sent = std::move(*sent);
  {
    const json::value* v = object.if_contains("events");
    if (v == nullptr) return std::unexpected(SchemaError("$.events", "required member missing"));
    if (!v->is_array()) return std::unexpected(SchemaError("$.events", "must be an array"));
    const json::array& events = v->get_array();
    if (events.empty() || events.size() > kMaxEventsPerEnvelope) {
      return std::unexpected(SchemaError("$.events", "must hold 1 to 256 events"));
    }
    for (size_t i = 0; i < events.size(); ++i) {
      const std::string path = JsonPathIndex("$.events", i);
      if (!events[i].is_object()) return std::unexpected(SchemaError(path, "must be an object"));
      const json::value* type = events[i].get_object().if_contains("type");
      if (type == nullptr) return std::unexpected(SchemaError(path + ".type", "required member missing"));
      if (!type->is_string() || type->get_string().empty()) {
        return std::unexpected(SchemaError(path + ".type", "must be a non-empty string"));
      }
    }
    e.events = events;
  }
  auto sig = StringMember(object, "sig", IsSignatureText, "must be base64url without padding of 64 bytes");
  if (!sig) return std::unexpected(sig.error());
  e.sig = std::move(*sig);
  e.signature = *Base64UrlDecode(e.sig);
  for (const auto& kv : object) {
    const std::string_view key(kv.key().data(), kv.key().size());
    bool known = false;
    for (std::string_view m : kEnvelopeMembers) known = known || m == key;
    if (!known) return std::unexpected(SchemaError(JsonPathMember("$", key), "unknown member"));
  }

  auto canonical = Canonicalize(object);
  if (!canonical) return std::unexpected(Rejection{Reason::kSchema, canonical.error().message()});
  json::object unsigned_object = object;
  unsigned_object.erase("sig");
  auto signing = Canonicalize(unsigned_object);
  if (!signing) return std::unexpected(Rejection{Reason::kSchema, signing.error().message()});
  e.canonical_bytes = std::move(*canonical);
  e.signing_bytes = std::move(*signing);
  e.id = HashHex(Sha256(e.canonical_bytes));
  e.json = std::move(object);
  return e;
}

Checked<Envelope> ParseEnvelope(std::string_view raw) {
  if (raw.size() > kMaxEnvelopeBytes) {
    return std::unexpected(Rejection{Reason::kTooLarge, std::to_string(raw.size()) + " bytes, limit " +
                                                            std::to_string(kMaxEnvelopeBytes)});
  }
  auto parsed = ParseJsonStrict(raw);
  if (!parsed) return std::unexpected(Rejection{Reason::kMalformed, parsed.error().message()});
  if (!parsed->is_object()) return std::unexpected(Rejection{Reason::kMalformed, "$: not a JSON object"});
  return EnvelopeFromJson(std::move(parsed->get_object()));
}

std::string MessageId(std::string_view raw) {
  if (raw.size() <= kMaxEnvelopeBytes) {
    auto parsed = ParseJsonStrict(raw);
    if (parsed && parsed->is_object()) {
      auto canonical = Canonicalize(*parsed);
      if (canonical) return HashHex(Sha256(*canonical));
    }
  }
  return HashHex(Sha256(raw));
}

bool VerifyEnvelopeSignature(const Envelope& e, std::string_view public_key) {
  return Ed25519Verify(public_key, e.signing_bytes, e.signature);
}

Result<Envelope> SignEnvelope(json::object unsigned_envelope, const Ed25519PrivateKey& key) {
  unsigned_envelope.erase("sig");
  auto signing = Canonicalize(unsigned_envelope);
  if (!signing) return Fail(signing.error().WithContext("schema"));
  unsigned_envelope["sig"] = Base64UrlEncode(key.Sign(*signing));
  auto e = EnvelopeFromJson(std::move(unsigned_envelope));
  if (!e) return Fail(RejectionStatus(e.error()));
  // The signature covered bytes a strict parser must accept too; a device must
  // never publish what a gateway refuses as malformed.
  auto reparsed = ParseEnvelope(e->canonical_bytes);
  if (!reparsed) return Fail(RejectionStatus(reparsed.error()));
  return std::move(*e);
}

std::string UpTopic(std::string_view org, std::string_view device) {
  return "trace/v1/" + std::string(org) + "/" + std::string(device) + "/up";
}

std::string ReceiptTopic(std::string_view org, std::string_view device) {
  return "trace/v1/" + std::string(org) + "/" + std::string(device) + "/receipt";
}

Result<DeviceTopic> ParseUpTopic(std::string_view topic) {
  constexpr std::string_view kPrefix = "trace/v1/", kSuffix = "/up";
  if (!topic.starts_with(kPrefix) || !topic.ends_with(kSuffix) || topic.size() < kPrefix.size() + kSuffix.size()) {
    return Fail(InvalidArgument("topic \"" + std::string(topic) + "\": not trace/v1/{org}/{device}/up"));
  }
  const std::string_view middle = topic.substr(kPrefix.size(), topic.size() - kPrefix.size() - kSuffix.size());
  const size_t slash = middle.find('/');
  if (slash == std::string_view::npos) {
    return Fail(InvalidArgument("topic \"" + std::string(topic) + "\": not trace/v1/{org}/{device}/up"));
  }
  DeviceTopic t{std::string(middle.substr(0, slash)), std::string(middle.substr(slash + 1))};
  if (!IsOrgId(t.org)) return Fail(InvalidArgument("topic \"" + std::string(topic) + "\": bad organization id"));
  if (!IsDeviceId(t.device)) return Fail(InvalidArgument("topic \"" + std::string(topic) + "\": bad device id"));
  return t;
}

Checked<void> CheckTopic(const Envelope& e, std::string_view topic) {
  const std::string want = UpTopic(e.org, e.device);
  if (topic == want) return {};
  return std::unexpected(Rejection{Reason::kTopicMismatch, "envelope is for " + want + ", received on " +
                                                               std::string(topic)});
}

}  // namespace trace

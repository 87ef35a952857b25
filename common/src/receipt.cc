#include "trace/common/receipt.h"

#include <array>
#include <utility>

#include <boost/json.hpp>

#include "trace/common/encoding.h"
#include "trace/common/jcs.h"
#include "trace/common/time.h"

namespace trace {
namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 3> kStatusNames = {"accepted", "duplicate", "rejected"};
constexpr std::array<std::string_view, 11> kReceiptMembers = {
    "v", "org", "device", "seq", "envelope", "status", "reason", "detail", "at", "key", "sig"};

bool IsEnvelopeHex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool IsKeyId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool IsSignatureText(std::string_view s) {
  auto bytes = Base64UrlDecode(s);
  return bytes && bytes->size() == kEd25519SignatureBytes;
}

Status PathError(std::string_view member, std::string_view what) {
  return InvalidArgument(JsonPathMember("$", member) + ": " + std::string(what));
}

// The string member `key`; NotFound when absent, InvalidArgument when not a string.
Result<std::string> GetString(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  if (v == nullptr) return Fail(NotFound(JsonPathMember("$", key) + ": required member missing"));
  if (!v->is_string()) return Fail(PathError(key, "must be a string"));
  return std::string(v->get_string().data(), v->get_string().size());
}

}  // namespace

std::string_view ReceiptStatusName(ReceiptStatus status) { return kStatusNames[static_cast<size_t>(status)]; }

std::optional<ReceiptStatus> ParseReceiptStatus(std::string_view name) {
  for (size_t i = 0; i < kStatusNames.size(); ++i)
    if (kStatusNames[i] == name) return static_cast<ReceiptStatus>(i);
  return std::nullopt;
}

Receipt ReceiptForEnvelope(const Envelope& e, ReceiptStatus status) {
  Receipt r;
  r.org = e.org;
  r.device = e.device;
  r.seq = e.seq;
  r.envelope = e.id;
  r.status = status;
  return r;
}

Result<Receipt> ReceiptForMessage(std::string_view topic, std::string_view raw, const Rejection& rejection) {
  auto t = ParseUpTopic(topic);
  if (!t) return Fail(t.error().WithContext("no receipt can be addressed"));
  Receipt r;
  r.org = std::move(t->org);
  r.device = std::move(t->device);
  r.envelope = MessageId(raw);
  r.status = ReceiptStatus::kRejected;
  r.reason = rejection.reason;
  r.detail = rejection.detail;
  if (raw.size() <= kMaxEnvelopeBytes) {
    auto parsed = ParseJsonStrict(raw);
    if (parsed && parsed->is_object()) {
      if (const json::value* seq = parsed->get_object().if_contains("seq")) {
        auto n = detail::JsonUnsignedInteger(*seq);
        if (n && *n >= 1 && *n <= kMaxSeq) r.seq = *n;
      }
    }
  }
  return r;
}

Status ValidateReceipt(const Receipt& r, bool require_sig) {
  if (!IsOrgId(r.org)) return PathError("org", "must match ^[a-z0-9][a-z0-9-]{1,31}$");
  if (!IsDeviceId(r.device)) return PathError("device", "must match ^[a-z0-9][a-z0-9._-]{0,63}$");
  if (r.seq && (*r.seq < 1 || *r.seq > kMaxSeq)) return PathError("seq", "must be an integer from 1 to 2^53-1");
  if (!IsEnvelopeHex(r.envelope)) return PathError("envelope", "must be 64 lowercase hex digits");
  if (r.status == ReceiptStatus::kRejected && !r.reason) return PathError("reason", "required when rejected");
  if (r.status != ReceiptStatus::kRejected && r.reason) return PathError("reason", "only allowed when rejected");
  if (!IsRfc3339UtcMillis(r.at)) return PathError("at", "must be an RFC 3339 UTC time with milliseconds");
  if (!IsKeyId(r.key)) return PathError("key", "must match ^[A-Za-z0-9._:-]{1,64}$");
  if (require_sig && !IsSignatureText(r.sig)) return PathError("sig", "must be base64url without padding of 64 bytes");
  return OkStatus();
}

json::object ReceiptToJson(const Receipt& r, bool with_sig) {
  json::object o;
  o["v"] = 1;
  o["org"] = r.org;
  o["device"] = r.device;
  if (r.seq) o["seq"] = static_cast<int64_t>(*r.seq);
  o["envelope"] = r.envelope;
  o["status"] = ReceiptStatusName(r.status);
  if (r.reason) o["reason"] = ReasonName(*r.reason);
  if (r.detail) o["detail"] = *r.detail;
  o["at"] = r.at;
  o["key"] = r.key;
  if (with_sig && !r.sig.empty()) o["sig"] = r.sig;
  return o;
}

Result<std::string> SignReceipt(Receipt& r, const Ed25519PrivateKey& key) {
  if (Status s = ValidateReceipt(r, /*require_sig=*/false); !s.ok()) return Fail(s.WithContext("receipt"));
  auto unsigned_bytes = Canonicalize(ReceiptToJson(r, /*with_sig=*/false));
  if (!unsigned_bytes) return Fail(unsigned_bytes.error().WithContext("receipt"));
  r.sig = Base64UrlEncode(key.Sign(*unsigned_bytes));
  return Canonicalize(ReceiptToJson(r, /*with_sig=*/true));
}

Result<Receipt> ParseReceipt(std::string_view text) {
  auto parsed = ParseJsonStrict(text);
  if (!parsed) return Fail(parsed.error().WithContext("receipt"));
  if (!parsed->is_object()) return Fail(InvalidArgument("receipt: $: not a JSON object"));
  const json::object& o = parsed->get_object();
  for (const auto& kv : o) {
    const std::string_view key(kv.key().data(), kv.key().size());
    bool known = false;
    for (std::string_view m : kReceiptMembers) known = known || m == key;
    if (!known) return Fail(PathError(key, "unknown member").WithContext("receipt"));
  }
  const auto fail = [](Status s) { return Fail(s.WithContext("receipt")); };
  Receipt r;
  {
    const json::value* v = o.if_contains("v");
    if (v == nullptr) return fail(PathError("v", "required member missing"));
    auto n = detail::JsonUnsignedInteger(*v);
    if (!n || *n != 1) return fail(PathError("v", "must be 1"));
  }
  // Required strings first, then the optional members.
  for (auto [name, field] : {std::pair<std::string_view, std::string*>{"org", &r.org},
                             {"device", &r.device},
                             {"envelope", &r.envelope},
                             {"at", &r.at},
                             {"key", &r.key},
                             {"sig", &r.sig}}) {
    auto s = GetString(o, name);
    if (!s) return fail(s.error().code() == StatusCode::kNotFound ? InvalidArgument(s.error().message()) : s.error());
    *field = std::move(*s);
  }
  auto status = GetString(o, "status");
  if (!status) return fail(InvalidArgument(status.error().message()));
  auto parsed_status = ParseReceiptStatus(*status);
  if (!parsed_status) return fail(PathError("status", "must be accepted, duplicate or rejected"));
  r.status = *parsed_status;
  if (const json::value* seq = o.if_contains("seq")) {
    auto n = detail::JsonUnsignedInteger(*seq);
    if (!n || *n < 1 || *n > kMaxSeq) return fail(PathError("seq", "must be an integer from 1 to 2^53-1"));
    r.seq = *n;
  }
  if (o.contains("reason")) {
    auto reason = GetString(o, "reason");
    if (!reason) return fail(reason.error());
    auto parsed_reason = ParseReason(*reason);
    if (!parsed_reason) return fail(PathError("reason", "not a known reason"));
    r.reason = *parsed_reason;
  }
  if (o.contains("detail")) {
    auto d = GetString(o, "detail");
    if (!d) return fail(d.error());
    r.detail = std::move(*d);
  }
  if (Status s = ValidateReceipt(r, /*require_sig=*/true); !s.ok()) return fail(s);
  return r;
}

bool VerifyReceipt(const Receipt& r, std::string_view public_key) {
  auto signature = Base64UrlDecode(r.sig);
  if (!signature) return false;
  auto bytes = Canonicalize(ReceiptToJson(r, /*with_sig=*/false));
  if (!bytes) return false;
  return Ed25519Verify(public_key, *bytes, *signature);
}

Result<Receipt> ParseAndVerifyReceipt(std::string_view text, std::string_view public_key) {
  auto r = ParseReceipt(text);
  if (!r) return r;
  if (!VerifyReceipt(*r, public_key)) {
    return Fail(Unauthenticated("receipt for envelope " + r->envelope + ": bad signature (key " + r->key + ")"));
  }
  return r;
}

}  // namespace trace

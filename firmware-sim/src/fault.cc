#include "fault.h"

#include <algorithm>

#include <boost/json.hpp>

#include "trace/common/encoding.h"
#include "trace/common/jcs.h"
#include "trace/common/receipt.h"
#include "trace/common/time.h"

namespace trace::devicesim {
namespace {

boost::json::array OneReading(std::chrono::system_clock::time_point t) {
  return boost::json::array{boost::json::object{
      {"type", "ObjectEvent"},
      {"eventTime", FormatRfc3339Millis(t)},
      {"eventTimeZoneOffset", "+01:00"},
      {"action", "OBSERVE"},
      {"bizStep", "sensor_reporting"},
      {"readPoint", {{"id", "urn:epc:id:sgln:4098765.00001.COLD"}}},
      {"sensorElementList",
       boost::json::array{{{"sensorReport", boost::json::array{{{"type", "Temperature"}, {"value", 5.2},
                                                               {"uom", "CEL"}}}}}}}}};
}

Result<std::string> Signed(boost::json::object o, const Ed25519PrivateKey& key) {
  auto env = SignEnvelope(std::move(o), key);
  if (!env) return Fail(env.error());
  return env->canonical_bytes;
}

// Waits for a verified receipt naming `id` on the queue.
std::optional<Receipt> AwaitReceipt(ReceiptQueue& queue, const std::vector<std::string>& keys, const std::string& id,
                                    std::chrono::steady_clock::time_point deadline, std::ostream& err) {
  while (auto in = queue.PopUntil(deadline)) {
    for (const auto& k : keys) {
      auto r = ParseAndVerifyReceipt(in->payload, k);
      if (r && r->envelope == id) return *r;
    }
    err << "ignored a receipt that does not verify or is for another message\n";
  }
  return std::nullopt;
}

}  // namespace

std::vector<std::string> FaultKinds() {
  return {"malformed",  "too_large",  "schema",        "topic_mismatch", "bad_signature",
          "seq_reused", "clock_skew", "unknown_device", "revoked_device"};
}

Result<std::string> FaultPayload(std::string_view kind, const std::string& org, const std::string& device,
                                 const Ed25519PrivateKey& key, uint64_t seq, std::chrono::system_clock::time_point now) {
  if (kind == "malformed") return std::string("{\"v\":1,\"org\":\"" + org + "\",\"seq\":") ;
  if (kind == "too_large") {
    auto o = UnsignedEnvelope(org, device, seq, now, OneReading(now));
    // 1 KiB over the gateway's limit, but under the broker's max_packet_size
    // (deploy/mosquitto: 260 KiB), which closes the connection of a client
    // sending more: a bigger message would never reach the gateway.
    std::string bytes = boost::json::serialize(o);
    o["padding"] = std::string(kMaxEnvelopeBytes + 1024 - bytes.size(), 'x');
    return boost::json::serialize(o);
  }
  if (kind == "schema") {
    // SignEnvelope shape-checks, so sign the canonical bytes by hand: the
    // signature is right, the shape (events: 1..256 items) is not.
    auto o = UnsignedEnvelope(org, device, seq, now, {});
    auto bytes = Canonicalize(o);
    if (!bytes) return Fail(bytes.error());
    o["sig"] = Base64UrlEncode(key.Sign(*bytes));
    return boost::json::serialize(o);
  }
  if (kind == "topic_mismatch") return Signed(UnsignedEnvelope(org, device + "-other", seq, now, OneReading(now)), key);
  if (kind == "clock_skew") {
    auto later = now + std::chrono::hours(24);
    return Signed(UnsignedEnvelope(org, device, seq, later, OneReading(later)), key);
  }
  if (kind == "bad_signature") {
    auto env = SignEnvelope(UnsignedEnvelope(org, device, seq, now, OneReading(now)), key);
    if (!env) return Fail(env.error());
    std::string sig = env->signature;
    sig[10] = static_cast<char>(sig[10] ^ 0x01);
    boost::json::object o = env->json;
    o["sig"] = Base64UrlEncode(sig);
    return boost::json::serialize(o);
  }
  return Fail(InvalidArgument("no fixed payload for fault kind \"" + std::string(kind) + "\""));
}

int RunFault(const FaultOptions& o, const SenderOptions& so, const AdminClient& admin, std::ostream& out,
             std::ostream& err) {
  auto kinds = FaultKinds();
  if (std::find(kinds.begin(), kinds.end(), o.kind) == kinds.end()) {
    err << "trace-devicesim fault: unknown kind \"" << o.kind << "\"\n";
    return 2;
  }
  auto fail = [&](const Status& s) {
    err << "trace-devicesim fault " << o.kind << ": " << s.message() << "\n";
    return 1;
  };
  bool privileged = o.kind == "unknown_device" || o.kind == "revoked_device";
  if (privileged && o.privileged.username.empty()) {
    err << "trace-devicesim fault " << o.kind
        << ": a device cannot produce this reason itself (the broker's ACL and trace-admin keep device logins and "
           "device rows together); give --privileged-username/--privileged-password of a broker test account "
           "that may publish to any up topic and read any receipt topic\n";
    return 2;
  }
  if (o.register_devices) {
    auto r = admin.OrgCreate(o.org, "Fault injection");
    if (!r && r.error().code() != StatusCode::kAlreadyExists) return fail(r.error());
  }
  std::string device = o.device;
  if (o.kind == "revoked_device") device += "-revoked-" + std::to_string(std::time(nullptr));
  auto key = DeviceState::Keygen(o.state_dir, o.org, device);
  if (!key) return fail(key.error());
  auto dev = DeviceState::Open(o.state_dir, o.org, device);
  if (!dev) return fail(dev.error());
  if ((o.register_devices || o.kind == "revoked_device") && !(*dev)->ReadCredentials()) {
    if (auto c = admin.DeviceRegister(**dev); !c) return fail(c.error());
  }
  auto deadline = [&] { return std::chrono::steady_clock::now() + o.timeout; };
  auto now = std::chrono::system_clock::now();
  std::string topic = UpTopic((*dev)->org(), (*dev)->device());
  std::string payload;
  std::unique_ptr<Sender> sender;
  ReceiptQueue queue;
  std::unique_ptr<MqttLink> link;

  if (privileged) {
    std::string target = device;
    if (o.kind == "unknown_device") target = o.device + "-unregistered";
    if (o.kind == "revoked_device") {
      auto r = admin.DeviceRevoke(o.org, device);
      if (!r) return fail(r.error());
      err << "revoked " << o.org << "/" << device << "\n";
    }
    auto l = MqttLink::ConnectAs(so.mqtt, o.privileged.username, o.org, target, o.privileged, &queue);
    if (!l) return fail(l.error());
    link = std::move(*l);
    topic = UpTopic(o.org, target);
    auto seq = (*dev)->seq().Next();
    if (!seq) return fail(seq.error());
    auto env = SignEnvelope(UnsignedEnvelope(o.org, target, *seq, now, OneReading(now)), (*dev)->key());
    if (!env) return fail(env.error());
    payload = env->canonical_bytes;
  } else {
    sender = std::make_unique<Sender>(so);
    if (Status s = sender->AddDevice(dev->get()); !s.ok()) return fail(s);
    // Clear what an earlier run left, so its receipts do not interleave.
    sender->RunUntil([&] { return sender->pending() == 0; }, deadline());
    auto seq = (*dev)->seq().Next();
    if (!seq) return fail(seq.error());
    if (o.kind == "seq_reused") {
      auto first = (*dev)->Seal(OneReading(now), now);
      if (!first) return fail(first.error());
      sender->Send(**dev, *first);
      if (!sender->RunUntil([&] { return !sender->IsPending(**dev, first->seq); }, deadline())) {
        return fail(DeadlineExceeded("no receipt for the first envelope"));
      }
      err << "first envelope seq " << first->seq << " answered; now a different one with the same seq\n";
      auto later = now + std::chrono::seconds(1);
      auto second = SignEnvelope(UnsignedEnvelope(o.org, device, first->seq, later, OneReading(later)), (*dev)->key());
      if (!second) return fail(second.error());
      payload = second->canonical_bytes;
    } else {
      auto p = FaultPayload(o.kind, o.org, device, (*dev)->key(), *seq, now);
      if (!p) return fail(p.error());
      payload = *p;
    }
  }
  std::string id = MessageId(payload);
  Status published = link ? link->Publish(topic, payload) : sender->PublishRaw(**dev, topic, payload);
  if (!published.ok()) return fail(published);
  err << "published " << payload.size() << " bytes on " << topic << " (message id " << id << ")\n";

  std::optional<Receipt> receipt;
  if (link) {
    receipt = AwaitReceipt(queue, so.receipt_keys, id, deadline(), err);
  } else {
    sender->on_receipt = [&](const DeviceState&, const ReceiptOutcome& r) {
      if (r.receipt && r.receipt->envelope == id) receipt = r.receipt;
    };
    sender->RunUntil([&] { return receipt.has_value(); }, deadline());
  }
  if (!receipt) return fail(DeadlineExceeded("no verified receipt within the timeout"));
  out << boost::json::serialize(ReceiptToJson(*receipt, true)) << "\n";
  bool as_expected = receipt->status == ReceiptStatus::kRejected && receipt->reason &&
                     ReasonName(*receipt->reason) == o.kind;
  if (!as_expected) err << "expected rejected/" << o.kind << "\n";
  return as_expected ? 0 : 1;
}

}  // namespace trace::devicesim

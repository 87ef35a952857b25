#include "sender.h"

#include <algorithm>
#include <cmath>
#include <future>

#include "trace/common/log.h"
#include "trace/common/receipt.h"

namespace trace::devicesim {
using Clock = std::chrono::steady_clock;

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  double rank = std::ceil(p / 100.0 * static_cast<double>(values.size()));
  size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return values[std::min(index, values.size() - 1)];
}

Sender::Sender(SenderOptions options)
    : options_(std::move(options)), rng_(options_.seed != 0 ? options_.seed : std::random_device{}()) {}

Sender::~Sender() {
  // Links first: their Paho threads push into queue_ until disconnected.
  links_.clear();
}

Status Sender::AddDevice(DeviceState* device) { return AddDevices({device}); }

Status Sender::AddDevices(const std::vector<DeviceState*>& devices) {
  constexpr size_t kParallel = 64;
  for (size_t begin = 0; begin < devices.size(); begin += kParallel) {
    size_t end = std::min(devices.size(), begin + kParallel);
    std::vector<std::future<Result<std::unique_ptr<MqttLink>>>> links;
    for (size_t i = begin; i < end; ++i) {
      DeviceState* device = devices[i];
      links.push_back(std::async(std::launch::async, [this, device]() -> Result<std::unique_ptr<MqttLink>> {
        auto credentials = device->ReadCredentials();
        if (!credentials) return Fail(credentials.error());
        return MqttLink::Connect(options_.mqtt, device->org(), device->device(), *credentials, &queue_);
      }));
    }
    Status first;
    for (size_t i = begin; i < end; ++i) {
      auto link = links[i - begin].get();
      if (!link) {
        if (first.ok()) first = link.error();
        continue;
      }
      Attach(devices[i], std::move(*link));
    }
    if (!first.ok()) return first;
  }
  return OkStatus();
}

void Sender::Attach(DeviceState* device, std::unique_ptr<MqttLink> link) {
  std::string name = device->org() + "/" + device->device();
  devices_[name] = device;
  links_[name] = std::move(link);
  auto now = Clock::now();
  for (const OutboxEntry& e : device->outbox().List()) {
    Pending& p = pending_[{device, e.seq}];
    p.first_sent = now;
    p.next_due = now;  // ResendDue picks these up at once
  }
}

void Sender::Publish(DeviceState& device, uint64_t seq, const std::string& bytes, Pending& p) {
  auto& link = links_.at(device.org() + "/" + device.device());
  ++p.attempts;
  if (Status s = link->PublishUp(bytes); !s.ok()) {
    log::Warn("publish failed; will re-send", {{"org", device.org()}, {"device", device.device()},
                                                 {"seq", seq}, {"error", s.message()}});
  }
  p.next_due = Clock::now() + BackoffDelay(options_.backoff, p.attempts, rng_);
}

void Sender::Send(DeviceState& device, const Envelope& envelope) {
  Pending& p = pending_[{&device, envelope.seq}];
  p.first_sent = Clock::now();
  ++stats_.sent;
  Publish(device, envelope.seq, envelope.canonical_bytes, p);
}

Status Sender::PublishRaw(DeviceState& device, const std::string& topic, const std::string& payload) {
  return links_.at(device.org() + "/" + device.device())->Publish(topic, payload);
}

bool Sender::IsPending(const DeviceState& device, uint64_t seq) const { return pending_.contains({&device, seq}); }

void Sender::HandleReceipt(const IncomingReceipt& in) {
  auto it = devices_.find(in.org + "/" + in.device);
  if (it == devices_.end()) return;
  DeviceState& device = *it->second;
  ReceiptOutcome out = device.outbox().ApplyReceipt(in.payload, options_.receipt_keys);
  const Receipt* r = out.receipt ? &*out.receipt : nullptr;
  switch (out.action) {
    case ReceiptAction::kDeleted: {
      auto p = pending_.find({&device, *r->seq});
      if (p != pending_.end()) {
        stats_.latency_ms.push_back(
            std::chrono::duration<double, std::milli>(in.arrived - p->second.first_sent).count());
        pending_.erase(p);
      }
      (r->status == ReceiptStatus::kAccepted ? stats_.accepted : stats_.duplicate)++;
      if (r->detail) log::Info("receipt note", {{"org", r->org}, {"device", r->device}, {"detail", *r->detail}});
      break;
    }
    case ReceiptAction::kRejected: {
      uint64_t seq = r->seq.value_or(0);
      if (!r->seq) {
        for (auto p = pending_.begin(); p != pending_.end(); ++p) {
          if (p->first.first == &device && !device.outbox().Get(p->first.second)) seq = p->first.second;
        }
      }
      pending_.erase({&device, seq});
      ++stats_.rejected;
      std::string reason = r->reason ? std::string(ReasonName(*r->reason)) : "?";
      ++stats_.rejected_by_reason[reason];
      log::Error("envelope rejected; moved to rejected/",
                 {{"org", r->org}, {"device", r->device}, {"seq", seq}, {"reason", reason},
                  {"detail", r->detail.value_or("")}, {"envelope", r->envelope}});
      break;
    }
    default:
      ++stats_.ignored;
      log::Warn("receipt ignored", {{"org", in.org}, {"device", in.device},
                                    {"action", ReceiptActionName(out.action)}, {"detail", out.detail}});
  }
  if (on_receipt) on_receipt(device, out);
}

void Sender::ResendDue(Clock::time_point now) {
  for (auto& [key, p] : pending_) {
    if (p.next_due > now) continue;
    DeviceState& device = *const_cast<DeviceState*>(key.first);
    auto entry = device.outbox().Get(key.second);
    if (!entry) continue;  // removed by a receipt we have not seen through pending_ (cannot happen; be safe)
    if (p.attempts > 0) ++stats_.resent;
    Publish(device, key.second, entry->bytes, p);
  }
}

bool Sender::RunUntil(const std::function<bool()>& done, Clock::time_point deadline) {
  for (;;) {
    if (done()) return true;
    auto now = Clock::now();
    // Receipts that already arrived first, also when the deadline has passed:
    // under load this loop runs late, and re-sending entries whose receipt is
    // waiting in the queue only adds load (seen as thousands of needless
    // re-sends at 1,000 envelopes/s); a load run at full speed calls with a
    // past deadline and would otherwise leave every receipt for the end.
    while (auto early = queue_.PopUntil(now)) HandleReceipt(*early);
    if (done()) return true;
    // Due re-sends too, also past the deadline: a load run that lags its rate
    // calls with past deadlines only, and an envelope lost in a broker or
    // gateway crash would otherwise wait for the final drain (the chaos run
    // saw a receipt p99 of 570 s that way).
    ResendDue(now);
    if (now >= deadline) return false;
    auto wake = deadline;
    for (const auto& [key, p] : pending_) wake = std::min(wake, p.next_due);
    wake = std::min(wake, Clock::now() + std::chrono::milliseconds(200));
    if (auto r = queue_.PopUntil(wake)) {
      HandleReceipt(*r);
      // Drain what else is there without waiting.
      while (auto more = queue_.PopUntil(Clock::now())) HandleReceipt(*more);
    }
  }
}

}  // namespace trace::devicesim

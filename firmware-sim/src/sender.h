// Publishes the outboxes of a set of devices and drives them to empty: sends
// each envelope, applies the receipts that come back (Outbox::ApplyReceipt),
// re-sends what got no receipt after a back-off, and keeps the counts and
// receipt latencies that `scenario` and `load` print.
//
// Single-threaded by design: the caller's thread does everything except the
// hand-off of receipts from Paho's threads (ReceiptQueue). Not thread-safe.
//
// Example:
//   Sender sender({.mqtt = {.url = url}, .receipt_keys = keys});
//   if (auto s = sender.AddDevice(dev.get()); !s.ok()) return s;   // re-sends its old outbox
//   auto env = dev->Seal(events, now);
//   sender.Send(*dev, *env);
//   sender.RunUntil([&] { return sender.pending() == 0; }, deadline);
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "backoff.h"
#include "device_state.h"
#include "mqtt_link.h"
#include "trace/common/status.h"

namespace trace::devicesim {

struct SenderOptions {
  MqttOptions mqtt;
  std::vector<std::string> receipt_keys;  // raw 32-byte platform receipt public keys
  BackoffPolicy backoff;
  uint64_t seed = 0;  // jitter seed; 0 = from std::random_device
};

struct SendStats {
  uint64_t sent = 0;       // first publishes
  uint64_t resent = 0;     // re-sends after a timeout
  uint64_t accepted = 0;
  uint64_t duplicate = 0;
  uint64_t rejected = 0;
  uint64_t ignored = 0;    // receipts that did not verify or match (see ReceiptAction)
  std::map<std::string, uint64_t> rejected_by_reason;
  std::vector<double> latency_ms;  // first publish -> verified accepted/duplicate receipt
};

// The p-th percentile (0..100) of `values` by nearest rank; 0 for none.
double Percentile(std::vector<double> values, double p);

class Sender {
 public:
  explicit Sender(SenderOptions options);
  ~Sender();

  // Connects `device` with its stored credentials and schedules every entry
  // already in its outbox (left by an earlier run) for an immediate re-send.
  // `device` is not owned and must outlive the Sender.
  Status AddDevice(DeviceState* device);

  // AddDevice for many devices, connecting up to 64 at a time in parallel
  // (Paho takes about two seconds per connect once other clients exist, so
  // connecting one after another does not scale). Returns the first error.
  Status AddDevices(const std::vector<DeviceState*>& devices);

  // Publishes a sealed envelope (already in the device's outbox) and tracks it
  // until a verified receipt. A failed publish is not an error: the entry is
  // re-sent after the back-off.
  void Send(DeviceState& device, const Envelope& envelope);

  // Publishes raw bytes on the device's up topic, outside the outbox (fault mode).
  Status PublishRaw(DeviceState& device, const std::string& topic, const std::string& payload);

  // Handles receipts and re-sends until `done()` or `deadline`; true if done.
  bool RunUntil(const std::function<bool()>& done, std::chrono::steady_clock::time_point deadline);

  // Envelopes sent and still without a verified receipt.
  size_t pending() const { return pending_.size(); }
  bool IsPending(const DeviceState& device, uint64_t seq) const;
  const SendStats& stats() const { return stats_; }

  // Called for every receipt that arrives, after it was applied.
  std::function<void(const DeviceState&, const ReceiptOutcome&)> on_receipt;

 private:
  struct Pending {
    std::chrono::steady_clock::time_point first_sent;
    std::chrono::steady_clock::time_point next_due;
    uint32_t attempts = 0;
  };
  using Key = std::pair<const DeviceState*, uint64_t>;

  void Attach(DeviceState* device, std::unique_ptr<MqttLink> link);
  void Publish(DeviceState& device, uint64_t seq, const std::string& bytes, Pending& p);
  void HandleReceipt(const IncomingReceipt& r);
  void ResendDue(std::chrono::steady_clock::time_point now);

  SenderOptions options_;
  std::mt19937_64 rng_;
  ReceiptQueue queue_;  // declared before the links, which push into it
  std::map<std::string, DeviceState*> devices_;               // "org/device" -> device
  std::map<std::string, std::unique_ptr<MqttLink>> links_;    // "org/device" -> its connection
  std::map<Key, Pending> pending_;
  SendStats stats_;
};

}  // namespace trace::devicesim

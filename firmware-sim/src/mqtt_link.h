// One device's MQTT connection (PROTOCOL.md §2): client id and username
// "{org}/{device}", MQTT 3.1.1 with a persistent session (clean session off, so
// the broker keeps the receipt subscription and queues QoS 1 receipts while the
// device is away), automatic reconnect, QoS 1 publishes to the up topic, and the
// receipt topic subscribed again on every (re)connect in case the session was lost.
//
// Paho calls back on its own thread holding a library-wide lock, so the receipt
// handler must only hand the payload off (ReceiptQueue::Push) and return.
//
// Paho throws; every call here catches and returns a Status instead.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "device_state.h"
#include "trace/common/status.h"

namespace trace::devicesim {

// A receipt as it arrived, with the device it came for.
struct IncomingReceipt {
  std::string org;
  std::string device;
  std::string payload;
  std::chrono::steady_clock::time_point arrived;
};

// A bounded-by-nothing, thread-safe hand-off queue from Paho's thread to the
// sender's. Receipts are small and each answers an envelope we sent, so their
// number is bounded by what the sender put in flight.
class ReceiptQueue {
 public:
  void Push(IncomingReceipt r);
  // Waits until an item is there or `deadline` passes; nullopt on timeout.
  std::optional<IncomingReceipt> PopUntil(std::chrono::steady_clock::time_point deadline);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<IncomingReceipt> items_;  // guarded by mu_
};

struct MqttOptions {
  std::string url;  // tcp://127.0.0.1:1883 or ssl://...
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds keep_alive{30};
  int max_inflight = 1000;
  std::string ca_file;  // for ssl:// URLs; empty: system default
};

class MqttLink {
 public:
  // Connects (waiting up to connect_timeout) and subscribes to the receipt
  // topic. Incoming receipts go to `queue`, which must outlive the link.
  // Unauthenticated when the broker refuses the login, Unavailable when it
  // cannot be reached.
  static Result<std::unique_ptr<MqttLink>> Connect(const MqttOptions& options, const std::string& org,
                                                   const std::string& device, const Credentials& credentials,
                                                   ReceiptQueue* queue);
  // The same with another client id (fault mode's privileged test account,
  // which may publish to any up topic and read any receipt topic); receipts on
  // the receipt topic of org/device are still what is subscribed and queued.
  static Result<std::unique_ptr<MqttLink>> ConnectAs(const MqttOptions& options, const std::string& client_id,
                                                     const std::string& org, const std::string& device,
                                                     const Credentials& credentials, ReceiptQueue* queue);
  ~MqttLink();  // disconnects (waiting briefly)
  MqttLink(const MqttLink&) = delete;
  MqttLink& operator=(const MqttLink&) = delete;

  // Publishes `payload` with QoS 1, retain off, without waiting for the PUBACK
  // (which proves nothing about storage anyway). Unavailable while disconnected
  // or when Paho's queue is full; the caller's outbox re-sends later.
  Status Publish(const std::string& topic, const std::string& payload);

  // Publishes `payload` to the device's own up topic.
  Status PublishUp(const std::string& payload);

  bool connected() const;

 private:
  struct Impl;
  explicit MqttLink(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace trace::devicesim

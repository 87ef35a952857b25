// The gateway's MQTT 5 connection (Eclipse Paho C++): consumes the shared
// subscription $share/{group}/trace/v1/+/+/up at QoS 1 and publishes receipts.
//
// Session: a stable client id, clean start off and a session expiry (default
// one day), so the broker keeps queuing our QoS 1 messages while we restart.
// Reconnects run on a thread of ours (not Paho's automatic reconnect, which
// has no jitter): exponential back-off from 0.5 s to 30 s with full jitter.
// After every connect the subscription is made again, also when the CONNACK
// says the session is present: Mosquitto 2.0 keeps a persistent session's
// queued messages across a restart but not its shared subscription.
//
// Hand-off: Paho calls `on_message` on its own thread, one message at a time,
// after it has sent the PUBACK (Paho has no manual acknowledgement). That
// thread is shared by every client of the process and also reads the
// acknowledgements of our receipts and the keep-alive answers, so the handler
// must return quickly: the pipeline waits at most a few milliseconds for room
// and otherwise sheds the message (Pipeline::Submit), which the device
// re-sends. Memory stays bounded by our queues.
//
// Receipts go out on a second connection ("{client_id}-receipts", clean start,
// no subscription), so a resubscription or a lost session of the consuming
// connection never holds up receipts of envelopes already committed.
//
// Thread-safe: Publish may be called from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "trace/common/status.h"

namespace trace::gateway {

class MqttSource {
 public:
  struct Options {
    std::string url;        // tcp://host:port, or ssl://host:port (mqtts:// too) for TLS
    std::string ca_file;    // TLS: the CA bundle that must sign the broker's certificate
                            // (empty: OpenSSL's default trust store); the host name is checked
    std::string client_id;  // stable across restarts
    std::string username, password;
    std::string share_group = "trace-gateways";
    std::chrono::seconds session_expiry = std::chrono::hours(24);
    int receive_maximum = 100;  // unacknowledged QoS 1 messages the broker may send us
  };
  using Handler = std::function<void(std::string topic, std::string payload)>;

  MqttSource(Options options, Handler on_message);
  ~MqttSource();  // Disconnect()

  // Starts connecting in the background (returns at once); the first
  // successful subscription is logged ("subscribed"). InvalidArgument when
  // the URL or options are unusable.
  Status Start();

  // True after the subscription was confirmed on the current connection.
  bool subscribed() const;

  // Publishes `payload` at QoS 1 (retain off). Waits only when too many earlier
  // publications are still unacknowledged. Unavailable while disconnected.
  Status Publish(const std::string& topic, const std::string& payload);

  // From now on messages are no longer handed to the handler (they are
  // acknowledged by Paho but unanswered; devices re-send them). For draining.
  void StopConsuming();

  // Waits up to `timeout` for outstanding publications, then disconnects and
  // stops reconnecting. Idempotent.
  void Disconnect(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Messages dropped because consumption had stopped.
  uint64_t abandoned() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trace::gateway

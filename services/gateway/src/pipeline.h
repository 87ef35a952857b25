// The gateway's stages between MQTT and PostgreSQL, each behind a bounded
// queue so memory stays bounded whatever the load:
//
//   Submit (Paho's thread) -> inbound queue -> N check workers (Checker:
//   parse, device, Ed25519) -> reorder buffer (restores arrival order, so a
//   device's seq 5 never reaches the store after its seq 6) -> batcher/writer
//   (up to B messages or T ms per EnvelopeStore transaction; Unavailable is
//   retried with back-off, so no receipt goes out for a batch that did not
//   commit) -> receipt queue -> publisher (signs, publishes QoS 1).
//
// Drain() finishes everything already submitted: closes the inbound queue,
// lets every stage empty, publishes the last receipts, and returns.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "checker.h"
#include "envelope_store.h"
#include "metrics.h"
#include "stored_ids.h"
#include "trace/common/ed25519.h"
#include "trace/common/status.h"

namespace trace::gateway {

class Pipeline {
 public:
  struct Options {
    int workers = 2;
    size_t batch_size = 256;
    std::chrono::milliseconds batch_time{20};
    size_t queue_capacity = 1024;
    // How long Submit waits for room in a full inbound queue before shedding
    // the message (see Submit). Shorter than the MQTT keep-alive (20 s): the
    // wait holds Paho's receive thread, which also reads the PINGRESPs.
    std::chrono::milliseconds submit_wait{10000};
    // Where the ids of committed envelopes go (accepted and duplicate), for the
    // Checker to let their re-sends through unverified (stored_ids.h); may be
    // null. Must outlive the Pipeline.
    StoredIds* stored = nullptr;
  };
  // Publishes one signed receipt (QoS 1); Unavailable makes the publisher retry.
  using Publish = std::function<Status(const std::string& topic, const std::string& payload)>;

  // Keeps references to checker, store, metrics; they must outlive the Pipeline.
  Pipeline(Options options, const Checker& checker, EnvelopeStore& store, Ed25519PrivateKey receipt_key,
           std::string receipt_key_id, Publish publish, Metrics& metrics);
  ~Pipeline();  // Drain()

  void Start();
  // Hands one message over, waiting at most `submit_wait` while the inbound
  // queue is full. kShed: still full, the message is dropped unanswered (the
  // device re-sends it from its outbox). kDraining: no longer taking messages.
  // Call from one thread.
  //
  // Back-pressure (measured against Paho C 1.3.12's source): for QoS 1 Paho's
  // receive thread calls the message callback first and sends the PUBACK only
  // when it returns (MQTTProtocol_handlePublishes). So waiting here holds the
  // PUBACK back; once the gateway's Receive Maximum of messages is unacknowledged
  // the broker stops sending and queues them (Mosquitto, max_queued_messages 0).
  // The catch: the callback runs with Paho's library-wide lock held, and a
  // QoS 1 publish from another thread needs that lock (MQTTAsync_assignMsgId),
  // so while Submit waits the publisher thread cannot publish receipts, the
  // writer blocks on the full receipt queue, and the queue Submit waits for
  // never drains. Hence Submit publishes waiting receipts itself while it
  // waits (on Paho's receive thread the lock is already held, and Paho takes
  // it only off its own threads). Shedding is left for a pipeline that stays
  // stuck for `submit_wait` (the database down): the message is acknowledged
  // unanswered, and the device re-sends it.
  enum class SubmitResult { kTaken, kShed, kDraining };
  SubmitResult Submit(std::string topic, std::string payload);
  // See above. Idempotent.
  void Drain();

  size_t inbound_depth() const;
  size_t reorder_depth() const;
  size_t receipt_depth() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trace::gateway

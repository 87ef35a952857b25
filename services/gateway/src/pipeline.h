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
    // the message (see Submit). 0: not at all, which is right under Paho:
    // its callback holds Paho's library-wide lock, and any wait there also
    // stalls the publisher of receipts (measured: 50 ms starved it).
    std::chrono::milliseconds submit_wait{0};
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
  // device re-sends it from its outbox; nothing was acknowledged to it).
  // kDraining: no longer taking messages. Call from one thread.
  //
  // Why shed instead of blocking: Paho (C library under the C++ one) has one
  // receive thread for every client of the process, sends the PUBACK before
  // calling us and holds its library-wide lock during the call, so blocking
  // its callback gives the broker no back-pressure; it only stops the
  // publication of our receipts, their PUBACKs and the keep-alives, and the
  // stages that wait for receipts to go out never drain: a deadlock, seen under
  // load (every queue full, the broker dropping both connections on keep-alive).
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

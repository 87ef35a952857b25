// Where checked messages go: the seam between the pipeline and PostgreSQL.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "checker.h"
#include "trace/common/receipt.h"
#include "trace/common/status.h"

namespace trace::gateway {

// Where an envelope came in: the envelopes.source column.
enum class Source {
  kMqtt,  // a device over MQTT (the gateway)
  kApi,   // signed on the server for the producer dashboard or API (trace-api)
};

// "mqtt" or "api".
inline const char* SourceName(Source source) { return source == Source::kApi ? "api" : "mqtt"; }

// One received message and what the Checker made of it.
struct CheckedMessage {
  std::string topic;
  std::string payload;
  std::chrono::system_clock::time_point received_at;
  CheckOutcome outcome;
  Source source = Source::kMqtt;
};

// The receipt decision for one message, taken in the store's transaction.
struct Decision {
  ReceiptStatus status = ReceiptStatus::kRejected;
  std::optional<Rejection> rejection;  // when kRejected
  std::string detail;                  // for accepted ones: a seq gap note, or empty
};

class EnvelopeStore {
 public:
  virtual ~EnvelopeStore() = default;
  // Stores a batch in one transaction: accepted envelopes with their events and
  // index keys, rejected messages with raw bytes, topic, time, reason and
  // detail. Applies the seq rule (DecideSeq) against what is stored and against
  // earlier messages of the same batch. Returns one Decision per message, in
  // order, only after the commit. Unavailable when the database could not be
  // reached or the commit failed: nothing of the batch is stored then and the
  // caller retries the same batch. Not thread-safe: one caller at a time.
  [[nodiscard]] virtual Result<std::vector<Decision>> StoreBatch(std::span<const CheckedMessage> batch) = 0;
};

}  // namespace trace::gateway

#include "pipeline.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "bounded_queue.h"
#include "trace/common/log.h"
#include "trace/common/receipt.h"
#include "trace/common/time.h"

namespace trace::gateway {
namespace {

struct Inbound {
  uint64_t ticket;
  std::string topic, payload;
  std::chrono::system_clock::time_point received_at;
};

// Checked messages by ticket, handed out in ticket order. Bounded: a worker
// whose ticket is not the next one waits while the buffer is full.
class ReorderBuffer {
 public:
  explicit ReorderBuffer(size_t capacity) : capacity_(capacity) {}
  void Put(uint64_t ticket, CheckedMessage m) {
    std::unique_lock lock(mu_);
    space_.wait(lock, [&] { return items_.size() < capacity_ || ticket == next_; });
    items_.emplace(ticket, std::move(m));
    ready_.notify_all();
  }
  // The next message in order, waiting until `deadline`; nullopt on timeout or
  // when closed and empty.
  std::optional<CheckedMessage> Take(std::optional<std::chrono::steady_clock::time_point> deadline) {
    std::unique_lock lock(mu_);
    auto ready = [&] { return closed_ || items_.contains(next_); };
    if (deadline) {
      ready_.wait_until(lock, *deadline, ready);
    } else {
      ready_.wait(lock, ready);
    }
    auto it = items_.find(next_);
    if (it == items_.end()) return std::nullopt;
    CheckedMessage m = std::move(it->second);
    items_.erase(it);
    ++next_;
    space_.notify_all();
    return m;
  }
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    ready_.notify_all();
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable ready_, space_;
  std::map<uint64_t, CheckedMessage> items_;
  uint64_t next_ = 0;
  bool closed_ = false;
};

}  // namespace

struct Pipeline::Impl {
  Impl(Options o, const Checker& c, EnvelopeStore& s, Ed25519PrivateKey k, std::string kid, Publish p, Metrics& m)
      : options(o),
        checker(c),
        store(s),
        key(std::move(k)),
        key_id(std::move(kid)),
        publish(std::move(p)),
        metrics(m),
        inbound(o.queue_capacity),
        reorder(o.queue_capacity),
        receipts(o.queue_capacity) {}

  Options options;
  const Checker& checker;
  EnvelopeStore& store;
  Ed25519PrivateKey key;
  std::string key_id;
  Publish publish;
  Metrics& metrics;

  BoundedQueue<Inbound> inbound;
  ReorderBuffer reorder;
  BoundedQueue<Receipt> receipts;
  uint64_t next_ticket = 0;
  std::vector<std::thread> workers;
  std::thread writer, publisher;
  std::atomic<bool> drained{false};

  void Work();
  void Write();
  void PublishLoop();
  // Signs and publishes `r` once; false when the publication failed.
  bool PublishOnce(Receipt& r);
  void Answer(const CheckedMessage& m, const Decision& d);
  // After a commit: counts the decision, remembers a stored envelope's id
  // (options.stored), and answers.
  void Decided(const CheckedMessage& m, const Decision& d);
};

void Pipeline::Impl::Decided(const CheckedMessage& m, const Decision& d) {
  if (d.status == ReceiptStatus::kAccepted) metrics.Accepted();
  if (d.status == ReceiptStatus::kDuplicate) metrics.Duplicate();
  if (d.status == ReceiptStatus::kRejected && d.rejection) metrics.Rejected(d.rejection->reason);
  if (options.stored != nullptr && d.status != ReceiptStatus::kRejected && m.outcome.envelope) {
    options.stored->Add(m.outcome.envelope->id);
  }
  Answer(m, d);
}

void Pipeline::Impl::Work() {
  while (auto in = inbound.Pop()) {
    CheckedMessage m{std::move(in->topic), std::move(in->payload), in->received_at, {}};
    auto backoff = std::chrono::milliseconds(100);
    while (true) {
      auto out = checker.Check(m.topic, m.payload);
      if (out) {
        if (out->known) metrics.KnownResend();
        m.outcome = std::move(*out);
        break;
      }
      log::Warn("device directory unavailable; retrying", {{"error", out.error().message()}});
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
    reorder.Put(in->ticket, std::move(m));
  }
}

void Pipeline::Impl::Answer(const CheckedMessage& m, const Decision& d) {
  std::optional<Receipt> r;
  const auto& env = m.outcome.envelope;
  const bool addressed_by_envelope = env.has_value() && !(d.rejection && d.rejection->reason == Reason::kTopicMismatch);
  if (addressed_by_envelope) {
    r = ReceiptForEnvelope(*env, d.status);
    r->reason = d.rejection ? std::optional<Reason>(d.rejection->reason) : std::nullopt;
  } else {
    auto made = ReceiptForMessage(m.topic, m.payload, d.rejection.value_or(Rejection{Reason::kMalformed, ""}));
    if (!made) {
      log::Warn("no receipt can be addressed", {{"topic", m.topic}, {"error", made.error().message()}});
      return;
    }
    r = std::move(*made);
  }
  if (d.rejection) {
    if (!d.rejection->detail.empty()) r->detail = d.rejection->detail;
  } else if (!d.detail.empty()) {
    r->detail = d.detail;
  }
  receipts.Push(std::move(*r));
}

void Pipeline::Impl::Write() {
  std::vector<CheckedMessage> batch;
  batch.reserve(options.batch_size);
  while (true) {
    auto first = reorder.Take(std::nullopt);
    if (!first) break;
    batch.clear();
    batch.push_back(std::move(*first));
    const auto deadline = std::chrono::steady_clock::now() + options.batch_time;
    while (batch.size() < options.batch_size) {
      auto next = reorder.Take(deadline);
      if (!next) break;
      batch.push_back(std::move(*next));
    }
    auto backoff = std::chrono::milliseconds(100);
    while (true) {
      const auto start = std::chrono::steady_clock::now();
      auto decisions = store.StoreBatch(batch);
      if (decisions) {
        metrics.CommitLatency(std::chrono::steady_clock::now() - start);
        for (size_t i = 0; i < batch.size(); ++i) Decided(batch[i], (*decisions)[i]);
        break;
      }
      if (decisions.error().code() != StatusCode::kUnavailable) {
        // Not the database's availability but this batch: store its messages
        // one by one so that one bad message cannot hold up the others.
        if (batch.size() > 1) {
          log::Error("batch refused by the database; storing one by one", {{"error", decisions.error().message()}});
          std::vector<CheckedMessage> rest = std::move(batch);
          for (auto& m : rest) {
            auto one = store.StoreBatch(std::span<const CheckedMessage>(&m, 1));
            if (one) {
              Decided(m, (*one)[0]);
            } else {
              log::Error("message not stored; no receipt (the device re-sends)",
                         {{"topic", m.topic}, {"error", one.error().message()}});
            }
          }
          batch.clear();
        } else {
          log::Error("message not stored; no receipt (the device re-sends)",
                     {{"topic", batch[0].topic}, {"error", decisions.error().message()}});
        }
        break;
      }
      metrics.StoreRetry();
      log::Warn("database unavailable; retrying the batch",
                {{"error", decisions.error().message()}, {"messages", static_cast<uint64_t>(batch.size())}});
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
  }
}

bool Pipeline::Impl::PublishOnce(Receipt& r) {
  r.at = FormatRfc3339Millis(std::chrono::system_clock::now());
  r.key = key_id;
  auto payload = SignReceipt(r, key);
  if (!payload) {
    log::Error("receipt not signed", {{"error", payload.error().message()}});
    return true;  // nothing to retry
  }
  if (!publish(ReceiptTopic(r.org, r.device), *payload).ok()) return false;
  metrics.ReceiptPublished();
  return true;
}

void Pipeline::Impl::PublishLoop() {
  while (auto r = receipts.Pop()) {
    for (int attempt = 0;; ++attempt) {
      if (PublishOnce(*r)) break;
      // While draining with the broker gone, give up after a while: the
      // envelope is stored and the device's re-send is answered `duplicate`.
      if (drained && attempt > 50) {
        log::Warn("receipt dropped at shutdown", {{"topic", ReceiptTopic(r->org, r->device)}});
        break;
      }
      // Short at first: Paho refuses publications for a moment when its
      // buffer of unsent receipts is full.
      std::this_thread::sleep_for(std::chrono::milliseconds(attempt < 20 ? 5 : 200));
    }
  }
}

Pipeline::Pipeline(Options options, const Checker& checker, EnvelopeStore& store, Ed25519PrivateKey receipt_key,
                   std::string receipt_key_id, Publish publish, Metrics& metrics)
    : impl_(std::make_unique<Impl>(options, checker, store, std::move(receipt_key), std::move(receipt_key_id),
                                   std::move(publish), metrics)) {}

Pipeline::~Pipeline() { Drain(); }

void Pipeline::Start() {
  for (int i = 0; i < std::max(1, impl_->options.workers); ++i) impl_->workers.emplace_back([this] { impl_->Work(); });
  impl_->writer = std::thread([this] { impl_->Write(); });
  impl_->publisher = std::thread([this] { impl_->PublishLoop(); });
}

Pipeline::SubmitResult Pipeline::Submit(std::string topic, std::string payload) {
  Impl& impl = *impl_;
  impl.metrics.Received();
  Inbound in{impl.next_ticket, std::move(topic), std::move(payload), std::chrono::system_clock::now()};
  const auto give_up = std::chrono::steady_clock::now() + impl.options.submit_wait;
  for (bool waited = false;;) {
    // Short steps, so that receipts are published (below) while we wait.
    const auto step = std::min(give_up, std::chrono::steady_clock::now() + std::chrono::milliseconds(1));
    switch (impl.inbound.PushUntil(std::move(in), step)) {
      case BoundedQueue<Inbound>::PushResult::kPushed:
        ++impl.next_ticket;
        return SubmitResult::kTaken;
      case BoundedQueue<Inbound>::PushResult::kClosed:
        return SubmitResult::kDraining;
      case BoundedQueue<Inbound>::PushResult::kFull:
        break;
    }
    if (!waited) {
      impl.metrics.SubmitWaited();
      waited = true;
    }
    if (std::chrono::steady_clock::now() >= give_up) {
      impl.metrics.Shed();
      return SubmitResult::kShed;
    }
    // See the header: the publisher thread is locked out while we wait.
    const auto now = std::chrono::steady_clock::now();
    while (auto r = impl.receipts.PopUntil(now)) {
      if (!impl.PublishOnce(*r)) {
        // Back to the publisher thread, which retries.
        if (impl.receipts.PushUntil(std::move(*r), now) != BoundedQueue<Receipt>::PushResult::kPushed) {
          log::Warn("receipt dropped (broker connection busy or lost; the device's re-send is answered)",
                    {{"topic", ReceiptTopic(r->org, r->device)}});
        }
        break;
      }
      if (impl.inbound.size() < impl.inbound.capacity()) break;
    }
  }
}

void Pipeline::Drain() {
  if (impl_->drained.exchange(true)) return;
  impl_->inbound.Close();
  for (auto& t : impl_->workers) {
    if (t.joinable()) t.join();
  }
  impl_->reorder.Close();
  if (impl_->writer.joinable()) impl_->writer.join();
  impl_->receipts.Close();
  if (impl_->publisher.joinable()) impl_->publisher.join();
}

size_t Pipeline::inbound_depth() const { return impl_->inbound.size(); }
size_t Pipeline::reorder_depth() const { return impl_->reorder.size(); }
size_t Pipeline::receipt_depth() const { return impl_->receipts.size(); }

}  // namespace trace::gateway

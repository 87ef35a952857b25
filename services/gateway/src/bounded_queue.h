// A bounded multi-producer, multi-consumer FIFO queue: the gateway's stages
// hand work to each other through these, so memory stays bounded whatever the
// load (a full queue blocks its producer: back-pressure).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

namespace trace::gateway {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // Blocks while the queue is full. Returns false (and drops nothing: `item`
  // is left untouched by a failed push) once the queue is closed.
  bool Push(T&& item) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  enum class PushResult { kPushed, kFull, kClosed };
  // Like Push, but gives up at `deadline` when the queue is still full
  // (kFull; `item` is left untouched then, as on kClosed).
  PushResult PushUntil(T&& item, std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mu_);
    if (!not_full_.wait_until(lock, deadline, [&] { return closed_ || items_.size() < capacity_; })) {
      return PushResult::kFull;
    }
    if (closed_) return PushResult::kClosed;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return PushResult::kPushed;
  }

  // Blocks until an item is there; nullopt once the queue is closed and empty.
  std::optional<T> Pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
    return TakeLocked();
  }

  // Like Pop, but gives up at `deadline` (nullopt then, too).
  std::optional<T> PopUntil(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mu_);
    not_empty_.wait_until(lock, deadline, [&] { return closed_ || !items_.empty(); });
    return TakeLocked();
  }

  // No more pushes; pops drain what is left.
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  bool closed() const {
    std::lock_guard lock(mu_);
    return closed_;
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }
  size_t capacity() const { return capacity_; }

 private:
  std::optional<T> TakeLocked() {
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }

  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<T> items_;
  bool closed_ = false;
};

}  // namespace trace::gateway

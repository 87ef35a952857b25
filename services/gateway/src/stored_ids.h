// The ids of envelopes this gateway has seen committed (accepted, or answered
// duplicate because identical bytes are stored), so that a device's re-send of
// one is not checked again: an envelope id is the SHA-256 of its canonical
// bytes, signature included, so a re-send with a known id is byte for byte an
// envelope whose signature, clock skew and EPCIS checks already passed. The
// Checker then skips the Ed25519 verify (most of a message's CPU) and the
// content checks; the device is still looked up (a revoked device is still
// refused) and the store still decides `duplicate` from what is stored.
//
// Without it, the envelopes pending after an outage come back on every device's
// re-send timer, each verified again, and duplicates crowd out first copies.
//
// Bounded: the oldest ids are forgotten first (FIFO), at `capacity` ids
// (~100 bytes each). Thread-safe.
//
// Example:
//   StoredIds stored(1 << 16);
//   Checker checker(directory, clock, options, &stored);
//   ... after a batch commits: stored.Add(envelope.id) for accepted and duplicates
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

namespace trace::gateway {

class StoredIds {
 public:
  explicit StoredIds(std::size_t capacity) : capacity_(capacity) {}

  void Add(std::string_view id) {
    if (capacity_ == 0) return;
    std::lock_guard lock(mu_);
    if (!ids_.emplace(id).second) return;
    order_.emplace_back(id);
    if (order_.size() > capacity_) {
      ids_.erase(order_.front());
      order_.pop_front();
    }
  }

  bool Contains(std::string_view id) const {
    std::lock_guard lock(mu_);
    return ids_.contains(std::string(id));
  }

  std::size_t size() const {
    std::lock_guard lock(mu_);
    return ids_.size();
  }

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_set<std::string> ids_;
  std::deque<std::string> order_;
};

}  // namespace trace::gateway

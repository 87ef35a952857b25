#include "document_cache.h"

#include <utility>

#include "http_util.h"

namespace trace::api {
namespace {

std::size_t SizeOf(const std::string& key, const HttpResponse& res) {
  std::size_t n = key.size() + res.body.size() + 256;  // 256: the entry's bookkeeping, roughly
  for (const auto& [name, value] : res.headers) n += name.size() + value.size() + 64;
  return n;
}

}  // namespace

void DocumentCache::Fill::SetStamp(std::string value, Clock::time_point read_at) {
  std::lock_guard lock(mu_);
  stamp_ = std::move(value);
  stamp_read_at_ = read_at;
}

Reply DocumentCache::Fill::reply() {
  // The Reply keeps the Fill (and so its waiters) alive until it is called.
  return [self = shared_from_this()](HttpResponse res) {
    {
      std::lock_guard lock(self->mu_);
      if (self->done_) return;
      self->done_ = true;
    }
    self->cache_->Complete(self, std::move(res));
  };
}

DocumentCache::DocumentCache(DocumentCacheOptions options) : options_(std::move(options)) {}

std::shared_ptr<DocumentCache::Fill> DocumentCache::Lookup(const std::string& key, Reply reply) {
  std::unique_lock lock(mu_);
  if (stamp_ && options_.now() - stamp_read_at_ <= options_.max_stamp_age) {
    if (auto it = entries_.find(key); it != entries_.end() && it->second->tag == *stamp_) {
      lru_.splice(lru_.begin(), lru_, it->second);
      HttpResponse res = it->second->response;
      ++hits_;
      lock.unlock();
      reply(std::move(res));
      return nullptr;
    }
  }
  if (auto it = in_flight_.find(key); it != in_flight_.end()) {
    it->second->waiters_.push_back(std::move(reply));
    ++joined_;
    return nullptr;
  }
  std::shared_ptr<Fill> fill(new Fill(this, key));
  fill->waiters_.push_back(std::move(reply));
  in_flight_.emplace(key, fill);
  ++misses_;
  return fill;
}

void DocumentCache::OfferStamp(std::string value, Clock::time_point read_at) {
  std::lock_guard lock(mu_);
  AdoptStampLocked(std::move(value), read_at);
}

void DocumentCache::AdoptStampLocked(std::string value, Clock::time_point read_at) {
  if (stamp_ && read_at <= stamp_read_at_) return;
  if (!stamp_ || *stamp_ != value) {
    for (auto it = lru_.begin(); it != lru_.end();) {
      auto next = std::next(it);
      if (it->tag != value) EraseLocked(it);
      it = next;
    }
    stamp_ = std::move(value);
  }
  stamp_read_at_ = read_at;
}

void DocumentCache::EraseLocked(Lru::iterator it) {
  bytes_ -= it->bytes;
  entries_.erase(it->key);
  lru_.erase(it);
}

void DocumentCache::Complete(const std::shared_ptr<Fill>& fill, HttpResponse res) {
  std::optional<std::string> tag;
  Clock::time_point read_at;
  {
    std::lock_guard lock(fill->mu_);
    tag = fill->stamp_;
    read_at = fill->stamp_read_at_;
  }
  const bool keep = res.status == 200 && tag.has_value();
  if (keep && res.Get("ETag").empty()) res.Set("ETag", StrongEtag(res.body));

  std::vector<Reply> waiters;
  {
    std::lock_guard lock(mu_);
    if (auto it = in_flight_.find(fill->key_); it != in_flight_.end() && it->second == fill) in_flight_.erase(it);
    waiters = std::move(fill->waiters_);
    fill->waiters_.clear();
    if (keep) {
      AdoptStampLocked(*tag, read_at);
      const std::size_t size = SizeOf(fill->key_, res);
      // Kept only when tagged with the newest stamp (an older one can never be served) and it fits.
      if (*stamp_ == *tag && size <= options_.max_bytes) {
        if (auto it = entries_.find(fill->key_); it != entries_.end()) EraseLocked(it->second);
        lru_.push_front(Entry{fill->key_, *tag, res, size});
        entries_.emplace(fill->key_, lru_.begin());
        bytes_ += size;
        while (bytes_ > options_.max_bytes) EraseLocked(std::prev(lru_.end()));
      }
    }
  }
  for (size_t i = 0; i < waiters.size(); ++i) {
    if (i + 1 == waiters.size()) {
      waiters[i](std::move(res));
    } else {
      waiters[i](res);
    }
  }
}

DocumentCache::Stats DocumentCache::stats() const {
  std::lock_guard lock(mu_);
  return Stats{hits_, misses_, joined_, entries_.size(), bytes_, stamp_.value_or("")};
}

std::string DocumentCacheMetrics(const DocumentCache::Stats& s) {
  std::string out;
  auto add = [&out](const char* name, const char* type, const char* help, uint64_t value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
           std::to_string(value) + "\n";
  };
  add("trace_api_document_cache_hits_total", "counter", "Trace documents answered from the cache.", s.hits);
  add("trace_api_document_cache_misses_total", "counter", "Trace document renders started.", s.misses);
  add("trace_api_document_cache_joined_total", "counter", "Requests that waited for a render in flight.", s.joined);
  add("trace_api_document_cache_entries", "gauge", "Trace documents kept.", s.entries);
  add("trace_api_document_cache_bytes", "gauge", "Size of the trace documents kept.", s.bytes);
  return out;
}

}  // namespace trace::api

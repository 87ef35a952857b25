#include "db_pool.h"

#include <memory>
#include <pqxx/pqxx>

#include "trace/common/log.h"

namespace trace::api {

DbPool::DbPool(std::string url, int threads, std::size_t queue_limit)
    : url_(std::move(url)), queue_limit_(queue_limit) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { Work(); });
}

DbPool::~DbPool() { Stop(); }

bool DbPool::Submit(Job job, OnError on_error) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= queue_limit_) return false;
    queue_.push_back({std::move(job), std::move(on_error)});
  }
  cv_.notify_one();
  return true;
}

void DbPool::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

std::size_t DbPool::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void DbPool::Work() {
  std::unique_ptr<pqxx::connection> conn;
  for (;;) {
    Item item;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      if (!conn || !conn->is_open()) conn = std::make_unique<pqxx::connection>(url_);
      item.job(*conn);
    } catch (const pqxx::broken_connection& e) {
      conn.reset();
      log::Warn("database connection lost", {{"error", e.what()}});
      item.on_error(Unavailable(std::string("database: ") + e.what()));
    } catch (const std::exception& e) {
      log::Error("database job failed", {{"error", e.what()}});
      item.on_error(Internal(std::string("database: ") + e.what()));
    }
  }
}

}  // namespace trace::api

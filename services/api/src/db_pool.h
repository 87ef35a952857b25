// A bounded pool of database threads, each with its own libpqxx connection
// (libpqxx blocks, so it never runs on the HTTP I/O threads).
//
// Example:
//   DbPool pool(url, 4, 256);
//   bool queued = pool.Submit([reply](pqxx::connection& c) { reply(Answer(c)); },
//                             [reply](const Status& s) { reply(Problem(s)); });
//
// Connections are opened lazily and reopened after a broken connection. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <pqxx/connection>
#include <string>
#include <thread>
#include <vector>

#include "trace/common/status.h"

namespace trace::api {

class DbPool {
 public:
  using Job = std::function<void(pqxx::connection&)>;
  // Called instead of the job when no connection can be had (Unavailable).
  using OnError = std::function<void(const Status&)>;

  DbPool(std::string url, int threads, std::size_t queue_limit);
  ~DbPool();  // Stop()
  DbPool(const DbPool&) = delete;
  DbPool& operator=(const DbPool&) = delete;

  // Queues `job`. Returns false (and does not call either function) when the
  // queue holds queue_limit jobs already or the pool is stopping. Exceptions
  // thrown by `job` are caught: pqxx::broken_connection resets the thread's
  // connection; any exception reaches `on_error` as Unavailable or Internal.
  // `job` must therefore reply only once it cannot throw any more.
  bool Submit(Job job, OnError on_error);

  // Finishes the queued jobs, then joins the threads. Idempotent.
  void Stop();

  std::size_t queued() const;

 private:
  struct Item {
    Job job;
    OnError on_error;
  };
  void Work();

  const std::string url_;
  const std::size_t queue_limit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace trace::api
